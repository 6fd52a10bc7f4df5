package search

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/storage/storagetest"
)

// index stores message bodies as events 1, 2, ... of room 1 (positions
// equal to the event NIDs).
func index(t *testing.T, db *storage.DB, bodies ...string) {
	t.Helper()
	err := rooms.New(db).Write(context.Background(), func(w *rooms.Writer) error {
		sw := NewWriter(w.Tx(), w.Dialect())
		for i, b := range bodies {
			e := build(t, "m.room.message", nil, map[string]any{"body": b, "msgtype": "m.text"})
			if err := sw.Index(context.Background(), Doc{EventNID: int64(i + 1), RoomNID: 1, StreamPos: int64(i + 1), Event: e}); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
}

// page reads every hit of q, limit at a time, following the cursor.
func pageAll(t *testing.T, s *Store, q Query) []int64 {
	var out []int64
	for i := 0; i < 20; i++ {
		hits, err := s.Search(context.Background(), q)
		require.NoError(t, err)
		for _, h := range hits {
			out = append(out, h.EventNID)
		}
		if len(hits) < q.Limit {
			return out
		}
		last := hits[len(hits)-1]
		q.After = &Cursor{Rank: last.Rank, StreamPos: last.StreamPos}
	}
	t.Fatal("pagination does not end")
	return nil
}

// TestSearchStore: matching with stems and prefixes, ranking, pagination in
// rank order through ties, counts, highlights and deletion, on both engines.
func TestSearchStore(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		index(t, db, "the cat sat", "cats and cats and cats", "a dog", "the cat sat", "catalogue of things",
			"the cat sat", "dogs chase cats")
		s := New(db)
		q := Query{Terms: Terms("cat"), RoomNIDs: []int64{1}, Limit: 100}
		all, err := s.Search(ctx, q)
		require.NoError(t, err)
		got := map[int64]bool{}
		for i, h := range all {
			got[h.EventNID] = true
			assert.Positive(t, h.Rank)
			if i > 0 {
				assert.GreaterOrEqual(t, all[i-1].Rank, h.Rank)
			}
		}
		assert.Equal(t, map[int64]bool{1: true, 2: true, 4: true, 5: true, 6: true, 7: true}, got)
		assert.Equal(t, int64(2), all[0].EventNID, "three cats rank first")
		n, err := s.Count(ctx, q)
		require.NoError(t, err)
		assert.Equal(t, 6, n)

		// Equal ranks ("the cat sat" three times) page by stream position.
		want := make([]int64, len(all))
		for i, h := range all {
			want[i] = h.EventNID
		}
		for _, limit := range []int{1, 2, 4} {
			q.Limit = limit
			assert.Equal(t, want, pageAll(t, s, q), "pages of %d by rank", limit)
		}
		q.ByRecent = true
		q.Limit = 2
		assert.Equal(t, []int64{7, 6, 5, 4, 2, 1}, pageAll(t, s, q))

		// Filters: keys, senders; other rooms; no terms.
		q = Query{Terms: Terms("cat sat"), RoomNIDs: []int64{1}, Keys: []string{KeyBody}, Limit: 10, ByRecent: true}
		assert.Equal(t, []int64{6, 4, 1}, pageAll(t, s, q))
		q.Keys = []string{KeyName}
		assert.Empty(t, pageAll(t, s, q))
		q.Keys, q.NotSenders = nil, []string{"@a:hs.test"}
		assert.Empty(t, pageAll(t, s, q))
		q.NotSenders, q.RoomNIDs = nil, []int64{2}
		assert.Empty(t, pageAll(t, s, q))
		none, err := s.Search(ctx, Query{RoomNIDs: []int64{1}, Limit: 5})
		require.NoError(t, err)
		assert.Empty(t, none)

		hl, err := s.Highlights(ctx, Terms("cat"), []int64{2, 5, 7})
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"cats", "catalogue"}, hl)

		require.NoError(t, rooms.New(db).Write(ctx, func(w *rooms.Writer) error {
			return NewWriter(w.Tx(), w.Dialect()).Delete(ctx, 2)
		}))
		n, err = s.Count(ctx, Query{Terms: Terms("cat"), RoomNIDs: []int64{1}})
		require.NoError(t, err)
		assert.Equal(t, 5, n)
	})
}
