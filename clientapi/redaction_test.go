package clientapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	mevent "maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/concordchat/concord/config"
)

// TestRedactionStripsContent: once redacted, an event's content is gone
// from storage and from /event, /messages, /sync, /context and /search, it
// carries unsigned.redacted_because, and its relation stops counting.
func TestRedactionStripsContent(t *testing.T) {
	forEachHistoryEnv(t, func(t *testing.T, h *historyEnv) {
		alice, bob := h.user("alice"), h.user("bob")
		room := h.publicRoom(t, alice, bob)
		msg := h.text(t, alice, room, "secret plans")
		after := h.text(t, alice, room, "an ordinary message")
		before, err := bob.SyncRequest(h.ctx, 0, "", "", false, "")
		require.NoError(t, err)

		red, err := alice.RedactEvent(h.ctx, room, msg, mautrix.ReqRedact{Reason: "oops"})
		require.NoError(t, err)

		stored, err := h.rooms.EventsByID(h.ctx, []string{msg.String()})
		require.NoError(t, err)
		require.Len(t, stored, 1)
		assert.True(t, stored[0].Event.Redacted())
		assert.NotContains(t, string(stored[0].Event.JSON()), "secret", "the content is gone from the database")

		checkRedacted := func(where string, ev mautrixJSON) {
			t.Helper()
			assert.Equal(t, "{}", ev.Get("content").Raw, where)
			assert.Equal(t, red.EventID.String(), ev.Get("unsigned.redacted_because.event_id").Str, where)
			assert.Equal(t, "oops", ev.Get("unsigned.redacted_because.content.reason").Str, where)
		}
		checkRedacted("/event", h.event(t, bob, room, msg))
		msgs := h.get(t, bob, map[string]string{"dir": "b", "limit": "10"}, "v3", "rooms", room, "messages")
		checkRedacted("/messages", findEvent(t, msgs.Get("chunk"), msg))
		sync := h.get(t, bob, nil, "v3", "sync")
		checkRedacted("/sync", findEvent(t, key(sync.Get("rooms.join"), room.String()).Get("timeline.events"), msg))
		incr := h.get(t, bob, map[string]string{"since": before.NextBatch}, "v3", "sync")
		assert.Contains(t, histIDs(key(incr.Get("rooms.join"), room.String()).Get("timeline.events")), red.EventID.String())
		ctxResp := h.get(t, bob, nil, "v3", "rooms", room, "context", after)
		checkRedacted("/context events_before", findEvent(t, ctxResp.Get("events_before"), msg))
		checkRedacted("/context event", h.get(t, bob, nil, "v3", "rooms", room, "context", msg).Get("event"))
		res, err := h.post(bob, map[string]any{"search_categories": map[string]any{"room_events": map[string]any{
			"search_term": "secret"}}}, nil, "v3", "search")
		require.NoError(t, err)
		assert.Equal(t, int64(0), res.Get("search_categories.room_events.count").Int())
		assert.Empty(t, res.Get("search_categories.room_events.results").Array())

		// A redacted thread reply no longer counts.
		root := h.text(t, alice, room, "root")
		reply := h.relate(t, bob, room, "m.thread", root, "reply")
		h.relate(t, alice, room, "m.thread", root, "second reply")
		assert.Equal(t, int64(2), h.event(t, bob, room, root).Get(relPath("m.thread")+".count").Int())
		_, err = bob.RedactEvent(h.ctx, room, reply)
		require.NoError(t, err)
		assert.Equal(t, int64(1), h.event(t, bob, room, root).Get(relPath("m.thread")+".count").Int())

		// Redacted state: the current state loses the content too.
		topic, err := alice.SendStateEvent(h.ctx, room, mevent.StateTopic, "", map[string]any{"topic": "hidden topic"})
		require.NoError(t, err)
		_, err = alice.RedactEvent(h.ctx, room, topic.EventID)
		require.NoError(t, err)
		raw, err := h.rawGet(bob, nil, "v3", "rooms", room, "state", "m.room.topic")
		require.NoError(t, err)
		assert.JSONEq(t, "{}", string(raw))
		res, err = h.post(bob, map[string]any{"search_categories": map[string]any{"room_events": map[string]any{
			"search_term": "hidden"}}}, nil, "v3", "search")
		require.NoError(t, err)
		assert.Empty(t, res.Get("search_categories.room_events.results").Array())
	})
}

// TestRedactionWindow: with rooms.redaction_window set, users without the
// redact power level may redact their own events only that long after
// sending them; moderators may redact anything at any time.
func TestRedactionWindow(t *testing.T) {
	t.Run("window", func(t *testing.T) { testRedactionWindow(t) })
	t.Run("unlimited", func(t *testing.T) { testRedactionNoWindow(t) })
}

func testRedactionWindow(t *testing.T) {
	forEachHistoryEnv(t, func(t *testing.T, h *historyEnv) {
		alice, bob := h.user("alice"), h.user("bob") // alice created the room: power level 100
		room := h.publicRoom(t, alice, bob)
		m1 := h.text(t, bob, room, "quickly regretted")
		h.clock.Advance(30 * time.Minute)
		_, err := bob.RedactEvent(h.ctx, room, m1)
		require.NoError(t, err, "within the window")

		m2 := h.text(t, bob, room, "regretted too late")
		h.clock.Advance(2 * time.Hour)
		_, err = bob.RedactEvent(h.ctx, room, m2)
		requireMatrixError(t, err, http.StatusForbidden, "M_FORBIDDEN")
		_, err = bob.SendMessageEvent(h.ctx, room, mevent.EventRedaction, map[string]any{"redacts": m2})
		requireMatrixError(t, err, http.StatusForbidden, "M_FORBIDDEN")
		assert.Contains(t, h.event(t, bob, room, m2).Get("content.body").Str, "too late", "still there")

		_, err = alice.RedactEvent(h.ctx, room, m2)
		require.NoError(t, err, "a moderator may redact others' old events")
		a1 := h.text(t, alice, room, "alice's message")
		h.clock.Advance(48 * time.Hour)
		_, err = alice.RedactEvent(h.ctx, room, a1)
		require.NoError(t, err, "and her own, whenever")

		a2 := h.text(t, alice, room, "not bob's to redact")
		_, err = bob.RedactEvent(h.ctx, room, a2)
		requireMatrixError(t, err, http.StatusForbidden, "M_FORBIDDEN")
		_, err = bob.RedactEvent(h.ctx, room, id.EventID("$nosuchevent"))
		requireMatrixError(t, err, http.StatusNotFound, "M_NOT_FOUND")
	}, func(c *config.Config) { c.Rooms.RedactionWindow = "1h" })
}

func testRedactionNoWindow(t *testing.T) {
	forEachHistoryEnv(t, func(t *testing.T, h *historyEnv) {
		alice, bob := h.user("alice"), h.user("bob")
		room := h.publicRoom(t, alice, bob)
		m := h.text(t, bob, room, "old")
		h.clock.Advance(365 * 24 * time.Hour)
		_, err := bob.RedactEvent(h.ctx, room, m)
		require.NoError(t, err, "no window by default")
		assert.Equal(t, "{}", h.event(t, alice, room, m).Get("content").Raw)
	})
}

// findEvent returns the event with the given ID from a JSON array.
func findEvent(t *testing.T, arr mautrixJSON, ev id.EventID) mautrixJSON {
	t.Helper()
	for _, e := range arr.Array() {
		if e.Get("event_id").Str == ev.String() {
			return e
		}
	}
	require.Failf(t, "event not found", "%s not in %s", ev, strings.TrimSpace(arr.Raw))
	return arr
}
