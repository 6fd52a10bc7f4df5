package syncapi

import (
	"context"
	"sync"
	"time"

	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
)

// Notifier wakes waiting /sync requests. It tracks, for users that are
// syncing, which rooms concern them, so an event wakes exactly the users of
// its room and the target of a membership change.
type Notifier struct {
	mu    sync.Mutex
	pos   int64
	users map[string]*listener
	rooms map[string]map[string]*listener
}

type listener struct {
	user  string
	wake  chan struct{} // closed and replaced on every wake-up
	rooms map[string]bool
}

var _ roomserver.Notifier = (*Notifier)(nil)

// NewNotifier starts at stream position pos.
func NewNotifier(pos int64) *Notifier {
	return &Notifier{pos: pos, users: map[string]*listener{}, rooms: map[string]map[string]*listener{}}
}

// Position returns the last position announced.
func (n *Notifier) Position() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.pos
}

// OnRoomEvents implements roomserver.Notifier.
func (n *Notifier) OnRoomEvents(outs []roomserver.Output, pos int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if pos > n.pos {
		n.pos = pos
	}
	woken := map[*listener]bool{}
	for _, o := range outs {
		if o.Event.Type() == event.TypeMember && o.Event.StateKey() != nil {
			if l := n.users[*o.Event.StateKey()]; l != nil {
				n.track(l, o.RoomID)
				woken[l] = true
			}
		}
		for _, l := range n.rooms[o.RoomID] {
			woken[l] = true
		}
	}
	for l := range woken {
		close(l.wake)
		l.wake = make(chan struct{})
	}
}

// listen registers user with its rooms and returns the channel that closes
// on the next event for them. Call it before reading, so nothing is missed.
func (n *Notifier) listen(user string, roomIDs []string) <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.users[user]
	if l == nil {
		l = &listener{user: user, wake: make(chan struct{}), rooms: map[string]bool{}}
		n.users[user] = l
	}
	for _, r := range roomIDs {
		n.track(l, r)
	}
	return l.wake
}

func (n *Notifier) track(l *listener, roomID string) {
	if l.rooms[roomID] {
		return
	}
	l.rooms[roomID] = true
	set := n.rooms[roomID]
	if set == nil {
		set = map[string]*listener{}
		n.rooms[roomID] = set
	}
	set[l.user] = l
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
