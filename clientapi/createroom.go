package clientapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/storage/rooms"
)

type stateEventReq struct {
	Type     string          `json:"type"`
	StateKey string          `json:"state_key"`
	Content  json.RawMessage `json:"content"`
}

type createRoomReq struct {
	Visibility                string          `json:"visibility"`
	RoomAliasName             string          `json:"room_alias_name"`
	Name                      *string         `json:"name"`
	Topic                     *string         `json:"topic"`
	Invite                    []string        `json:"invite"`
	RoomVersion               string          `json:"room_version"`
	CreationContent           map[string]any  `json:"creation_content"`
	InitialState              []stateEventReq `json:"initial_state"`
	Preset                    string          `json:"preset"`
	IsDirect                  bool            `json:"is_direct"`
	PowerLevelContentOverride map[string]any  `json:"power_level_content_override"`
}

type presetRules struct {
	joinRule, history, guestAccess string
	invitesAreAdmins               bool
}

var presets = map[string]presetRules{
	"private_chat":         {joinRule: "invite", history: "shared", guestAccess: "can_join"},
	"trusted_private_chat": {joinRule: "invite", history: "shared", guestAccess: "can_join", invitesAreAdmins: true},
	"public_chat":          {joinRule: "public", history: "shared", guestAccess: "forbidden"},
}

// createRoom implements POST /createRoom. Events are made in the order the
// spec gives: create, the creator's join, power levels, canonical alias,
// preset events, initial_state, name, topic, invites — in one transaction.
func (a *API) createRoom(c *gin.Context) {
	s := mustSession(c)
	var req createRoomReq
	if err := matrixhttp.DecodeJSON(c, &req, 0, true); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	ver := req.RoomVersion
	if ver == "" {
		ver = a.deps.Config.Rooms.DefaultVersion
	}
	v, err := roomversion.Get(ver)
	if err != nil {
		matrixhttp.Fail(c, matrixhttp.UnsupportedRoomVersion("Room version %q is not supported", ver))
		return
	}
	if req.Preset == "" {
		req.Preset = "private_chat"
		if req.Visibility == "public" {
			req.Preset = "public_chat"
		}
	}
	preset, ok := presets[req.Preset]
	if !ok {
		matrixhttp.Fail(c, matrixhttp.BadJSON("Unknown preset %q", req.Preset))
		return
	}
	if req.Visibility != "" && req.Visibility != "public" && req.Visibility != "private" {
		matrixhttp.Fail(c, matrixhttp.BadJSON("visibility must be public or private"))
		return
	}
	for _, u := range req.Invite {
		if _, err := mxid.ParseUserID(u); err != nil {
			matrixhttp.Fail(c, matrixhttp.InvalidParam("Invalid user ID %q in invite", u))
			return
		}
	}
	alias := ""
	if req.RoomAliasName != "" {
		alias = "#" + req.RoomAliasName + ":" + a.deps.Config.ServerName
		if strings.ContainsAny(req.RoomAliasName, ":#\x00 ") || !mxid.ValidAlias(alias) {
			matrixhttp.Fail(c, matrixhttp.InvalidParam("Invalid alias name"))
			return
		}
		if _, err := a.deps.Rooms.ResolveAlias(c.Request.Context(), alias); err == nil {
			matrixhttp.Fail(c, matrixhttp.RoomInUse("Room alias already taken"))
			return
		}
	}
	createContent := map[string]any{}
	for k, val := range req.CreationContent {
		createContent[k] = val
	}
	delete(createContent, "room_version")
	delete(createContent, "creator")
	if preset.invitesAreAdmins && v.PrivilegedCreators && len(req.Invite) > 0 {
		createContent["additional_creators"] = req.Invite
	}
	proposals, err := a.initialEvents(c, s, v, &req, preset, alias)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	roomID, _, err := a.deps.Rooms.CreateRoom(c.Request.Context(), v, s.UserID, createContent, proposals)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if alias != "" {
		if err := a.deps.Rooms.CreateAlias(c.Request.Context(), alias, roomID, s.UserID); err != nil {
			if errors.Is(err, rooms.ErrAliasExists) {
				err = matrixhttp.RoomInUse("Room alias already taken")
			}
			matrixhttp.Fail(c, err)
			return
		}
	}
	if req.Visibility == "public" && a.deps.Directory != nil {
		if err := a.deps.Directory.SetPublished(c.Request.Context(), roomID, true, s.UserID, a.deps.Now().UnixMilli()); err != nil {
			matrixhttp.Fail(c, err)
			return
		}
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{"room_id": roomID})
}

