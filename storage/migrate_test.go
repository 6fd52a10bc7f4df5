package storage_test

import (
	"context"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/storagetest"
)

// withExtra returns the embedded migrations plus extra files.
func withExtra(t *testing.T, extra map[string]string) fstest.MapFS {
	t.Helper()
	embedded, err := storage.EmbeddedMigrations()
	require.NoError(t, err)
	out := fstest.MapFS{}
	require.NoError(t, fs.WalkDir(embedded, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(embedded, path)
		out[path] = &fstest.MapFile{Data: data}
		return err
	}))
	for name, text := range extra {
		out[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return out
}

// embeddedRows lists the rows schema_migrations holds after Open: one per
// embedded migration (other components add theirs beside accounts).
func embeddedRows(t *testing.T) []migrationRow {
	t.Helper()
	embedded, err := storage.EmbeddedMigrations()
	require.NoError(t, err)
	entries, err := fs.ReadDir(embedded, ".")
	require.NoError(t, err)
	var out []migrationRow
	for _, e := range entries {
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		require.NoError(t, err)
		out = append(out, migrationRow{Version: v, Name: e.Name()})
	}
	require.NotEmpty(t, out)
	require.Less(t, out[len(out)-1].Version, 9000, "tests use versions from 9000")
	return out
}

type migrationRow struct {
	Version int
	Name    string
}

func migrationRows(t *testing.T, db *storage.DB) []migrationRow {
	t.Helper()
	rows, err := db.Read().Query(`SELECT version, name, applied_ts FROM schema_migrations ORDER BY version`)
	require.NoError(t, err)
	defer func() { _ = rows.Close() }()
	var out []migrationRow
	for rows.Next() {
		var r migrationRow
		var ts int64
		require.NoError(t, rows.Scan(&r.Version, &r.Name, &ts))
		assert.Positive(t, ts)
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestMigrations(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		base := embeddedRows(t)
		assert.Equal(t, base, migrationRows(t, db))
		assert.Equal(t, migrationRow{1, "0001_accounts.sql"}, base[0])

		widgets := withExtra(t, map[string]string{
			"9001_widgets.sql": `CREATE TABLE widgets (id {{SERIAL}}, data {{ BLOB }} NOT NULL);
				CREATE INDEX widgets_data ON widgets (data);`,
		})
		require.NoError(t, storage.MigrateFS(ctx, db, widgets))
		require.NoError(t, storage.MigrateFS(ctx, db, widgets), "applying again is a no-op")
		assert.Equal(t, append(base, migrationRow{9001, "9001_widgets.sql"}), migrationRows(t, db))

		// {{SERIAL}} numbers rows; {{BLOB}} holds bytes.
		for _, data := range [][]byte{{0, 1, 2}, {255}} {
			_, err := db.Write().Exec(db.Dialect().Rebind(`INSERT INTO widgets (data) VALUES ($1)`), data)
			require.NoError(t, err)
		}
		var id int64
		var data []byte
		require.NoError(t, db.Read().QueryRow(`SELECT id, data FROM widgets ORDER BY id DESC LIMIT 1`).Scan(&id, &data))
		assert.Equal(t, int64(2), id)
		assert.Equal(t, []byte{255}, data)

		// A binary that knows fewer migrations than the database refuses it.
		embedded, err := storage.EmbeddedMigrations()
		require.NoError(t, err)
		err = storage.MigrateFS(ctx, db, embedded)
		assert.ErrorContains(t, err, "newer than this binary")

		// A failing migration leaves nothing behind: DDL is transactional.
		bad := withExtra(t, map[string]string{
			"9001_widgets.sql": "-- applied already",
			"9002_bad.sql":     "CREATE TABLE half (x BIGINT); SELECT * FROM no_such_table;",
		})
		err = storage.MigrateFS(ctx, db, bad)
		assert.ErrorContains(t, err, "9002_bad.sql")
		assert.Len(t, migrationRows(t, db), len(base)+1)
		_, err = db.Read().Exec(`SELECT * FROM half`)
		assert.Error(t, err, "table of the failed migration was rolled back")
	})
}

func TestMigrationsConcurrentStart(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		fsys := withExtra(t, map[string]string{
			"9001_a.sql": "CREATE TABLE a (x BIGINT);",
			"9002_b.sql": "CREATE TABLE b (x BIGINT);",
		})
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() { errs[i] = storage.MigrateFS(context.Background(), db, fsys) })
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		assert.Len(t, migrationRows(t, db), len(embeddedRows(t))+2, "each migration applied once")
	})
}

func TestMigrationFileErrors(t *testing.T) {
	db := storagetest.SQLite(t)
	ctx := context.Background()
	for name, files := range map[string]map[string]string{
		"bad name":            {"9001-widgets.sql": "SELECT 1;"},
		"duplicate version":   {"9001_a.sql": "SELECT 1;", "9001_b.sql": "SELECT 1;"},
		"unknown placeholder": {"9001_a.sql": "CREATE TABLE a (x {{JSONB}});"},
		"unbalanced braces":   {"9001_a.sql": "CREATE TABLE a (x {{BLOB);"},
	} {
		err := storage.MigrateFS(ctx, db, withExtra(t, files))
		assert.Error(t, err, name)
	}
	assert.Error(t, storage.MigrateFS(ctx, db, fstest.MapFS{}), "no migrations at all")
	assert.Equal(t, embeddedRows(t), migrationRows(t, db), "nothing applied")
}

func TestRenderMigration(t *testing.T) {
	sqlite := storagetest.SQLite(t).Dialect()
	out, err := storage.RenderMigration("id {{SERIAL}}, h {{BLOB}}", sqlite)
	require.NoError(t, err)
	assert.Equal(t, "id INTEGER PRIMARY KEY AUTOINCREMENT, h BLOB", out)

	if pg := postgresDialect(t); pg != nil {
		out, err = storage.RenderMigration("id {{SERIAL}}, h {{BLOB}}", pg)
		require.NoError(t, err)
		assert.Equal(t, "id BIGSERIAL PRIMARY KEY, h BYTEA", out)
	}

	// Every embedded migration renders on both engines.
	embedded, err := storage.EmbeddedMigrations()
	require.NoError(t, err)
	entries, err := fs.ReadDir(embedded, ".")
	require.NoError(t, err)
	for _, e := range entries {
		text, err := fs.ReadFile(embedded, e.Name())
		require.NoError(t, err)
		out, err := storage.RenderMigration(string(text), sqlite)
		require.NoError(t, err, e.Name())
		assert.NotContains(t, out, "{{", e.Name())
	}
}

func postgresDialect(t *testing.T) storage.Dialect {
	var d storage.Dialect
	t.Run("postgres", func(t *testing.T) { d = storagetest.Postgres(t).Dialect() })
	if d == nil || !strings.EqualFold(d.Name(), storage.EnginePostgres) {
		return nil
	}
	return d
}
