package storage_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/storagetest"
)

func TestSQLiteSetup(t *testing.T) {
	db := storagetest.SQLite(t)
	assert.Equal(t, storage.EngineSQLite, db.Dialect().Name())

	pragma := func(pool *sql.DB, name string) string {
		t.Helper()
		var v string
		require.NoError(t, pool.QueryRow("PRAGMA "+name).Scan(&v))
		return v
	}
	assert.Equal(t, "wal", pragma(db.Write(), "journal_mode"))
	assert.Equal(t, "1", pragma(db.Write(), "foreign_keys"))
	assert.Equal(t, "1", pragma(db.Write(), "synchronous"), "NORMAL")
	assert.Equal(t, "5000", pragma(db.Write(), "busy_timeout"))
	assert.Equal(t, "0", pragma(db.Write(), "query_only"))
	assert.Equal(t, "wal", pragma(db.Read(), "journal_mode"))
	assert.Equal(t, "1", pragma(db.Read(), "query_only"))
	assert.Equal(t, 1, db.Write().Stats().MaxOpenConnections, "one writer connection")
	assert.Greater(t, db.Read().Stats().MaxOpenConnections, 1)

	_, err := db.Read().Exec(`CREATE TABLE nope (x BIGINT)`)
	assert.Error(t, err, "the read pool is read-only")

	// A write committed on the writer is seen by readers.
	_, err = db.Write().Exec(`CREATE TABLE yes (x BIGINT)`)
	require.NoError(t, err)
	_, err = db.Write().Exec(`INSERT INTO yes (x) VALUES (42)`)
	require.NoError(t, err)
	var x int
	require.NoError(t, db.Read().QueryRow(`SELECT x FROM yes`).Scan(&x))
	assert.Equal(t, 42, x)
}

func TestPostgresSetup(t *testing.T) {
	db := storagetest.Postgres(t)
	assert.Equal(t, storage.EnginePostgres, db.Dialect().Name())
	assert.Same(t, db.Write(), db.Read())
	assert.Equal(t, 10, db.Write().Stats().MaxOpenConnections)
}

func TestOpenSQLiteCreatesDirectoryAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "concord.db")
	ctx := context.Background()
	db, err := storage.Open(ctx, path, zaptest.NewLogger(t))
	require.NoError(t, err)
	_, err = db.Write().Exec(`INSERT INTO users (localpart, created_ts) VALUES ('alice', 1)`)
	require.NoError(t, err)
	var migrations int
	require.NoError(t, db.Read().QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&migrations))
	require.NoError(t, db.Close())
	_, err = os.Stat(path)
	require.NoError(t, err)

	db, err = storage.Open(ctx, path, zaptest.NewLogger(t))
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	var n int
	require.NoError(t, db.Read().QueryRow(`SELECT COUNT(*) FROM users`).Scan(&n))
	assert.Equal(t, 1, n, "data survives reopening; migrations are not re-applied")
	require.NoError(t, db.Read().QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n))
	assert.Equal(t, migrations, n)
}

func TestOpenRejectsBadTargets(t *testing.T) {
	ctx := context.Background()
	for _, url := range []string{"", ":memory:", "file:x.db", "x.db?_pragma=foo", "mysql://localhost/x"} {
		_, err := storage.Open(ctx, url, nil)
		assert.Error(t, err, url)
	}
	_, err := storage.Open(ctx, filepath.Join(t.TempDir(), "x.db"), nil, storage.WithMaxOpenConns(0))
	assert.Error(t, err)
}

func TestOpenPostgresUnreachable(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := storage.Open(ctx, "postgres://concord:secret@127.0.0.1:1/concord?sslmode=disable&connect_timeout=1", nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret", "the password is redacted")
}

func TestIsPostgresURL(t *testing.T) {
	assert.True(t, storage.IsPostgresURL("postgres://x/y"))
	assert.True(t, storage.IsPostgresURL("postgresql://x/y"))
	assert.False(t, storage.IsPostgresURL("/var/lib/concord.db"))
	assert.False(t, storage.IsPostgresURL("postgres.db"))
}

// retryableError returns an error the dialect of db counts as retryable: a
// real SQLITE_BUSY from a second connection, or a PostgreSQL serialization
// failure.
func retryableError(t *testing.T, db *storage.DB, path string) error {
	t.Helper()
	if db.Dialect().Name() == storage.EnginePostgres {
		return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
	}
	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	require.NoError(t, err)
	defer func() { _ = other.Close() }()
	var busy error
	require.NoError(t, db.WriteTx(context.Background(), func(*sql.Tx) error {
		// Nothing written yet, but the writer's transactions begin
		// IMMEDIATE, so the write lock is already held.
		_, busy = other.Exec(`INSERT INTO kv (k, v) VALUES ('other', 0)`)
		return nil
	}))
	require.Error(t, busy)
	require.True(t, db.Dialect().IsBusy(busy), "got %v", busy)
	return busy
}

func TestWriteTxRetries(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		createKV(t, db)
		var path string
		if db.Dialect().Name() == storage.EngineSQLite {
			require.NoError(t, db.Read().QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path))
		}
		transient := retryableError(t, db, path)
		assert.True(t, db.Dialect().IsSerializationFailure(transient) || db.Dialect().IsBusy(transient))

		runs := 0
		err := db.WriteTx(context.Background(), func(tx *sql.Tx) error {
			runs++
			if _, err := tx.Exec(db.Dialect().Rebind(`INSERT INTO kv (k, v) VALUES ($1, $2)`), "retried", runs); err != nil {
				return err
			}
			if runs < 3 {
				return transient
			}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 3, runs)
		var v int
		require.NoError(t, db.Read().QueryRow(`SELECT v FROM kv WHERE k = 'retried'`).Scan(&v))
		assert.Equal(t, 3, v, "only the last run committed")

		storage.SetRetry(db, 2)
		runs = 0
		err = db.WriteTx(context.Background(), func(*sql.Tx) error { runs++; return transient })
		assert.ErrorIs(t, err, transient)
		assert.Equal(t, 2, runs, "gives up after the attempts allowed")

		runs = 0
		plain := errors.New("not retryable")
		err = db.WriteTx(context.Background(), func(*sql.Tx) error { runs++; return plain })
		assert.ErrorIs(t, err, plain)
		assert.Equal(t, 1, runs)
	})
}

func TestWriteTxStopsRetryingWhenContextEnds(t *testing.T) {
	db := storagetest.Postgres(t)
	ctx, cancel := context.WithCancel(context.Background())
	transient := &pgconn.PgError{Code: "40P01"}
	err := db.WriteTx(ctx, func(*sql.Tx) error { cancel(); return transient })
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, transient)
}
