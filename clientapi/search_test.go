package clientapi

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	mevent "maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// searchFixture is a set of rooms and messages about foxes.
type searchFixture struct {
	alice, bob, carol       *mautrix.Client
	roomA, roomB, roomC     id.RoomID
	s1, s2, s3, s4          id.EventID // room A messages
	name, topic             id.EventID // room A state
	inB, beforeLeave, after id.EventID
}

func newSearchFixture(t *testing.T, h *historyEnv) *searchFixture {
	f := &searchFixture{alice: h.user("alice"), bob: h.user("bob"), carol: h.user("carol")}
	f.roomA = h.publicRoom(t, f.alice, f.bob)
	f.s1 = h.text(t, f.alice, f.roomA, "The quick brown fox")
	f.s2 = h.text(t, f.bob, f.roomA, "fox fox fox jumps over")
	f.s3 = h.text(t, f.alice, f.roomA, "a lazy dog sleeps")
	f.s4 = h.text(t, f.bob, f.roomA, "Foxes are clever animals")
	h.clock.Advance(1)
	name, err := f.alice.SendStateEvent(h.ctx, f.roomA, mevent.StateRoomName, "", map[string]any{"name": "Fox den"})
	require.NoError(t, err)
	f.name = name.EventID
	h.clock.Advance(1)
	topic, err := f.alice.SendStateEvent(h.ctx, f.roomA, mevent.StateTopic, "", map[string]any{"topic": "all about foxes"})
	require.NoError(t, err)
	f.topic = topic.EventID
	f.roomB = h.publicRoom(t, f.bob)
	f.inB = h.text(t, f.bob, f.roomB, "a fox in room B")
	f.roomC = h.publicRoom(t, f.alice, f.bob)
	f.beforeLeave = h.text(t, f.alice, f.roomC, "fox before leaving")
	_, err = f.alice.LeaveRoom(h.ctx, f.roomC)
	require.NoError(t, err)
	f.after = h.text(t, f.bob, f.roomC, "fox after alice left")
	return f
}

type searchQuery map[string]any

// search runs a room_events search and returns the category's answer.
func (h *historyEnv) search(t *testing.T, cli *mautrix.Client, crit searchQuery, nextBatch string) mautrixJSON {
	t.Helper()
	var q map[string]string
	if nextBatch != "" {
		q = map[string]string{"next_batch": nextBatch}
	}
	res, err := h.post(cli, map[string]any{"search_categories": map[string]any{"room_events": crit}}, q, "v3", "search")
	require.NoError(t, err)
	return res.Get("search_categories.room_events")
}

func resultIDs(res mautrixJSON) []string { return histIDs(res.Get("results.#.result")) }

// TestSearchOrderAndVisibility: rank and recent ordering, rank values,
// highlights and count, and only events the user may see: not from rooms
// never joined nor after leaving.
func TestSearchOrderAndVisibility(t *testing.T) {
	forEachHistoryEnv(t, func(t *testing.T, h *historyEnv) {
		f := newSearchFixture(t, h)
		visible := histStrs(f.beforeLeave, f.topic, f.name, f.s4, f.s2, f.s1) // newest first

		recent := h.search(t, f.alice, searchQuery{"search_term": "fox", "order_by": "recent"}, "")
		assert.Equal(t, visible, resultIDs(recent))
		assert.GreaterOrEqual(t, recent.Get("count").Int(), int64(len(visible)))
		assert.LessOrEqual(t, recent.Get("count").Int(), int64(len(visible)+1), "the count covers alice's rooms only")
		assert.Subset(t, strSlice(recent.Get("highlights")), []string{"fox", "foxes"})
		assert.Equal(t, f.roomA.String(), recent.Get("results.1.result.room_id").Str)

		rank := h.search(t, f.alice, searchQuery{"search_term": "FOX"}, "")
		assert.ElementsMatch(t, visible, resultIDs(rank))
		assert.Equal(t, f.s2.String(), rank.Get("results.0.result.event_id").Str, "three foxes rank first")
		ranks := rank.Get("results.#.rank").Array()
		for i := 1; i < len(ranks); i++ {
			assert.GreaterOrEqual(t, ranks[i-1].Float(), ranks[i].Float(), "ranks do not increase")
		}
		assert.Positive(t, ranks[len(ranks)-1].Float())

		// Bob, who never left C, sees the message after alice left and room B.
		bobs := resultIDs(h.search(t, f.bob, searchQuery{"search_term": "fox", "order_by": "recent"}, ""))
		assert.Equal(t, histStrs(f.after, f.beforeLeave, f.inB, f.topic, f.name, f.s4, f.s2, f.s1), bobs)
		// Carol is in no room.
		carol := h.search(t, f.carol, searchQuery{"search_term": "fox"}, "")
		assert.Empty(t, carol.Get("results").Array())
		assert.Equal(t, int64(0), carol.Get("count").Int())

		// Every word must match; stems match ("sleeping" finds "sleeps").
		assert.Equal(t, histStrs(f.s1), resultIDs(h.search(t, f.alice, searchQuery{"search_term": "quick fox"}, "")))
		assert.Equal(t, histStrs(f.s3), resultIDs(h.search(t, f.alice, searchQuery{"search_term": "sleeping"}, "")))
		assert.Empty(t, h.search(t, f.alice, searchQuery{"search_term": "zebra"}, "").Get("results").Array())
		assert.Empty(t, h.search(t, f.alice, searchQuery{"search_term": "!!"}, "").Get("results").Array())
		// Query syntax of either engine is only text here.
		assert.Equal(t, histStrs(f.s1), resultIDs(h.search(t, f.alice, searchQuery{"search_term": `"quick' & !(fox) | :* -- ("`}, "")))

		// A user's ignored senders are left out.
		h.ignore(t, f.alice.UserID, f.bob.UserID)
		assert.Equal(t, histStrs(f.beforeLeave, f.topic, f.name, f.s1),
			resultIDs(h.search(t, f.alice, searchQuery{"search_term": "fox", "order_by": "recent"}, "")))
	})
}

