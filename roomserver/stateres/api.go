package stateres

import (
	"context"
	"errors"

	"github.com/concordchat/concord/roomserver/event"
)

// EventSource supplies the events state resolution reads. Resolve asks for
// events in batches (one call per level of the auth DAG it walks, or a single
// call when the source also implements AuthChainSource).
type EventSource interface {
	// Events returns the events with the given IDs (missing ones omitted, in
	// any order).
	Events(ctx context.Context, ids []string) ([]*event.Event, error)
}

// AuthChainSource is optionally implemented by an EventSource that keeps an
// auth chain index (for example a database table). When present, Resolve
// asks it for the auth chain of each state set instead of walking auth_events
// itself, and then loads all the events it needs in one Events call.
type AuthChainSource interface {
	// AuthChain returns the IDs of the union of the auth chains of the given
	// events: every event reachable from them through auth_events, excluding
	// the given events themselves unless one is reachable from another.
	AuthChain(ctx context.Context, ids []string) ([]string, error)
}

// RejectionSource is optionally implemented by an EventSource that knows
// which events were rejected. A rejected event is never used as a fallback
// auth event during the iterative auth checks. Without it no event is taken
// as rejected.
type RejectionSource interface {
	// IsRejected reports whether the event (one the source returned) was
	// rejected.
	IsRejected(id string) bool
}

var (
	// ErrMissingEvent is returned when an event named in a state set is not
	// supplied by the EventSource.
	ErrMissingEvent = errors.New("stateres: state event not found")
	// ErrBadStateSet is returned when a state set maps a key to an event of
	// another type or state key, or to an event of another room or version.
	ErrBadStateSet = errors.New("stateres: inconsistent state set")
	// ErrUnsupported is returned for a room version without a known
	// state resolution algorithm.
	ErrUnsupported = errors.New("stateres: unsupported state resolution algorithm")
)
