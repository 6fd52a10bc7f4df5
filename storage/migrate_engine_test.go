package storage_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/storagetest"
)

// TestMigrationEngineSections: text after "-- engine: X" runs only on X,
// "-- engine: all" returns to common text, and unknown engines are refused.
func TestMigrationEngineSections(t *testing.T) {
	text := "CREATE TABLE a (x BIGINT);\n" +
		"-- engine: postgres\nCREATE INDEX pg ON a (x);\n" +
		"-- engine: sqlite\nCREATE INDEX lite ON a (x);\n" +
		"-- engine: all\nCREATE TABLE b (id {{SERIAL}});\n"
	sqlite := storagetest.SQLite(t).Dialect()
	out, err := storage.RenderMigration(text, sqlite)
	require.NoError(t, err)
	assert.Equal(t, "CREATE TABLE a (x BIGINT);\n\nCREATE INDEX lite ON a (x);\n\nCREATE TABLE b (id INTEGER PRIMARY KEY AUTOINCREMENT);\n", out)
	if pg := postgresDialect(t); pg != nil {
		out, err = storage.RenderMigration(text, pg)
		require.NoError(t, err)
		assert.Equal(t, "CREATE TABLE a (x BIGINT);\n\nCREATE INDEX pg ON a (x);\n\nCREATE TABLE b (id BIGSERIAL PRIMARY KEY);\n", out)
	}
	_, err = storage.RenderMigration("-- engine: oracle\nSELECT 1;", sqlite)
	assert.ErrorContains(t, err, "oracle")
}

// TestMigrationEngineSectionsApply runs a migration with engine sections on
// both engines: each gets its own index and neither sees the other's.
func TestMigrationEngineSectionsApply(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		fsys := withExtra(t, map[string]string{
			"9001_split.sql": "CREATE TABLE split (x BIGINT);\n" +
				"-- engine: postgres\nCREATE TABLE only_pg (x BIGINT);\n" +
				"-- engine: sqlite\nCREATE TABLE only_lite (x BIGINT);\n",
		})
		require.NoError(t, storage.MigrateFS(context.Background(), db, fsys))
		mine, other := "only_lite", "only_pg"
		if db.Dialect().Name() == storage.EnginePostgres {
			mine, other = other, mine
		}
		_, err := db.Read().Exec(`SELECT x FROM ` + mine)
		assert.NoError(t, err)
		_, err = db.Read().Exec(`SELECT x FROM ` + other)
		assert.Error(t, err)
	})
}
