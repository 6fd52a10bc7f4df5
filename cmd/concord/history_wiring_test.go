package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
)

// TestHistoryWiring checks what run wires for relations, redactions and
// search in the real binary: bundled aggregations in /sync and the client
// API, /relations and /threads, /search, and rooms.redaction_window from
// the environment.
func TestHistoryWiring(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		s := newServer(t, backend)
		s.stop()
		s.env = append(s.env, "CONCORD_ROOMS_REDACTION_WINDOW=1s")
		s.start()
		alice, bob := s.register(t, "alice"), s.register(t, "bob")
		room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		require.NoError(t, err)
		_, err = bob.JoinRoomByID(ctx, room.RoomID)
		require.NoError(t, err)
		msg, err := alice.SendText(ctx, room.RoomID, "meet the martians")
		require.NoError(t, err)
		reply, err := bob.SendMessageEvent(ctx, room.RoomID, event.EventMessage, map[string]any{"msgtype": "m.text",
			"body": "in a thread", "m.relates_to": map[string]any{"rel_type": "m.thread", "event_id": msg.EventID}})
		require.NoError(t, err)
		_, err = bob.SendReaction(ctx, room.RoomID, msg.EventID, "👽")
		require.NoError(t, err)

		raw := func(cli *mautrix.Client, method string, body any, path ...any) gjson.Result {
			var out json.RawMessage
			_, err := cli.MakeRequest(ctx, method, cli.BuildClientURL(path...), body, &out)
			require.NoError(t, err)
			return gjson.ParseBytes(out)
		}
		sync := raw(bob, http.MethodGet, nil, "v3", "sync")
		var root gjson.Result
		for _, ev := range sync.Get("rooms.join").Map()[room.RoomID.String()].Get("timeline.events").Array() {
			if ev.Get("event_id").Str == msg.EventID.String() {
				root = ev
			}
		}
		assert.Equal(t, reply.EventID.String(), root.Get(`unsigned.m\.relations.m\.thread.latest_event.event_id`).Str, "/sync bundles")
		threads := raw(alice, http.MethodGet, nil, "v1", "rooms", room.RoomID, "threads")
		assert.Equal(t, msg.EventID.String(), threads.Get("chunk.0.event_id").Str)
		rels := raw(alice, http.MethodGet, nil, "v1", "rooms", room.RoomID, "relations", msg.EventID, "m.annotation")
		assert.Equal(t, "👽", rels.Get(`chunk.0.content.m\.relates_to.key`).Str)
		found := raw(bob, http.MethodPost, map[string]any{"search_categories": map[string]any{"room_events": map[string]any{
			"search_term": "martian"}}}, "v3", "search")
		assert.Equal(t, msg.EventID.String(), found.Get("search_categories.room_events.results.0.result.event_id").Str)

		late, err := bob.SendText(ctx, room.RoomID, "too late to take back")
		require.NoError(t, err)
		time.Sleep(1200 * time.Millisecond)
		_, err = bob.RedactEvent(ctx, room.RoomID, late.EventID)
		var he mautrix.HTTPError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, "M_FORBIDDEN", he.RespError.ErrCode, "the window is over")
		red, err := alice.RedactEvent(ctx, room.RoomID, late.EventID)
		require.NoError(t, err)
		got := raw(bob, http.MethodGet, nil, "v3", "rooms", room.RoomID, "event", late.EventID)
		assert.Equal(t, "{}", got.Get("content").Raw)
		assert.Equal(t, red.EventID.String(), got.Get("unsigned.redacted_because.event_id").Str)
	})
}
