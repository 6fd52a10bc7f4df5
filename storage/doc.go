// Package storage owns Concord's one database: opening it, migrating its one
// schema, and the thin [Dialect] layer that lets every query be written once
// for both SQLite and PostgreSQL. Repositories per domain live in
// subpackages (storage/accounts, ...) and take a [*DB].
//
// # Engines
//
// [Open] picks the engine from the URL: postgres:// or postgresql:// selects
// PostgreSQL through pgx's database/sql driver; anything else is the path of
// a SQLite file (modernc.org/sqlite, pure Go). SQLite runs in WAL mode with
// foreign keys on, synchronous=NORMAL and a busy timeout, and has exactly one
// writer connection ([DB.Write], transactions begin IMMEDIATE) next to a
// read-only pool ([DB.Read]). On PostgreSQL both are the same pool.
//
// # Writing queries
//
// Queries are written once with PostgreSQL's $1, $2 ... placeholders.
// modernc.org/sqlite binds $N by number, repeats and out-of-order uses
// included, so [Dialect.Rebind] is the identity for both engines today; call
// it anyway so a future engine can differ. Both engines accept
// INSERT ... ON CONFLICT (cols) DO UPDATE/NOTHING, RETURNING, BOOLEAN with
// TRUE/FALSE, BIGINT and TEXT, so upserts need no dialect help. The real
// differences the dialect covers are:
//
//   - lists of values: [InList] renders "col = ANY($n)" with one array
//     argument on PostgreSQL and "col IN ($n, $n+1, ...)" on SQLite;
//   - error classes: [Dialect.IsUniqueViolation], [Dialect.IsSerializationFailure]
//     and [Dialect.IsBusy];
//   - column types in migrations (below).
//
// Timestamps are stored as BIGINT milliseconds since the Unix epoch, as
// Matrix uses them; never as engine-specific time types.
//
// # Transactions
//
// [DB.WriteTx] runs a function in a write transaction and retries it when
// SQLite reports the database busy or PostgreSQL reports a serialization
// failure or deadlock. Inside the function use only the *sql.Tx it is given:
// on SQLite the one writer connection is held by the transaction.
//
// # Migrations
//
// Migrations are embedded files migrations/NNNN_name.sql, applied in order
// by [Open], each in its own transaction together with its row in the
// schema_migrations table (version, name, applied_ts). They are written once
// in the SQL both engines accept. Where a column type genuinely differs the
// migration text uses a placeholder that the dialect substitutes:
//
//	{{BLOB}}    BYTEA on PostgreSQL, BLOB on SQLite
//	{{SERIAL}}  BIGSERIAL PRIMARY KEY on PostgreSQL,
//	            INTEGER PRIMARY KEY AUTOINCREMENT on SQLite
//	            (a whole column definition: "id {{SERIAL}},")
//
// Any other {{NAME}} is an error. Where a statement has no common form (a
// full-text index: PostgreSQL tsvector with GIN, SQLite FTS5) a line
// "-- engine: postgres" or "-- engine: sqlite" starts text that only that
// engine runs, up to the next engine line; "-- engine: all" returns to text
// both run. A database whose schema is newer than the
// running binary is refused. On PostgreSQL each migration takes a
// transaction-scoped advisory lock, so several servers starting at once apply
// each migration exactly once. Never edit a released migration: add a new one.
package storage
