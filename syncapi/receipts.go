package syncapi

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/storage/receipts"
	"github.com/concordchat/concord/storage/rooms"
)

// ReceiptRequest is a receipt a user sends (POST
// /rooms/{roomId}/receipt/{receiptType}/{eventId}, or a field of
// /read_markers). The caller has checked that the user is joined to the room.
type ReceiptRequest struct {
	RoomID  string
	UserID  string
	Type    string // m.read, m.read.private or m.fully_read
	EventID string
	// ThreadID is "" (unthreaded), "main" or a thread root's event ID.
	ThreadID string
}

// PutReceipt stores a receipt and wakes whoever may see it: the room's
// joined members for m.read, the user alone for m.read.private. A receipt
// for an event before the user's current one (same type and thread) is
// accepted and ignored, as is m.fully_read before the current read marker.
func (a *API) PutReceipt(ctx context.Context, r ReceiptRequest) error {
	switch r.Type {
	case ReceiptFullyRead:
		if r.ThreadID != "" {
			return ErrBadThread
		}
		return a.SetFullyRead(ctx, r.UserID, r.RoomID, r.EventID)
	case ReceiptRead, ReceiptReadPrivate:
	default:
		return ErrBadReceiptType
	}
	if r.ThreadID != "" && r.ThreadID != ThreadMain && !strings.HasPrefix(r.ThreadID, "$") {
		return ErrBadThread
	}
	if a.deps.Receipts == nil {
		return ErrNotConfigured
	}
	se, err := a.roomEvent(ctx, r.RoomID, r.EventID)
	if err != nil {
		return err
	}
	if !threadFits(se, r.ThreadID) {
		return ErrBadThread
	}
	if err := a.init(ctx); err != nil {
		return err
	}
	pos := a.receipt.allocate()
	changed, err := a.deps.Receipts.Put(ctx, receipts.Receipt{RoomID: r.RoomID, UserID: r.UserID, Type: r.Type,
		ThreadID: r.ThreadID, EventID: r.EventID, EventStreamPos: se.StreamPos, TS: a.deps.Now().UnixMilli()}, pos)
	if err != nil || !changed {
		a.receipt.done(pos, nil)
		return err
	}
	a.receipt.done(pos, func() {
		if r.Type == ReceiptReadPrivate {
			a.deps.Notifier.wakeUser(r.UserID)
		} else {
			a.deps.Notifier.wakeJoined(r.RoomID)
		}
	})
	return nil
}

// threadFits checks a receipt's thread against the event: an event in a
// thread (an m.thread relation) takes only its thread's receipts, and a
// plain main-timeline event takes no other thread's receipt than its own
// (as a thread root). Events with other relations (reactions, edits) may
// sit in either, as the spec follows relations up to the thread.
func threadFits(se rooms.StoredEvent, thread string) bool {
	if thread == "" {
		return true
	}
	rel := gjson.GetBytes(se.Event.Content(), `m\.relates_to`)
	if rel.Get("rel_type").Str == "m.thread" {
		return thread == rel.Get("event_id").Str
	}
	if thread == ThreadMain || thread == se.Event.ID() {
		return true
	}
	return rel.Get("rel_type").Exists()
}

// roomEvent returns an accepted event of the room with a stream position,
// or ErrUnknownEvent.
func (a *API) roomEvent(ctx context.Context, roomID, eventID string) (rooms.StoredEvent, error) {
	evs, err := a.deps.Store.EventsByID(ctx, []string{eventID})
	if err != nil {
		return rooms.StoredEvent{}, err
	}
	if len(evs) == 0 || evs[0].Event.RoomID() != roomID || evs[0].Rejected || evs[0].Outlier || evs[0].StreamPos == 0 {
		return rooms.StoredEvent{}, ErrUnknownEvent
	}
	return evs[0], nil
}

// SetFullyRead moves the user's read marker (m.fully_read room account
// data) to eventID, unless it already is at that event or a later one.
func (a *API) SetFullyRead(ctx context.Context, userID, roomID, eventID string) error {
	se, err := a.roomEvent(ctx, roomID, eventID)
	if err != nil {
		return err
	}
	a.rmwMu.Lock()
	defer a.rmwMu.Unlock()
	cur, err := a.AccountData(ctx, userID, roomID, TypeFullyRead)
	if err != nil && !errors.Is(err, ErrAccountDataNotFound) {
		return err
	}
	if prev := gjson.GetBytes(cur, "event_id").Str; prev != "" {
		if old, err := a.roomEvent(ctx, roomID, prev); err == nil && old.StreamPos >= se.StreamPos {
			return nil
		}
	}
	content, err := json.Marshal(map[string]string{"event_id": eventID})
	if err != nil {
		return err
	}
	return a.PutAccountData(ctx, userID, roomID, TypeFullyRead, content)
}

// ReadUpTo returns the room stream position of the event of the user's
// latest m.read or m.read.private receipt on the main timeline (unthreaded
// or thread "main"), 0 when there is none: unread counts start after it.
func (a *API) ReadUpTo(ctx context.Context, userID, roomID string) (int64, error) {
	if a.deps.Receipts == nil {
		return 0, nil
	}
	return a.deps.Receipts.ReadUpTo(ctx, userID, roomID)
}

// ThreadsReadUpTo is ReadUpTo per thread: thread root event ID → stream
// position of the event of the user's latest receipt in that thread.
func (a *API) ThreadsReadUpTo(ctx context.Context, userID, roomID string) (map[string]int64, error) {
	if a.deps.Receipts == nil {
		return map[string]int64{}, nil
	}
	return a.deps.Receipts.ThreadsReadUpTo(ctx, userID, roomID)
}
