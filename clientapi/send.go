package clientapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/cjson"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/syncapi"
)

// maxEventContent bounds an event body; the whole event must fit 65,536 bytes.
const maxEventContent = event.MaxEventBytes

// readContent reads an event content object: M_TOO_LARGE, M_NOT_JSON or
// M_BAD_JSON (also for JSON the room's canonical rules reject).
func readContent(c *gin.Context) (json.RawMessage, error) {
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxEventContent+1))
	if err != nil {
		return nil, matrixhttp.BadJSON("Could not read request body")
	}
	if len(body) > maxEventContent {
		return nil, matrixhttp.TooLarge("Event too large")
	}
	var obj map[string]json.RawMessage
	if err := matrixhttp.DecodeBytes(body, &obj, false); err != nil {
		return nil, err
	}
	canonical, err := cjson.CanonicalStrict(body)
	if err != nil {
		return nil, matrixhttp.BadJSON("%v", err)
	}
	return canonical, nil
}

// sendEvent implements PUT /rooms/{roomId}/send/{eventType}/{txnId}.
func (a *API) sendEvent(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	s := mustSession(c)
	content, err := readContent(c)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	typ := c.Param("eventType")
	if typ == "" || len(typ) > event.MaxKeyBytes {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("Invalid event type"))
		return
	}
	if target := gjson.GetBytes(content, "redacts"); typ == event.TypeRedaction && target.Type == gjson.String {
		// A redaction sent as an event (v11+ rooms) obeys the redact rules.
		if err := a.checkRedaction(c, roomID, s.UserID, target.Str); err != nil {
			matrixhttp.Fail(c, err)
			return
		}
	}
	out, err := a.deps.Rooms.Send(c.Request.Context(), roomID, roomserver.Proposal{Type: typ, Sender: s.UserID,
		Content: content, DeviceID: s.DeviceID, TxnID: c.Param("txnId")})
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{"event_id": out.Event.ID()})
}

type redactReq struct {
	Reason string `json:"reason,omitempty"`
}

// redact implements PUT /rooms/{roomId}/redact/{eventId}/{txnId}. A user may
// redact their own events (within rooms.redaction_window), or any event with
// the redact power level.
func (a *API) redact(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	s := mustSession(c)
	var req redactReq
	if err := matrixhttp.DecodeJSON(c, &req, 0, true); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	targetID := c.Param("eventId")
	if err := a.checkRedaction(c, roomID, s.UserID, targetID); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	content, _ := json.Marshal(req)
	out, err := a.deps.Rooms.Send(ctx, roomID, roomserver.Proposal{Type: event.TypeRedaction, Sender: s.UserID,
		Content: content, Redacts: targetID, DeviceID: s.DeviceID, TxnID: "redact:" + c.Param("txnId")})
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{"event_id": out.Event.ID()})
}

// checkRedaction decides whether user may redact targetID: their own event
// within rooms.redaction_window of its sending (no limit when 0), any event
// of the room with the redact power level.
func (a *API) checkRedaction(c *gin.Context, roomID, user, targetID string) error {
	evs, err := a.deps.RoomStore.EventsByID(c.Request.Context(), []string{targetID})
	if err != nil {
		return err
	}
	if len(evs) == 0 || evs[0].Event.RoomID() != roomID {
		return matrixhttp.NotFound("Event not found")
	}
	target := evs[0].Event
	own := target.Sender() == user
	window := a.deps.Config.Rooms.RedactionWindowDuration()
	if own && (window == 0 || a.deps.Now().Sub(time.UnixMilli(target.OriginServerTS())) <= window) {
		return nil
	}
	err = a.requirePower(c, roomID, user, func(pl *auth.PowerLevels) int64 { return pl.Redact })
	if errors.Is(err, errNoPower) && own {
		return matrixhttp.Forbidden("Your own events may only be redacted within %s of sending them", window)
	}
	return err
}

// errNoPower is the M_FORBIDDEN of requirePower for a too low power level.
var errNoPower = matrixhttp.Forbidden("You do not have permission to do that")

