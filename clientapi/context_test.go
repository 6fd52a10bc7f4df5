package clientapi

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	mevent "maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// TestEventContext: /context returns the event, half the limit before it
// (newest first) and the rest after (oldest first), tokens that /messages
// continues from, the state at the last event (lazily loaded members on
// request), applies the filter, and respects history visibility.
func TestEventContext(t *testing.T) {
	forEachHistoryEnv(t, func(t *testing.T, h *historyEnv) {
		alice, bob, carol := h.user("alice"), h.user("bob"), h.user("carol")
		room := h.publicRoom(t, alice, bob)
		var m []id.EventID
		for i := 0; i < 10; i++ {
			cli := alice
			if i == 3 {
				cli = bob
			}
			m = append(m, h.text(t, cli, room, fmt.Sprintf("m%d", i)))
		}
		ctx := func(ev id.EventID, q map[string]string) mautrixJSON {
			return h.get(t, alice, q, "v3", "rooms", room, "context", ev)
		}
		res := ctx(m[5], map[string]string{"limit": "4"})
		assert.Equal(t, m[5].String(), res.Get("event.event_id").Str)
		assert.Equal(t, "m5", res.Get("event.content.body").Str)
		assert.Equal(t, histStrs(m[4], m[3]), histIDs(res.Get("events_before")))
		assert.Equal(t, histStrs(m[6], m[7]), histIDs(res.Get("events_after")))
		// The tokens continue with /messages on either side.
		back := h.get(t, alice, map[string]string{"dir": "b", "limit": "2", "from": res.Get("start").Str}, "v3", "rooms", room, "messages")
		assert.Equal(t, histStrs(m[2], m[1]), histIDs(back.Get("chunk")))
		fwd := h.get(t, alice, map[string]string{"dir": "f", "limit": "5", "from": res.Get("end").Str}, "v3", "rooms", room, "messages")
		assert.Equal(t, histStrs(m[8], m[9]), histIDs(fwd.Get("chunk")))

		// State at the last event: create, power levels, both members...
		state := res.Get("state")
		types := map[string]int{}
		for _, ev := range state.Array() {
			types[ev.Get("type").Str]++
		}
		assert.Equal(t, 1, types["m.room.create"])
		assert.Equal(t, 2, types["m.room.member"])
		// ...with lazy loading only the senders of the served events.
		lazy := ctx(m[8], map[string]string{"limit": "2", "filter": `{"lazy_load_members":true}`})
		assert.Equal(t, []string{alice.UserID.String()}, memberKeys(lazy.Get("state")))
		lazy = ctx(m[4], map[string]string{"limit": "2", "filter": `{"lazy_load_members":true}`})
		assert.ElementsMatch(t, []string{alice.UserID.String(), bob.UserID.String()}, memberKeys(lazy.Get("state")))

		// limit 0: only the event; the filter applies to the context, not the event.
		res = ctx(m[3], map[string]string{"limit": "0"})
		assert.Equal(t, m[3].String(), res.Get("event.event_id").Str)
		assert.Empty(t, res.Get("events_before").Array())
		assert.Empty(t, res.Get("events_after").Array())
		res = ctx(m[3], map[string]string{"limit": "6", "filter": fmt.Sprintf(`{"senders":[%q]}`, alice.UserID)})
		assert.Equal(t, m[3].String(), res.Get("event.event_id").Str)
		assert.Equal(t, histStrs(m[2], m[1], m[0]), histIDs(res.Get("events_before")))
		assert.Equal(t, histStrs(m[4], m[5], m[6]), histIDs(res.Get("events_after")))
		res = ctx(m[3], map[string]string{"limit": "4", "filter": `{"types":["m.room.member"]}`})
		for _, ev := range res.Get("state").Array() {
			assert.Equal(t, "m.room.member", ev.Get("type").Str)
		}
		// At the end of the room the end token is the current position.
		res = ctx(m[9], map[string]string{"limit": "4"})
		assert.Empty(t, res.Get("events_after").Array())
		later := h.text(t, alice, room, "later")
		fwd = h.get(t, alice, map[string]string{"dir": "f", "from": res.Get("end").Str}, "v3", "rooms", room, "messages")
		assert.Equal(t, histStrs(later), histIDs(fwd.Get("chunk")))

		// Visibility: with "joined" history, carol sees only what follows her join.
		_, err := alice.SendStateEvent(h.ctx, room, mevent.StateHistoryVisibility, "", map[string]any{"history_visibility": "joined"})
		require.NoError(t, err)
		hidden := h.text(t, alice, room, "before carol")
		_, err = h.rawGet(carol, nil, "v3", "rooms", room, "context", hidden)
		requireMatrixError(t, err, http.StatusForbidden, "M_FORBIDDEN")
		_, err = carol.JoinRoomByID(h.ctx, room)
		require.NoError(t, err)
		_, err = h.rawGet(carol, nil, "v3", "rooms", room, "context", hidden)
		requireMatrixError(t, err, http.StatusNotFound, "M_NOT_FOUND")
		seen := h.text(t, alice, room, "after carol")
		res = h.get(t, carol, map[string]string{"limit": "10"}, "v3", "rooms", room, "context", seen)
		for _, ev := range res.Get("events_before").Array() {
			assert.NotEqual(t, hidden.String(), ev.Get("event_id").Str)
		}
		assert.Equal(t, carol.UserID.String(), res.Get("events_before.0.state_key").Str, "her join is the newest before")

		// Bad input.
		for _, q := range []map[string]string{{"limit": "x"}, {"limit": "-2"}} {
			_, err = h.rawGet(alice, q, "v3", "rooms", room, "context", m[1])
			requireMatrixError(t, err, http.StatusBadRequest, "M_INVALID_PARAM")
		}
		_, err = h.rawGet(alice, map[string]string{"filter": "{not json"}, "v3", "rooms", room, "context", m[1])
		requireMatrixError(t, err, http.StatusBadRequest, "M_BAD_JSON")
		_, err = h.rawGet(alice, nil, "v3", "rooms", room, "context", "$missing")
		requireMatrixError(t, err, http.StatusNotFound, "M_NOT_FOUND")
		other := h.publicRoom(t, bob)
		_, err = h.rawGet(bob, nil, "v3", "rooms", other, "context", m[1])
		requireMatrixError(t, err, http.StatusNotFound, "M_NOT_FOUND")
	})
}

func memberKeys(state mautrixJSON) []string {
	out := []string{}
	for _, ev := range state.Array() {
		if ev.Get("type").Str == "m.room.member" {
			out = append(out, ev.Get("state_key").Str)
		}
	}
	return out
}
