// Package filters is the repository of sync filters that local users upload
// with POST /_matrix/client/v3/user/{userId}/filter. It owns the table of
// storage/migrations/0003_filters.sql and runs on both engines through
// [storage.DB].
//
// The store keeps filters as opaque JSON: checking their shape is the HTTP
// edge's job, and callers pass canonical JSON so that a user's identical
// filters are stored once ([Store.Put] returns the existing ID). Filter IDs
// are decimal strings, unique across the server, and only readable by the
// user who uploaded the filter.
package filters