// requirePower checks the user's power level against the level level picks.
func (a *API) requirePower(c *gin.Context, roomID, user string, level func(*auth.PowerLevels) int64) error {
	state, err := a.deps.Rooms.CurrentState(c.Request.Context(), roomID)
	if err != nil {
		return err
	}
	m := map[event.StateKey]*event.Event{}
	var v = (*event.Event)(nil)
	for _, e := range state {
		m[e.Key()] = e
		v = e
	}
	if v == nil {
		return roomserver.ErrRoomNotFound
	}
	provider := auth.FromMap(m)
	if auth.Membership(provider, user) != event.Join {
		return matrixhttp.Forbidden("You are not in this room")
	}
	if auth.UserPowerLevel(v.Version(), provider, user) < level(auth.RoomPowerLevels(provider)) {
		return errNoPower
	}
	return nil
}

// stateKeyParam returns the state key from a /state/{type}/{key} path ("" when absent).
func stateKeyParam(c *gin.Context) string {
	return strings.TrimPrefix(c.Param("stateKey"), "/")
}

// putStateEvent implements PUT /rooms/{roomId}/state/{eventType}/{stateKey}.
// Sending the content that is already current returns the current event.
func (a *API) putStateEvent(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	s := mustSession(c)
	content, err := readContent(c)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	key := event.StateKey{Type: c.Param("eventType"), StateKey: stateKeyParam(c)}
	if len(key.Type) > event.MaxKeyBytes || len(key.StateKey) > event.MaxKeyBytes {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("Event type or state key too long"))
		return
	}
	if cur, err := a.deps.Rooms.StateEvent(c.Request.Context(), roomID, key); err == nil && cur != nil && cur.Sender() == s.UserID {
		if same, _ := cjson.CanonicalStrict(cur.Content()); bytes.Equal(same, content) {
			matrixhttp.Respond(c, http.StatusOK, gin.H{"event_id": cur.ID()})
			return
		}
	}
	out, err := a.deps.Rooms.Send(c.Request.Context(), roomID, roomserver.Proposal{Type: key.Type, StateKey: &key.StateKey,
		Sender: s.UserID, Content: content})
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{"event_id": out.Event.ID()})
}

// getStateEvent implements GET /rooms/{roomId}/state/{eventType}/{stateKey}
// (content, or the whole event with ?format=event).
func (a *API) getStateEvent(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	state, err := a.visibleState(c, roomID)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	key := event.StateKey{Type: c.Param("eventType"), StateKey: stateKeyParam(c)}
	for _, e := range state {
		if e.Key() == key {
			if c.Query("format") == "event" {
				matrixhttp.Respond(c, http.StatusOK, syncapi.FormatEvent(e, true, a.deps.Now()))
			} else {
				c.Data(http.StatusOK, "application/json", e.Content())
			}
			return
		}
	}
	matrixhttp.Fail(c, matrixhttp.NotFound("Event not found"))
}

// getState implements GET /rooms/{roomId}/state.
func (a *API) getState(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	state, err := a.visibleState(c, roomID)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, syncapi.FormatEvents(state, true, a.deps.Now()))
}

// visibleState is the current state for members, the state when they left
// for former members, and M_FORBIDDEN otherwise.
func (a *API) visibleState(c *gin.Context, roomID string) ([]*event.Event, error) {
	s := mustSession(c)
	ctx := c.Request.Context()
	m, err := a.membershipRow(ctx, s.UserID, roomID)
	if err != nil {
		var me *matrixhttp.Error
		if !errors.As(err, &me) {
			return nil, err
		}
		// Not a member: the current state of a world_readable room is public.
		if _, readable, rerr := a.worldReadable(ctx, roomID); rerr != nil || readable {
			if rerr != nil {
				return nil, rerr
			}
			return a.deps.Rooms.CurrentState(ctx, roomID)
		}
		return nil, matrixhttp.Forbidden("You are not a member of this room")
	}
	if m.Membership == event.Join {
		return a.deps.Rooms.CurrentState(ctx, roomID)
	}
	if m.Membership != event.Leave && m.Membership != event.Ban {
		return nil, matrixhttp.Forbidden("You are not a member of this room")
	}
	evs, err := a.deps.RoomStore.EventsByNID(ctx, []int64{m.EventNID})
	if err != nil || len(evs) == 0 {
		return nil, errors.Join(err, errors.New("clientapi: membership event missing"))
	}
	nids, err := a.deps.RoomStore.State(ctx, evs[0].StateAfterNID)
	if err != nil {
		return nil, err
	}
	stored, err := a.deps.RoomStore.StateEvents(ctx, nids)
	if err != nil {
		return nil, err
	}
	out := make([]*event.Event, 0, len(stored))
	for _, se := range stored {
		out = append(out, se.Event)
	}
	return out, nil
}
