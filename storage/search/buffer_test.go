package search

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/storage/storagetest"
)

// TestBufferedWriter: a buffering writer (one per transaction, flushed
// before commit) stores every row, and an event deleted (redacted) in the
// same transaction before the flush is never stored.
func TestBufferedWriter(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		err := rooms.New(db).Write(ctx, func(w *rooms.Writer) error {
			sw := w.Memo("search", func() any {
				sw := NewWriter(w.Tx(), w.Dialect())
				sw.Buffer()
				w.BeforeCommit(sw.Flush)
				return sw
			}).(*Writer)
			for i, body := range []string{"apple pie", "apple tart", "apple crumble"} {
				e := build(t, "m.room.message", nil, map[string]any{"body": body, "msgtype": "m.text"})
				if err := sw.Index(ctx, Doc{EventNID: int64(i + 1), RoomNID: 1, StreamPos: int64(i + 1), Event: e}); err != nil {
					return err
				}
			}
			return sw.Delete(ctx, 2)
		})
		require.NoError(t, err)
		hits, err := New(db).Search(ctx, Query{Terms: Terms("apple"), RoomNIDs: []int64{1}, Limit: 10})
		require.NoError(t, err)
		var got []int64
		for _, h := range hits {
			got = append(got, h.EventNID)
		}
		require.ElementsMatch(t, []int64{1, 3}, got)
	})
}
