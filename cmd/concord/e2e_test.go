package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/rooms"
)

func members(t *testing.T, cli *mautrix.Client, room id.RoomID) map[string]string {
	t.Helper()
	resp, err := cli.Members(context.Background(), room)
	require.NoError(t, err)
	out := map[string]string{}
	for _, e := range resp.Chunk {
		out[*e.StateKey] = string(e.Content.AsMember().Membership)
	}
	return out
}

func TestRoomsAndMembership(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		s := newServer(t, backend)
		alice, bob := s.register(t, "alice"), s.register(t, "bob")

		for _, preset := range []string{"private_chat", "public_chat", "trusted_private_chat"} {
			resp, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: preset, Name: "room " + string(preset),
				Topic: "about " + string(preset), Invite: []id.UserID{bob.UserID}})
			require.NoError(t, err, preset)
			room := resp.RoomID
			var name event.RoomNameEventContent
			require.NoError(t, alice.StateEvent(ctx, room, event.StateRoomName, "", &name))
			require.Equal(t, "room "+preset, name.Name)
			var jr event.JoinRulesEventContent
			require.NoError(t, alice.StateEvent(ctx, room, event.StateJoinRules, "", &jr))
			wantRule := event.JoinRuleInvite
			if preset == "public_chat" {
				wantRule = event.JoinRulePublic
			}
			require.Equal(t, wantRule, jr.JoinRule)
			require.Equal(t, map[string]string{alice.UserID.String(): "join", bob.UserID.String(): "invite"}, members(t, alice, room))

			_, err = bob.JoinRoomByID(ctx, room)
			require.NoError(t, err)
			joined, err := bob.JoinedRooms(ctx)
			require.NoError(t, err)
			require.Contains(t, joined.JoinedRooms, room)
			_, err = bob.LeaveRoom(ctx, room)
			require.NoError(t, err)
			require.Equal(t, "leave", members(t, alice, room)[bob.UserID.String()])
		}

		// Kick, ban and unban in a public room.
		resp, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		require.NoError(t, err)
		room := resp.RoomID
		_, err = bob.JoinRoomByID(ctx, room)
		require.NoError(t, err)
		_, err = bob.KickUser(ctx, room, &mautrix.ReqKickUser{UserID: alice.UserID})
		require.Error(t, err, "bob has no power to kick alice")
		requireErrcode(t, err, "M_FORBIDDEN")
		_, err = alice.KickUser(ctx, room, &mautrix.ReqKickUser{UserID: bob.UserID, Reason: "bye"})
		require.NoError(t, err)
		require.Equal(t, "leave", members(t, alice, room)[bob.UserID.String()])
		_, err = alice.BanUser(ctx, room, &mautrix.ReqBanUser{UserID: bob.UserID})
		require.NoError(t, err)
		_, err = bob.JoinRoomByID(ctx, room)
		requireErrcode(t, err, "M_FORBIDDEN")
		_, err = alice.UnbanUser(ctx, room, &mautrix.ReqUnbanUser{UserID: bob.UserID})
		require.NoError(t, err)
		_, err = bob.JoinRoomByID(ctx, room)
		require.NoError(t, err)
		require.Equal(t, "join", members(t, alice, room)[bob.UserID.String()])
		jm, err := alice.JoinedMembers(ctx, room)
		require.NoError(t, err)
		require.Len(t, jm.Joined, 2)
	})
}

func requireErrcode(t *testing.T, err error, code string) {
	t.Helper()
	var httpErr mautrix.HTTPError
	require.True(t, errors.As(err, &httpErr), "want a Matrix error, got %v", err)
	require.NotNil(t, httpErr.RespError, "no Matrix error body: %v", err)
	require.Equal(t, code, httpErr.RespError.ErrCode)
}

