// Package accountdata is the repository of users' account data: global
// (room ID "") and per-room JSON objects keyed by type, such as m.direct,
// m.ignored_user_list, m.push_rules, m.tag and m.fully_read. It owns the
// account_data table of storage/migrations/0004_account_data_receipts.sql and
// runs on both engines through [storage.DB].
//
// The table is one /sync stream: every write carries a stream position that
// the caller (the sync API) allocates, and [Store.Since] returns the rows
// changed in a range of positions. A write never replaces a row with a
// lower position, so concurrent writers cannot move the stream backwards.
// Contents are opaque JSON: checking their shape is the caller's job.
package accountdata
