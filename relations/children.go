package relations

import (
	"context"

	relstore "github.com/concordchat/concord/storage/relations"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/syncapi"
)

// MaxRecursionDepth is how deep recurse=true follows relations: children,
// their children and theirs (the spec asks for at least 3 levels).
const MaxRecursionDepth = 3

// maxRecursionParents bounds the events whose children a recursive listing
// follows.
const maxRecursionParents = 1000

// ChildrenRequest is one GET /rooms/{roomId}/relations/{eventId} call.
type ChildrenRequest struct {
	UserID, RoomID, EventID string
	RelType                 string // "": any
	EventType               string // "": any (only with RelType)
	// From and To are stream positions from pagination tokens (nil: none).
	// A token lies after its position: backwards from p starts at p,
	// forwards from p starts after it.
	From, To  *int64
	Backwards bool
	Limit     int
	Recurse   bool
}

// ChildrenPage is one page of children.
type ChildrenPage struct {
	Chunk []syncapi.ClientEvent
	// Next is the position to continue from, or nil at the end.
	Next *int64
	// RecursionDepth is the depth followed when the request recursed.
	RecursionDepth int
}

// Children lists the children of an event the user may see, newest first
// (or oldest first forwards), with their bundled aggregations.
func (s *Service) Children(ctx context.Context, req ChildrenRequest) (ChildrenPage, error) {
	req.Limit = max(req.Limit, 1)
	v, err := s.viewer(ctx, req.UserID)
	if err != nil {
		return ChildrenPage{}, err
	}
	m, ok := v.rooms[req.RoomID]
	if !ok {
		return ChildrenPage{}, ErrNotFound
	}
	if _, err := s.visibleEvent(ctx, v, req.RoomID, req.EventID); err != nil {
		return ChildrenPage{}, err
	}
	q := relstore.ChildQuery{RoomNID: m.RoomNID, ParentIDs: []string{req.EventID}, Type: req.EventType,
		Backwards: req.Backwards}
	if req.RelType != "" {
		q.RelTypes = []string{req.RelType}
	}
	page := ChildrenPage{}
	if req.Recurse {
		page.RecursionDepth = MaxRecursionDepth
		if q.ParentIDs, err = s.descendants(ctx, q); err != nil {
			return ChildrenPage{}, err
		}
	}
	if req.Backwards {
		if req.From != nil {
			q.Before = *req.From + 1
		}
		if req.To != nil {
			q.After = *req.To
		}
	} else {
		if req.From != nil {
			q.After = *req.From
		}
		if req.To != nil {
			q.Before = *req.To + 1
		}
	}
	var out []rooms.StoredEvent
	for len(out) <= req.Limit {
		q.Limit = req.Limit + 1 - len(out)
		kids, err := s.deps.Store.Children(ctx, q)
		if err != nil {
			return ChildrenPage{}, err
		}
		if len(kids) == 0 {
			break
		}
		nids := make([]int64, len(kids))
		for i, c := range kids {
			nids[i] = c.EventNID
		}
		vis, err := s.visible(ctx, v, nids)
		if err != nil {
			return ChildrenPage{}, err
		}
		out = append(out, vis...)
		last := kids[len(kids)-1].StreamPos
		if req.Backwards {
			q.Before = last
		} else {
			q.After = last
		}
	}
	if len(out) > req.Limit {
		out = out[:req.Limit]
		next := out[len(out)-1].StreamPos
		if req.Backwards {
			next--
		}
		page.Next = &next
	}
	page.Chunk = make([]syncapi.ClientEvent, 0, len(out))
	for _, se := range out {
		page.Chunk = append(page.Chunk, syncapi.FormatEvent(se.Event, true, s.deps.Now()))
	}
	a := &annotation{s: s, user: req.UserID, v: v}
	return page, a.run(ctx, page.Chunk, true)
}

// descendants returns the event and the events relating to it, directly or
// through matching events, down to the depth whose children are listed.
func (s *Service) descendants(ctx context.Context, q relstore.ChildQuery) ([]string, error) {
	all := append([]string(nil), q.ParentIDs...)
	seen := map[string]bool{}
	for _, id := range all {
		seen[id] = true
	}
	level := q.ParentIDs
	for depth := 1; depth < MaxRecursionDepth && len(level) > 0 && len(all) < maxRecursionParents; depth++ {
		lq := q
		lq.ParentIDs, lq.Backwards, lq.Limit = level, false, maxRecursionParents
		kids, err := s.deps.Store.Children(ctx, lq)
		if err != nil {
			return nil, err
		}
		level = nil
		for _, c := range kids {
			if !seen[c.EventID] && len(all) < maxRecursionParents {
				seen[c.EventID] = true
				level = append(level, c.EventID)
				all = append(all, c.EventID)
			}
		}
	}
	return all, nil
}

// visibleEvent returns an accepted event of the room that the user may see,
// or ErrNotFound.
func (s *Service) visibleEvent(ctx context.Context, v *viewer, roomID, eventID string) (rooms.StoredEvent, error) {
	evs, err := s.deps.RoomStore.EventsByID(ctx, []string{eventID})
	if err != nil {
		return rooms.StoredEvent{}, err
	}
	if len(evs) == 0 || evs[0].Event.RoomID() != roomID || evs[0].Rejected || evs[0].Outlier {
		return rooms.StoredEvent{}, ErrNotFound
	}
	ok, err := v.vis.Visible(ctx, roomID, evs[0])
	if err != nil {
		return rooms.StoredEvent{}, err
	}
	if !ok {
		return rooms.StoredEvent{}, ErrNotFound
	}
	return evs[0], nil
}
