// Package presence is the repository of local users' presence: state
// (online, unavailable, offline), status message, last active time and
// currently_active. It owns the presence table of
// storage/migrations/0005_presence.sql and runs on both engines through
// [storage.DB].
//
// The live state is kept in memory by the sync API's presence tracker; a row
// is written whenever what clients see changes, with a presence stream
// position the tracker allocates. [Store.Since] returns the rows changed in a
// range of positions; a write never replaces a row with a higher position.
package presence
