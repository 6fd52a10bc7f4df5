package clientapi

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"go.uber.org/zap"

	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
)

// GuestRooms is what the guest evictor needs of the roomserver.
type GuestRooms interface {
	CurrentState(ctx context.Context, roomID string) ([]*event.Event, error)
	Send(ctx context.Context, roomID string, p roomserver.Proposal) (roomserver.Output, error)
}

// GuestDirectory tells guest accounts apart (*accounts.Store).
type GuestDirectory interface {
	Guests(ctx context.Context, localparts []string) ([]string, error)
}

// GuestEvictorDeps are what NewGuestEvictor needs.
type GuestEvictorDeps struct {
	Accounts   GuestDirectory
	ServerName string
	Logger     *zap.Logger
}

// GuestEvictor carries out the "Guest Access" server behaviour: when a
// room's m.room.guest_access stops being can_join, the local guests joined
// to (or invited into) it leave. It is a roomserver.Notifier: OnRoomEvents
// only notes the room, and a worker started with Start sends the leaves,
// each as the guest itself (a user may always leave), as Synapse does.
type GuestEvictor struct {
	deps GuestEvictorDeps
	log  *zap.Logger

	mu      sync.Mutex
	pending []string        // rooms to check, in arrival order
	queued  map[string]bool // rooms in pending
	wake    chan struct{}   // capacity 1: pending is not empty

	cancel context.CancelFunc
	done   chan struct{}
}

var _ roomserver.Notifier = (*GuestEvictor)(nil)

// NewGuestEvictor makes a stopped evictor. Rooms noted before Start are
// handled once it starts.
func NewGuestEvictor(deps GuestEvictorDeps) (*GuestEvictor, error) {
	if deps.Accounts == nil || deps.ServerName == "" {
		return nil, errors.New("clientapi: GuestEvictorDeps needs Accounts and ServerName")
	}
	if deps.Logger == nil {
		deps.Logger = zap.NewNop()
	}
	return &GuestEvictor{deps: deps, log: deps.Logger.Named("guests"), queued: map[string]bool{},
		wake: make(chan struct{}, 1)}, nil
}

// OnRoomEvents implements roomserver.Notifier; it never blocks.
func (g *GuestEvictor) OnRoomEvents(outputs []roomserver.Output, _ int64) {
	for _, o := range outputs {
		e := o.Event
		if o.Duplicate || !o.StateChanged || e.Type() != typeGuestAccess || !e.StateKeyIs("") ||
			guestAccessOf(e) == guestCanJoin {
			continue
		}
		g.enqueue(o.RoomID)
	}
}

func (g *GuestEvictor) enqueue(roomID string) {
	g.mu.Lock()
	if !g.queued[roomID] {
		g.queued[roomID] = true
		g.pending = append(g.pending, roomID)
	}
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

func (g *GuestEvictor) next() (string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.pending) == 0 {
		return "", false
	}
	roomID := g.pending[0]
	g.pending = g.pending[1:]
	delete(g.queued, roomID)
	return roomID, true
}

// Start runs the worker until Stop, sending leaves through rooms (the
// roomserver, which exists only after its notifiers do).
func (g *GuestEvictor) Start(ctx context.Context, rooms GuestRooms) error {
	if rooms == nil {
		return errors.New("clientapi: guest evictor needs the roomserver")
	}
	if g.done != nil {
		return errors.New("clientapi: guest evictor already started")
	}
	ctx, g.cancel = context.WithCancel(ctx)
	g.done = make(chan struct{})
	go g.run(ctx, rooms)
	return nil
}

// Stop ends the worker and waits for it; rooms still pending are dropped.
func (g *GuestEvictor) Stop() {
	if g.done == nil {
		return
	}
	g.cancel()
	<-g.done
}

func (g *GuestEvictor) run(ctx context.Context, rooms GuestRooms) {
	defer close(g.done)
	for {
		for roomID, ok := g.next(); ok; roomID, ok = g.next() {
			if err := g.evict(ctx, rooms, roomID); err != nil && ctx.Err() == nil {
				g.log.Error("could not remove guests from room", zap.String("room_id", roomID), zap.Error(err))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-g.wake:
		}
	}
}

// evict makes the local guests of the room leave, unless its guest_access
// is can_join again by now.
func (g *GuestEvictor) evict(ctx context.Context, rooms GuestRooms, roomID string) error {
	state, err := rooms.CurrentState(ctx, roomID)
	if err != nil {
		return err
	}
	var localparts []string
	for _, e := range state {
		switch {
		case e.Type() == typeGuestAccess && e.StateKeyIs(""):
			if guestAccessOf(e) == guestCanJoin {
				return nil
			}
		case e.Type() == event.TypeMember && (e.Membership() == event.Join || e.Membership() == event.Invite):
			if u, err := mxid.ParseUserID(*e.StateKey()); err == nil && u.Domain == g.deps.ServerName {
				localparts = append(localparts, u.Localpart)
			}
		}
	}
	guests, err := g.deps.Accounts.Guests(ctx, localparts)
	if err != nil {
		return err
	}
	leave, _ := json.Marshal(map[string]string{"membership": event.Leave})
	var errs []error
	for _, lp := range guests {
		userID := "@" + lp + ":" + g.deps.ServerName
		_, err := rooms.Send(ctx, roomID, roomserver.Proposal{Type: event.TypeMember, StateKey: &userID,
			Sender: userID, Content: leave})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		g.log.Info("guest left a room that no longer admits guests", zap.String("user_id", userID), zap.String("room_id", roomID))
	}
	return errors.Join(errs...)
}
