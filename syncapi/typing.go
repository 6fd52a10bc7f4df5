package syncapi

import (
	"slices"
	"sync"
	"time"
)

// Typing timeouts (PUT /rooms/{roomId}/typing/{userId}).
const (
	DefaultTypingTimeout = 30 * time.Second
	MaxTypingTimeout     = 120 * time.Second
)

// typingStreams is the typing stream: who is typing in which room, in
// memory, each user until their timeout. Every change of a room's list takes
// the next position; /sync sends the whole list of each changed room. The
// stream starts at the clock's milliseconds, so positions keep growing
// across restarts.
type typingStreams struct {
	mu      sync.Mutex
	pos     int64
	rooms   map[string]*roomTyping
	notify  func(roomID string)
	stopped bool
}

type roomTyping struct {
	users   map[string]*typingEntry
	changed int64 // position of the last change of users
}

type typingEntry struct {
	until time.Time
	timer *time.Timer
}

func newTypingStreams(notify func(roomID string)) *typingStreams {
	return &typingStreams{pos: time.Now().UnixMilli(), rooms: map[string]*roomTyping{}, notify: notify}
}

func (t *typingStreams) position() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pos
}

// set marks user as typing in roomID for timeout, or as not typing. Only a
// change of the room's list is a new position: refreshing a typing user
// just extends their timeout.
func (t *typingStreams) set(roomID, user string, typing bool, timeout time.Duration) {
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return
	}
	r := t.rooms[roomID]
	if r == nil {
		if !typing {
			t.mu.Unlock()
			return
		}
		r = &roomTyping{users: map[string]*typingEntry{}}
		t.rooms[roomID] = r
	}
	e := r.users[user]
	changed := false
	switch {
	case typing && e != nil:
		e.until = time.Now().Add(timeout)
		e.timer.Reset(timeout)
	case typing:
		e = &typingEntry{until: time.Now().Add(timeout)}
		e.timer = time.AfterFunc(timeout, func() { t.expire(roomID, user, e) })
		r.users[user] = e
		changed = true
	case e != nil:
		e.timer.Stop()
		delete(r.users, user)
		changed = true
	}
	if changed {
		t.pos++
		r.changed = t.pos
	}
	t.mu.Unlock()
	if changed {
		t.notify(roomID)
	}
}

// expire ends e when its time has come (a refresh may have extended it).
func (t *typingStreams) expire(roomID, user string, e *typingEntry) {
	t.mu.Lock()
	r := t.rooms[roomID]
	if t.stopped || r == nil || r.users[user] != e || time.Now().Before(e.until) {
		t.mu.Unlock()
		return
	}
	delete(r.users, user)
	t.pos++
	r.changed = t.pos
	t.mu.Unlock()
	t.notify(roomID)
}

// since returns who is typing in roomID and whether to send it: with whole
// (initial sync, a newly joined room) when anyone is typing, otherwise when
// the list changed at a position in (from, upTo].
func (t *typingStreams) since(roomID string, from, upTo int64, whole bool) ([]string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.rooms[roomID]
	if r == nil {
		return nil, false
	}
	if whole && len(r.users) == 0 {
		return nil, false
	}
	if !whole && (r.changed <= from || r.changed > upTo) {
		return nil, false
	}
	users := make([]string, 0, len(r.users))
	for u := range r.users {
		users = append(users, u)
	}
	slices.Sort(users)
	return users, true
}

func (t *typingStreams) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	for _, r := range t.rooms {
		for _, e := range r.users {
			e.timer.Stop()
		}
	}
}

// SetTyping marks user as typing in roomID for timeout, or as not typing,
// and wakes the room's joined members when the room's list changes. The
// caller has checked that the user is joined.
func (a *API) SetTyping(roomID, user string, typing bool, timeout time.Duration) {
	a.typing.set(roomID, user, typing, timeout)
}
