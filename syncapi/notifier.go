package syncapi

import (
	"context"
	"sync"
	"time"

	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage/rooms"
)

// Notifier wakes waiting /sync requests. For each user with a /sync in
// progress it tracks the user's rooms and membership in each, so that
//
//   - a room event wakes the room's users and the target of a membership
//     change;
//   - typing and receipts wake the room's joined members;
//   - account data wakes its owner;
//   - presence wakes the user and the joined members of the user's rooms.
//
// Room event wake-ups wait until the announced stream position covers the
// events, since a user woken earlier would read an older position.
type Notifier struct {
	mu        sync.Mutex
	pos       int64
	users     map[string]*listener
	rooms     map[string]map[string]*listener
	held      []heldWake
	observers []func([]roomserver.Output)
}

type listener struct {
	user  string
	wake  chan struct{}     // closed and replaced on every wake-up
	rooms map[string]string // room ID → the user's membership
	syncs int               // /sync requests of the user in progress
}

// heldWake is a room event wake-up waiting for the position to reach pos.
type heldWake struct {
	pos       int64
	listeners []*listener
}

var _ roomserver.Notifier = (*Notifier)(nil)

// NewNotifier starts at room stream position pos.
func NewNotifier(pos int64) *Notifier {
	return &Notifier{pos: pos, users: map[string]*listener{}, rooms: map[string]map[string]*listener{}}
}

// Position returns the last room stream position announced.
func (n *Notifier) Position() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.pos
}

// observe registers fn to be told of every room event after the wake-ups;
// fn must not block.
func (n *Notifier) observe(fn func([]roomserver.Output)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.observers = append(n.observers, fn)
}

// OnRoomEvents implements roomserver.Notifier.
func (n *Notifier) OnRoomEvents(outs []roomserver.Output, pos int64) {
	n.mu.Lock()
	if pos > n.pos {
		n.pos = pos
	}
	var woken []*listener
	seen := map[*listener]bool{}
	add := func(l *listener) {
		if !seen[l] {
			seen[l] = true
			woken = append(woken, l)
		}
	}
	var last int64
	for _, o := range outs {
		last = max(last, o.StreamPos)
		if o.Event.Type() == event.TypeMember && o.Event.StateKey() != nil {
			if l := n.users[*o.Event.StateKey()]; l != nil {
				n.track(l, o.RoomID, o.Event.Membership())
				add(l)
			}
		}
		for _, l := range n.rooms[o.RoomID] {
			add(l)
		}
	}
	if last > n.pos {
		n.held = append(n.held, heldWake{pos: last, listeners: woken})
	} else {
		wakeAll(woken)
	}
	kept := n.held[:0]
	for _, h := range n.held {
		if h.pos <= n.pos {
			wakeAll(h.listeners)
		} else {
			kept = append(kept, h)
		}
	}
	n.held = kept
	observers := n.observers
	n.mu.Unlock()
	for _, fn := range observers {
		fn(outs)
	}
}

func wakeAll(ls []*listener) {
	for _, l := range ls {
		l.signal()
	}
}

func (l *listener) signal() {
	close(l.wake)
	l.wake = make(chan struct{})
}

// attach registers a /sync of user; call detach when it ends.
func (n *Notifier) attach(user string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.users[user]
	if l == nil {
		l = &listener{user: user, wake: make(chan struct{}), rooms: map[string]string{}}
		n.users[user] = l
	}
	l.syncs++
}

// detach ends a /sync of user; the user is forgotten after the last one.
func (n *Notifier) detach(user string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.users[user]
	if l == nil {
		return
	}
	if l.syncs--; l.syncs > 0 {
		return
	}
	for r := range l.rooms {
		n.untrack(l, r)
	}
	delete(n.users, user)
}

// listen returns the channel that closes on the next wake-up of the
// attached user. Call it before reading memberships and positions, so that
// nothing committed afterwards is missed.
func (n *Notifier) listen(user string) <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.users[user]
	if l == nil {
		closed := make(chan struct{})
		close(closed)
		return closed
	}
	return l.wake
}

// setRooms replaces the tracked rooms of the attached user.
func (n *Notifier) setRooms(user string, ms []rooms.Membership) {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.users[user]
	if l == nil {
		return
	}
	keep := make(map[string]bool, len(ms))
	for _, m := range ms {
		keep[m.RoomID] = true
		n.track(l, m.RoomID, m.Membership)
	}
	for r := range l.rooms {
		if !keep[r] {
			n.untrack(l, r)
		}
	}
}

func (n *Notifier) track(l *listener, roomID, membership string) {
	l.rooms[roomID] = membership
	set := n.rooms[roomID]
	if set == nil {
		set = map[string]*listener{}
		n.rooms[roomID] = set
	}
	set[l.user] = l
}

func (n *Notifier) untrack(l *listener, roomID string) {
	delete(l.rooms, roomID)
	if set := n.rooms[roomID]; set != nil {
		delete(set, l.user)
		if len(set) == 0 {
			delete(n.rooms, roomID)
		}
	}
}

// wakeUser wakes the user's /sync requests (account data).
func (n *Notifier) wakeUser(user string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if l := n.users[user]; l != nil {
		l.signal()
	}
}

// WakeUsers wakes the /sync requests of users (new notification counts).
func (n *Notifier) WakeUsers(users []string) {
	for _, u := range users {
		n.wakeUser(u)
	}
}

// wakeJoined wakes the joined members of a room (typing, receipts).
func (n *Notifier) wakeJoined(roomID string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.wakeJoinedLocked(roomID, nil)
}

func (n *Notifier) wakeJoinedLocked(roomID string, seen map[*listener]bool) {
	for _, l := range n.rooms[roomID] {
		if l.rooms[roomID] == event.Join && !seen[l] {
			if seen != nil {
				seen[l] = true
			}
			l.signal()
		}
	}
}

// wakeSharing wakes user and the joined members of roomIDs (presence).
func (n *Notifier) wakeSharing(user string, roomIDs []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	seen := map[*listener]bool{}
	if l := n.users[user]; l != nil {
		seen[l] = true
		l.signal()
	}
	for _, r := range roomIDs {
		n.wakeJoinedLocked(r, seen)
	}
}

// wait blocks until ch closes, the timeout passes or ctx ends.
func wait(ctx context.Context, ch <-chan struct{}, timeout time.Duration) {
	if timeout <= 0 {
		return
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
}
