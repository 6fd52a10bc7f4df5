package pushserver

import (
	"context"
	"errors"
	"time"

	"github.com/concordchat/concord/storage/push"
	"github.com/concordchat/concord/storage/receipts"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/syncapi"
)

// ReceiptReader reads a user's read receipts in a room (the receipts
// repository of the sync API).
type ReceiptReader interface {
	OfUser(ctx context.Context, roomID, userID string) ([]receipts.Receipt, error)
}

// IgnoreLists says whom a user ignores (m.ignored_user_list).
type IgnoreLists interface {
	IgnoredUsers(ctx context.Context, userID string) (map[string]bool, error)
}

// InboxDeps are what [NewInbox] needs.
type InboxDeps struct {
	Store *push.Store
	// RoomStore is read-only access to the notified events.
	RoomStore *rooms.Store
	// Receipts and Ignored are optional: without them no receipt counts and
	// nobody is ignored.
	Receipts ReceiptReader
	Ignored  IgnoreLists
	// Worker, optional, is waited for: counts include every event committed
	// before they are asked for.
	Worker *Worker
	// Position returns the highest committed room stream position (the
	// roomserver's); without it, the worker's last known position is used.
	Position func() int64
	// MaxWait bounds the wait for the worker; 0 means a default.
	MaxWait time.Duration
}

// Inbox answers unread counts and lists notifications.
type Inbox struct {
	deps InboxDeps
}

var _ syncapi.UnreadCounter = (*Inbox)(nil)

// DefaultMaxWait is how long counts wait at most for the worker.
const DefaultMaxWait = 3 * time.Second

// NewInbox makes the inbox.
func NewInbox(deps InboxDeps) (*Inbox, error) {
	if deps.Store == nil || deps.RoomStore == nil {
		return nil, errors.New("pushserver: InboxDeps needs Store and RoomStore")
	}
	if deps.MaxWait <= 0 {
		deps.MaxWait = DefaultMaxWait
	}
	return &Inbox{deps: deps}, nil
}

// catchUp waits for the worker to evaluate what has been committed.
func (in *Inbox) catchUp(ctx context.Context) {
	w := in.deps.Worker
	if w == nil {
		return
	}
	var target int64
	if in.deps.Position != nil {
		target = in.deps.Position()
	} else {
		w.mu.Lock()
		target = w.received
		w.mu.Unlock()
	}
	w.WaitFor(ctx, target, in.deps.MaxWait)
}

// UnreadCounts implements syncapi.UnreadCounter. NotificationCount and
// HighlightCount cover the whole room, threads included; Threads holds the
// counts of each thread (by root event ID) that has unread notifications,
// so the main timeline's share is the totals minus the threads'.
func (in *Inbox) UnreadCounts(ctx context.Context, userID string, roomIDs []string) (map[string]syncapi.UnreadCounts, error) {
	in.catchUp(ctx)
	ignored, err := in.ignored(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]syncapi.UnreadCounts, len(roomIDs))
	for _, roomID := range roomIDs {
		read, err := in.readPositions(ctx, userID, roomID)
		if err != nil {
			return nil, err
		}
		counts, err := in.deps.Store.UnreadCounts(ctx, userID, roomID, read, ignored)
		if err != nil {
			return nil, err
		}
		var uc syncapi.UnreadCounts
		for thread, c := range counts {
			uc.NotificationCount += c.Notifications
			uc.HighlightCount += c.Highlights
			if thread == push.ThreadMain {
				continue
			}
			if uc.Threads == nil {
				uc.Threads = map[string]syncapi.UnreadCounts{}
			}
			uc.Threads[thread] = syncapi.UnreadCounts{NotificationCount: c.Notifications, HighlightCount: c.Highlights}
		}
		out[roomID] = uc
	}
	return out, nil
}

// readPositions are the user's read receipts in the room (m.read and
// m.read.private; the further one counts).
func (in *Inbox) readPositions(ctx context.Context, userID, roomID string) (push.ReadPositions, error) {
	read := push.ReadPositions{Threads: map[string]int64{}}
	if in.deps.Receipts == nil {
		return read, nil
	}
	rs, err := in.deps.Receipts.OfUser(ctx, roomID, userID)
	if err != nil {
		return read, err
	}
	for _, r := range rs {
		if r.Type != receipts.TypeRead && r.Type != receipts.TypeReadPrivate {
			continue
		}
		if r.ThreadID == "" {
			read.Unthreaded = max(read.Unthreaded, r.EventStreamPos)
		} else {
			read.Threads[r.ThreadID] = max(read.Threads[r.ThreadID], r.EventStreamPos)
		}
	}
	return read, nil
}

// ignored lists the users userID ignores.
func (in *Inbox) ignored(ctx context.Context, userID string) ([]string, error) {
	if in.deps.Ignored == nil {
		return nil, nil
	}
	set, err := in.deps.Ignored.IgnoredUsers(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(set))
	for u, on := range set {
		if on {
			out = append(out, u)
		}
	}
	return out, nil
}
