package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// openSQLite opens the SQLite file at path: one writer connection that
// begins transactions IMMEDIATE, and a read-only pool.
func openSQLite(ctx context.Context, path string, o options) (*DB, error) {
	switch {
	case path == "":
		return nil, errors.New("storage: empty SQLite path")
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		return nil, fmt.Errorf("storage: %q: give a plain SQLite file path", path)
	case strings.ContainsAny(path, "?#"):
		return nil, fmt.Errorf("storage: SQLite path %q must not contain '?' or '#'", path)
	case strings.Contains(path, "://"):
		return nil, fmt.Errorf("storage: unsupported database URL scheme in %q", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("storage: create directory for %s: %w", path, err)
	}

	// busy_timeout comes first: switching to WAL needs a lock.
	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)", o.busyTimeout)
	write, err := sql.Open("sqlite", path+"?"+common+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("storage: open SQLite %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	var mode string
	if err := write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("storage: open SQLite %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		_ = write.Close()
		return nil, fmt.Errorf("storage: SQLite %s: journal mode is %q, want wal", path, mode)
	}

	// The writer has switched the file to WAL, so readers open it in WAL.
	read, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("storage: open SQLite read pool %s: %w", path, err)
	}
	read.SetMaxOpenConns(o.readConns)
	read.SetMaxIdleConns(o.readConns)
	if err := read.PingContext(ctx); err != nil {
		_ = read.Close()
		_ = write.Close()
		return nil, fmt.Errorf("storage: open SQLite read pool %s: %w", path, err)
	}
	return &DB{write: write, read: read, dialect: sqliteDialect{}}, nil
}

// openPostgres opens a pgx pool used for both reads and writes.
func openPostgres(ctx context.Context, url string, o options) (*DB, error) {
	pool, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("storage: open PostgreSQL %s: %w", redact(url), err)
	}
	pool.SetMaxOpenConns(o.maxOpenConns)
	pool.SetMaxIdleConns(o.maxOpenConns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	if err := pool.PingContext(ctx); err != nil {
		_ = pool.Close()
		return nil, fmt.Errorf("storage: connect to PostgreSQL %s: %w", redact(url), err)
	}
	return &DB{write: pool, read: pool, dialect: postgresDialect{}}, nil
}

// redact hides the password of a URL for error messages and logs.
func redact(url string) string {
	u, err := neturl.Parse(url)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
