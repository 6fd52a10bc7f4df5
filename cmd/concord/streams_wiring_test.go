package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
)

// TestSyncStreamsWiring checks what run wires for the sync streams in the
// real binary: typing, receipts, account data, tags and presence reach
// /sync; receipts, account data and presence survive a restart; and
// presence.enabled=false from the environment turns presence off.
func TestSyncStreamsWiring(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		s := newServer(t, backend)
		alice, bob := s.register(t, "alice"), s.register(t, "bob")
		room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		require.NoError(t, err)
		_, err = bob.JoinRoomByID(ctx, room.RoomID)
		require.NoError(t, err)
		msg, err := alice.SendText(ctx, room.RoomID, "hello")
		require.NoError(t, err)

		_, err = alice.UserTyping(ctx, room.RoomID, true, 30*time.Second)
		require.NoError(t, err)
		require.NoError(t, bob.MarkRead(ctx, room.RoomID, msg.EventID))
		require.NoError(t, bob.SetAccountData(ctx, "m.direct", map[string][]string{alice.UserID.String(): {room.RoomID.String()}}))
		require.NoError(t, bob.AddTag(ctx, room.RoomID, event.RoomTagFavourite, 0.5))
		require.NoError(t, alice.SetPresence(ctx, mautrix.ReqPresence{Presence: event.PresenceOnline, StatusMsg: "around"}))

		check := func(typing bool) {
			t.Helper()
			resp, err := bob.SyncRequest(ctx, 0, "", "", false, event.PresenceOffline)
			require.NoError(t, err)
			jr := resp.Rooms.Join[room.RoomID]
			require.NotNil(t, jr)
			types := map[string]*event.Event{}
			for _, ev := range jr.Ephemeral.Events {
				types[ev.Type.Type] = ev
			}
			require.Contains(t, types, "m.receipt")
			assert.Contains(t, types["m.receipt"].Content.Raw, msg.EventID.String())
			if typing {
				require.Contains(t, types, "m.typing")
				assert.Equal(t, []any{alice.UserID.String()}, types["m.typing"].Content.Raw["user_ids"])
			}
			var global, tags []string
			for _, ev := range resp.AccountData.Events {
				global = append(global, ev.Type.Type)
			}
			for _, ev := range jr.AccountData.Events {
				tags = append(tags, ev.Type.Type)
			}
			assert.Contains(t, global, "m.direct")
			assert.Contains(t, tags, "m.tag")
			var status string
			for _, ev := range resp.Presence.Events {
				if ev.Sender == alice.UserID {
					status, _ = ev.Content.Raw["status_msg"].(string)
				}
			}
			assert.Equal(t, "around", status)
		}
		check(true)

		s.stop()
		s.start()
		check(false) // typing lives in memory
		p, err := bob.GetPresence(ctx, alice.UserID)
		require.NoError(t, err)
		assert.Equal(t, "around", p.StatusMsg)

		s.stop()
		s.env = append(s.env, "CONCORD_PRESENCE_ENABLED=false")
		s.start()
		err = alice.SetPresence(ctx, mautrix.ReqPresence{Presence: event.PresenceOnline})
		var he mautrix.HTTPError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, "M_FORBIDDEN", he.RespError.ErrCode)
		resp, err := bob.SyncRequest(ctx, 0, "", "", false, "")
		require.NoError(t, err)
		assert.Empty(t, resp.Presence.Events)
	})
}
