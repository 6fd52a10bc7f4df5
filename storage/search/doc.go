// Package search is the full-text index of room events behind POST /search,
// built on each engine's own full-text search: a GIN-indexed tsvector with
// the english configuration on PostgreSQL, an FTS5 table with the Porter
// stemmer on SQLite.
//
// The rows are derived from events and written only by the roomserver, with
// a [Writer] over the transaction that stores the events; redacted events
// lose theirs. Everyone else reads through [Store], which only matches and
// ranks: deciding which events a user may see is the caller's job.
package search