// TestMessagesSyncAndRestart sends 1,000 messages, pages them back in both
// directions, checks incremental sync delivers each exactly once, that a
// waiting sync returns promptly, and that a restart keeps everything.
func TestMessagesSyncAndRestart(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		s := newServer(t, backend)
		alice, bob := s.register(t, "alice"), s.register(t, "bob")
		resp, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		require.NoError(t, err)
		room := resp.RoomID
		_, err = bob.JoinRoomByID(ctx, room)
		require.NoError(t, err)
		first, err := bob.SyncRequest(ctx, 0, "", "", false, "")
		require.NoError(t, err)
		require.Contains(t, first.Rooms.Join, room)

		// Sends interleaved with incremental syncs (timeline limit above the
		// batch size, so no gap is expected): every message exactly once, in order.
		const n, batch = 1000, 50
		filter := `{"room":{"timeline":{"limit":100}}}`
		sent := make([]id.EventID, 0, n)
		seen := map[id.EventID]int{}
		var order []id.EventID
		since := first.NextBatch
		for len(sent) < n {
			for i := 0; i < batch; i++ {
				r, err := alice.SendText(ctx, room, fmt.Sprint("message ", len(sent)))
				require.NoError(t, err)
				sent = append(sent, r.EventID)
			}
			r, err := bob.SyncRequest(ctx, 0, since, filter, false, "")
			require.NoError(t, err)
			require.NotEqual(t, since, r.NextBatch, "no progress")
			since = r.NextBatch
			jr := r.Rooms.Join[room]
			require.NotNil(t, jr, "the batch is in the sync")
			require.False(t, jr.Timeline.Limited, "timeline limited after %d events", len(order))
			for _, e := range jr.Timeline.Events {
				if e.Type == event.EventMessage {
					seen[e.ID]++
					order = append(order, e.ID)
				}
			}
		}
		require.Equal(t, sent, order)
		for _, c := range seen {
			require.Equal(t, 1, c)
		}
		r, err := bob.SyncRequest(ctx, 0, since, filter, false, "")
		require.NoError(t, err)
		require.Nil(t, r.Rooms.Join[room], "nothing new: the room is not repeated")
		since = r.NextBatch
		checkPaging(t, alice, room, sent)

		// A waiting sync returns promptly after a send.
		got := make(chan time.Time, 1)
		go func() {
			r, err := bob.SyncRequest(ctx, 30000, since, "", false, "")
			if err == nil && r.Rooms.Join[room] != nil {
				got <- time.Now()
			}
			close(got)
		}()
		time.Sleep(200 * time.Millisecond)
		sentAt := time.Now()
		_, err = alice.SendText(ctx, room, "wake up")
		require.NoError(t, err)
		select {
		case at, ok := <-got:
			require.True(t, ok, "the waiting sync returned nothing")
			require.Less(t, at.Sub(sentAt), 2*time.Second)
		case <-time.After(10 * time.Second):
			t.Fatal("waiting sync did not return after a send")
		}

		// Restart: everything is still there.
		s.stop()
		s.start()
		checkPaging(t, alice, room, sent)
		after, err := bob.SyncRequest(ctx, 0, "", "", false, "")
		require.NoError(t, err)
		require.Contains(t, after.Rooms.Join, room)
		_, err = alice.SendText(ctx, room, "after restart")
		require.NoError(t, err)
	})
}

// checkPaging pages the room back and forward and finds exactly the sent messages in order.
func checkPaging(t *testing.T, cli *mautrix.Client, room id.RoomID, sent []id.EventID) {
	t.Helper()
	ctx := context.Background()
	var back []id.EventID
	from := ""
	for {
		r, err := cli.Messages(ctx, room, from, "", mautrix.DirectionBackward, nil, 100)
		require.NoError(t, err)
		for _, e := range r.Chunk {
			if isTestMessage(e) {
				back = append(back, e.ID)
			}
		}
		if r.End == "" || len(r.Chunk) == 0 {
			break
		}
		from = r.End
	}
	require.Equal(t, len(sent), len(back), "messages paged backwards")
	for i := range back {
		require.Equal(t, sent[len(sent)-1-i], back[i], "backwards position %d", i)
	}
	var fwd []id.EventID
	from = "s0"
	for {
		r, err := cli.Messages(ctx, room, from, "", mautrix.DirectionForward, nil, 100)
		require.NoError(t, err)
		for _, e := range r.Chunk {
			if isTestMessage(e) {
				fwd = append(fwd, e.ID)
			}
		}
		if r.End == "" || len(r.Chunk) == 0 {
			break
		}
		from = r.End
	}
	require.Equal(t, len(sent), len(fwd), "messages paged forwards")
	for i := range fwd {
		require.Equal(t, sent[i], fwd[i], "forwards position %d", i)
	}
}

// isTestMessage reports whether e is one of the numbered test messages.
func isTestMessage(e *event.Event) bool {
	body, _ := e.Content.Raw["body"].(string)
	return e.Type == event.EventMessage && strings.HasPrefix(body, "message ")
}

