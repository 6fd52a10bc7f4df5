package filters_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/filters"
	"github.com/concordchat/concord/storage/storagetest"
)

func TestPutGet(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s, err := filters.New(filters.Deps{DB: db})
		require.NoError(t, err)

		a := []byte(`{"room":{"timeline":{"limit":10}}}`)
		b := []byte(`{"presence":{"types":["m.presence"]}}`)
		idA, err := s.Put(ctx, "alice", a)
		require.NoError(t, err)
		idB, err := s.Put(ctx, "alice", b)
		require.NoError(t, err)
		assert.NotEqual(t, idA, idB)
		assert.NotEqual(t, byte('{'), idA[0], "filter IDs never start with {")

		got, err := s.Get(ctx, "alice", idA)
		require.NoError(t, err)
		assert.Equal(t, a, got)
		got, err = s.Get(ctx, "alice", idB)
		require.NoError(t, err)
		assert.Equal(t, b, got)

		// The same filter again: same ID, one row.
		again, err := s.Put(ctx, "alice", a)
		require.NoError(t, err)
		assert.Equal(t, idA, again)
		var rows int
		require.NoError(t, db.Read().QueryRow(`SELECT COUNT(*) FROM filters`).Scan(&rows))
		assert.Equal(t, 2, rows)

		// Another user's identical filter is their own.
		idBob, err := s.Put(ctx, "bob", a)
		require.NoError(t, err)
		assert.NotEqual(t, idA, idBob)

		// Filters are private to their owner, and odd IDs are just unknown.
		for _, id := range []string{idBob, "999999", "abc", "", "-1", "01", "1.0", "{}", "99999999999999999999"} {
			_, err = s.Get(ctx, "alice", id)
			assert.ErrorIs(t, err, filters.ErrNotFound, "id %q", id)
		}
		_, err = s.Get(ctx, "carol", idA)
		assert.ErrorIs(t, err, filters.ErrNotFound)

		_, err = s.Put(ctx, "", a)
		assert.Error(t, err)
		_, err = s.Put(ctx, "alice", nil)
		assert.Error(t, err)
	})
}

func TestConcurrentIdenticalPuts(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s, err := filters.New(filters.Deps{DB: db})
		require.NoError(t, err)
		const n = 8
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				ids[i], errs[i] = s.Put(ctx, "alice", []byte(`{"event_format":"client"}`))
			})
		}
		close(start)
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i], "put %d", i)
			assert.Equal(t, ids[0], ids[i], "put %d", i)
		}
		// Distinct filters at once all get distinct IDs.
		seen := sync.Map{}
		for i := range n {
			wg.Go(func() {
				id, err := s.Put(ctx, "alice", fmt.Appendf(nil, `{"room":{"timeline":{"limit":%d}}}`, i+1))
				assert.NoError(t, err)
				_, dup := seen.LoadOrStore(id, i)
				assert.False(t, dup, "duplicate id %s", id)
			})
		}
		wg.Wait()
	})
}

func TestNewNeedsDB(t *testing.T) {
	_, err := filters.New(filters.Deps{})
	assert.Error(t, err)
}
