package clientapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/storage/search"
	"github.com/concordchat/concord/syncapi"
)

// defaultContextLimit is the number of events around the event when the
// client gives no limit.
const defaultContextLimit = 10

type contextResp struct {
	Start        string                `json:"start"`
	End          string                `json:"end"`
	EventsBefore []syncapi.ClientEvent `json:"events_before"`
	Event        syncapi.ClientEvent   `json:"event"`
	EventsAfter  []syncapi.ClientEvent `json:"events_after"`
	State        []syncapi.ClientEvent `json:"state"`
}

// parseEventFilter reads a RoomEventFilter given as JSON in a query
// parameter ("" for none): M_BAD_JSON when it is not one.
func parseEventFilter(raw string) (syncapi.EventFilter, error) {
	var ef syncapi.EventFilter
	if strings.TrimSpace(raw) == "" {
		return ef, nil
	}
	if err := json.Unmarshal([]byte(raw), &ef); err != nil {
		return ef, matrixhttp.BadJSON("Invalid filter: %v", err)
	}
	return ef, nil
}

// eventContext implements GET /rooms/{roomId}/context/{eventId}: the event,
// up to limit visible events around it (half before, the rest after) that
// pass the filter, tokens for /messages from either end, and the room state
// at the last event returned (members lazily loaded on request).
func (a *API) eventContext(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	s := mustSession(c)
	limit, err := queryLimit(c, defaultContextLimit, 0)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	ef, err := parseEventFilter(c.Query("filter"))
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	vis, ms, err := a.visibility(ctx, s.UserID)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	m, member := ms[roomID]
	if !member {
		matrixhttp.Fail(c, matrixhttp.Forbidden("You are not a member of this room"))
		return
	}
	evs, err := a.deps.RoomStore.EventsByID(ctx, []string{c.Param("eventId")})
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if len(evs) == 0 || evs[0].Event.RoomID() != roomID || evs[0].Rejected || evs[0].Outlier || evs[0].StreamPos == 0 {
		matrixhttp.Fail(c, matrixhttp.NotFound("Event not found"))
		return
	}
	target := evs[0]
	if ok, err := vis.Visible(ctx, roomID, target); err != nil || !ok {
		if err == nil {
			err = matrixhttp.NotFound("Event not found")
		}
		matrixhttp.Fail(c, err)
		return
	}
	nBefore := limit / 2
	before, startPos, err := a.page(ctx, vis, roomID, m.RoomNID, true, target.StreamPos-1, -1, nBefore, ef)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	after, endPos, err := a.page(ctx, vis, roomID, m.RoomNID, false, target.StreamPos, -1, limit-nBefore, ef)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if startPos < 0 {
		startPos = 0 // the start of the room was reached
	}
	if endPos < 0 {
		endPos = max(a.deps.Rooms.StreamPosition(), target.StreamPos) // the end of the room was reached
	}
	last := target
	if len(after) > 0 {
		last = after[len(after)-1]
	}
	served := append(append(slices.Clone(before), target), after...)
	state, err := a.contextState(c, last, ef, served)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	now := a.deps.Now()
	resp := contextResp{Start: syncapi.Token{Room: startPos}.String(), End: syncapi.Token{Room: endPos}.String(),
		EventsBefore: formatStored(before, now), Event: syncapi.FormatEvent(target.Event, true, now),
		EventsAfter: formatStored(after, now), State: state}
	one := []syncapi.ClientEvent{resp.Event}
	if err := a.annotate(ctx, s.UserID, resp.EventsBefore, one, resp.EventsAfter, resp.State); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	resp.Event = one[0]
	matrixhttp.Respond(c, http.StatusOK, resp)
}

// contextState is the state after the last event served, passed through the
// filter; with lazy_load_members only the members who sent a served event.
func (a *API) contextState(c *gin.Context, last rooms.StoredEvent, ef syncapi.EventFilter, served []rooms.StoredEvent) ([]syncapi.ClientEvent, error) {
	state, err := a.deps.RoomStore.State(c.Request.Context(), last.StateAfterNID)
	if err != nil {
		return nil, err
	}
	if ef.LazyLoadMembers {
		senders := map[string]bool{}
		for _, se := range served {
			senders[se.Event.Sender()] = true
		}
		for k := range state {
			if k.Type == event.TypeMember && !senders[k.StateKey] {
				delete(state, k)
			}
		}
	}
	evs, err := a.deps.RoomStore.StateEvents(c.Request.Context(), state)
	if err != nil {
		return nil, err
	}
	out := make([]syncapi.ClientEvent, 0, len(evs))
	for _, se := range evs {
		if ef.Allows(se.Event) {
			out = append(out, syncapi.FormatEvent(se.Event, true, a.deps.Now()))
		}
	}
	slices.SortFunc(out, func(x, y syncapi.ClientEvent) int {
		if c := strings.Compare(x.Type, y.Type); c != 0 {
			return c
		}
		return strings.Compare(*x.StateKey, *y.StateKey)
	})
	return out, nil
}

