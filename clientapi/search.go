package clientapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/storage/search"
	"github.com/concordchat/concord/syncapi"
)

// Search defaults and bounds.
const (
	defaultSearchLimit   = 10
	maxSearchLimit       = 100
	defaultContextEvents = 5
	maxContextEvents     = 100
)

type searchReq struct {
	SearchCategories struct {
		RoomEvents *roomEventsCriteria `json:"room_events"`
	} `json:"search_categories"`
}

type roomEventsCriteria struct {
	SearchTerm   *string       `json:"search_term"`
	Keys         []string      `json:"keys"`
	Filter       searchFilter  `json:"filter"`
	OrderBy      string        `json:"order_by"`
	EventContext *eventContext `json:"event_context"`
	IncludeState bool          `json:"include_state"`
	Groupings    struct {
		GroupBy []struct {
			Key string `json:"key"`
		} `json:"group_by"`
	} `json:"groupings"`
}

// searchFilter is a RoomEventFilter.
type searchFilter struct {
	syncapi.EventFilter
	Rooms    *[]string `json:"rooms"`
	NotRooms []string  `json:"not_rooms"`
}

type eventContext struct {
	BeforeLimit    *int `json:"before_limit"`
	AfterLimit     *int `json:"after_limit"`
	IncludeProfile bool `json:"include_profile"`
}

type searchResp struct {
	SearchCategories map[string]*roomEventsResult `json:"search_categories"`
}

type roomEventsResult struct {
	Count      int                                     `json:"count"`
	Highlights []string                                `json:"highlights"`
	Results    []searchResult                          `json:"results"`
	NextBatch  string                                  `json:"next_batch,omitempty"`
	State      map[string][]syncapi.ClientEvent        `json:"state,omitempty"`
	Groups     map[string]map[string]*searchGroupEntry `json:"groups,omitempty"`
}

type searchResult struct {
	Rank    float64              `json:"rank"`
	Result  syncapi.ClientEvent  `json:"result"`
	Context *searchResultContext `json:"context,omitempty"`
}

type searchResultContext struct {
	Start        string                    `json:"start"`
	End          string                    `json:"end"`
	ProfileInfo  map[string]map[string]any `json:"profile_info,omitempty"`
	EventsBefore []syncapi.ClientEvent     `json:"events_before"`
	EventsAfter  []syncapi.ClientEvent     `json:"events_after"`
}

type searchGroupEntry struct {
	NextBatch string   `json:"next_batch,omitempty"`
	Order     int      `json:"order"`
	Results   []string `json:"results"`
}

// searchToken is the opaque next_batch: where the last result was in the
// order, and the group it paginates within, if any.
type searchToken struct {
	Recent     bool    `json:"o,omitempty"`
	Rank       float64 `json:"r"`
	Pos        int64   `json:"p"`
	GroupKey   string  `json:"g,omitempty"`
	GroupValue string  `json:"v,omitempty"`
}

