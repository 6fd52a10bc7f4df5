package syncapi

import "errors"

// Errors of the stream writers, mapped to Matrix errors by the client API.
var (
	// ErrNotConfigured: the stream's store is not wired in.
	ErrNotConfigured = errors.New("syncapi: stream store not configured")
	// ErrAccountDataNotFound: the user has no account data of that type.
	ErrAccountDataNotFound = errors.New("syncapi: account data not found")
	// ErrUnknownEvent: a receipt or read marker names an event that is not
	// an accepted event of the room.
	ErrUnknownEvent = errors.New("syncapi: unknown event")
	// ErrBadThread: a receipt's thread_id does not fit the receipt type or
	// the event.
	ErrBadThread = errors.New("syncapi: bad thread_id")
	// ErrBadReceiptType: not m.read, m.read.private or m.fully_read.
	ErrBadReceiptType = errors.New("syncapi: unknown receipt type")
	// ErrPresenceDisabled: presence is turned off (config presence.enabled).
	ErrPresenceDisabled = errors.New("syncapi: presence is disabled")
	// ErrBadPresence: not online, unavailable or offline.
	ErrBadPresence = errors.New("syncapi: bad presence state")
	// ErrPresenceNotVisible: the viewer shares no room with the user.
	ErrPresenceNotVisible = errors.New("syncapi: presence not visible")
)