// formatStored renders stored events with their room ID.
func formatStored(evs []rooms.StoredEvent, now time.Time) []syncapi.ClientEvent {
	out := make([]syncapi.ClientEvent, 0, len(evs))
	for _, se := range evs {
		out = append(out, syncapi.FormatEvent(se.Event, true, now))
	}
	return out
}

// searchContext is the context of one search result: visible events around
// it that pass the search filter, /messages tokens from either end and, on
// request, the senders' profiles as they were at the result.
func (a *API) searchContext(ctx context.Context, userID string, vis *syncapi.Visibility, se rooms.StoredEvent,
	p *searchPlan) (*searchResultContext, error) {
	roomID := se.Event.RoomID()
	before, startPos, err := a.page(ctx, vis, roomID, se.RoomNID, true, se.StreamPos-1, -1, p.before, p.eventFilt)
	if err != nil {
		return nil, err
	}
	after, endPos, err := a.page(ctx, vis, roomID, se.RoomNID, false, se.StreamPos, -1, p.after, p.eventFilt)
	if err != nil {
		return nil, err
	}
	startPos, endPos = max(startPos, 0), max(endPos, se.StreamPos)
	if len(after) > 0 {
		endPos = max(endPos, after[len(after)-1].StreamPos)
	}
	now := a.deps.Now()
	out := &searchResultContext{Start: syncapi.Token{Room: startPos}.String(), End: syncapi.Token{Room: endPos}.String(),
		EventsBefore: formatStored(before, now), EventsAfter: formatStored(after, now)}
	if err := a.annotate(ctx, userID, out.EventsBefore, out.EventsAfter); err != nil {
		return nil, err
	}
	if !p.crit.EventContext.IncludeProfile {
		return out, nil
	}
	keys := []event.StateKey{}
	seen := map[string]bool{}
	for _, e := range append(append(slices.Clone(before), se), after...) {
		if s := e.Event.Sender(); !seen[s] {
			seen[s] = true
			keys = append(keys, event.StateKey{Type: event.TypeMember, StateKey: s})
		}
	}
	nids, err := a.deps.RoomStore.StateAt(ctx, se.StateAfterNID, keys)
	if err != nil {
		return nil, err
	}
	members, err := a.deps.RoomStore.StateEvents(ctx, nids)
	if err != nil {
		return nil, err
	}
	out.ProfileInfo = map[string]map[string]any{}
	for k, m := range members {
		profile := map[string]any{}
		for _, field := range []string{"displayname", "avatar_url"} {
			if v := gjson.GetBytes(m.Event.Content(), field); v.Type == gjson.String {
				profile[field] = v.Str
			}
		}
		out.ProfileInfo[k.StateKey] = profile
	}
	return out, nil
}

// searchState is, for each room with results, its current state for a
// member and the state when they left for a former member.
func (a *API) searchState(ctx context.Context, userID string, hits []search.Hit, roomOf map[int64]string) (map[string][]syncapi.ClientEvent, error) {
	out := map[string][]syncapi.ClientEvent{}
	for _, h := range hits {
		roomID := roomOf[h.RoomNID]
		if _, done := out[roomID]; done {
			continue
		}
		state, err := a.stateFor(ctx, userID, roomID)
		if err != nil {
			return nil, err
		}
		out[roomID] = syncapi.FormatEvents(state, true, a.deps.Now())
	}
	return out, nil
}

// stateFor is the room state a user may see: the current state for a member,
// the state at their leaving for a former member, none otherwise.
func (a *API) stateFor(ctx context.Context, userID, roomID string) ([]*event.Event, error) {
	m, err := a.membershipRow(ctx, userID, roomID)
	var me *matrixhttp.Error
	if errors.As(err, &me) {
		return nil, nil // no membership
	}
	if err != nil {
		return nil, err
	}
	switch m.Membership {
	case event.Join:
		return a.deps.Rooms.CurrentState(ctx, roomID)
	case event.Leave, event.Ban:
	default:
		return nil, nil
	}
	evs, err := a.deps.RoomStore.EventsByNID(ctx, []int64{m.EventNID})
	if err != nil || len(evs) == 0 {
		return nil, err
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