// initialEvents lists the events after the create event.
func (a *API) initialEvents(c *gin.Context, s Session, v *roomversion.Version, req *createRoomReq, preset presetRules, alias string) ([]roomserver.Proposal, error) {
	str := func(x string) *string { return &x }
	prop := func(typ string, key *string, content any) roomserver.Proposal {
		raw, _ := json.Marshal(content)
		return roomserver.Proposal{Type: typ, StateKey: key, Sender: s.UserID, Content: raw}
	}
	member, err := a.memberContent(c, s.Localpart, event.Join, nil)
	if err != nil {
		return nil, err
	}
	ps := []roomserver.Proposal{prop(event.TypeMember, str(s.UserID), member)}
	ps = append(ps, prop(event.TypePowerLevels, str(""), a.powerLevels(s.UserID, v, req, preset)))
	if alias != "" {
		ps = append(ps, prop("m.room.canonical_alias", str(""), map[string]any{"alias": alias}))
	}
	ps = append(ps,
		prop(event.TypeJoinRules, str(""), map[string]any{"join_rule": preset.joinRule}),
		prop(event.TypeHistoryVisibility, str(""), map[string]any{"history_visibility": preset.history}),
		prop("m.room.guest_access", str(""), map[string]any{"guest_access": preset.guestAccess}))
	for _, st := range req.InitialState {
		if st.Type == "" || st.Type == event.TypeCreate || st.Type == event.TypeMember {
			return nil, matrixhttp.BadJSON("initial_state may not contain %q events", st.Type)
		}
		content := st.Content
		if len(content) == 0 {
			content = json.RawMessage("{}")
		}
		ps = append(ps, roomserver.Proposal{Type: st.Type, StateKey: str(st.StateKey), Sender: s.UserID, Content: content})
	}
	if req.Name != nil {
		ps = append(ps, prop("m.room.name", str(""), map[string]any{"name": *req.Name}))
	}
	if req.Topic != nil {
		ps = append(ps, prop("m.room.topic", str(""), map[string]any{"topic": *req.Topic}))
	}
	for _, u := range req.Invite {
		content := map[string]any{"membership": event.Invite}
		if req.IsDirect {
			content["is_direct"] = true
		}
		ps = append(ps, prop(event.TypeMember, str(u), content))
	}
	return ps, nil
}

// powerLevels is the default power levels content merged with the override.
func (a *API) powerLevels(creator string, v *roomversion.Version, req *createRoomReq, preset presetRules) map[string]any {
	users := map[string]any{}
	if !v.PrivilegedCreators {
		users[creator] = 100
	}
	if preset.invitesAreAdmins && !v.PrivilegedCreators {
		for _, u := range req.Invite {
			users[u] = 100
		}
	}
	pl := map[string]any{
		"users": users, "users_default": 0, "events_default": 0, "state_default": 50,
		"ban": 50, "kick": 50, "redact": 50, "invite": 0,
		"events": map[string]any{
			"m.room.name": 50, "m.room.power_levels": 100, "m.room.history_visibility": 100,
			"m.room.canonical_alias": 50, "m.room.avatar": 50, "m.room.tombstone": 100,
			"m.room.server_acl": 100, "m.room.encryption": 100,
		},
		"notifications": map[string]any{"room": 50},
	}
	if preset.joinRule == "public" {
		pl["invite"] = 0
	}
	for k, val := range req.PowerLevelContentOverride {
		pl[k] = val
	}
	return pl
}
