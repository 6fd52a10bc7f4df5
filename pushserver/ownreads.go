package pushserver

import "github.com/concordchat/concord/storage/push"

// Sending an event marks the sender's earlier notifications in that room and
// thread as read, which is a write. Most sends follow no notification for
// their sender, so the worker remembers, per (user, room, thread), that it
// already recorded an own read and nothing has been notified since: the next
// send there then needs no write. The memory starts empty, so after a
// restart the first send of each writes once.

type ownReadKey struct{ user, room, thread string }

// mayHaveUnread reports whether an own read must be recorded. Only the
// worker's goroutine calls it.
func (w *Worker) mayHaveUnread(user, room, thread string) bool {
	return !w.clean[ownReadKey{user, room, thread}]
}

// noteRecorded updates the memory after a batch was stored: notified keys may
// have unread notifications again, own-read keys are clean.
func (w *Worker) noteRecorded(ns []push.Notification, reads []push.OwnRead) {
	if w.clean == nil {
		w.clean = map[ownReadKey]bool{}
	}
	if len(w.clean) > maxCleanKeys {
		clear(w.clean)
	}
	for _, r := range reads {
		w.clean[ownReadKey{r.UserID, r.RoomID, r.ThreadID}] = true
	}
	for _, n := range ns {
		delete(w.clean, ownReadKey{n.UserID, n.RoomID, n.ThreadID})
		// An unthreaded or main-timeline read also covers the room as a whole.
		delete(w.clean, ownReadKey{n.UserID, n.RoomID, ""})
	}
}

// forgetClean drops the memory (after a failed write its state is unknown).
func (w *Worker) forgetClean() { clear(w.clean) }

// maxCleanKeys bounds the memory; past it, it starts again empty.
const maxCleanKeys = 100_000
