package clientapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/syncapi"
)

// getEvent implements GET /rooms/{roomId}/event/{eventId}.
func (a *API) getEvent(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	vis, _, err := a.visibility(ctx, mustSession(c).UserID)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	evs, err := a.deps.RoomStore.EventsByID(ctx, []string{c.Param("eventId")})
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if len(evs) == 0 || evs[0].Event.RoomID() != roomID || evs[0].Rejected || evs[0].Outlier {
		matrixhttp.Fail(c, matrixhttp.NotFound("Event not found"))
		return
	}
	if ok, err := vis.Visible(ctx, roomID, evs[0]); err != nil || !ok {
		if err == nil {
			err = matrixhttp.NotFound("Event not found")
		}
		matrixhttp.Fail(c, err)
		return
	}
	served := []syncapi.ClientEvent{syncapi.FormatEvent(evs[0].Event, true, a.deps.Now())}
	if err := a.annotate(ctx, mustSession(c).UserID, served); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, served[0])
}

type messagesResp struct {
	Chunk []syncapi.ClientEvent `json:"chunk"`
	Start string                `json:"start"`
	End   string                `json:"end,omitempty"`
	State []syncapi.ClientEvent `json:"state,omitempty"`
}

// messages implements GET /rooms/{roomId}/messages: pages of visible events
// in either direction between tokens. A token lies after a stream position:
// backwards from t returns events at or before t, forwards events after it.
func (a *API) messages(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	s := mustSession(c)
	dir := c.DefaultQuery("dir", "b")
	if dir != "b" && dir != "f" {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("dir must be b or f"))
		return
	}
	limit := 10
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			matrixhttp.Fail(c, matrixhttp.InvalidParam("Invalid limit"))
			return
		}
		limit = min(max(n, 1), syncapi.MaxLimit)
	}
	// The filter of /messages is a RoomEventFilter (types, senders, ...).
	var filter syncapi.EventFilter
	if f := c.Query("filter"); f != "" {
		if err := json.Unmarshal([]byte(f), &filter); err != nil {
			matrixhttp.Fail(c, matrixhttp.BadJSON("Invalid filter"))
			return
		}
	}
	vis, ms, err := a.visibility(ctx, s.UserID)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	m, member := ms[roomID]
	if !member {
		// Anyone may read a world_readable room's history without joining.
		nid, readable, err := a.worldReadable(ctx, roomID)
		if err != nil {
			matrixhttp.Fail(c, err)
			return
		}
		if !readable {
			matrixhttp.Fail(c, matrixhttp.Forbidden("You are not a member of this room"))
			return
		}
		m = rooms.Membership{RoomID: roomID, RoomNID: nid}
	}
	now := a.deps.Rooms.StreamPosition()
	from, to := int64(0), int64(-1)
	if dir == "b" {
		from = now
	}
	if t := c.Query("from"); t != "" {
		tok, err := syncapi.ParseToken(t)
		if err != nil {
			matrixhttp.Fail(c, err)
			return
		}
		from = min(tok.Room, now)
	}
	if t := c.Query("to"); t != "" {
		tok, err := syncapi.ParseToken(t)
		if err != nil {
			matrixhttp.Fail(c, err)
			return
		}
		to = tok.Room
	}
	page, next, err := a.page(ctx, vis, roomID, m.RoomNID, dir == "b", from, to, limit, filter)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	resp := messagesResp{Chunk: make([]syncapi.ClientEvent, 0, len(page)), Start: syncapi.Token{Room: from}.String()}
	for _, se := range page {
		resp.Chunk = append(resp.Chunk, syncapi.FormatEvent(se.Event, true, a.deps.Now()))
	}
	if next >= 0 {
		resp.End = syncapi.Token{Room: next}.String()
	}
	if err := a.annotate(ctx, s.UserID, resp.Chunk); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, resp)
}

// page reads up to limit visible, filter-passing events from `from` in one
// direction, stopping at `to` (-1: no bound). next is the token to continue
// from, or -1 when the end of the room was reached.
func (a *API) page(ctx context.Context, vis *syncapi.Visibility, roomID string, roomNID int64, backwards bool,
	from, to int64, limit int, ef syncapi.EventFilter) ([]rooms.StoredEvent, int64, error) {
	var out []rooms.StoredEvent
	cursor := from
	for len(out) < limit {
		var batch []rooms.StoredEvent
		var err error
		if backwards {
			lower := int64(0)
			if to >= 0 {
				lower = to
			}
			batch, err = a.deps.RoomStore.RoomEvents(ctx, roomNID, lower, cursor+1, limit-len(out), true)
		} else {
			upper := int64(0)
			if to >= 0 {
				upper = to + 1
			}
			batch, err = a.deps.RoomStore.RoomEvents(ctx, roomNID, cursor, upper, limit-len(out), false)
		}
		if err != nil {
			return nil, 0, err
		}
		if len(batch) == 0 {
			return out, -1, nil
		}
		for _, se := range batch {
			if backwards {
				cursor = se.StreamPos - 1
			} else {
				cursor = se.StreamPos
			}
			ok, err := vis.Visible(ctx, roomID, se)
			if err != nil {
				return nil, 0, err
			}
			if ok && ef.Allows(se.Event) {
				out = append(out, se)
			}
		}
	}
	return out, cursor, nil
}

// members implements GET /rooms/{roomId}/members (current members; the
// membership and not_membership filters apply).
func (a *API) members(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	state, err := a.visibleState(c, roomID)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	want, notWant := c.Query("membership"), c.Query("not_membership")
	var out []*event.Event
	for _, e := range state {
		if e.Type() != event.TypeMember {
			continue
		}
		if (want != "" && e.Membership() != want) || (notWant != "" && e.Membership() == notWant) {
			continue
		}
		out = append(out, e)
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{"chunk": syncapi.FormatEvents(out, true, a.deps.Now())})
}

type joinedMember struct {
	DisplayName *string `json:"display_name,omitempty"`
	AvatarURL   *string `json:"avatar_url,omitempty"`
}

// joinedMembers implements GET /rooms/{roomId}/joined_members (members only).
func (a *API) joinedMembers(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	s := mustSession(c)
	state, err := a.deps.Rooms.CurrentState(c.Request.Context(), roomID)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	joined := map[string]joinedMember{}
	for _, e := range state {
		if e.Type() == event.TypeMember && e.Membership() == event.Join {
			jm := joinedMember{}
			if d := gjson.GetBytes(e.Content(), "displayname"); d.Type == gjson.String {
				jm.DisplayName = &d.Str
			}
			if av := gjson.GetBytes(e.Content(), "avatar_url"); av.Type == gjson.String {
				jm.AvatarURL = &av.Str
			}
			joined[*e.StateKey()] = jm
		}
	}
	if _, ok := joined[s.UserID]; !ok {
		matrixhttp.Fail(c, matrixhttp.Forbidden("You are not in this room"))
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{"joined": joined})
}

// joinedRooms implements GET /joined_rooms.
func (a *API) joinedRooms(c *gin.Context) {
	ms, err := a.deps.RoomStore.MembershipsOf(c.Request.Context(), mustSession(c).UserID)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	ids := []string{}
	for _, m := range ms {
		if m.Membership == event.Join {
			ids = append(ids, m.RoomID)
		}
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{"joined_rooms": ids})
}
