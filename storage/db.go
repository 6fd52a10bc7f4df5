package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"go.uber.org/zap"
)

// DB is the server's database: a write handle, a read handle and the dialect
// of the engine behind them.
type DB struct {
	write   *sql.DB
	read    *sql.DB
	dialect Dialect
	logger  *zap.Logger
	retry   retryPolicy
}

// Option changes how [Open] sets up the database.
type Option func(*options)

type options struct {
	maxOpenConns int
	readConns    int
	busyTimeout  int // milliseconds
}

// WithMaxOpenConns caps the PostgreSQL pool (config database.max_open_conns).
// SQLite ignores it: it always has one writer connection.
func WithMaxOpenConns(n int) Option {
	return func(o *options) { o.maxOpenConns = n }
}

// WithSQLiteReadConns sets the size of SQLite's read-only pool.
func WithSQLiteReadConns(n int) Option {
	return func(o *options) { o.readConns = n }
}

// IsPostgresURL reports whether url selects PostgreSQL rather than a SQLite
// file.
func IsPostgresURL(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// Open connects to the database at url, a postgres:// or postgresql:// URL or
// the path of a SQLite file (created with its directory when missing), and
// applies every pending migration. Close the DB when done.
func Open(ctx context.Context, url string, logger *zap.Logger, opts ...Option) (*DB, error) {
	if logger == nil {
		logger = zap.NewNop()
	}
	logger = logger.Named("storage")
	o := options{maxOpenConns: 20, readConns: 4, busyTimeout: 5000}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxOpenConns < 1 || o.readConns < 1 {
		return nil, errors.New("storage: connection counts must be at least 1")
	}

	var (
		db  *DB
		err error
	)
	if IsPostgresURL(url) {
		db, err = openPostgres(ctx, url, o)
	} else {
		db, err = openSQLite(ctx, url, o)
	}
	if err != nil {
		return nil, err
	}
	db.logger = logger
	db.retry = defaultRetry

	fsys, err := migrationFiles()
	if err == nil {
		err = migrate(ctx, db, fsys)
	}
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// Write returns the handle for statements that change data. On SQLite it is
// the one writer connection: prefer [DB.WriteTx], and never hold a row set
// from it open while writing.
func (db *DB) Write() *sql.DB { return db.write }

// Read returns the handle for queries. On SQLite it is a read-only pool that
// sees every committed write; on PostgreSQL it is the same pool as Write.
func (db *DB) Read() *sql.DB { return db.read }

// Dialect returns the engine's dialect.
func (db *DB) Dialect() Dialect { return db.dialect }

// Logger returns the storage logger, for repositories to name children of.
func (db *DB) Logger() *zap.Logger { return db.logger }

// Close closes both handles.
func (db *DB) Close() error {
	var errs []error
	if db.read != db.write {
		if err := db.read.Close(); err != nil {
			errs = append(errs, fmt.Errorf("storage: close read pool: %w", err))
		}
	}
	if err := db.write.Close(); err != nil {
		errs = append(errs, fmt.Errorf("storage: close write pool: %w", err))
	}
	return errors.Join(errs...)
}
