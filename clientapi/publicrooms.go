package clientapi

import (
	"context"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
)

// publicRoomsMaxLimit bounds a page of the room directory; a request
// without a limit gets pages of this size.
const publicRoomsMaxLimit = 500

type publicRoomsFilter struct {
	GenericSearchTerm string `json:"generic_search_term"`
	// RoomTypes lists the room types to include; a null entry stands for
	// rooms without a type. Absent or empty: every room.
	RoomTypes []*string `json:"room_types"`
}

type publicRoomsReq struct {
	Limit                *int64            `json:"limit"`
	Since                string            `json:"since"`
	Filter               publicRoomsFilter `json:"filter"`
	IncludeAllNetworks   bool              `json:"include_all_networks"`
	ThirdPartyInstanceID string            `json:"third_party_instance_id"`
}

// publicRoom is one entry of the room directory (PublishedRoomsChunk).
type publicRoom struct {
	RoomID           string `json:"room_id"`
	Name             string `json:"name,omitempty"`
	Topic            string `json:"topic,omitempty"`
	CanonicalAlias   string `json:"canonical_alias,omitempty"`
	NumJoinedMembers int    `json:"num_joined_members"`
	WorldReadable    bool   `json:"world_readable"`
	GuestCanJoin     bool   `json:"guest_can_join"`
	AvatarURL        string `json:"avatar_url,omitempty"`
	JoinRule         string `json:"join_rule,omitempty"`
	RoomType         string `json:"room_type,omitempty"`
	hasType          bool
}

type publicRoomsResp struct {
	Chunk                  []publicRoom `json:"chunk"`
	NextBatch              string       `json:"next_batch,omitempty"`
	PrevBatch              string       `json:"prev_batch,omitempty"`
	TotalRoomCountEstimate int          `json:"total_room_count_estimate"`
}

// getPublicRooms implements GET /publicRooms.
func (a *API) getPublicRooms(c *gin.Context) {
	req := publicRoomsReq{Since: c.Query("since"), ThirdPartyInstanceID: c.Query("third_party_instance_id")}
	if l, ok := c.GetQuery("limit"); ok {
		n, err := strconv.ParseInt(l, 10, 64)
		if err != nil {
			matrixhttp.Fail(c, matrixhttp.InvalidParam("limit must be an integer"))
			return
		}
		req.Limit = &n
	}
	if v, ok := c.GetQuery("include_all_networks"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			matrixhttp.Fail(c, matrixhttp.InvalidParam("include_all_networks must be true or false"))
			return
		}
		req.IncludeAllNetworks = b
	}
	a.publicRooms(c, req)
}

// postPublicRooms implements POST /publicRooms.
func (a *API) postPublicRooms(c *gin.Context) {
	var req publicRoomsReq
	if err := matrixhttp.DecodeJSON(c, &req, 0, true); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	a.publicRooms(c, req)
}

