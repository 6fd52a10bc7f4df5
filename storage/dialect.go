package storage

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Engine names returned by [Dialect.Name].
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

// Dialect covers the few real differences between the engines. Queries are
// otherwise written once, with $N placeholders.
type Dialect interface {
	// Name is EngineSQLite or EnginePostgres.
	Name() string
	// Rebind turns a query written with $1, $2 ... placeholders into the
	// engine's placeholder syntax.
	Rebind(query string) string
	// ArrayParams reports whether a Go slice can be bound as one array
	// parameter (PostgreSQL's = ANY($1)). See [InList].
	ArrayParams() bool
	// IsUniqueViolation reports whether err (or an error it wraps) is a
	// UNIQUE or PRIMARY KEY constraint violation.
	IsUniqueViolation(err error) bool
	// IsSerializationFailure reports whether err says the transaction lost a
	// race with another and may succeed if run again.
	IsSerializationFailure(err error) bool
	// IsBusy reports whether err says the database was locked by another
	// connection (SQLite's SQLITE_BUSY and SQLITE_LOCKED).
	IsBusy(err error) bool
	// migrationTypes maps the placeholders allowed in migration text to the
	// engine's column types.
	migrationTypes() map[string]string
}

var (
	_ Dialect = sqliteDialect{}
	_ Dialect = postgresDialect{}
)

// InList renders a condition that expr equals one of values, with
// placeholders numbered from first, and returns the arguments to append for
// it. On PostgreSQL it is "expr = ANY($first)" with the slice as one array
// argument; on SQLite "expr IN ($first, $first+1, ...)" with one argument per
// value. An empty list renders a condition that is always false.
//
//	cond, args := storage.InList(d, "device_id", 2, ids)
//	q := "DELETE FROM devices WHERE localpart = $1 AND " + cond
//	db.ExecContext(ctx, d.Rebind(q), append([]any{localpart}, args...)...)
func InList[T any](d Dialect, expr string, first int, values []T) (string, []any) {
	if len(values) == 0 {
		return "1 = 0", nil
	}
	if d.ArrayParams() {
		return fmt.Sprintf("%s = ANY($%d)", expr, first), []any{values}
	}
	var b strings.Builder
	args := make([]any, len(values))
	b.WriteString(expr + " IN (")
	for i, v := range values {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", first+i)
		args[i] = v
	}
	b.WriteString(")")
	return b.String(), args
}

type sqliteDialect struct{}

func (sqliteDialect) Name() string { return EngineSQLite }

// Rebind is the identity: modernc.org/sqlite binds $N as the N-th argument.
func (sqliteDialect) Rebind(query string) string { return query }

func (sqliteDialect) ArrayParams() bool { return false }

func (sqliteDialect) IsUniqueViolation(err error) bool {
	code, ok := sqliteCode(err)
	return ok && (code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// IsSerializationFailure: SQLite serializes writers, so the only lost race is
// a busy database.
func (d sqliteDialect) IsSerializationFailure(err error) bool { return d.IsBusy(err) }

func (sqliteDialect) IsBusy(err error) bool {
	code, ok := sqliteCode(err)
	if !ok {
		return false
	}
	primary := code & 0xff
	return primary == sqlite3.SQLITE_BUSY || primary == sqlite3.SQLITE_LOCKED
}

func (sqliteDialect) migrationTypes() map[string]string {
	return map[string]string{
		"BLOB":   "BLOB",
		"SERIAL": "INTEGER PRIMARY KEY AUTOINCREMENT",
	}
}

func sqliteCode(err error) (int, bool) {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return 0, false
	}
	return se.Code(), true
}

type postgresDialect struct{}

func (postgresDialect) Name() string { return EnginePostgres }

func (postgresDialect) Rebind(query string) string { return query }

func (postgresDialect) ArrayParams() bool { return true }

// PostgreSQL SQLSTATE codes.
const (
	pgUniqueViolation      = "23505"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
	pgLockNotAvailable     = "55P03"
)

func (postgresDialect) IsUniqueViolation(err error) bool {
	return pgCode(err) == pgUniqueViolation
}

func (postgresDialect) IsSerializationFailure(err error) bool {
	code := pgCode(err)
	return code == pgSerializationFailure || code == pgDeadlockDetected
}

func (postgresDialect) IsBusy(err error) bool {
	return pgCode(err) == pgLockNotAvailable
}

func (postgresDialect) migrationTypes() map[string]string {
	return map[string]string{
		"BLOB":   "BYTEA",
		"SERIAL": "BIGSERIAL PRIMARY KEY",
	}
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return ""
	}
	return pe.Code
}
