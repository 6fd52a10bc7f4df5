package roomserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/storage/storagetest"
)

const alice = "@alice:hs.test"

type recorder struct {
	mu   sync.Mutex
	outs []roomserver.Output
	pos  int64
}

func (r *recorder) OnRoomEvents(outs []roomserver.Output, pos int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outs = append(r.outs, outs...)
	r.pos = max(r.pos, pos)
}

func newRS(t *testing.T, db *storage.DB, n roomserver.Notifier) *roomserver.RoomServer {
	t.Helper()
	rs, err := roomserver.New(context.Background(), roomserver.Deps{Store: rooms.New(db), Key: roomtest.Key("hs.test"),
		Logger: zaptest.NewLogger(t), Notifier: n})
	require.NoError(t, err)
	return rs
}

func raw(v any) json.RawMessage { b, _ := json.Marshal(v); return b }

func sk(s string) *string { return &s }

func initial(creator string) []roomserver.Proposal {
	return []roomserver.Proposal{
		{Type: event.TypeMember, StateKey: sk(creator), Sender: creator, Content: raw(map[string]any{"membership": "join"})},
		{Type: event.TypePowerLevels, StateKey: sk(""), Sender: creator, Content: raw(map[string]any{"users": map[string]any{}})},
		{Type: event.TypeJoinRules, StateKey: sk(""), Sender: creator, Content: raw(map[string]any{"join_rule": "public"})},
	}
}

func TestPipeline(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		rec := &recorder{}
		rs := newRS(t, db, rec)
		for _, ver := range []string{"10", "11", "12"} {
			v := roomversion.MustGet(ver)
			init := initial(alice)
			if !v.PrivilegedCreators {
				init[1].Content = raw(map[string]any{"users": map[string]any{alice: 100}})
			}
			roomID, outs, err := rs.CreateRoom(ctx, v, alice, nil, init)
			require.NoError(t, err, "v%s", ver)
			require.Len(t, outs, 4)
			info, err := rs.Room(ctx, roomID)
			require.NoError(t, err)
			require.Equal(t, ver, info.Version.ID)
			if v.RoomIDFromCreate {
				require.Equal(t, "!"+info.Create.ID()[1:], roomID)
			}

			// 150 state changes cross the snapshot chain cap; messages in between.
			for i := 0; i < 150; i++ {
				_, err := rs.Send(ctx, roomID, roomserver.Proposal{Type: "m.room.topic", StateKey: sk(""), Sender: alice,
					Content: raw(map[string]any{"topic": fmt.Sprint("topic ", i)})})
				require.NoError(t, err)
				_, err = rs.Send(ctx, roomID, roomserver.Proposal{Type: "m.room.message", Sender: alice,
					Content: raw(map[string]any{"msgtype": "m.text", "body": fmt.Sprint("msg ", i)})})
				require.NoError(t, err)
			}
			topic, err := rs.StateEvent(ctx, roomID, event.StateKey{Type: "m.room.topic"})
			require.NoError(t, err)
			require.JSONEq(t, `{"topic":"topic 149"}`, string(topic.Content()))

			// A user who is not in the room may not send.
			_, err = rs.Send(ctx, roomID, roomserver.Proposal{Type: "m.room.message", Sender: "@eve:hs.test",
				Content: raw(map[string]any{"body": "hi"})})
			require.ErrorIs(t, err, roomserver.ErrNotAllowed)
			m, err := rs.Membership(ctx, roomID, "@eve:hs.test")
			require.NoError(t, err)
			require.Empty(t, m)

			checkStored(t, db, roomID)
		}
		// Every accepted event was notified once, with consecutive stream positions.
		for i, o := range rec.outs {
			require.Equal(t, int64(i+1), o.StreamPos)
		}
		require.Equal(t, int64(len(rec.outs)), rec.pos)
		require.Equal(t, rec.pos, rs.StreamPosition())

		// A new roomserver over the same database sees the same rooms and continues the stream.
		rs2 := newRS(t, db, nil)
		require.Equal(t, rec.pos, rs2.StreamPosition())
		roomID := rec.outs[len(rec.outs)-1].RoomID
		out, err := rs2.Send(ctx, roomID, roomserver.Proposal{Type: "m.room.message", Sender: alice, Content: raw(map[string]any{"body": "after restart"})})
		require.NoError(t, err)
		require.Equal(t, rec.pos+1, out.StreamPos)
		require.Equal(t, []string{rec.outs[len(rec.outs)-1].Event.ID()}, out.Event.PrevEvents())
	})
}

