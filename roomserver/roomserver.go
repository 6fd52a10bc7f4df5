package roomserver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"go.uber.org/zap"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/signing"
	"github.com/concordchat/concord/storage/rooms"
)

var (
	// ErrRoomNotFound: the server does not know the room.
	ErrRoomNotFound = errors.New("roomserver: room not found")
	// ErrNotAllowed: the authorisation rules reject the event.
	ErrNotAllowed = errors.New("roomserver: not allowed")
	// ErrBadEvent: the proposed event is malformed (for example too large).
	ErrBadEvent = errors.New("roomserver: bad event")
)

// Output is an event the roomserver has accepted, as told to the notifier.
type Output struct {
	RoomID    string
	Event     *event.Event
	StreamPos int64
	// StateChanged reports whether the event changed the room's current state.
	StateChanged bool
	// Duplicate is set when a send repeated a stored transaction ID.
	Duplicate bool
	// NID, RoomNID and StateBeforeNID locate the event in storage (the state
	// before it is a snapshot), so listeners need not read it back.
	NID, RoomNID, StateBeforeNID int64
}

// Notifier is told about accepted events after they commit, in stream order
// per room. Implementations must not block.
type Notifier interface {
	OnRoomEvents(outputs []Output, streamPos int64)
}

// Deps are the roomserver's collaborators.
type Deps struct {
	Store      *rooms.Store
	Key        signing.Key // the server's signing key; its ServerName is this server
	Logger     *zap.Logger
	Notifier   Notifier // may be nil
	Now        func() time.Time
	EventCache int // events kept in memory; 0 = a default
}

// RoomServer serializes and applies all changes to rooms.
type RoomServer struct {
	deps   Deps
	log    *zap.Logger
	stream *streamAllocator
	events *lru.Cache[int64, *event.Event]

	committer *groupCommitter

	mu    sync.Mutex
	rooms map[string]*room
}

// New makes a roomserver, reading the highest stream position from storage.
func New(ctx context.Context, deps Deps) (*RoomServer, error) {
	if deps.Store == nil {
		return nil, fmt.Errorf("roomserver: no store")
	}
	if deps.Logger == nil {
		deps.Logger = zap.NewNop()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.EventCache <= 0 {
		deps.EventCache = 100_000
	}
	max, err := deps.Store.MaxStreamPos(ctx)
	if err != nil {
		return nil, err
	}
	cache, err := lru.New[int64, *event.Event](deps.EventCache)
	if err != nil {
		return nil, err
	}
	rs := &RoomServer{deps: deps, log: deps.Logger.Named("roomserver"), stream: newStreamAllocator(max),
		events: cache, rooms: map[string]*room{}}
	rs.committer = newGroupCommitter(rs)
	return rs, nil
}

// StreamPosition is the highest stream position whose events (and all before
// it) are committed.
func (rs *RoomServer) StreamPosition() int64 { return rs.stream.position() }

// ServerName is the name of this server.
func (rs *RoomServer) ServerName() string { return rs.deps.Key.ServerName }

// roomFor returns the room's in-memory handle (not yet loaded).
func (rs *RoomServer) roomFor(roomID string) *room {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r := rs.rooms[roomID]
	if r == nil {
		r = &room{id: roomID}
		rs.rooms[roomID] = r
	}
	return r
}

func (rs *RoomServer) now() int64 { return rs.deps.Now().UnixMilli() }
