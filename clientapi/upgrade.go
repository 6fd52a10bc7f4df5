package clientapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/tidwall/gjson"
	"go.uber.org/zap"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/roomserver/roomversion"
)

type upgradeReq struct {
	NewVersion *string `json:"new_version"`
	// AdditionalCreators are further creators of a room version 12+ room.
	AdditionalCreators []string `json:"additional_creators"`
}

// upgradesInFlight holds the IDs of rooms being upgraded, so that two
// concurrent requests do not make two replacement rooms.
var upgradesInFlight sync.Map

// upgradeRoom implements POST /rooms/{roomId}/upgrade ("Room Upgrades"):
//
//  1. the caller must be joined and allowed to send m.room.tombstone;
//  2. a room of the new version is made whose create event names its
//     predecessor (with the old room's last event ID before version 12) and
//     copies the room type; it gets the transferable state (see
//     upgradeState) and the bans;
//  3. m.room.tombstone in the old room points at it;
//  4. local aliases move to the new room, with the canonical alias;
//  5. a published room is published in its stead;
//  6. the old room's events_default and invite are raised to
//     max(50, users_default+1), so that regular users stop talking there.
//
// Steps after 3 are best effort: a failure is logged, the upgrade stands.
func (a *API) upgradeRoom(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	var req upgradeReq
	if err := matrixhttp.DecodeJSON(c, &req, 0, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if req.NewVersion == nil || *req.NewVersion == "" {
		matrixhttp.Fail(c, matrixhttp.MissingParam("new_version is required"))
		return
	}
	v, err := roomversion.Get(*req.NewVersion)
	if err != nil {
		matrixhttp.Fail(c, matrixhttp.UnsupportedRoomVersion("Room version %q is not supported", *req.NewVersion))
		return
	}
	for _, u := range req.AdditionalCreators {
		if _, err := mxid.ParseUserID(u); err != nil {
			matrixhttp.Fail(c, matrixhttp.InvalidParam("Invalid user ID %q in additional_creators", u))
			return
		}
	}
	s := mustSession(c)
	if err := a.requirePower(c, roomID, s.UserID, func(pl *auth.PowerLevels) int64 {
		return pl.EventLevel("m.room.tombstone", true)
	}); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if _, busy := upgradesInFlight.LoadOrStore(roomID, struct{}{}); busy {
		matrixhttp.Fail(c, matrixhttp.Unknown("An upgrade for this room is currently in progress"))
		return
	}
	defer upgradesInFlight.Delete(roomID)
	newID, err := a.upgrade(c, s, roomID, v, req.AdditionalCreators)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{"replacement_room": newID})
}

// upgrade replaces oldID with a new room of version v and returns its ID.
func (a *API) upgrade(c *gin.Context, s Session, oldID string, v *roomversion.Version, additional []string) (string, error) {
	ctx := c.Request.Context()
	old, err := a.deps.Rooms.Room(ctx, oldID)
	if err != nil {
		return "", err
	}
	current, err := a.deps.Rooms.CurrentState(ctx, oldID)
	if err != nil {
		return "", err
	}
	state := make(map[event.StateKey]*event.Event, len(current))
	for _, e := range current {
		state[e.Key()] = e
	}
	creators := []string{s.UserID}
	if v.PrivilegedCreators {
		for _, u := range additional {
			if !slices.Contains(creators, u) {
				creators = append(creators, u)
			}
		}
	}
	createContent, err := a.upgradeCreateContent(ctx, old, v, creators)
	if err != nil {
		return "", err
	}
	join, err := a.memberContent(c, s.Localpart, event.Join, nil)
	if err != nil {
		return "", err
	}
	plan := upgradeState(upgradeInput{upgrader: s.UserID, join: join, oldVersion: old.Version, newVersion: v,
		oldCreators: auth.Creators(old.Create), newCreators: creators, state: state, server: a.deps.Config.ServerName})
	newID, _, err := a.deps.Rooms.CreateRoom(ctx, v, s.UserID, createContent, plan)
	if err != nil {
		return "", err
	}
	log := a.log.With(zap.String("old_room", oldID), zap.String("new_room", newID))
	tombstone, _ := json.Marshal(map[string]any{"body": "This room has been replaced", "replacement_room": newID})
	empty := ""
	if _, err := a.deps.Rooms.Send(ctx, oldID, roomserver.Proposal{Type: "m.room.tombstone", StateKey: &empty,
		Sender: s.UserID, Content: tombstone}); err != nil {
		log.Error("room upgrade: the tombstone could not be sent; the new room is orphaned", zap.Error(err))
		return "", err
	}
	a.moveAliases(ctx, log, s.UserID, oldID, newID)
	if a.deps.Directory != nil {
		published, err := a.deps.Directory.IsPublished(ctx, oldID)
		if err == nil && published {
			now := a.deps.Now().UnixMilli()
			err = errors.Join(a.deps.Directory.SetPublished(ctx, newID, true, s.UserID, now),
				a.deps.Directory.SetPublished(ctx, oldID, false, s.UserID, now))
		}
		if err != nil {
			log.Warn("room upgrade: moving the directory listing failed", zap.Error(err))
		}
	}
	pl, err := a.deps.Rooms.StateEvent(ctx, oldID, event.StateKey{Type: event.TypePowerLevels})
	if err != nil {
		log.Warn("room upgrade: reading the old room's power levels failed", zap.Error(err))
	}
	if content := restrictedPowerLevels(pl); content != nil {
		if _, err := a.deps.Rooms.Send(ctx, oldID, roomserver.Proposal{Type: event.TypePowerLevels, StateKey: &empty,
			Sender: s.UserID, Content: content}); err != nil {
			log.Warn("room upgrade: could not restrict the old room's power levels", zap.Error(err))
		}
	}
	return newID, nil
}

