// Package pushserver runs push rules on the server: it keeps users' rules
// (the server-default set of package pushrules plus each user's own rules and
// changes, stored by storage/push), evaluates every event the roomserver
// commits for the local members of its room, stores the events that notify,
// and answers unread notification counts for /sync and the list behind
// GET /notifications.
//
//   - [Rules] reads and changes a user's rules, with a cache of compiled
//     evaluators. Publishing the m.push_rules account data is the caller's
//     job (the client API does it through the sync API).
//   - [Worker] is a roomserver.Notifier: OnRoomEvents queues the committed
//     events without blocking; one goroutine (Start/Stop) evaluates them in
//     stream order against the room state before each event (joined member
//     count, display names, the sender's power level) and records the
//     notifications, the senders' own-read positions and the removal of
//     redacted events' notifications in one transaction per batch. When the
//     queue is full, the rooms and stream ranges left out are remembered and
//     read back from the room store, so no event goes unevaluated.
//   - [Inbox] implements syncapi.UnreadCounter and lists notifications. It
//     waits (boundedly) for the worker to evaluate what has been committed,
//     so an event and the count it causes arrive in the same /sync response,
//     as the push module requires.
//
// Read positions combine the user's read receipts (m.read and
// m.read.private; an unthreaded receipt covers every thread, a threaded one
// its thread, "main" the main timeline) with their own latest event per
// thread, which marks what came before it as read. Notifications from users
// the user ignores are left out when counting and listing.
package pushserver
