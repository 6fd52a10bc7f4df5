package syncapi

import "context"

// UnreadCounts are a room's notification counts for one user.
type UnreadCounts struct {
	// NotificationCount and HighlightCount cover the whole room, threads
	// included: unread_notifications for clients without thread support.
	NotificationCount int
	HighlightCount    int
	// Threads holds per-thread counts (thread root event ID → counts) for
	// clients that asked for unread_thread_notifications; only threads with
	// unread notifications appear. The main timeline's counts (their
	// unread_notifications) are the totals minus the threads'.
	Threads map[string]UnreadCounts
}

// UnreadCounter computes unread notification counts (push rule evaluation
// lives elsewhere; sync only reports the result).
type UnreadCounter interface {
	UnreadCounts(ctx context.Context, userID string, roomIDs []string) (map[string]UnreadCounts, error)
}

// EventAnnotator adds server-computed data to events before they are served,
// for example bundled aggregations in unsigned["m.relations"]. It is used by
// every endpoint that serves events, so they stay alike.
type EventAnnotator interface {
	Annotate(ctx context.Context, userID string, evs []ClientEvent) error
}
