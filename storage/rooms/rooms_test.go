package rooms_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/roomserver/signing"
	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/storage/storagetest"
)

const alice, bob = "@alice:hs.test", "@bob:hs.test"

func sk(s string) *string { return &s }

func raw(v any) json.RawMessage { b, _ := json.Marshal(v); return b }

// fixture makes a public room where alice sent 30 messages and bob joined,
// left after alice changed the topic (no power levels: state needs 50).
func fixture(t *testing.T, db *storage.DB) (*rooms.Store, string, []roomserver.Output) {
	ctx := context.Background()
	key, err := signing.GenerateKey("hs.test")
	require.NoError(t, err)
	rs, err := roomserver.New(ctx, roomserver.Deps{Store: rooms.New(db), Key: key, Logger: zaptest.NewLogger(t)})
	require.NoError(t, err)
	roomID, outs, err := rs.CreateRoom(ctx, roomversion.MustGet("12"), alice, nil, []roomserver.Proposal{
		{Type: event.TypeMember, StateKey: sk(alice), Sender: alice, Content: raw(map[string]any{"membership": "join"})},
		{Type: event.TypeJoinRules, StateKey: sk(""), Sender: alice, Content: raw(map[string]any{"join_rule": "public"})},
	})
	require.NoError(t, err)
	send := func(p roomserver.Proposal) {
		o, err := rs.Send(ctx, roomID, p)
		require.NoError(t, err)
		outs = append(outs, o)
	}
	for i := 0; i < 30; i++ {
		send(roomserver.Proposal{Type: "m.room.message", Sender: alice, Content: raw(map[string]any{"body": i}),
			DeviceID: "D", TxnID: string(rune('a' + i))})
	}
	send(roomserver.Proposal{Type: event.TypeMember, StateKey: sk(bob), Sender: bob, Content: raw(map[string]any{"membership": "join"})})
	send(roomserver.Proposal{Type: "m.room.topic", StateKey: sk(""), Sender: alice, Content: raw(map[string]any{"topic": "t"})})
	send(roomserver.Proposal{Type: event.TypeMember, StateKey: sk(bob), Sender: bob, Content: raw(map[string]any{"membership": "leave"})})
	return rooms.New(db), roomID, outs
}

func TestQueries(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		st, roomID, outs := fixture(t, db)
		info, err := st.Room(ctx, roomID)
		require.NoError(t, err)

		// Paging by stream position, both directions, with bounds.
		all, err := st.RoomEvents(ctx, info.NID, 0, 0, 1000, false)
		require.NoError(t, err)
		require.Len(t, all, len(outs))
		for i, se := range all {
			require.Equal(t, outs[i].Event.ID(), se.Event.ID())
			require.Equal(t, outs[i].StreamPos, se.StreamPos)
		}
		back, err := st.RoomEvents(ctx, info.NID, outs[5].StreamPos, outs[10].StreamPos, 3, true)
		require.NoError(t, err)
		require.Equal(t, []string{outs[9].Event.ID(), outs[8].Event.ID(), outs[7].Event.ID()},
			[]string{back[0].Event.ID(), back[1].Event.ID(), back[2].Event.ID()})
		stream, err := st.StreamEvents(ctx, []int64{info.NID}, outs[len(outs)-3].StreamPos, outs[len(outs)-1].StreamPos, 10)
		require.NoError(t, err)
		require.Len(t, stream, 2)

		// Memberships and members.
		ms, err := st.MembershipsOf(ctx, bob)
		require.NoError(t, err)
		require.Len(t, ms, 1)
		require.Equal(t, "leave", ms[0].Membership)
		require.Equal(t, roomID, ms[0].RoomID)
		members, err := st.Members(ctx, info.NID)
		require.NoError(t, err)
		require.Equal(t, []rooms.Member{{UserID: alice, Membership: "join", EventNID: members[0].EventNID},
			{UserID: bob, Membership: "leave", EventNID: members[1].EventNID}}, members)

		// State at an old snapshot, whole and by key, agree.
		joinOut := all[len(all)-3] // bob's join
		full, err := st.State(ctx, joinOut.StateAfterNID)
		require.NoError(t, err)
		require.Equal(t, joinOut.NID, full[event.StateKey{Type: event.TypeMember, StateKey: bob}])
		_, hasTopic := full[event.StateKey{Type: "m.room.topic"}]
		require.False(t, hasTopic, "the topic came later")
		some, err := st.StateAt(ctx, joinOut.StateAfterNID, []event.StateKey{{Type: event.TypeMember, StateKey: bob}, {Type: "m.room.topic"}})
		require.NoError(t, err)
		require.Equal(t, map[event.StateKey]int64{{Type: event.TypeMember, StateKey: bob}: joinOut.NID}, some)

		// Transactions.
		se, err := st.EventByTxn(ctx, alice, "D", "c")
		require.NoError(t, err)
		require.Equal(t, outs[len(outs)-33+2].Event.ID(), se.Event.ID())
		_, err = st.EventByTxn(ctx, alice, "OTHER", "c")
		require.True(t, errors.Is(err, rooms.ErrNotFound))
	})
}

func TestAliasesAndForget(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		st, roomID, _ := fixture(t, db)
		require.NoError(t, st.CreateAlias(ctx, rooms.Alias{Alias: "#a:hs.test", RoomID: roomID, Creator: alice}, 1))
		require.ErrorIs(t, st.CreateAlias(ctx, rooms.Alias{Alias: "#a:hs.test", RoomID: roomID, Creator: bob}, 2), rooms.ErrAliasExists)
		got, err := st.GetAlias(ctx, "#a:hs.test")
		require.NoError(t, err)
		require.Equal(t, rooms.Alias{Alias: "#a:hs.test", RoomID: roomID, Creator: alice}, got)
		list, err := st.AliasesOf(ctx, roomID)
		require.NoError(t, err)
		require.Equal(t, []string{"#a:hs.test"}, list)
		require.NoError(t, st.DeleteAlias(ctx, "#a:hs.test"))
		require.ErrorIs(t, st.DeleteAlias(ctx, "#a:hs.test"), rooms.ErrNotFound)
		_, err = st.GetAlias(ctx, "#a:hs.test")
		require.ErrorIs(t, err, rooms.ErrNotFound)

		info, err := st.Room(ctx, roomID)
		require.NoError(t, err)
		require.NoError(t, st.Forget(ctx, bob, info.NID, 42))
		require.NoError(t, st.Forget(ctx, bob, info.NID, 43))
		f, err := st.Forgotten(ctx, bob)
		require.NoError(t, err)
		require.Equal(t, map[int64]int64{info.NID: 43}, f)
	})
}
