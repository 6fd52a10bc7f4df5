package syncapi

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage/rooms"
)

// Deps are the sync API's collaborators.
type Deps struct {
	Store    *rooms.Store
	Notifier *Notifier
	// Position returns the highest committed room stream position.
	Position func() int64
	Logger   *zap.Logger
	Now      func() time.Time
	// Unread and Annotator are optional (nil: no counts, no annotations).
	Unread    UnreadCounter
	Annotator EventAnnotator
}

// API computes sync responses.
type API struct {
	deps Deps
}

// New makes the sync API.
func New(deps Deps) *API {
	if deps.Logger == nil {
		deps.Logger = zap.NewNop()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &API{deps: deps}
}

// Request is one /sync call.
type Request struct {
	UserID    string
	DeviceID  string
	Since     string
	Timeout   time.Duration
	FullState bool
	Filter    Filter
}

// maxIncrementalEvents bounds how many events one incremental sync reads;
// rooms past it come back limited on the next sync.
const maxIncrementalEvents = 5000

// Sync returns what the user has not yet seen since req.Since, waiting up to
// req.Timeout for something to arrive when there is nothing yet.
func (a *API) Sync(ctx context.Context, req Request) (*Response, error) {
	initial := req.Since == ""
	var since Token
	if !initial {
		var err error
		if since, err = ParseToken(req.Since); err != nil {
			return nil, err
		}
	}
	deadline := a.deps.Now().Add(req.Timeout)
	for {
		ms, err := a.deps.Store.MembershipsOf(ctx, req.UserID)
		if err != nil {
			return nil, err
		}
		roomIDs := make([]string, len(ms))
		for i, m := range ms {
			roomIDs[i] = m.RoomID
		}
		wake := a.deps.Notifier.listen(req.UserID, roomIDs)
		pos := a.deps.Position()
		from := min(since.Room, pos)
		resp, err := a.build(ctx, req, initial, from, pos, ms)
		if err != nil {
			return nil, err
		}
		resp.NextBatch = Token{Room: pos}.String()
		remaining := deadline.Sub(a.deps.Now())
		if initial || req.FullState || !resp.empty() || remaining <= 0 {
			return resp, nil
		}
		wait(ctx, wake, remaining)
		if ctx.Err() != nil {
			return resp, nil
		}
	}
}

func (a *API) build(ctx context.Context, req Request, initial bool, since, pos int64, ms []rooms.Membership) (*Response, error) {
	resp := newResponse()
	current := make(map[string]string, len(ms))
	for _, m := range ms {
		current[m.RoomID] = m.Membership
	}
	b := &builder{a: a, req: req, vis: NewVisibility(a.deps.Store, req.UserID, current), pos: pos, now: a.deps.Now()}
	if initial || req.FullState {
		for _, m := range ms {
			if !req.Filter.Room.RoomAllowed(m.RoomID) {
				continue
			}
			if err := b.fullRoom(ctx, resp, m, initial); err != nil {
				return nil, err
			}
		}
		return resp, nil
	}
	nids := make([]int64, 0, len(ms))
	for _, m := range ms {
		nids = append(nids, m.RoomNID)
	}
	evs, err := a.deps.Store.StreamEvents(ctx, nids, since, pos, maxIncrementalEvents)
	if err != nil {
		return nil, err
	}
	byRoom := map[int64][]rooms.StoredEvent{}
	for _, se := range evs {
		byRoom[se.RoomNID] = append(byRoom[se.RoomNID], se)
	}
	for _, m := range ms {
		if len(byRoom[m.RoomNID]) == 0 || !req.Filter.Room.RoomAllowed(m.RoomID) {
			continue
		}
		if err := b.incrementalRoom(ctx, resp, m, since, byRoom[m.RoomNID]); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// builder holds what one sync computation shares across rooms.
type builder struct {
	a   *API
	req Request
	vis *Visibility
	pos int64
	now time.Time
}

// fullRoom adds a room with its full state (initial sync or full_state).
func (b *builder) fullRoom(ctx context.Context, resp *Response, m rooms.Membership, initial bool) error {
	switch m.Membership {
	case event.Join:
		jr, err := b.joined(ctx, m, 0, b.pos, true)
		if err != nil {
			return err
		}
		resp.Rooms.Join[m.RoomID] = jr
	case event.Invite:
		ir, err := b.invited(ctx, m)
		if err != nil {
			return err
		}
		resp.Rooms.Invite[m.RoomID] = ir
	case event.Knock:
		ir, err := b.invited(ctx, m)
		if err != nil {
			return err
		}
		resp.Rooms.Knock[m.RoomID] = ir
	case event.Leave, event.Ban:
		if initial && !b.req.Filter.Room.IncludeLeave {
			return nil
		}
		lr, err := b.left(ctx, m, 0)
		if err != nil {
			return err
		}
		resp.Rooms.Leave[m.RoomID] = lr
	}
	return nil
}

// incrementalRoom adds a room that has new events in (since, pos].
func (b *builder) incrementalRoom(ctx context.Context, resp *Response, m rooms.Membership, since int64, evs []rooms.StoredEvent) error {
	var firstOwn *rooms.StoredEvent
	changed := false
	for i := range evs {
		if evs[i].Event.Type() == event.TypeMember && evs[i].Event.StateKeyIs(b.req.UserID) {
			if firstOwn == nil {
				firstOwn = &evs[i]
			}
			changed = true
		}
	}
	switch m.Membership {
	case event.Join:
		newlyJoined := false
		if firstOwn != nil {
			before, err := b.vis.stateBefore(ctx, firstOwn.StateBeforeNID)
			if err != nil {
				return err
			}
			newlyJoined = before.membership != event.Join
		}
		jr, err := b.joined(ctx, m, since, b.pos, newlyJoined)
		if err != nil {
			return err
		}
		if len(jr.Timeline.Events) > 0 || len(jr.State.Events) > 0 {
			resp.Rooms.Join[m.RoomID] = jr
		}
	case event.Invite, event.Knock:
		if !changed {
			return nil
		}
		ir, err := b.invited(ctx, m)
		if err != nil {
			return err
		}
		if m.Membership == event.Invite {
			resp.Rooms.Invite[m.RoomID] = ir
		} else {
			resp.Rooms.Knock[m.RoomID] = ir
		}
	case event.Leave, event.Ban:
		if !changed {
			return nil
		}
		lr, err := b.left(ctx, m, since)
		if err != nil {
			return err
		}
		resp.Rooms.Leave[m.RoomID] = lr
	}
	return nil
}

var errNoEvent = errors.New("syncapi: membership event not found")
