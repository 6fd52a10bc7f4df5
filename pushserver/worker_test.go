package pushserver

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/push"
	"github.com/concordchat/concord/storage/storagetest"
)

// TestWorkerRoomState: display names, power levels and member counts come
// from the room state before each event, and change with it.
func TestWorkerRoomState(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, 0, true)
		room := f.room(bob, carol)

		f.msg(room, alice, text("hi"))
		assert.Equal(t, uc(1, 0), f.counts(bob, room))
		assert.Equal(t, uc(1, 0), f.counts(carol, room))
		assert.Equal(t, uc(0, 0), f.counts(alice, room), "no notification for one's own event")

		f.msg(room, alice, text("hey bobby!"))
		assert.Equal(t, uc(2, 1), f.counts(bob, room), "bob's display name in the room")
		assert.Equal(t, uc(2, 0), f.counts(carol, room))

		// Bob renames himself: his own event also reads the room for him.
		f.sendProposal(room, member(bob, "Robert"))
		assert.Equal(t, uc(0, 0), f.counts(bob, room))
		f.msg(room, alice, text("hey bobby"))
		assert.Equal(t, uc(1, 0), f.counts(bob, room), "the old name no longer highlights")
		f.msg(room, alice, text("robert?"))
		assert.Equal(t, uc(2, 1), f.counts(bob, room))

		// @room needs notifications.room (50) power.
		f.msg(room, carol, text("@room hello"))
		assert.Equal(t, uc(3, 1), f.counts(bob, room))
		f.sendProposal(room, roomserver.Proposal{Type: event.TypePowerLevels, StateKey: sk(""), Sender: alice,
			Content: raw(map[string]any{"users": map[string]any{alice: 100, carol: 50}})})
		f.msg(room, carol, text("@room again"))
		assert.Equal(t, uc(4, 2), f.counts(bob, room))
		f.sendProposal(room, roomserver.Proposal{Type: event.TypePowerLevels, StateKey: sk(""), Sender: alice,
			Content: raw(map[string]any{"users": map[string]any{alice: 100, carol: 50}, "notifications": map[string]any{"room": 60}})})
		f.msg(room, carol, text("@room once more"))
		assert.Equal(t, uc(5, 2), f.counts(bob, room), "notifications.room raised above carol")

		// Two members: one-to-one rules (with a sound).
		dm := f.room(bob)
		f.msg(dm, alice, text("psst"))
		assert.Equal(t, uc(1, 0), f.counts(bob, dm))
		page, err := f.inbox.List(f.ctx, ListRequest{UserID: bob, Limit: 1})
		require.NoError(t, err)
		require.Len(t, page.Notifications, 1)
		assert.JSONEq(t, `["notify",{"set_tweak":"sound","value":"default"}]`, string(page.Notifications[0].Actions))
		assert.Equal(t, dm, page.Notifications[0].RoomID)
		assert.NotEmpty(t, page.NextToken)
		assert.False(t, page.Notifications[0].Read)

		// A third member joins: the same message is a plain .m.rule.message.
		f.sendProposal(dm, member(carol, "Carol"))
		f.msg(dm, alice, text("psst"))
		page, err = f.inbox.List(f.ctx, ListRequest{UserID: bob, Limit: 1})
		require.NoError(t, err)
		assert.JSONEq(t, `["notify"]`, string(page.Notifications[0].Actions))
	})
}

// TestWorkerOverflow: with a full queue, events are read back from the room
// store and every one is evaluated, in order.
func TestWorkerOverflow(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, 2, false)
		r1, r2 := f.room(bob, carol), f.room(bob, carol)
		for i := 0; i < 15; i++ {
			f.msg(r1, alice, text("one"))
			f.msg(r2, carol, text("two"))
		}
		f.msg(r2, bob, text("bob reads r2 here"))
		f.msg(r2, carol, text("after that"))
		f.worker.mu.Lock()
		assert.True(t, f.worker.overflowing)
		assert.Len(t, f.worker.queue, 2)
		assert.Len(t, f.worker.overflow, 2)
		f.worker.mu.Unlock()

		f.start()
		assert.Equal(t, uc(15, 0), f.counts(bob, r1))
		assert.Equal(t, uc(1, 0), f.counts(bob, r2), "bob's own message was evaluated in order")
		assert.Equal(t, uc(15, 0), f.counts(carol, r1))
		f.worker.mu.Lock()
		assert.False(t, f.worker.overflowing)
		f.worker.mu.Unlock()

		f.msg(r1, alice, text("queued again"))
		assert.Equal(t, uc(16, 0), f.counts(bob, r1))
	})
}

