// Package receipts is the repository of read receipts (m.read and
// m.read.private, unthreaded or per thread). It owns the receipts table of
// storage/migrations/0004_account_data_receipts.sql and runs on both engines
// through [storage.DB].
//
// A user has one receipt per room, receipt type and thread (the spec's
// "(user_id, receipt_type, thread_id) tuple"). Receipts only move forwards:
// [Store.Put] ignores a receipt for an event earlier in the room's stream
// than the one already stored. The table is one /sync stream: each change
// carries a position the caller (the sync API) allocates, and [Store.Since]
// returns the changes in a range of positions.
package receipts
