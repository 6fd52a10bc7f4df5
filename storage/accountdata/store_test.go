package accountdata_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/accountdata"
	"github.com/concordchat/concord/storage/storagetest"
)

func TestPutGetSince(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s, err := accountdata.New(accountdata.Deps{DB: db})
		require.NoError(t, err)

		max, err := s.MaxStreamPos(ctx)
		require.NoError(t, err)
		assert.Zero(t, max)

		require.NoError(t, s.Put(ctx, "@a:x", "", "m.direct", json.RawMessage(`{"@b:x":["!r:x"]}`), 1))
		require.NoError(t, s.Put(ctx, "@a:x", "!r:x", "m.tag", json.RawMessage(`{"tags":{}}`), 2))
		require.NoError(t, s.Put(ctx, "@b:x", "", "m.direct", json.RawMessage(`{}`), 3))
		require.NoError(t, s.Put(ctx, "@a:x", "", "m.direct", json.RawMessage(`{"@c:x":["!q:x"]}`), 4))

		got, err := s.Get(ctx, "@a:x", "", "m.direct")
		require.NoError(t, err)
		assert.JSONEq(t, `{"@c:x":["!q:x"]}`, string(got))
		got, err = s.Get(ctx, "@a:x", "!r:x", "m.tag")
		require.NoError(t, err)
		assert.JSONEq(t, `{"tags":{}}`, string(got))

		// Global and room data of the same type are distinct; users too.
		_, err = s.Get(ctx, "@a:x", "!r:x", "m.direct")
		assert.ErrorIs(t, err, accountdata.ErrNotFound)
		_, err = s.Get(ctx, "@c:x", "", "m.direct")
		assert.ErrorIs(t, err, accountdata.ErrNotFound)

		all, err := s.Since(ctx, "@a:x", 0, 4)
		require.NoError(t, err)
		require.Len(t, all, 2)
		assert.Equal(t, accountdata.Entry{RoomID: "!r:x", Type: "m.tag", Content: json.RawMessage(`{"tags":{}}`), StreamPos: 2}, all[0])
		assert.Equal(t, "m.direct", all[1].Type)
		assert.Equal(t, int64(4), all[1].StreamPos)

		// Ranges are (after, upTo].
		some, err := s.Since(ctx, "@a:x", 2, 4)
		require.NoError(t, err)
		require.Len(t, some, 1)
		assert.Equal(t, "m.direct", some[0].Type)
		none, err := s.Since(ctx, "@a:x", 0, 1)
		require.NoError(t, err)
		assert.Empty(t, none, "the m.direct row moved to position 4")

		// A write with a lower position than the stored row loses.
		require.NoError(t, s.Put(ctx, "@a:x", "", "m.direct", json.RawMessage(`{"old":true}`), 3))
		got, err = s.Get(ctx, "@a:x", "", "m.direct")
		require.NoError(t, err)
		assert.JSONEq(t, `{"@c:x":["!q:x"]}`, string(got))

		max, err = s.MaxStreamPos(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(4), max)

		assert.Error(t, s.Put(ctx, "", "", "t", json.RawMessage(`{}`), 9))
		assert.Error(t, s.Put(ctx, "@a:x", "", "", json.RawMessage(`{}`), 9))
		assert.Error(t, s.Put(ctx, "@a:x", "", "t", json.RawMessage(`{`), 9))
	})
}

func TestConcurrentWritesKeepHighestPosition(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s, err := accountdata.New(accountdata.Deps{DB: db})
		require.NoError(t, err)
		var wg sync.WaitGroup
		for i := 1; i <= 20; i++ {
			wg.Go(func() {
				assert.NoError(t, s.Put(ctx, "@a:x", "", "t", json.RawMessage(`{"n":`+itoa(i)+`}`), int64(i)))
			})
		}
		wg.Wait()
		got, err := s.Get(ctx, "@a:x", "", "t")
		require.NoError(t, err)
		assert.JSONEq(t, `{"n":20}`, string(got))
	})
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestNewNeedsDB(t *testing.T) {
	_, err := accountdata.New(accountdata.Deps{})
	assert.Error(t, err)
}
