package pushserver

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage/push"
)

// Limits of GET /notifications.
const (
	DefaultListLimit = 50
	MaxListLimit     = 1000
)

// ListRequest is one page of a user's notifications.
type ListRequest struct {
	UserID string
	// From is the NextToken of the previous page ("" for the newest).
	From string
	// Limit is the page size; 0 means DefaultListLimit.
	Limit         int
	OnlyHighlight bool
}

// Notification is an event that notified the user.
type Notification struct {
	Actions json.RawMessage
	Event   *event.Event
	// Read reports whether the user has read the event (a receipt at or
	// after it, or an own event after it in its thread).
	Read   bool
	RoomID string
	TS     int64
}

// Page is a page of notifications, newest first.
type Page struct {
	Notifications []Notification
	// NextToken continues the list; "" when there is no more.
	NextToken string
}

// List returns a page of the user's notifications, newest first, leaving
// out those from users they ignore.
func (in *Inbox) List(ctx context.Context, req ListRequest) (Page, error) {
	var before int64
	if req.From != "" {
		n, err := strconv.ParseInt(req.From, 10, 64)
		if err != nil || n <= 0 || strconv.FormatInt(n, 10) != req.From {
			return Page{}, ErrBadToken
		}
		before = n
	}
	limit := req.Limit
	if limit <= 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	in.catchUp(ctx)
	ignored, err := in.ignored(ctx, req.UserID)
	if err != nil {
		return Page{}, err
	}
	rows, err := in.deps.Store.List(ctx, push.ListRequest{UserID: req.UserID, Before: before, Limit: limit + 1,
		OnlyHighlight: req.OnlyHighlight, Ignored: ignored})
	if err != nil {
		return Page{}, err
	}
	var page Page
	if len(rows) > limit {
		rows = rows[:limit]
		page.NextToken = strconv.FormatInt(rows[limit-1].StreamPos, 10)
	}
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.EventID)
	}
	stored, err := in.deps.RoomStore.EventsByID(ctx, ids)
	if err != nil {
		return Page{}, err
	}
	events := make(map[string]*event.Event, len(stored))
	for _, se := range stored {
		events[se.Event.ID()] = se.Event
	}
	reads := map[string]func(thread string) int64{}
	page.Notifications = make([]Notification, 0, len(rows))
	for _, r := range rows {
		e := events[r.EventID]
		if e == nil {
			continue
		}
		readUpTo, ok := reads[r.RoomID]
		if !ok {
			if readUpTo, err = in.readUpTo(ctx, req.UserID, r.RoomID); err != nil {
				return Page{}, err
			}
			reads[r.RoomID] = readUpTo
		}
		page.Notifications = append(page.Notifications, Notification{Actions: r.Actions, Event: e,
			Read: r.StreamPos <= readUpTo(r.ThreadID), RoomID: r.RoomID, TS: r.TS})
	}
	return page, nil
}

// readUpTo returns, for the user in a room, the read position of each thread:
// receipts and the user's own latest events.
func (in *Inbox) readUpTo(ctx context.Context, userID, roomID string) (func(thread string) int64, error) {
	read, err := in.readPositions(ctx, userID, roomID)
	if err != nil {
		return nil, err
	}
	own, err := in.deps.Store.OwnReads(ctx, userID, roomID)
	if err != nil {
		return nil, err
	}
	return func(thread string) int64 { return max(read.Of(thread), own[thread]) }, nil
}