// TestCrashDuringSends kills the server during a burst of sends; every send
// that got a 200 must be there after the restart, in order.
func TestCrashDuringSends(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		s := newServer(t, backend)
		alice := s.register(t, "alice")
		resp, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat"})
		require.NoError(t, err)
		room := resp.RoomID
		var mu sync.Mutex
		acked := map[id.EventID]int{}
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 2000; i++ {
					r, err := alice.SendText(ctx, room, fmt.Sprint(w, "/", i))
					if err != nil {
						return
					}
					mu.Lock()
					acked[r.EventID] = w*10000 + i
					mu.Unlock()
				}
			}(w)
		}
		time.Sleep(700 * time.Millisecond)
		s.kill()
		wg.Wait()
		require.NotEmpty(t, acked)
		s.start()

		// Every acknowledged send is in the room's history; per sender
		// goroutine, in the order they were acknowledged.
		var all []id.EventID
		from := ""
		for {
			r, err := alice.Messages(ctx, room, from, "", mautrix.DirectionBackward, nil, 500)
			require.NoError(t, err)
			for _, e := range r.Chunk {
				if e.Type == event.EventMessage {
					all = append(all, e.ID)
				}
			}
			if r.End == "" || len(r.Chunk) == 0 {
				break
			}
			from = r.End
		}
		present := map[id.EventID]int{}
		for i, e := range all {
			present[e] = len(all) - i
		}
		for e := range acked {
			require.Contains(t, present, e, "acknowledged event lost")
		}
		byWorker := map[int][]id.EventID{}
		ids := make([]id.EventID, 0, len(acked))
		for e := range acked {
			ids = append(ids, e)
		}
		sort.Slice(ids, func(i, j int) bool { return acked[ids[i]] < acked[ids[j]] })
		for _, e := range ids {
			byWorker[acked[e]/10000] = append(byWorker[acked[e]/10000], e)
		}
		for _, evs := range byWorker {
			for i := 1; i < len(evs); i++ {
				require.Less(t, present[evs[i-1]], present[evs[i]], "order of acknowledged sends")
			}
		}
		checkRoomConsistent(t, s, room.String())
		// The room still works: state is consistent and new sends succeed.
		state, err := alice.State(ctx, room)
		require.NoError(t, err)
		require.Contains(t, state[event.StateMember], alice.UserID.String())
		_, err = alice.SendText(ctx, room, "after crash")
		require.NoError(t, err)
	})
}

// checkRoomConsistent reads the room from storage: its history is one chain
// (each event's prev is the event before it in the stream), the stream has no
// gaps, the one forward extremity is the newest event, and the current state
// rows equal the room's state snapshot.
func checkRoomConsistent(t *testing.T, s *testServer, roomID string) {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, s.dbURL, zaptest.NewLogger(t))
	require.NoError(t, err)
	defer db.Close()
	st := rooms.New(db)
	info, err := st.Room(ctx, roomID)
	require.NoError(t, err)
	evs, err := st.RoomEvents(ctx, info.NID, 0, 0, 100000, false)
	require.NoError(t, err)
	require.NotEmpty(t, evs)
	for i := 1; i < len(evs); i++ {
		require.Equal(t, []string{evs[i-1].Event.ID()}, evs[i].Event.PrevEvents(), "event %d follows event %d", i, i-1)
	}
	extrem, err := st.ForwardExtremities(ctx, info.NID)
	require.NoError(t, err)
	require.Equal(t, []int64{evs[len(evs)-1].NID}, extrem)
	current, err := st.CurrentState(ctx, info.NID)
	require.NoError(t, err)
	snap, err := st.State(ctx, info.SnapshotNID)
	require.NoError(t, err)
	require.Equal(t, current, snap)
	var gaps int
	require.NoError(t, db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT stream_pos,
		LAG(stream_pos) OVER (ORDER BY stream_pos) AS prev FROM room_events WHERE stream_pos IS NOT NULL) x
		WHERE prev IS NOT NULL AND stream_pos <> prev + 1`).Scan(&gaps))
	// Holds here because only one room takes traffic: its lock makes stream
	// allocation order the commit order (across rooms a failed batch leaves a gap).
	require.Zero(t, gaps, "stream positions of committed events are contiguous")
}

// TestMessagesFilter pages a room with a RoomEventFilter on /messages.
func TestMessagesFilter(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, "sqlite")
	alice := s.register(t, "alice")
	resp, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		_, err := alice.SendText(ctx, resp.RoomID, fmt.Sprint("message ", i))
		require.NoError(t, err)
		_, err = alice.SendMessageEvent(ctx, resp.RoomID, event.NewEventType("org.example.other"), map[string]any{"n": i})
		require.NoError(t, err)
	}
	r, err := alice.Messages(ctx, resp.RoomID, "", "", mautrix.DirectionBackward,
		&mautrix.FilterPart{Types: []event.Type{event.EventMessage}}, 10)
	require.NoError(t, err)
	require.Len(t, r.Chunk, 3)
	for i, e := range r.Chunk {
		require.Equal(t, fmt.Sprint("message ", 2-i), e.Content.Raw["body"])
	}
}