// checkStored compares what storage holds with the roomserver's view: the
// current state rows, the room's snapshot, and each event's snapshots.
func checkStored(t *testing.T, db *storage.DB, roomID string) {
	t.Helper()
	ctx := context.Background()
	st := rooms.New(db)
	info, err := st.Room(ctx, roomID)
	require.NoError(t, err)
	current, err := st.CurrentState(ctx, info.NID)
	require.NoError(t, err)
	snap, err := st.State(ctx, info.SnapshotNID)
	require.NoError(t, err)
	require.Equal(t, current, snap, "the room's snapshot is its current state")
	extrem, err := st.ForwardExtremities(ctx, info.NID)
	require.NoError(t, err)
	require.Len(t, extrem, 1)
	evs, err := st.EventsByNID(ctx, extrem)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	// The state after the last state event is the current state.
	after, err := st.State(ctx, evs[0].StateAfterNID)
	require.NoError(t, err)
	require.Equal(t, current, after)
}

func TestConcurrentSenders(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		rec := &recorder{}
		rs := newRS(t, db, rec)
		v := roomversion.MustGet("12")
		var roomIDs []string
		for i := 0; i < 4; i++ {
			id, _, err := rs.CreateRoom(ctx, v, alice, nil, initial(alice))
			require.NoError(t, err)
			roomIDs = append(roomIDs, id)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 20; i++ {
					_, err := rs.Send(ctx, roomIDs[w%len(roomIDs)], roomserver.Proposal{Type: "m.room.message", Sender: alice,
						Content: raw(map[string]any{"body": fmt.Sprint(w, "/", i)})})
					if err != nil {
						errs <- err
						return
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		// Each room's history is a single chain: every event's prev is the one before.
		byRoom := map[string][]*event.Event{}
		seen := map[int64]bool{}
		for _, o := range rec.outs {
			require.False(t, seen[o.StreamPos], "stream position %d used twice", o.StreamPos)
			seen[o.StreamPos] = true
			byRoom[o.RoomID] = append(byRoom[o.RoomID], o.Event)
		}
		require.Len(t, seen, 4*4+8*20)
		require.Equal(t, int64(4*4+8*20), rs.StreamPosition())
		for _, evs := range byRoom {
			for i := 1; i < len(evs); i++ {
				require.Equal(t, []string{evs[i-1].ID()}, evs[i].PrevEvents())
			}
		}
	})
}

func TestUnknownRoom(t *testing.T) {
	db := storagetest.SQLite(t)
	rs := newRS(t, db, nil)
	_, err := rs.Send(context.Background(), "!nope:hs.test", roomserver.Proposal{Type: "m.room.message", Sender: alice})
	require.True(t, errors.Is(err, roomserver.ErrRoomNotFound))
}

func TestTransactionIDs(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		rs := newRS(t, db, nil)
		roomID, _, err := rs.CreateRoom(ctx, roomversion.MustGet("12"), alice, nil, initial(alice))
		require.NoError(t, err)
		p := roomserver.Proposal{Type: "m.room.message", Sender: alice, DeviceID: "DEV", TxnID: "t1",
			Content: raw(map[string]any{"body": "once"})}
		first, err := rs.Send(ctx, roomID, p)
		require.NoError(t, err)
		require.False(t, first.Duplicate)
		again, err := newRS(t, db, nil).Send(ctx, roomID, p) // also after a restart
		require.NoError(t, err)
		require.True(t, again.Duplicate)
		require.Equal(t, first.Event.ID(), again.Event.ID())
		require.Equal(t, first.StreamPos, again.StreamPos)
		p.DeviceID = "OTHER"
		other, err := rs.Send(ctx, roomID, p)
		require.NoError(t, err)
		require.NotEqual(t, first.Event.ID(), other.Event.ID(), "transaction IDs are per device")
	})
}