// publicRooms lists the published rooms that are public, knockable or world
// readable (as Synapse does), largest first (then by room ID), filtered and
// paginated with keyset tokens.
func (a *API) publicRooms(c *gin.Context, req publicRoomsReq) {
	if server := c.Query("server"); server != "" && server != a.deps.Config.ServerName {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("Listing the rooms of other servers needs federation, which this server does not run yet"))
		return
	}
	limit := publicRoomsMaxLimit
	if req.Limit != nil {
		if *req.Limit < 0 {
			matrixhttp.Fail(c, matrixhttp.InvalidParam("limit must not be negative"))
			return
		}
		if *req.Limit > 0 && *req.Limit < publicRoomsMaxLimit {
			limit = int(*req.Limit)
		}
	}
	since, err := parseDirectoryToken(req.Since)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	resp := publicRoomsResp{Chunk: []publicRoom{}}
	if req.ThirdPartyInstanceID != "" && !req.IncludeAllNetworks {
		// Rooms of third-party networks come from application services,
		// which publish none here.
		matrixhttp.Respond(c, http.StatusOK, resp)
		return
	}
	all, err := a.publishedRoomEntries(c.Request.Context())
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	term := strings.ToLower(strings.TrimSpace(req.Filter.GenericSearchTerm))
	var listed []publicRoom
	for _, r := range all {
		if directoryListable(r) && r.matches(term, req.Filter.RoomTypes) {
			listed = append(listed, r)
		}
	}
	slices.SortFunc(listed, func(x, y publicRoom) int {
		if x.NumJoinedMembers != y.NumJoinedMembers {
			return y.NumJoinedMembers - x.NumJoinedMembers
		}
		return strings.Compare(x.RoomID, y.RoomID)
	})
	resp.TotalRoomCountEstimate = len(listed)
	start, end := directoryPage(listed, since, limit)
	resp.Chunk = append(resp.Chunk, listed[start:end]...)
	if start < end {
		if start > 0 {
			resp.PrevBatch = directoryToken{backwards: true, joined: listed[start].NumJoinedMembers, roomID: listed[start].RoomID}.String()
		}
		if end < len(listed) {
			resp.NextBatch = directoryToken{joined: listed[end-1].NumJoinedMembers, roomID: listed[end-1].RoomID}.String()
		}
	}
	matrixhttp.Respond(c, http.StatusOK, resp)
}

// directoryListable: Synapse lists published rooms that anyone may join or knock on,
// or whose history anyone may read.
func directoryListable(r publicRoom) bool {
	switch r.JoinRule {
	case auth.JoinPublic, auth.JoinKnock, auth.JoinKnockRestricted:
		return true
	}
	return r.WorldReadable
}

// matches applies generic_search_term (a case-insensitive substring of the
// name, topic or canonical alias) and room_types.
func (r publicRoom) matches(term string, types []*string) bool {
	if term != "" && !strings.Contains(strings.ToLower(r.Name), term) &&
		!strings.Contains(strings.ToLower(r.Topic), term) && !strings.Contains(strings.ToLower(r.CanonicalAlias), term) {
		return false
	}
	if len(types) == 0 {
		return true
	}
	for _, t := range types {
		if (t == nil && !r.hasType) || (t != nil && r.hasType && *t == r.RoomType) {
			return true
		}
	}
	return false
}

// directoryPage returns the slice of sorted rooms a token and limit select.
func directoryPage(rooms []publicRoom, since *directoryToken, limit int) (start, end int) {
	if since == nil {
		return 0, min(limit, len(rooms))
	}
	// The first room after the token's key in the listing order.
	after, _ := slices.BinarySearchFunc(rooms, since, func(r publicRoom, t *directoryToken) int {
		if r.NumJoinedMembers != t.joined {
			return t.joined - r.NumJoinedMembers
		}
		return strings.Compare(r.RoomID, t.roomID)
	})
	if since.backwards {
		// The rooms strictly before the key.
		return max(0, after-limit), after
	}
	if after < len(rooms) && rooms[after].RoomID == since.roomID && rooms[after].NumJoinedMembers == since.joined {
		after++
	}
	return after, min(after+limit, len(rooms))
}

// directoryStateTypes are the state events a directory entry is made of.
var directoryStateTypes = []string{event.TypeCreate, "m.room.name", "m.room.topic", "m.room.canonical_alias",
	"m.room.avatar", event.TypeJoinRules, event.TypeHistoryVisibility, "m.room.guest_access"}

