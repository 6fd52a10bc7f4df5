package pushserver

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/storagetest"
)

// TestRecoverQueuedEvents: events committed while no worker ran (as when the
// process dies with events still queued) are evaluated when the next worker
// starts, from the saved progress position, and only once.
func TestRecoverQueuedEvents(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, 0, true)
		roomID := f.room(bob)
		f.msg(roomID, alice, text("hello Bobby"))
		f.worker.WaitFor(f.ctx, f.rs.StreamPosition(), 5e9)
		require.Equal(t, uc(1, 1), f.counts(bob, roomID))
		f.worker.Stop() // saves the evaluated position

		// The stopped worker no longer evaluates: these wait for the next one.
		for i := 0; i < 3; i++ {
			f.msg(roomID, alice, text("Bobby, are you there?"))
		}
		require.Equal(t, uc(1, 1), f.counts(bob, roomID))

		next, err := NewWorker(WorkerDeps{Rules: f.rules, Store: f.store, RoomStore: f.rooms, ServerName: server,
			Logger: zaptest.NewLogger(t)})
		require.NoError(t, err)
		require.NoError(t, next.Start(f.ctx))
		t.Cleanup(next.Stop)
		next.WaitFor(f.ctx, f.rs.StreamPosition(), 5e9)
		require.Equal(t, uc(4, 4), f.counts(bob, roomID))
		pos, found, err := f.store.Progress(f.ctx)
		require.NoError(t, err)
		require.True(t, found)
		require.Equal(t, f.rs.StreamPosition(), pos)
	})
}

// TestRecoverWithoutProgress: a database that never had a progress position
// (events from before the evaluator kept one) starts from the current
// position instead of evaluating all history.
func TestRecoverWithoutProgress(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		// The fixture's own worker never starts; a new one, which was not
		// told about the events (as after an upgrade), must not evaluate them.
		f := newFixture(t, db, 0, false)
		roomID := f.room(bob)
		f.msg(roomID, alice, text("hello Bobby"))
		fresh, err := NewWorker(WorkerDeps{Rules: f.rules, Store: f.store, RoomStore: f.rooms, ServerName: server,
			Logger: zaptest.NewLogger(t)})
		require.NoError(t, err)
		require.NoError(t, fresh.Start(f.ctx))
		t.Cleanup(fresh.Stop)
		fresh.WaitFor(f.ctx, f.rs.StreamPosition(), 5e9)
		require.Equal(t, uc(0, 0), f.counts(bob, roomID))
		pos, found, err := f.store.Progress(f.ctx)
		require.NoError(t, err)
		require.True(t, found)
		require.Equal(t, f.rs.StreamPosition(), pos)
	})
}