// upgradeCreateContent is the new room's create content: the predecessor,
// the room type, m.federate and the additional creators.
func (a *API) upgradeCreateContent(ctx context.Context, old roomserver.RoomInfo, v *roomversion.Version, creators []string) (map[string]any, error) {
	predecessor := map[string]any{"room_id": old.ID}
	if !v.RoomIDFromCreate {
		// The spec's "last known event in the old room"; version 12 may
		// (and Synapse does) leave it out.
		info, err := a.deps.RoomStore.Room(ctx, old.ID)
		if err != nil {
			return nil, err
		}
		last, err := a.deps.RoomStore.RoomEvents(ctx, info.NID, 0, 0, 1, true)
		if err != nil {
			return nil, err
		}
		if len(last) == 1 {
			predecessor["event_id"] = last[0].Event.ID()
		}
	}
	content := map[string]any{"predecessor": predecessor}
	if old.Create != nil {
		oc := gjson.ParseBytes(old.Create.Content())
		if t := oc.Get("type"); t.Type == gjson.String {
			content["type"] = t.Str
		}
		if f := oc.Get(gjson.Escape("m.federate")); f.Type == gjson.False {
			content["m.federate"] = false
		}
	}
	if len(creators) > 1 {
		content["additional_creators"] = creators[1:]
	}
	return content, nil
}

// moveAliases points the old room's local aliases at the new room and moves
// the local entries of the canonical alias event with them.
func (a *API) moveAliases(ctx context.Context, log *zap.Logger, sender, oldID, newID string) {
	aliases, err := a.deps.RoomStore.AliasesOf(ctx, oldID)
	if err != nil {
		log.Warn("room upgrade: listing aliases failed", zap.Error(err))
	}
	for _, alias := range aliases {
		found, err := a.deps.Rooms.ResolveAlias(ctx, alias)
		if err == nil {
			err = a.deps.Rooms.DeleteAlias(ctx, alias)
		}
		if err == nil {
			if err = a.deps.Rooms.CreateAlias(ctx, alias, newID, found.Creator); err != nil {
				_ = a.deps.Rooms.CreateAlias(ctx, alias, oldID, found.Creator)
			}
		}
		if err != nil {
			log.Warn("room upgrade: moving an alias failed", zap.String("alias", alias), zap.Error(err))
		}
	}
	ca, err := a.deps.Rooms.StateEvent(ctx, oldID, event.StateKey{Type: "m.room.canonical_alias"})
	if err != nil || ca == nil {
		return
	}
	if kept, moved := splitCanonicalAlias(ca.Content(), a.deps.Config.ServerName); moved != nil {
		empty := ""
		if _, err := a.deps.Rooms.Send(ctx, oldID, roomserver.Proposal{Type: "m.room.canonical_alias", StateKey: &empty,
			Sender: sender, Content: kept}); err != nil {
			log.Warn("room upgrade: updating the old room's canonical alias failed", zap.Error(err))
		}
	}
}

// restrictedPowerLevels is the old room's power levels content with
// events_default and invite raised to max(50, users_default+1), or nil when
// they already are (or there are no power levels).
func restrictedPowerLevels(pl *event.Event) json.RawMessage {
	if pl == nil {
		return nil
	}
	parsed, _ := auth.PowerLevelsOf(pl)
	content := powerLevelsContent(pl)
	level := max(int64(50), parsed.UsersDefault+1)
	changed := false
	if parsed.EventsDefault < level {
		content["events_default"], changed = level, true
	}
	if parsed.Invite < level {
		content["invite"], changed = level, true
	}
	if !changed {
		return nil
	}
	raw, _ := json.Marshal(content)
	return raw
}