func (t searchToken) String() string {
	raw, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func parseSearchToken(s string) (searchToken, error) {
	var t searchToken
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(raw, &t) != nil || t.Pos <= 0 {
		return t, matrixhttp.InvalidParam("Invalid next_batch token")
	}
	return t, nil
}

// search implements POST /search: full-text search of the room events the
// user may see, in rooms they are or were in (client-server API, "Server
// Side Search").
func (a *API) search(c *gin.Context) {
	var req searchReq
	if err := matrixhttp.DecodeJSON(c, &req, 0, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	resp := searchResp{SearchCategories: map[string]*roomEventsResult{}}
	crit := req.SearchCategories.RoomEvents
	if crit == nil {
		matrixhttp.Respond(c, http.StatusOK, resp)
		return
	}
	q, err := a.searchPlan(c, crit)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	out, err := a.runSearch(c.Request.Context(), mustSession(c).UserID, q)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	resp.SearchCategories["room_events"] = out
	matrixhttp.Respond(c, http.StatusOK, resp)
}

// searchPlan is a validated search request.
type searchPlan struct {
	crit      *roomEventsCriteria
	terms     []string
	keys      []string
	limit     int
	recent    bool
	groupBy   []string
	before    int
	after     int
	withCtx   bool
	token     *searchToken
	eventFilt syncapi.EventFilter
}

func (a *API) searchPlan(c *gin.Context, crit *roomEventsCriteria) (*searchPlan, error) {
	if crit.SearchTerm == nil {
		return nil, matrixhttp.BadJSON("search_term is required")
	}
	p := &searchPlan{crit: crit, terms: search.Terms(*crit.SearchTerm), limit: defaultSearchLimit,
		eventFilt: crit.Filter.EventFilter}
	for _, k := range crit.Keys {
		if !slices.Contains(search.Keys, k) {
			return nil, matrixhttp.InvalidParam("Unknown search key %q", k)
		}
	}
	p.keys = crit.Keys
	switch crit.OrderBy {
	case "", "rank":
	case "recent":
		p.recent = true
	default:
		return nil, matrixhttp.InvalidParam("order_by must be rank or recent")
	}
	if l := crit.Filter.Limit; l != nil {
		if *l < 1 {
			return nil, matrixhttp.InvalidParam("filter.limit must be positive")
		}
		p.limit = min(*l, maxSearchLimit)
	}
	for _, g := range crit.Groupings.GroupBy {
		if g.Key != "room_id" && g.Key != "sender" {
			return nil, matrixhttp.InvalidParam("Unknown group key %q", g.Key)
		}
		if !slices.Contains(p.groupBy, g.Key) {
			p.groupBy = append(p.groupBy, g.Key)
		}
	}
	if ec := crit.EventContext; ec != nil {
		p.withCtx, p.before, p.after = true, defaultContextEvents, defaultContextEvents
		if ec.BeforeLimit != nil {
			p.before = *ec.BeforeLimit
		}
		if ec.AfterLimit != nil {
			p.after = *ec.AfterLimit
		}
		if p.before < 0 || p.after < 0 {
			return nil, matrixhttp.InvalidParam("event_context limits must not be negative")
		}
		p.before, p.after = min(p.before, maxContextEvents), min(p.after, maxContextEvents)
	}
	if nb := c.Query("next_batch"); nb != "" {
		t, err := parseSearchToken(nb)
		if err != nil {
			return nil, err
		}
		if t.Recent != p.recent {
			return nil, matrixhttp.InvalidParam("next_batch belongs to a search in another order")
		}
		p.token = &t
	}
	return p, nil
}

// runSearch finds one page of results the user may see.
func (a *API) runSearch(ctx context.Context, userID string, p *searchPlan) (*roomEventsResult, error) {
	out := &roomEventsResult{Highlights: []string{}, Results: []searchResult{}}
	vis, ms, err := a.visibility(ctx, userID)
	if err != nil {
		return nil, err
	}
	q := search.Query{Terms: p.terms, Keys: p.keys, ByRecent: p.recent, Senders: p.crit.Filter.Senders,
		NotSenders: p.crit.Filter.NotSenders}
	roomOf := map[int64]string{}
	rf := syncapi.RoomFilter{Rooms: p.crit.Filter.Rooms, NotRooms: p.crit.Filter.NotRooms}
	for _, m := range ms {
		if rf.RoomAllowed(m.RoomID) && (p.token == nil || p.token.GroupKey != "room_id" || p.token.GroupValue == m.RoomID) {
			q.RoomNIDs = append(q.RoomNIDs, m.RoomNID)
			roomOf[m.RoomNID] = m.RoomID
		}
	}
	if p.token != nil && p.token.GroupKey == "sender" {
		if q.Senders != nil && !slices.Contains(*q.Senders, p.token.GroupValue) {
			q.RoomNIDs = nil
		}
		q.Senders = &[]string{p.token.GroupValue}
	}
	if out.Count, err = a.deps.Search.Count(ctx, q); err != nil {
		return nil, err
	}
	if p.token != nil {
		q.After = &search.Cursor{Rank: p.token.Rank, StreamPos: p.token.Pos}
	}
	hits, found, more, err := a.searchHits(ctx, vis, q, roomOf, p)
	if err != nil {
		return nil, err
	}
	nids := make([]int64, len(hits))
	events := make([]syncapi.ClientEvent, len(hits))
	for i, h := range hits {
		nids[i] = h.EventNID
		events[i] = syncapi.FormatEvent(found[h.EventNID].Event, true, a.deps.Now())
	}
	if out.Highlights, err = a.deps.Search.Highlights(ctx, p.terms, nids); err != nil {
		return nil, err
	}
	if err := a.annotate(ctx, userID, events); err != nil {
		return nil, err
	}
	for i, h := range hits {
		r := searchResult{Rank: h.Rank, Result: events[i]}
		if p.withCtx {
			if r.Context, err = a.searchContext(ctx, userID, vis, found[h.EventNID], p); err != nil {
				return nil, err
			}
		}
		out.Results = append(out.Results, r)
	}
	last := func(h search.Hit) searchToken {
		return searchToken{Recent: p.recent, Rank: h.Rank, Pos: h.StreamPos}
	}
	if more {
		t := last(hits[len(hits)-1])
		if p.token != nil {
			t.GroupKey, t.GroupValue = p.token.GroupKey, p.token.GroupValue
		}
		out.NextBatch = t.String()
	}
	out.Groups = searchGroups(p.groupBy, hits, found, roomOf, more, last)
	if p.crit.IncludeState {
		if out.State, err = a.searchState(ctx, userID, hits, roomOf); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// searchHits reads hits page by page, keeping those that pass the filter's
// types and that the user may see, until p.limit are found; more reports
// whether results remain.
func (a *API) searchHits(ctx context.Context, vis *syncapi.Visibility, q search.Query, roomOf map[int64]string,
	p *searchPlan) ([]search.Hit, map[int64]rooms.StoredEvent, bool, error) {
	var hits []search.Hit
	found := map[int64]rooms.StoredEvent{}
	for len(hits) <= p.limit {
		q.Limit = p.limit + 1 - len(hits)
		page, err := a.deps.Search.Search(ctx, q)
		if err != nil {
			return nil, nil, false, err
		}
		if len(page) == 0 {
			break
		}
		nids := make([]int64, len(page))
		for i, h := range page {
			nids[i] = h.EventNID
		}
		evs, err := a.deps.RoomStore.EventsByNID(ctx, nids)
		if err != nil {
			return nil, nil, false, err
		}
		byNID := make(map[int64]rooms.StoredEvent, len(evs))
		for _, se := range evs {
			byNID[se.NID] = se
		}
		for _, h := range page {
			se, ok := byNID[h.EventNID]
			if !ok || !p.eventFilt.Allows(se.Event) {
				continue
			}
			if ok, err := vis.Visible(ctx, roomOf[h.RoomNID], se); err != nil {
				return nil, nil, false, err
			} else if ok {
				hits = append(hits, h)
				found[h.EventNID] = se
			}
		}
		if len(page) < q.Limit {
			break
		}
		tail := page[len(page)-1]
		q.After = &search.Cursor{Rank: tail.Rank, StreamPos: tail.StreamPos}
	}
	more := len(hits) > p.limit
	if more {
		hits = hits[:p.limit]
	}
	return hits, found, more, nil
}

// searchGroups partitions the results by room and/or sender.
func searchGroups(groupBy []string, hits []search.Hit, found map[int64]rooms.StoredEvent, roomOf map[int64]string,
	more bool, last func(search.Hit) searchToken) map[string]map[string]*searchGroupEntry {
	if len(groupBy) == 0 {
		return nil
	}
	out := map[string]map[string]*searchGroupEntry{}
	for _, key := range groupBy {
		groups := map[string]*searchGroupEntry{}
		for _, h := range hits {
			value := roomOf[h.RoomNID]
			if key == "sender" {
				value = found[h.EventNID].Event.Sender()
			}
			g := groups[value]
			if g == nil {
				g = &searchGroupEntry{Order: len(groups) + 1, Results: []string{}}
				groups[value] = g
			}
			g.Results = append(g.Results, found[h.EventNID].Event.ID())
			if more {
				t := last(h)
				t.GroupKey, t.GroupValue = key, value
				g.NextBatch = t.String()
			}
		}
		out[key] = groups
	}
	return out
}
