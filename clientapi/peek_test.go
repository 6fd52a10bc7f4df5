package clientapi

import (
	"testing"

	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
)

// TestWorldReadablePeek: a user who never joined reads the history, state
// and members of a world_readable room, and is refused in a shared room.
func TestWorldReadablePeek(t *testing.T) {
	forEachRoomsEnv(t, func(t *testing.T, e *roomsEnv) {
		alice, bob := e.user("alice"), e.user("bob")
		open, err := alice.CreateRoom(e.ctx, &mautrix.ReqCreateRoom{Preset: "public_chat",
			InitialState: []*event.Event{{Type: event.StateHistoryVisibility, StateKey: ptr(""),
				Content: event.Content{Raw: map[string]any{"history_visibility": "world_readable"}}}}})
		require.NoError(t, err)
		shared, err := alice.CreateRoom(e.ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		require.NoError(t, err)
		for _, room := range []*mautrix.RespCreateRoom{open, shared} {
			_, err := alice.SendText(e.ctx, room.RoomID, "for everyone?")
			require.NoError(t, err)
		}

		msgs, err := bob.Messages(e.ctx, open.RoomID, "", "", mautrix.DirectionBackward, nil, 10)
		require.NoError(t, err)
		require.NotEmpty(t, msgs.Chunk)
		require.Equal(t, "for everyone?", msgs.Chunk[0].Content.Raw["body"])
		state, err := bob.State(e.ctx, open.RoomID)
		require.NoError(t, err)
		require.Contains(t, state[event.StateMember], alice.UserID.String())
		members, err := bob.Members(e.ctx, open.RoomID)
		require.NoError(t, err)
		require.Len(t, members.Chunk, 1)

		_, err = bob.Messages(e.ctx, shared.RoomID, "", "", mautrix.DirectionBackward, nil, 10)
		require.ErrorIs(t, err, mautrix.MForbidden)
		_, err = bob.State(e.ctx, shared.RoomID)
		require.ErrorIs(t, err, mautrix.MForbidden)
	})
}

func ptr(s string) *string { return &s }
