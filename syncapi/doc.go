// Package syncapi serves /sync: the long-poll that delivers each accepted
// event exactly once to every user allowed to see it, with opaque next_batch
// tokens that carry a position in each stream (Token): room events, typing,
// receipts, account data and presence. The Notifier receives the
// roomserver's outputs after they commit and wakes only the syncing users
// they concern; the API's stream writers (SetTyping, PutReceipt,
// PutAccountData, SetPresence) wake the users of their own streams.
//
// Typing lives in memory with per-user timeouts. Receipts, account data and
// presence are stored (storage/receipts, storage/accountdata,
// storage/presence) at positions this package hands out; a position is
// published only once every write before it has finished, so a /sync never
// skips a late commit. Presence is tracked in memory (idle and offline
// timeouts, currently_active) and stored whenever what clients see changes.
//
// The package also owns history visibility, which /messages and /context
// share, and enforces m.ignored_user_list: an ignored user's non-state
// events, invites, typing, receipts and presence never reach the user who
// ignores them.
package syncapi