// publishedRoomEntries builds the directory entries of every published room.
func (a *API) publishedRoomEntries(ctx context.Context) ([]publicRoom, error) {
	published, err := a.deps.Directory.PublishedRooms(ctx, directoryStateTypes)
	if err != nil {
		return nil, err
	}
	var nids []int64
	for _, p := range published {
		for _, nid := range p.State {
			nids = append(nids, nid)
		}
	}
	byNID := make(map[int64]*event.Event, len(nids))
	const chunk = 900 // stays under SQLite's bound-parameter limits
	for i := 0; i < len(nids); i += chunk {
		evs, err := a.deps.RoomStore.EventsByNID(ctx, nids[i:min(i+chunk, len(nids))])
		if err != nil {
			return nil, err
		}
		for _, se := range evs {
			byNID[se.NID] = se.Event
		}
	}
	out := make([]publicRoom, 0, len(published))
	for _, p := range published {
		content := func(typ string) gjson.Result {
			if e := byNID[p.State[typ]]; e != nil {
				return gjson.ParseBytes(e.Content())
			}
			return gjson.Result{}
		}
		r := publicRoom{RoomID: p.RoomID, NumJoinedMembers: p.JoinedMembers,
			Name: contentString(content("m.room.name"), "name"), Topic: contentString(content("m.room.topic"), "topic"),
			CanonicalAlias: contentString(content("m.room.canonical_alias"), "alias"), AvatarURL: contentString(content("m.room.avatar"), "url"),
			JoinRule:      contentString(content(event.TypeJoinRules), "join_rule"),
			WorldReadable: contentString(content(event.TypeHistoryVisibility), "history_visibility") == "world_readable",
			GuestCanJoin:  contentString(content("m.room.guest_access"), "guest_access") == "can_join"}
		if t := content(event.TypeCreate).Get("type"); t.Type == gjson.String {
			r.RoomType, r.hasType = t.Str, true
		}
		out = append(out, r)
	}
	return out, nil
}

// contentString returns content[key] when it is a string, else "".
func contentString(content gjson.Result, key string) string {
	if v := content.Get(gjson.Escape(key)); v.Type == gjson.String {
		return v.Str
	}
	return ""
}

// directoryToken is a position in the room directory's order: the room
// with joined members and ID, and the direction to read from it.
type directoryToken struct {
	backwards bool
	joined    int
	roomID    string
}

func (t directoryToken) String() string {
	dir := "n"
	if t.backwards {
		dir = "p"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(dir + strconv.Itoa(t.joined) + "|" + t.roomID))
}

// parseDirectoryToken parses a since token ("" gives nil).
func parseDirectoryToken(s string) (*directoryToken, error) {
	if s == "" {
		return nil, nil
	}
	bad := matrixhttp.InvalidParam("Invalid since token")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 3 || (b[0] != 'n' && b[0] != 'p') {
		return nil, bad
	}
	num, roomID, ok := strings.Cut(string(b[1:]), "|")
	joined, err := strconv.Atoi(num)
	if !ok || err != nil || joined < 0 || !strings.HasPrefix(roomID, "!") {
		return nil, bad
	}
	return &directoryToken{backwards: b[0] == 'p', joined: joined, roomID: roomID}, nil
}

type roomVisibility struct {
	Visibility *string `json:"visibility"`
}

// getRoomVisibility implements GET /directory/list/room/{roomId}.
func (a *API) getRoomVisibility(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if _, err := a.deps.Rooms.Room(ctx, roomID); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	published, err := a.deps.Directory.IsPublished(ctx, roomID)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	vis := "private"
	if published {
		vis = "public"
	}
	matrixhttp.Respond(c, http.StatusOK, roomVisibility{Visibility: &vis})
}

// putRoomVisibility implements PUT /directory/list/room/{roomId}: server
// admins, and members allowed to send m.room.canonical_alias, may publish or
// hide a room (visibility defaults to public).
func (a *API) putRoomVisibility(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	var req roomVisibility
	if err := matrixhttp.DecodeJSON(c, &req, 0, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	public := req.Visibility == nil || *req.Visibility == "public"
	if !public && *req.Visibility != "private" {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("visibility must be public or private"))
		return
	}
	s := mustSession(c)
	ctx := c.Request.Context()
	var err error
	if s.IsAdmin {
		_, err = a.deps.Rooms.Room(ctx, roomID)
	} else {
		err = a.requirePower(c, roomID, s.UserID, func(pl *auth.PowerLevels) int64 {
			return pl.EventLevel("m.room.canonical_alias", true)
		})
	}
	if err == nil {
		err = a.deps.Directory.SetPublished(ctx, roomID, public, s.UserID, a.deps.Now().UnixMilli())
	}
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{})
}