// TestSearchFiltersAndPaging: room, sender, type and key filters, pages in
// both orders that add up to the whole result, groups, context with
// profiles, and the rooms' state.
func TestSearchFiltersAndPaging(t *testing.T) {
	forEachHistoryEnv(t, func(t *testing.T, h *historyEnv) {
		f := newSearchFixture(t, h)
		q := func(crit searchQuery) []string { return resultIDs(h.search(t, f.bob, crit, "")) }
		recent := func(extra searchQuery) searchQuery {
			crit := searchQuery{"search_term": "fox", "order_by": "recent"}
			for k, v := range extra {
				crit[k] = v
			}
			return crit
		}
		assert.Equal(t, histStrs(f.topic, f.name, f.s4, f.s2, f.s1), q(recent(searchQuery{"filter": map[string]any{"rooms": []id.RoomID{f.roomA}}})))
		assert.Equal(t, histStrs(f.after, f.beforeLeave, f.inB), q(recent(searchQuery{"filter": map[string]any{"not_rooms": []id.RoomID{f.roomA}}})))
		assert.Equal(t, histStrs(f.after, f.inB, f.s4, f.s2), q(recent(searchQuery{"filter": map[string]any{"senders": []id.UserID{f.bob.UserID}}})))
		assert.Equal(t, histStrs(f.beforeLeave, f.topic, f.name, f.s1), q(recent(searchQuery{"filter": map[string]any{"not_senders": []id.UserID{f.bob.UserID}}})))
		assert.Equal(t, histStrs(f.name), q(recent(searchQuery{"filter": map[string]any{"types": []string{"m.room.name"}}})))
		assert.Equal(t, histStrs(f.topic, f.name), q(recent(searchQuery{"filter": map[string]any{"not_types": []string{"m.room.message"}}})))
		assert.Equal(t, histStrs(f.topic), q(recent(searchQuery{"keys": []string{"content.topic"}})))
		assert.Equal(t, histStrs(f.topic, f.name), q(recent(searchQuery{"keys": []string{"content.name", "content.topic"}})))

		// Pages of three, in both orders, add up to the whole result.
		for _, order := range []string{"recent", "rank"} {
			crit := searchQuery{"search_term": "fox", "order_by": order}
			whole := resultIDs(h.search(t, f.bob, crit, ""))
			require.Len(t, whole, 8)
			crit["filter"] = map[string]any{"limit": 3}
			var paged []string
			next := ""
			for pages := 0; pages < 5; pages++ {
				res := h.search(t, f.bob, crit, next)
				paged = append(paged, resultIDs(res)...)
				next = res.Get("next_batch").Str
				if next == "" {
					break
				}
			}
			assert.Equal(t, whole, paged, order)
		}

		// Groups, by room and by sender, with pagination inside a group.
		res := h.search(t, f.bob, searchQuery{"search_term": "fox", "order_by": "recent", "filter": map[string]any{"limit": 4},
			"groupings": map[string]any{"group_by": []map[string]string{{"key": "room_id"}, {"key": "sender"}}}}, "")
		byRoom := res.Get("groups.room_id")
		assert.Equal(t, histStrs(f.after, f.beforeLeave), strSlice(key(byRoom, f.roomC.String()).Get("results")))
		assert.Equal(t, int64(1), key(byRoom, f.roomC.String()).Get("order").Int())
		assert.Equal(t, histStrs(f.inB), strSlice(key(byRoom, f.roomB.String()).Get("results")))
		assert.Equal(t, histStrs(f.topic), strSlice(key(byRoom, f.roomA.String()).Get("results")))
		assert.Equal(t, int64(3), key(byRoom, f.roomA.String()).Get("order").Int())
		bySender := res.Get("groups.sender")
		assert.Equal(t, histStrs(f.after, f.inB), strSlice(key(bySender, f.bob.UserID.String()).Get("results")))
		inA := key(byRoom, f.roomA.String()).Get("next_batch").Str
		require.NotEmpty(t, inA)
		more := h.search(t, f.bob, searchQuery{"search_term": "fox", "order_by": "recent", "filter": map[string]any{"limit": 4}}, inA)
		assert.Equal(t, histStrs(f.name, f.s4, f.s2, f.s1), resultIDs(more), "the group's token stays in room A")

		// Context with profiles, and the rooms' state.
		res = h.search(t, f.bob, searchQuery{"search_term": "jumps", "include_state": true,
			"event_context": map[string]any{"before_limit": 1, "after_limit": 2, "include_profile": true}}, "")
		require.Equal(t, histStrs(f.s2), resultIDs(res))
		ctx := res.Get("results.0.context")
		assert.Equal(t, histStrs(f.s1), histIDs(ctx.Get("events_before")))
		assert.Equal(t, histStrs(f.s3, f.s4), histIDs(ctx.Get("events_after")))
		assert.Equal(t, "bob", key(ctx.Get("profile_info"), f.bob.UserID.String()).Get("displayname").Str)
		assert.Equal(t, "alice", key(ctx.Get("profile_info"), f.alice.UserID.String()).Get("displayname").Str)
		back := h.get(t, f.bob, map[string]string{"dir": "b", "limit": "1", "from": ctx.Get("start").Str}, "v3", "rooms", f.roomA, "messages")
		assert.Equal(t, f.bob.UserID.String(), back.Get("chunk.0.state_key").Str, "before s1: bob joined")
		names := 0
		for _, ev := range key(res.Get("state"), f.roomA.String()).Array() {
			if ev.Get("type").Str == "m.room.name" {
				names++
				assert.Equal(t, "Fox den", ev.Get("content.name").Str)
			}
		}
		assert.Equal(t, 1, names)
	})
}

