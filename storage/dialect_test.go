package storage_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/storagetest"
)

func createKV(t *testing.T, db *storage.DB) {
	t.Helper()
	_, err := db.Write().Exec(`CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT NOT NULL, b BOOLEAN NOT NULL DEFAULT FALSE)`)
	require.NoError(t, err)
}

func insertKV(t *testing.T, db *storage.DB, k string, v int64) {
	t.Helper()
	// Out-of-order placeholders.
	_, err := db.Write().Exec(db.Dialect().Rebind(`INSERT INTO kv (v, k) VALUES ($2, $1)`), k, v)
	require.NoError(t, err)
}

// TestDollarPlaceholders shows that queries written once with $N run on both
// engines, with placeholders repeated and out of order, so Rebind can stay
// the identity.
func TestDollarPlaceholders(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		d := db.Dialect()
		q := "SELECT $1 AND $2"
		assert.Equal(t, q, d.Rebind(q))

		createKV(t, db)
		insertKV(t, db, "a", 1)
		insertKV(t, db, "b", 2)
		insertKV(t, db, "c", 3)

		var got []string
		rows, err := db.Read().Query(d.Rebind(
			`SELECT k FROM kv WHERE (k = $2 OR v = $1 OR k = $2) AND v <> $3 ORDER BY k`), 3, "a", 0)
		require.NoError(t, err)
		for rows.Next() {
			var k string
			require.NoError(t, rows.Scan(&k))
			got = append(got, k)
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		assert.Equal(t, []string{"a", "c"}, got)

		// Booleans bind and scan the same way on both engines.
		_, err = db.Write().Exec(d.Rebind(`UPDATE kv SET b = $1 WHERE k = $2`), true, "b")
		require.NoError(t, err)
		var b bool
		require.NoError(t, db.Read().QueryRow(d.Rebind(`SELECT b FROM kv WHERE k = $1`), "b").Scan(&b))
		assert.True(t, b)
		var n int
		require.NoError(t, db.Read().QueryRow(`SELECT COUNT(*) FROM kv WHERE b = FALSE`).Scan(&n))
		assert.Equal(t, 2, n)

		// Upsert and RETURNING are written once for both.
		var v int64
		require.NoError(t, db.Write().QueryRow(d.Rebind(`
			INSERT INTO kv (k, v) VALUES ($1, $2)
			ON CONFLICT (k) DO UPDATE SET v = kv.v + excluded.v RETURNING v`), "a", 10).Scan(&v))
		assert.Equal(t, int64(11), v)
	})
}

func TestInList(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		d := db.Dialect()
		createKV(t, db)
		for i, k := range []string{"a", "b", "c", "d"} {
			insertKV(t, db, k, int64(i+1))
		}
		query := func(cond string, args ...any) []string {
			t.Helper()
			rows, err := db.Read().Query(d.Rebind(`SELECT k FROM kv WHERE v > $1 AND `+cond+` ORDER BY k`), args...)
			require.NoError(t, err)
			defer func() { _ = rows.Close() }()
			var out []string
			for rows.Next() {
				var k string
				require.NoError(t, rows.Scan(&k))
				out = append(out, k)
			}
			require.NoError(t, rows.Err())
			return out
		}

		cond, args := storage.InList(d, "k", 2, []string{"a", "c", "d", "zz"})
		assert.Equal(t, []string{"c", "d"}, query(cond, append([]any{1}, args...)...))

		cond, args = storage.InList(d, "v", 2, []int64{1, 2, 4})
		assert.Equal(t, []string{"a", "b", "d"}, query(cond, append([]any{0}, args...)...))

		cond, args = storage.InList(d, "k", 2, []string{})
		assert.Empty(t, query(cond, append([]any{0}, args...)...))

		if d.ArrayParams() {
			assert.Equal(t, "k = ANY($2)", must(storage.InList(d, "k", 2, []string{"x", "y"})))
		} else {
			assert.Equal(t, "k IN ($2, $3)", must(storage.InList(d, "k", 2, []string{"x", "y"})))
		}
	})
}

func must(cond string, _ []any) string { return cond }

func TestErrorClassification(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		d := db.Dialect()
		createKV(t, db)
		insertKV(t, db, "a", 1)

		_, err := db.Write().Exec(d.Rebind(`INSERT INTO kv (k, v) VALUES ($1, $2)`), "a", 2)
		require.Error(t, err)
		assert.True(t, d.IsUniqueViolation(err))
		assert.True(t, d.IsUniqueViolation(wrap(err)), "wrapped errors are classified too")
		assert.False(t, d.IsSerializationFailure(err))
		assert.False(t, d.IsBusy(err))

		_, err = db.Write().Exec(`SELECT * FROM no_such_table`)
		require.Error(t, err)
		assert.False(t, d.IsUniqueViolation(err))
		assert.False(t, d.IsSerializationFailure(err))
		assert.False(t, d.IsUniqueViolation(nil))
		assert.False(t, d.IsUniqueViolation(errors.New("UNIQUE constraint failed")))
	})
}

func wrap(err error) error { return errors.Join(errors.New("context"), err) }

func TestWriteTxRollsBackOnError(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		createKV(t, db)
		sentinel := errors.New("stop")
		err := db.WriteTx(context.Background(), func(tx *sql.Tx) error {
			_, err := tx.Exec(db.Dialect().Rebind(`INSERT INTO kv (k, v) VALUES ($1, $2)`), "a", 1)
			require.NoError(t, err)
			return sentinel
		})
		assert.ErrorIs(t, err, sentinel)
		var n int
		require.NoError(t, db.Read().QueryRow(`SELECT COUNT(*) FROM kv`).Scan(&n))
		assert.Zero(t, n)

		// The writer is usable again (on SQLite: the one connection was released).
		require.NoError(t, db.WriteTx(context.Background(), func(tx *sql.Tx) error {
			_, err := tx.Exec(db.Dialect().Rebind(`INSERT INTO kv (k, v) VALUES ($1, $2)`), "a", 1)
			return err
		}))
		var v int64
		require.NoError(t, db.ReadTx(context.Background(), func(tx *sql.Tx) error {
			return tx.QueryRow(`SELECT v FROM kv WHERE k = 'a'`).Scan(&v)
		}))
		assert.Equal(t, int64(1), v)
	})
}

func TestConcurrentWriters(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		createKV(t, db)
		insertKV(t, db, "counter", 0)
		const writers = 20
		errs := make(chan error, writers)
		for range writers {
			go func() {
				errs <- db.WriteTx(context.Background(), func(tx *sql.Tx) error {
					var v int64
					if err := tx.QueryRow(`SELECT v FROM kv WHERE k = 'counter'`).Scan(&v); err != nil {
						return err
					}
					_, err := tx.Exec(db.Dialect().Rebind(`UPDATE kv SET v = v + 1 WHERE k = $1`), "counter")
					return err
				})
			}()
		}
		for range writers {
			require.NoError(t, <-errs)
		}
		var v int64
		require.NoError(t, db.Read().QueryRow(`SELECT v FROM kv WHERE k = 'counter'`).Scan(&v))
		assert.Equal(t, int64(writers), v)
	})
}
