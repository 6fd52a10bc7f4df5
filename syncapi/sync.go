package syncapi

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage/accountdata"
	"github.com/concordchat/concord/storage/presence"
	"github.com/concordchat/concord/storage/receipts"
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
	// The repositories of the account data, receipt and presence streams.
	// A stream whose store is nil stays empty and writes to it fail with
	// ErrNotConfigured.
	AccountData *accountdata.Store
	Receipts    *receipts.Store
	Presence    *presence.Store
	// ServerName is this server: presence follows the activity of its users
	// only ("" counts every sender as local).
	ServerName      string
	PresenceOptions PresenceOptions
}

// API computes sync responses and owns the streams besides room events:
// typing, receipts, account data and presence.
type API struct {
	deps     Deps
	log      *zap.Logger
	typing   *typingStreams
	presence *presenceTracker

	initMu   sync.Mutex
	inited   bool
	receipt  *stream
	account  *stream
	presPos  *stream
	rmwMu    sync.Mutex // serialises read-modify-write of account data (m.tag, m.fully_read)
	stopOnce sync.Once
}

// New makes the sync API. Positions of the database-backed streams are read
// on first use (or by Start).
func New(deps Deps) *API {
	if deps.Logger == nil {
		deps.Logger = zap.NewNop()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	deps.PresenceOptions = deps.PresenceOptions.withDefaults()
	a := &API{deps: deps, log: deps.Logger.Named("syncapi")}
	a.typing = newTypingStreams(func(roomID string) { a.deps.Notifier.wakeJoined(roomID) })
	a.presence = newPresenceTracker(a)
	if deps.Notifier != nil {
		deps.Notifier.observe(a.observe)
	}
	return a
}

// Start reads the stream positions and resumes the presence timeouts of
// users who were online when the server stopped.
func (a *API) Start(ctx context.Context) error {
	if err := a.init(ctx); err != nil {
		return err
	}
	return a.presence.resume(ctx)
}

// Stop cancels the typing and presence timers and waits for presence
// writes in progress.
func (a *API) Stop() {
	a.stopOnce.Do(func() {
		a.typing.stop()
		a.presence.stop()
	})
}

// init reads the highest position of each database-backed stream, once.
func (a *API) init(ctx context.Context) error {
	a.initMu.Lock()
	defer a.initMu.Unlock()
	if a.inited {
		return nil
	}
	maxOf := func(store interface {
		MaxStreamPos(context.Context) (int64, error)
	}, isNil bool) (*stream, error) {
		if isNil {
			return newStream(0), nil
		}
		max, err := store.MaxStreamPos(ctx)
		if err != nil {
			return nil, err
		}
		return newStream(max), nil
	}
	var err error
	if a.receipt, err = maxOf(a.deps.Receipts, a.deps.Receipts == nil); err != nil {
		return err
	}
	if a.account, err = maxOf(a.deps.AccountData, a.deps.AccountData == nil); err != nil {
		return err
	}
	if a.presPos, err = maxOf(a.deps.Presence, a.deps.Presence == nil); err != nil {
		return err
	}
	a.inited = true
	return nil
}

// positions returns the current position of every stream.
func (a *API) positions() Token {
	return Token{Room: a.deps.Position(), Typing: a.typing.position(), Receipt: a.receipt.position(),
		AccountData: a.account.position(), Presence: a.presPos.position()}
}

// Request is one /sync call.
type Request struct {
	UserID    string
	DeviceID  string
	Since     string
	Timeout   time.Duration
	FullState bool
	Filter    Filter
	// SetPresence is the set_presence parameter: "" or "online" marks the
	// user online while syncing, "unavailable" sets them unavailable and
	// "offline" leaves their presence alone.
	SetPresence string
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
	if err := a.init(ctx); err != nil {
		return nil, err
	}
	n := a.deps.Notifier
	n.attach(req.UserID)
	defer n.detach(req.UserID)
	done, err := a.presence.syncing(ctx, req.UserID, req.SetPresence)
	if err != nil {
		return nil, err
	}
	defer done()
	deadline := a.deps.Now().Add(req.Timeout)
	for {
		wake := n.listen(req.UserID)
		ms, err := a.deps.Store.MembershipsOf(ctx, req.UserID)
		if err != nil {
			return nil, err
		}
		n.setRooms(req.UserID, ms)
		cur := a.positions()
		resp, err := a.build(ctx, req, initial, since.clamp(cur), cur, ms)
		if err != nil {
			return nil, err
		}
		resp.NextBatch = cur.String()
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

// clamp limits a since token to the current positions. A typing position
// from the future comes from before a restart (the typing stream lives in
// memory): the whole typing state is sent again.
func (t Token) clamp(cur Token) Token {
	out := Token{Room: min(t.Room, cur.Room), Typing: t.Typing, Receipt: min(t.Receipt, cur.Receipt),
		AccountData: min(t.AccountData, cur.AccountData), Presence: min(t.Presence, cur.Presence)}
	if out.Typing > cur.Typing {
		out.Typing = 0
	}
	return out
}

func (a *API) build(ctx context.Context, req Request, initial bool, from, cur Token, ms []rooms.Membership) (*Response, error) {
	resp := newResponse()
	current := make(map[string]string, len(ms))
	for _, m := range ms {
		current[m.RoomID] = m.Membership
	}
	ignored, err := a.IgnoredUsers(ctx, req.UserID)
	if err != nil {
		return nil, err
	}
	vis := NewVisibility(a.deps.Store, req.UserID, current)
	vis.SetIgnored(ignored)
	b := &builder{a: a, req: req, vis: vis, pos: cur.Room, from: from, cur: cur, now: a.deps.Now(),
		full: initial || req.FullState, ignored: ignored, newlyJoined: map[string]bool{}, othersJoined: map[string][]string{}}
	if b.full {
		for _, m := range ms {
			if !req.Filter.Room.RoomAllowed(m.RoomID) {
				continue
			}
			if err := b.fullRoom(ctx, resp, m, initial); err != nil {
				return nil, err
			}
		}
	} else if err := b.incrementalRooms(ctx, resp, ms); err != nil {
		return nil, err
	}
	if err := b.streams(ctx, resp, ms); err != nil {
		return nil, err
	}
	return resp, nil
}

func (b *builder) incrementalRooms(ctx context.Context, resp *Response, ms []rooms.Membership) error {
	nids := make([]int64, 0, len(ms))
	for _, m := range ms {
		nids = append(nids, m.RoomNID)
	}
	evs, err := b.a.deps.Store.StreamEvents(ctx, nids, b.from.Room, b.pos, maxIncrementalEvents)
	if err != nil {
		return err
	}
	byRoom := map[int64][]rooms.StoredEvent{}
	for _, se := range evs {
		byRoom[se.RoomNID] = append(byRoom[se.RoomNID], se)
	}
	for _, m := range ms {
		if len(byRoom[m.RoomNID]) == 0 || !b.req.Filter.Room.RoomAllowed(m.RoomID) {
			continue
		}
		if err := b.incrementalRoom(ctx, resp, m, b.from.Room, byRoom[m.RoomNID]); err != nil {
			return err
		}
	}
	return nil
}

// builder holds what one sync computation shares across rooms.
type builder struct {
	a    *API
	req  Request
	vis  *Visibility
	pos  int64 // room stream position (cur.Room)
	from Token // the since token, clamped
	cur  Token // the positions this response reaches
	now  time.Time
	full bool // initial sync or full_state

	ignored map[string]bool // users the syncing user ignores
	// newlyJoined are the rooms the user joined within this sync's window;
	// they get the whole state of every stream.
	newlyJoined map[string]bool
	// othersJoined are users who joined the user's joined rooms within this
	// sync's window, per room (they now share a room: presence).
	othersJoined map[string][]string
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
		if err != nil || ir == nil {
			return err
		}
		resp.Rooms.Invite[m.RoomID] = ir
	case event.Knock:
		ir, err := b.invited(ctx, m)
		if err != nil {
			return err
		}
		resp.Rooms.Knock[m.RoomID] = knocked(ir)
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
		if evs[i].Event.Type() != event.TypeMember || evs[i].Event.StateKey() == nil {
			continue
		}
		if evs[i].Event.StateKeyIs(b.req.UserID) {
			if firstOwn == nil {
				firstOwn = &evs[i]
			}
			changed = true
		} else if evs[i].Event.Membership() == event.Join {
			b.othersJoined[m.RoomID] = append(b.othersJoined[m.RoomID], *evs[i].Event.StateKey())
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
		if newlyJoined {
			b.newlyJoined[m.RoomID] = true
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
		if err != nil || ir == nil {
			return err
		}
		if m.Membership == event.Invite {
			resp.Rooms.Invite[m.RoomID] = ir
		} else {
			resp.Rooms.Knock[m.RoomID] = knocked(ir)
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
