package storage

import (
	"context"
	"io/fs"
)

// Hooks for the external tests in storage_test, which use storagetest (and so
// cannot live in this package without an import cycle).

// MigrateFS applies the migrations of fsys.
func MigrateFS(ctx context.Context, db *DB, fsys fs.FS) error { return migrate(ctx, db, fsys) }

// EmbeddedMigrations returns the embedded migrations folder.
func EmbeddedMigrations() (fs.FS, error) { return migrationFiles() }

// RenderMigration expands placeholders for d.
func RenderMigration(text string, d Dialect) (string, error) { return renderMigration(text, d) }

// SetRetry changes the retry policy of db.
func SetRetry(db *DB, attempts int) { db.retry.attempts = attempts }
