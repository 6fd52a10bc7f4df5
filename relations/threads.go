package relations

import (
	"context"

	"github.com/concordchat/concord/roomserver/event"
	relstore "github.com/concordchat/concord/storage/relations"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/syncapi"
)

// ThreadsRequest is one GET /rooms/{roomId}/threads call.
type ThreadsRequest struct {
	UserID, RoomID string
	// Participated keeps the threads whose root or a reply the user sent.
	Participated bool
	// From is a position from a previous page's Next (0: the newest).
	From  int64
	Limit int
}

// ThreadsPage is one page of thread roots.
type ThreadsPage struct {
	Chunk []syncapi.ClientEvent
	// Next continues the listing, or is 0 at the end.
	Next int64
}

// Threads lists the thread roots of a room the user may see, the thread
// with the latest reply first, each with its bundled aggregations. A root
// sent by an ignored user is served redacted (threads_list: as a client
// aggregating locally would see it).
func (s *Service) Threads(ctx context.Context, req ThreadsRequest) (ThreadsPage, error) {
	req.Limit = max(req.Limit, 1)
	v, err := s.viewer(ctx, req.UserID)
	if err != nil {
		return ThreadsPage{}, err
	}
	m, ok := v.rooms[req.RoomID]
	if !ok {
		return ThreadsPage{}, ErrNotMember
	}
	plain := syncapi.NewVisibility(s.deps.RoomStore, req.UserID, map[string]string{req.RoomID: m.Membership})
	q := relstore.ThreadQuery{RoomNID: m.RoomNID, Before: req.From, Limit: req.Limit + 1}
	if req.Participated {
		q.Participant = req.UserID
	}
	var roots []syncapi.ClientEvent
	var lastPos []int64
	for len(roots) <= req.Limit {
		threads, err := s.deps.Store.Threads(ctx, q)
		if err != nil {
			return ThreadsPage{}, err
		}
		if len(threads) == 0 {
			break
		}
		ids := make([]string, len(threads))
		for i, th := range threads {
			ids[i] = th.RootID
		}
		evs, err := s.deps.RoomStore.EventsByID(ctx, ids)
		if err != nil {
			return ThreadsPage{}, err
		}
		byID := make(map[string]rooms.StoredEvent, len(evs))
		for _, se := range evs {
			byID[se.Event.ID()] = se
		}
		for _, th := range threads {
			ce, ok, err := s.threadRoot(ctx, plain, v, req.RoomID, byID[th.RootID])
			if err != nil {
				return ThreadsPage{}, err
			}
			if ok {
				roots = append(roots, ce)
				lastPos = append(lastPos, th.LatestPos)
			}
		}
		q.Before = threads[len(threads)-1].LatestPos
	}
	page := ThreadsPage{Chunk: roots}
	if len(roots) > req.Limit {
		page.Chunk = roots[:req.Limit]
		page.Next = lastPos[req.Limit-1]
	}
	a := &annotation{s: s, user: req.UserID, v: v}
	return page, a.run(ctx, page.Chunk, true)
}

// threadRoot renders a thread root the user may see; one sent by an ignored
// user is redacted.
func (s *Service) threadRoot(ctx context.Context, plain *syncapi.Visibility, v *viewer, roomID string,
	se rooms.StoredEvent) (syncapi.ClientEvent, bool, error) {
	if se.Event == nil || se.Event.RoomID() != roomID || se.Rejected || se.Outlier {
		return syncapi.ClientEvent{}, false, nil
	}
	ok, err := plain.Visible(ctx, roomID, se)
	if err != nil || !ok {
		return syncapi.ClientEvent{}, false, err
	}
	e := se.Event
	if v.ignored[e.Sender()] && !e.Redacted() {
		raw, err := event.Redact(e.JSON(), e.Version())
		if err != nil {
			return syncapi.ClientEvent{}, false, err
		}
		if e, err = event.FromTrusted(raw, e.Version(), e.ID(), true); err != nil {
			return syncapi.ClientEvent{}, false, err
		}
	}
	return syncapi.FormatEvent(e, true, s.deps.Now()), true, nil
}
