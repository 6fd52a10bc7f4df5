// Package push is the repository of push rules and notifications. It owns
// the tables of storage/migrations/0008_push.sql and runs on both engines
// through [storage.DB].
//
//   - push_rules: the rules users define, ordered per kind by position
//     (lower is more important); conditions and actions are stored as the
//     JSON the client sent (after validation by the caller).
//   - push_rule_defaults: a user's changes (enabled, actions) to the
//     server-default rules, which are not stored.
//   - push_notifications: one row per (user, event) that notified the user,
//     with the matched rule's actions, the event's room, thread and stream
//     position, and whether it highlights. Unread counts are the rows after
//     the user's read position in each thread.
//   - push_own_reads: the stream position of the user's latest own event per
//     room and thread: sending an event marks what came before it as read.
//
// The store knows nothing of rule semantics (see package pushrules) and
// nothing of receipts: callers pass read positions in.
package push
