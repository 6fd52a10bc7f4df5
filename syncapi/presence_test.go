package syncapi

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/presence"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/storage/storagetest"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newPresenceAPI(t *testing.T, db *storage.DB, clock *fakeClock) (*API, *presence.Store) {
	st, err := presence.New(presence.Deps{DB: db})
	require.NoError(t, err)
	a := New(Deps{Store: rooms.New(db), Notifier: NewNotifier(0), Position: func() int64 { return 0 },
		Presence: st, Now: clock.Now, ServerName: "t"})
	require.NoError(t, a.Start(context.Background()))
	t.Cleanup(a.Stop)
	return a, st
}

func (a *API) shown(t *testing.T, user string) PresenceContent {
	t.Helper()
	p, err := a.GetPresence(context.Background(), user, user)
	require.NoError(t, err)
	return p
}

// TestPresenceRules walks one user through the presence rules with a fake
// clock (the timers, set for real time, never fire within the test; the
// rules run on every update).
func TestPresenceRules(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		clock := &fakeClock{now: time.UnixMilli(1_700_000_000_000)}
		a, st := newPresenceAPI(t, db, clock)
		const u = "@u:t"
		tick := func() { require.NoError(t, a.presence.update(ctx, u, func(*userPresence, int64) {})) }
		row := func() presence.Row {
			rows, err := st.Get(ctx, []string{u})
			require.NoError(t, err)
			return rows[u]
		}

		assert.Equal(t, presence.Offline, a.shown(t, u).Presence)
		done, err := a.presence.syncing(ctx, u, "")
		require.NoError(t, err)
		p := a.shown(t, u)
		assert.Equal(t, presence.Online, p.Presence)
		require.NotNil(t, p.CurrentlyActive)
		assert.True(t, *p.CurrentlyActive)
		assert.Equal(t, int64(0), *p.LastActiveAgo)
		r := row()
		assert.Equal(t, presence.Row{UserID: u, State: presence.Online, LastActiveTS: 1_700_000_000_000, CurrentlyActive: true, StreamPos: 1}, r)

		clock.add(61 * time.Second)
		tick()
		p = a.shown(t, u)
		assert.Equal(t, presence.Online, p.Presence)
		assert.False(t, *p.CurrentlyActive, "no activity for a minute")
		assert.Equal(t, int64(61_000), *p.LastActiveAgo)
		assert.Equal(t, int64(2), row().StreamPos)

		clock.add(4 * time.Minute)
		tick()
		assert.Equal(t, presence.Unavailable, a.shown(t, u).Presence, "idle for 5 minutes")
		assert.Nil(t, a.shown(t, u).CurrentlyActive)

		clock.add(time.Hour)
		tick()
		assert.Equal(t, presence.Unavailable, a.shown(t, u).Presence, "a /sync is running: never offline")
		done()
		clock.add(29 * time.Second)
		tick()
		assert.Equal(t, presence.Unavailable, a.shown(t, u).Presence)
		clock.add(2 * time.Second)
		tick()
		assert.Equal(t, presence.Offline, a.shown(t, u).Presence, "30 s after the last sync")
		assert.Equal(t, presence.Offline, row().State)
		a.presence.mu.Lock()
		assert.NotContains(t, a.presence.users, u, "offline users leave memory")
		a.presence.mu.Unlock()
		before := row().StreamPos

		// Activity brings the user back (in the background).
		a.presence.active(u)
		require.Eventually(t, func() bool { return row().State == presence.Online }, 5*time.Second, 10*time.Millisecond)
		assert.True(t, row().CurrentlyActive)
		assert.Greater(t, row().StreamPos, before)

		// set_presence=unavailable, and an explicit status message.
		done, err = a.presence.syncing(ctx, u, presence.Unavailable)
		require.NoError(t, err)
		assert.Equal(t, presence.Unavailable, a.shown(t, u).Presence)
		msg := "away"
		require.NoError(t, a.SetPresence(ctx, u, presence.Online, &msg))
		p = a.shown(t, u)
		assert.Equal(t, presence.Online, p.Presence)
		assert.Equal(t, "away", *p.StatusMsg)
		done()
		require.ErrorIs(t, a.SetPresence(ctx, u, "busy", nil), ErrBadPresence)
	})
}

// TestPresenceConcurrentUpdates runs every kind of update at once (for the
// race detector) and checks the stored row ends as the memory says.
func TestPresenceConcurrentUpdates(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		clock := &fakeClock{now: time.UnixMilli(1_700_000_000_000)}
		a, st := newPresenceAPI(t, db, clock)
		var wg sync.WaitGroup
		for i := range 6 {
			user := fmt.Sprintf("@u%d:t", i%3)
			wg.Go(func() {
				for j := range 15 {
					switch j % 3 {
					case 0:
						done, err := a.presence.syncing(ctx, user, "")
						assert.NoError(t, err)
						done()
					case 1:
						msg := fmt.Sprint(j)
						assert.NoError(t, a.SetPresence(ctx, user, presence.Unavailable, &msg))
					case 2:
						a.presence.active(user)
					}
				}
			})
		}
		wg.Wait()
		a.Stop() // waits for background updates
		for i := range 3 {
			user := fmt.Sprintf("@u%d:t", i)
			rows, err := st.Get(ctx, []string{user})
			require.NoError(t, err)
			a.presence.mu.Lock()
			u := a.presence.users[user]
			require.NotNil(t, u)
			assert.Equal(t, u.shown, shownPresence{state: rows[user].State, statusMsg: rows[user].StatusMsg,
				currentlyActive: rows[user].CurrentlyActive}, "the highest position's row is the last state")
			a.presence.mu.Unlock()
		}
		assert.Equal(t, a.presPos.position(), a.presPos.next-1, "every allocated position was released")
	})
}
