package receipts_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/receipts"
	"github.com/concordchat/concord/storage/storagetest"
)

func rc(room, user, typ, thread, ev string, evPos int64) receipts.Receipt {
	return receipts.Receipt{RoomID: room, UserID: user, Type: typ, ThreadID: thread, EventID: ev, EventStreamPos: evPos, TS: 1000 + evPos}
}

func TestPutSinceReadUpTo(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s, err := receipts.New(receipts.Deps{DB: db})
		require.NoError(t, err)

		put := func(r receipts.Receipt, pos int64) bool {
			t.Helper()
			ok, err := s.Put(ctx, r, pos)
			require.NoError(t, err)
			return ok
		}
		assert.True(t, put(rc("!r", "@a", receipts.TypeRead, "", "$5", 5), 1))
		assert.True(t, put(rc("!r", "@a", receipts.TypeReadPrivate, "", "$7", 7), 2))
		assert.True(t, put(rc("!r", "@a", receipts.TypeRead, "$root", "$9", 9), 3))
		assert.True(t, put(rc("!q", "@a", receipts.TypeRead, "main", "$20", 20), 4))
		assert.True(t, put(rc("!r", "@b", receipts.TypeRead, "", "$6", 6), 5))

		// Receipts never move backwards, and the same event is no change.
		assert.False(t, put(rc("!r", "@a", receipts.TypeRead, "", "$3", 3), 6))
		assert.False(t, put(rc("!r", "@a", receipts.TypeRead, "", "$5", 5), 7))
		assert.True(t, put(rc("!r", "@a", receipts.TypeRead, "", "$8", 8), 8))

		mine, err := s.OfUser(ctx, "!r", "@a")
		require.NoError(t, err)
		require.Len(t, mine, 3)
		assert.Equal(t, receipts.Receipt{RoomID: "!r", UserID: "@a", Type: receipts.TypeRead, ThreadID: "",
			EventID: "$8", EventStreamPos: 8, TS: 1008, StreamPos: 8}, mine[0])
		assert.Equal(t, "$root", mine[1].ThreadID)
		assert.Equal(t, receipts.TypeReadPrivate, mine[2].Type)

		all, err := s.Since(ctx, []string{"!r", "!q"}, 0, 8)
		require.NoError(t, err)
		var events []string
		for _, r := range all {
			events = append(events, r.EventID)
		}
		assert.Equal(t, []string{"$7", "$9", "$20", "$6", "$8"}, events, "stream order, one row per tuple")

		some, err := s.Since(ctx, []string{"!r"}, 3, 7)
		require.NoError(t, err)
		require.Len(t, some, 1)
		assert.Equal(t, "@b", some[0].UserID)
		none, err := s.Since(ctx, nil, 0, 8)
		require.NoError(t, err)
		assert.Empty(t, none)

		// Read-up-to: the furthest main/unthreaded m.read or m.read.private.
		up, err := s.ReadUpTo(ctx, "@a", "!r")
		require.NoError(t, err)
		assert.Equal(t, int64(8), up, "m.read $8 beats m.read.private $7; the thread receipt $9 does not count")
		up, err = s.ReadUpTo(ctx, "@a", "!q")
		require.NoError(t, err)
		assert.Equal(t, int64(20), up, "thread main counts")
		up, err = s.ReadUpTo(ctx, "@c", "!r")
		require.NoError(t, err)
		assert.Zero(t, up)
		threads, err := s.ThreadsReadUpTo(ctx, "@a", "!r")
		require.NoError(t, err)
		assert.Equal(t, map[string]int64{"$root": 9}, threads)

		max, err := s.MaxStreamPos(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(8), max)

		_, err = s.Put(ctx, receipts.Receipt{RoomID: "!r"}, 9)
		assert.Error(t, err)
	})
}

func TestSinceManyRooms(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s, err := receipts.New(receipts.Deps{DB: db})
		require.NoError(t, err)
		var rooms []string
		for i := range 1200 {
			rooms = append(rooms, "!room"+string(rune('a'+i%26))+itoa(i))
		}
		for i, r := range []string{rooms[0], rooms[700], rooms[1199]} {
			_, err := s.Put(ctx, rc(r, "@a", receipts.TypeRead, "", "$e", 1), int64(i+1))
			require.NoError(t, err)
		}
		got, err := s.Since(ctx, rooms, 0, 10)
		require.NoError(t, err)
		assert.Len(t, got, 3, "rooms are queried in chunks")
	})
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestNewNeedsDB(t *testing.T) {
	_, err := receipts.New(receipts.Deps{})
	assert.Error(t, err)
}
