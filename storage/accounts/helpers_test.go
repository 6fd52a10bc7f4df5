package accounts_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/accounts"
	"github.com/concordchat/concord/storage/storagetest"
)

// fakeClock is a settable clock for expiry tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) MS() int64 { return c.Now().UnixMilli() }

// fixture is a Store on a fresh database with a fake clock.
type fixture struct {
	*accounts.Store
	db    *storage.DB
	clock *fakeClock
	ctx   context.Context
}

// forEachBackend runs fn with a fresh fixture on SQLite and on PostgreSQL.
func forEachBackend(t *testing.T, fn func(t *testing.T, f fixture)) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		clock := &fakeClock{now: time.UnixMilli(1_700_000_000_000)}
		s, err := accounts.New(accounts.Deps{DB: db, Logger: zaptest.NewLogger(t), Now: clock.Now})
		require.NoError(t, err)
		fn(t, fixture{Store: s, db: db, clock: clock, ctx: context.Background()})
	})
}

// mustUser creates an active user with one device.
func (f fixture) mustUser(t *testing.T, localpart, deviceID string) {
	t.Helper()
	_, err := f.CreateUser(f.ctx, accounts.NewUser{Localpart: localpart, PasswordHash: "$2a$10$hash"})
	require.NoError(t, err)
	if deviceID != "" {
		_, err = f.CreateDevice(f.ctx, localpart, deviceID, "")
		require.NoError(t, err)
	}
}

// count returns the rows of a table matching a condition without placeholders.
func (f fixture) count(t *testing.T, table, where string) int {
	t.Helper()
	var n int
	require.NoError(t, f.db.Read().QueryRow(`SELECT COUNT(*) FROM `+table+` WHERE `+where).Scan(&n))
	return n
}

func ptr(n int64) *int64 { return &n }

// concurrently runs fn n times at once and returns the errors.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}