// TestSearchBadInput: malformed requests get the right errors; no
// room_events category is an empty answer.
func TestSearchBadInput(t *testing.T) {
	forEachHistoryEnv(t, func(t *testing.T, h *historyEnv) {
		alice := h.user("alice")
		bad := []struct {
			body   any
			query  map[string]string
			status int
			code   string
		}{
			{map[string]any{"search_categories": map[string]any{"room_events": map[string]any{}}}, nil, http.StatusBadRequest, "M_BAD_JSON"},
			{map[string]any{"search_categories": map[string]any{"room_events": map[string]any{"search_term": 5}}}, nil, http.StatusBadRequest, "M_BAD_JSON"},
			{searchBody(searchQuery{"search_term": "x", "order_by": "newest"}), nil, http.StatusBadRequest, "M_INVALID_PARAM"},
			{searchBody(searchQuery{"search_term": "x", "keys": []string{"content.format"}}), nil, http.StatusBadRequest, "M_INVALID_PARAM"},
			{searchBody(searchQuery{"search_term": "x", "filter": map[string]any{"limit": 0}}), nil, http.StatusBadRequest, "M_INVALID_PARAM"},
			{searchBody(searchQuery{"search_term": "x", "groupings": map[string]any{"group_by": []map[string]string{{"key": "type"}}}}), nil, http.StatusBadRequest, "M_INVALID_PARAM"},
			{searchBody(searchQuery{"search_term": "x", "event_context": map[string]any{"before_limit": -1}}), nil, http.StatusBadRequest, "M_INVALID_PARAM"},
			{searchBody(searchQuery{"search_term": "x"}), map[string]string{"next_batch": "garbage"}, http.StatusBadRequest, "M_INVALID_PARAM"},
			{"not an object", nil, http.StatusBadRequest, "M_BAD_JSON"},
		}
		for _, b := range bad {
			_, err := h.post(alice, b.body, b.query, "v3", "search")
			requireMatrixError(t, err, b.status, b.code)
		}
		res, err := h.post(alice, map[string]any{"search_categories": map[string]any{}}, nil, "v3", "search")
		require.NoError(t, err)
		assert.JSONEq(t, `{"search_categories":{}}`, res.Raw)
	})
}

func searchBody(crit searchQuery) map[string]any {
	return map[string]any{"search_categories": map[string]any{"room_events": crit}}
}

func strSlice(arr mautrixJSON) []string {
	out := []string{}
	for _, v := range arr.Array() {
		out = append(out, v.Str)
	}
	return out
}
