package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

//go:embed migrations/*.sql
var embeddedMigrations embed.FS

// migrationFiles returns the embedded migrations folder as the root of a
// file system.
func migrationFiles() (fs.FS, error) {
	sub, err := fs.Sub(embeddedMigrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("storage: embedded migrations: %w", err)
	}
	return sub, nil
}

// migrationLockKey is the PostgreSQL advisory lock taken while migrating.
const migrationLockKey int64 = 0x636f6e636f7264 // "concord"

// migration is one numbered migration file.
type migration struct {
	version int
	name    string // file name
	text    string // SQL with {{PLACEHOLDERS}} unexpanded
}

var migrationName = regexp.MustCompile(`^(\d{4,})_[a-z0-9_]+\.sql$`)

// loadMigrations reads and orders the migration files of fsys.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("storage: list migrations: %w", err)
	}
	var ms []migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("storage: migration file %q is not named NNNN_name.sql", e.Name())
		}
		version, err := strconv.Atoi(m[1])
		if err != nil || version < 1 {
			return nil, fmt.Errorf("storage: migration file %q has a bad version", e.Name())
		}
		if other, dup := seen[version]; dup {
			return nil, fmt.Errorf("storage: migrations %q and %q share version %d", other, e.Name(), version)
		}
		seen[version] = e.Name()
		text, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("storage: read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: version, name: e.Name(), text: string(text)})
	}
	if len(ms) == 0 {
		return nil, errors.New("storage: no migrations found")
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z_]*)\s*\}\}`)

// engineLine marks the start of a section of a migration's text that only
// one engine runs ("-- engine: postgres", "-- engine: sqlite"), or the
// return to text that both run ("-- engine: all").
var engineLine = regexp.MustCompile(`(?m)^--\s*engine:\s*(\S*)\s*$`)

// engineSections keeps the parts of text meant for the engine named name.
func engineSections(text, name string) (string, error) {
	marks := engineLine.FindAllStringSubmatchIndex(text, -1)
	if len(marks) == 0 {
		return text, nil
	}
	var b strings.Builder
	b.WriteString(text[:marks[0][0]])
	for i, m := range marks {
		end := len(text)
		if i+1 < len(marks) {
			end = marks[i+1][0]
		}
		switch engine := text[m[2]:m[3]]; engine {
		case "all", name:
			b.WriteString(text[m[1]:end])
		case EngineSQLite, EnginePostgres:
		default:
			return "", fmt.Errorf("unknown engine %q in an engine line", engine)
		}
	}
	return b.String(), nil
}

// renderMigration keeps the sections of a migration's text meant for the
// dialect's engine and substitutes its column types for the {{PLACEHOLDERS}}.
func renderMigration(text string, d Dialect) (string, error) {
	text, err := engineSections(text, d.Name())
	if err != nil {
		return "", err
	}
	types := d.migrationTypes()
	var unknown []string
	out := placeholder.ReplaceAllStringFunc(text, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		t, ok := types[name]
		if !ok {
			unknown = append(unknown, m)
			return m
		}
		return t
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("unknown placeholders %s", strings.Join(unknown, ", "))
	}
	if strings.Contains(out, "{{") || strings.Contains(out, "}}") {
		return "", errors.New("unbalanced placeholder braces")
	}
	return out, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version BIGINT PRIMARY KEY,
	name TEXT NOT NULL,
	applied_ts BIGINT NOT NULL
)`

// migrate applies every migration of fsys that the database lacks, in order,
// each in its own transaction with its schema_migrations row.
func migrate(ctx context.Context, db *DB, fsys fs.FS) error {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	lock := func(tx *sql.Tx) error {
		if db.dialect.Name() != EnginePostgres {
			return nil // SQLite: the IMMEDIATE transaction is the lock
		}
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockKey); err != nil {
			return fmt.Errorf("storage: lock for migrations: %w", err)
		}
		return nil
	}

	var newest int
	err = db.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := lock(tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
			return fmt.Errorf("storage: create schema_migrations: %w", err)
		}
		return tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&newest)
	})
	if err != nil {
		return fmt.Errorf("storage: read schema version: %w", err)
	}
	if last := ms[len(ms)-1].version; newest > last {
		return fmt.Errorf("storage: database schema version %d is newer than this binary's %d: upgrade Concord", newest, last)
	}

	for _, m := range ms {
		if err := applyMigration(ctx, db, m, lock); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *DB, m migration, lock func(*sql.Tx) error) error {
	text, err := renderMigration(m.text, db.dialect)
	if err != nil {
		return fmt.Errorf("storage: migration %s: %w", m.name, err)
	}
	applied := false
	err = db.WriteTx(ctx, func(tx *sql.Tx) error {
		applied = false
		if err := lock(tx); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = $1", m.version).Scan(&n); err != nil {
			return fmt.Errorf("check: %w", err)
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, text); err != nil {
			return fmt.Errorf("apply: %w", err)
		}
		if _, err := tx.ExecContext(ctx,
			"INSERT INTO schema_migrations (version, name, applied_ts) VALUES ($1, $2, $3)",
			m.version, m.name, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("record: %w", err)
		}
		applied = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: migration %s: %w", m.name, err)
	}
	if applied {
		db.logger.Info("applied migration", zap.Int("version", m.version), zap.String("name", m.name))
	}
	return nil
}
