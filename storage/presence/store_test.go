package presence_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/presence"
	"github.com/concordchat/concord/storage/storagetest"
)

func TestPutGetSince(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s, err := presence.New(presence.Deps{DB: db})
		require.NoError(t, err)

		alice := presence.Row{UserID: "@a:x", State: presence.Online, StatusMsg: "lunch", LastActiveTS: 100, CurrentlyActive: true}
		bob := presence.Row{UserID: "@b:x", State: presence.Offline, LastActiveTS: 50}
		require.NoError(t, s.Put(ctx, alice, 1))
		require.NoError(t, s.Put(ctx, bob, 2))
		alice.State, alice.CurrentlyActive = presence.Unavailable, false
		require.NoError(t, s.Put(ctx, alice, 3))

		got, err := s.Get(ctx, []string{"@a:x", "@b:x", "@nobody:x"})
		require.NoError(t, err)
		require.Len(t, got, 2)
		alice.StreamPos, bob.StreamPos = 3, 2
		assert.Equal(t, alice, got["@a:x"])
		assert.Equal(t, bob, got["@b:x"])

		rows, err := s.Since(ctx, 1, 3, 10)
		require.NoError(t, err)
		require.Len(t, rows, 2)
		assert.Equal(t, "@b:x", rows[0].UserID)
		assert.Equal(t, "@a:x", rows[1].UserID)
		rows, err = s.Since(ctx, 0, 3, 1)
		require.NoError(t, err)
		assert.Len(t, rows, 1, "limit")

		// A stale write (lower position) is ignored.
		stale := alice
		stale.State = presence.Online
		require.NoError(t, s.Put(ctx, stale, 2))
		got, err = s.Get(ctx, []string{"@a:x"})
		require.NoError(t, err)
		assert.Equal(t, presence.Unavailable, got["@a:x"].State)

		active, err := s.NotOffline(ctx)
		require.NoError(t, err)
		require.Len(t, active, 1)
		assert.Equal(t, "@a:x", active[0].UserID)

		max, err := s.MaxStreamPos(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(3), max)

		assert.Error(t, s.Put(ctx, presence.Row{UserID: "@a:x", State: "busy"}, 9))
		assert.Error(t, s.Put(ctx, presence.Row{State: presence.Online}, 9))
	})
}

func TestGetManyUsers(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s, err := presence.New(presence.Deps{DB: db})
		require.NoError(t, err)
		var users []string
		for i := range 1100 {
			users = append(users, fmt.Sprintf("@u%d:x", i))
		}
		require.NoError(t, s.Put(ctx, presence.Row{UserID: users[1050], State: presence.Online}, 1))
		got, err := s.Get(ctx, users)
		require.NoError(t, err)
		assert.Len(t, got, 1)
	})
}

func TestNewNeedsDB(t *testing.T) {
	_, err := presence.New(presence.Deps{})
	assert.Error(t, err)
}