// TestWorkerThreads: the thread of an event is found through up to three
// relations, from the cache or from the room store.
func TestWorkerThreads(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, 0, true)
		room := f.room(bob)
		rel := func(relType, to string) map[string]any {
			c := text("x")
			c["m.relates_to"] = map[string]any{"rel_type": relType, "event_id": to}
			return c
		}
		root := f.msg(room, alice, text("root"))
		reply := f.msg(room, alice, rel("m.thread", root))
		r1 := f.msg(room, alice, rel("m.reference", reply))
		r2 := f.msg(room, alice, rel("m.reference", r1))
		r3 := f.msg(room, alice, rel("m.reference", r2))
		r4 := f.msg(room, alice, rel("m.reference", r3))
		other := f.msg(room, alice, rel("m.reference", root))
		c := f.counts(bob, room)
		assert.Equal(t, 7, c.NotificationCount)
		require.Contains(t, c.Threads, root)
		assert.Equal(t, 4, c.Threads[root].NotificationCount, "reply, r1, r2, r3 are in the thread (cached path)")

		// A fresh worker resolves from the room store, within three hops.
		fresh, err := NewWorker(WorkerDeps{Rules: f.rules, Store: f.store, RoomStore: f.rooms, ServerName: server})
		require.NoError(t, err)
		evs, err := f.rooms.EventsByID(f.ctx, []string{root, reply, r1, r2, r3, r4, other})
		require.NoError(t, err)
		byID := map[string]*event.Event{}
		for _, se := range evs {
			byID[se.Event.ID()] = se.Event
		}
		for id, want := range map[string]string{root: push.ThreadMain, reply: root, r1: root, r2: root, r3: root,
			r4: push.ThreadMain, other: push.ThreadMain} {
			assert.Equal(t, want, fresh.threadOf(f.ctx, byID[id]).thread, id)
		}
	})
}

// TestWorkerInvite: an invite notifies its local target, who is not joined.
func TestWorkerInvite(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, 0, true)
		room := f.room()
		inv := f.sendProposal(room, roomserver.Proposal{Type: event.TypeMember, StateKey: sk(bob), Sender: alice,
			Content: raw(map[string]any{"membership": "invite"})})
		page, err := f.inbox.List(f.ctx, ListRequest{UserID: bob})
		require.NoError(t, err)
		require.Len(t, page.Notifications, 1)
		assert.Equal(t, inv, page.Notifications[0].Event.ID())
		var actions []json.RawMessage
		require.NoError(t, json.Unmarshal(page.Notifications[0].Actions, &actions))
		assert.Len(t, actions, 2, "notify with the default sound")
		assert.Empty(t, page.NextToken)

		_, err = f.inbox.List(f.ctx, ListRequest{UserID: bob, From: "abc"})
		assert.ErrorIs(t, err, ErrBadToken)
		_, err = f.inbox.List(f.ctx, ListRequest{UserID: bob, From: "-5"})
		assert.ErrorIs(t, err, ErrBadToken)
	})
}

// TestWaitFor: counts wait for the worker, but not forever: not when it is
// stopped, and not long when it has nothing to do.
func TestWaitFor(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, 0, false)
		start := time.Now()
		f.worker.WaitFor(f.ctx, 1_000_000, time.Minute)
		assert.Less(t, time.Since(start), 100*time.Millisecond, "not running")

		f.start()
		start = time.Now()
		f.worker.WaitFor(f.ctx, 1_000_000, time.Minute)
		assert.Less(t, time.Since(start), 2*time.Second, "idle: a short grace only")

		room := f.room(bob)
		f.msg(room, alice, text("hi"))
		f.worker.WaitFor(f.ctx, f.rs.StreamPosition(), time.Minute)
		f.worker.mu.Lock()
		assert.GreaterOrEqual(t, f.worker.processed, f.rs.StreamPosition())
		f.worker.mu.Unlock()
		require.Error(t, f.worker.Start(f.ctx), "started twice")
	})
}
