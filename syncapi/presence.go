package syncapi

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/concordchat/concord/storage/presence"
)

// PresenceOptions configure presence.
type PresenceOptions struct {
	// Disabled turns presence off: no tracking, nothing in /sync, and the
	// presence endpoints answer ErrPresenceDisabled.
	Disabled bool
	// IdleAfter: an online user without activity for this long becomes
	// unavailable (default 5 minutes).
	IdleAfter time.Duration
	// OfflineAfter: a user with no /sync in progress goes offline this long
	// after the last one ended (default 30 seconds).
	OfflineAfter time.Duration
	// ActiveWindow: an online user is currently_active while their last
	// activity is this recent (default 1 minute).
	ActiveWindow time.Duration
}

func (o PresenceOptions) withDefaults() PresenceOptions {
	if o.IdleAfter <= 0 {
		o.IdleAfter = 5 * time.Minute
	}
	if o.OfflineAfter <= 0 {
		o.OfflineAfter = 30 * time.Second
	}
	if o.ActiveWindow <= 0 {
		o.ActiveWindow = time.Minute
	}
	return o
}

// presenceTracker keeps local users' presence in memory and applies the
// rules of the spec's presence module:
//
//   - a /sync with set_presence online (the default) brings an offline user
//     online; set_presence unavailable makes them unavailable; offline
//     leaves presence alone;
//   - PUT /presence sets the state (and status message) explicitly;
//   - sending an event is activity: the user is online and currently active;
//   - without activity an online user turns unavailable after IdleAfter and
//     stops being currently active after ActiveWindow;
//   - with no /sync in progress a user goes offline OfflineAfter after the
//     last sign of life (the end of a /sync, a PUT, an event).
//
// Each user has one timer, set to their next deadline. Whenever what clients
// see changes (state, status message, currently_active), the tracker writes
// the presence row with a new presence stream position and wakes the users
// who share a room with the user.
type presenceTracker struct {
	a    *API
	opts PresenceOptions

	mu      sync.Mutex
	users   map[string]*userPresence
	stopped bool
	wg      sync.WaitGroup // timer callbacks and background updates
}

type userPresence struct {
	state           string
	statusMsg       string
	lastActive      int64 // ms since the epoch; 0 = never
	currentlyActive bool
	syncs           int   // /sync requests in progress
	lastSeen        int64 // ms since the epoch: last sign of life
	timer           *time.Timer
	shown           shownPresence // what the stored row says
}

type shownPresence struct {
	state           string
	statusMsg       string
	currentlyActive bool
}

func (u *userPresence) visible() shownPresence {
	return shownPresence{state: u.state, statusMsg: u.statusMsg, currentlyActive: u.currentlyActive}
}

func newPresenceTracker(a *API) *presenceTracker {
	return &presenceTracker{a: a, opts: a.deps.PresenceOptions, users: map[string]*userPresence{}}
}

// enabled reports whether presence is tracked at all.
func (t *presenceTracker) enabled() bool { return !t.opts.Disabled && t.a.deps.Presence != nil }

func (t *presenceTracker) now() int64 { return t.a.deps.Now().UnixMilli() }

// load returns the user's entry, read from the store when not in memory
// (the caller inserts it under the lock when still missing).
func (t *presenceTracker) load(ctx context.Context, user string) (*userPresence, error) {
	t.mu.Lock()
	u := t.users[user]
	t.mu.Unlock()
	if u != nil {
		return u, nil
	}
	rows, err := t.a.deps.Presence.Get(ctx, []string{user})
	if err != nil {
		return nil, err
	}
	u = &userPresence{state: presence.Offline}
	if r, ok := rows[user]; ok {
		u.state, u.statusMsg, u.lastActive, u.currentlyActive = r.State, r.StatusMsg, r.LastActiveTS, r.CurrentlyActive
	}
	u.shown = u.visible()
	return u, nil
}

// pendingWrite is a presence row to store at pos.
type pendingWrite struct {
	pos int64
	row presence.Row
}

// update applies fn to the user's presence, then the timeouts, stores the
// result when clients see a change and sets the user's timer.
func (t *presenceTracker) update(ctx context.Context, user string, fn func(u *userPresence, now int64)) error {
	if err := t.a.init(ctx); err != nil {
		return err
	}
	loaded, err := t.load(ctx, user)
	if err != nil {
		return err
	}
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return nil
	}
	u := t.users[user]
	if u == nil {
		u = loaded
		t.users[user] = u
	}
	now := t.now()
	fn(u, now)
	w := t.settleLocked(user, u, now)
	t.mu.Unlock()
	return t.write(ctx, user, w)
}

// settleLocked applies the timeouts, allocates a write when the visible
// presence changed and sets the timer (or forgets an idle offline user).
func (t *presenceTracker) settleLocked(user string, u *userPresence, now int64) *pendingWrite {
	o := t.opts
	if u.state != presence.Offline && u.syncs == 0 && now-u.lastSeen >= o.OfflineAfter.Milliseconds() {
		u.state = presence.Offline
	}
	if u.state == presence.Online && now-u.lastActive >= o.IdleAfter.Milliseconds() {
		u.state = presence.Unavailable
	}
	if u.state != presence.Online || now-u.lastActive >= o.ActiveWindow.Milliseconds() {
		u.currentlyActive = false
	}
	var w *pendingWrite
	if v := u.visible(); v != u.shown {
		u.shown = v
		w = &pendingWrite{pos: t.a.presPos.allocate(), row: presence.Row{UserID: user, State: u.state,
			StatusMsg: u.statusMsg, LastActiveTS: u.lastActive, CurrentlyActive: u.currentlyActive}}
	}
	next := int64(-1)
	deadline := func(at int64) {
		if next < 0 || at < next {
			next = at
		}
	}
	if u.state != presence.Offline && u.syncs == 0 {
		deadline(u.lastSeen + o.OfflineAfter.Milliseconds())
	}
	if u.state == presence.Online {
		deadline(u.lastActive + o.IdleAfter.Milliseconds())
	}
	if u.currentlyActive {
		deadline(u.lastActive + o.ActiveWindow.Milliseconds())
	}
	switch {
	case next >= 0:
		d := time.Duration(max(next-now, 1)) * time.Millisecond
		if u.timer == nil {
			u.timer = time.AfterFunc(d, func() { t.tick(user) })
		} else {
			u.timer.Reset(d)
		}
	case u.syncs == 0:
		// Offline and not syncing: the stored row says it all (a failed
		// write is retried on the next update, as the row then differs).
		if u.timer != nil {
			u.timer.Stop()
		}
		delete(t.users, user)
	}
	return w
}

// write stores w and wakes the users who share a room with user once the
// presence stream reaches it.
func (t *presenceTracker) write(ctx context.Context, user string, w *pendingWrite) error {
	if w == nil {
		return nil
	}
	err := t.a.deps.Presence.Put(ctx, w.row, w.pos)
	if err != nil {
		t.a.presPos.done(w.pos, nil)
		t.mu.Lock()
		if u := t.users[user]; u != nil {
			u.shown = shownPresence{} // write again on the next update
		}
		t.mu.Unlock()
		return err
	}
	roomIDs, err := t.a.joinedRooms(ctx, user)
	if err != nil {
		t.a.log.Warn("presence: rooms of user", zap.String("user", user), zap.Error(err))
	}
	t.a.presPos.done(w.pos, func() { t.a.deps.Notifier.wakeSharing(user, roomIDs) })
	return nil
}

// background runs fn unless the tracker stopped; Stop waits for it.
func (t *presenceTracker) background(fn func(ctx context.Context)) {
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return
	}
	t.wg.Add(1)
	t.mu.Unlock()
	defer t.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fn(ctx)
}

// tick runs when a user's timer fires.
func (t *presenceTracker) tick(user string) {
	t.background(func(ctx context.Context) {
		if err := t.update(ctx, user, func(*userPresence, int64) {}); err != nil {
			t.a.log.Warn("presence: timeout", zap.String("user", user), zap.Error(err))
		}
	})
}

// syncing marks the start of a /sync and returns the function that marks
// its end. Presence errors are logged, never fail the /sync.
func (t *presenceTracker) syncing(ctx context.Context, user, setPresence string) (func(), error) {
	if !t.enabled() || setPresence == presence.Offline {
		return func() {}, nil
	}
	err := t.update(ctx, user, func(u *userPresence, now int64) {
		u.syncs++
		u.lastSeen = now
		if setPresence == presence.Unavailable {
			u.state = presence.Unavailable
		} else if u.state == presence.Offline {
			u.state, u.lastActive, u.currentlyActive = presence.Online, now, true
		}
	})
	if err != nil {
		t.a.log.Warn("presence: sync start", zap.String("user", user), zap.Error(err))
	}
	return func() {
		err := t.update(context.WithoutCancel(ctx), user, func(u *userPresence, now int64) {
			u.syncs = max(u.syncs-1, 0)
			u.lastSeen = now
		})
		if err != nil {
			t.a.log.Warn("presence: sync end", zap.String("user", user), zap.Error(err))
		}
	}, nil
}

// set applies PUT /presence/{userId}/status.
func (t *presenceTracker) set(ctx context.Context, user, state string, statusMsg *string) error {
	return t.update(ctx, user, func(u *userPresence, now int64) {
		u.state, u.lastSeen = state, now
		if statusMsg != nil {
			u.statusMsg = *statusMsg
		}
		if state == presence.Online {
			u.lastActive, u.currentlyActive = now, true
		}
	})
}

// active records activity of a local user: quickly in memory when nothing
// clients see changes, otherwise in the background (observers must not
// block the roomserver).
func (t *presenceTracker) active(user string) {
	t.mu.Lock()
	if u := t.users[user]; u != nil && u.state == presence.Online && u.currentlyActive {
		now := t.now()
		u.lastActive, u.lastSeen = now, now
		w := t.settleLocked(user, u, now)
		t.mu.Unlock()
		if w != nil {
			go t.background(func(ctx context.Context) { _ = t.write(ctx, user, w) })
		}
		return
	}
	t.mu.Unlock()
	go t.background(func(ctx context.Context) {
		err := t.update(ctx, user, func(u *userPresence, now int64) {
			u.state, u.lastActive, u.lastSeen, u.currentlyActive = presence.Online, now, now, true
		})
		if err != nil {
			t.a.log.Warn("presence: activity", zap.String("user", user), zap.Error(err))
		}
	})
}

// resume reloads users who were not offline when the server stopped; they
// get a full OfflineAfter to sync again.
func (t *presenceTracker) resume(ctx context.Context) error {
	if !t.enabled() {
		return nil
	}
	rows, err := t.a.deps.Presence.NotOffline(ctx)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var writes []struct {
		user string
		w    *pendingWrite
	}
	for _, r := range rows {
		if t.users[r.UserID] != nil {
			continue
		}
		u := &userPresence{state: r.State, statusMsg: r.StatusMsg, lastActive: r.LastActiveTS,
			currentlyActive: r.CurrentlyActive, lastSeen: now}
		u.shown = u.visible()
		t.users[r.UserID] = u
		if w := t.settleLocked(r.UserID, u, now); w != nil {
			writes = append(writes, struct {
				user string
				w    *pendingWrite
			}{r.UserID, w})
		}
	}
	for _, w := range writes {
		go t.background(func(ctx context.Context) { _ = t.write(ctx, w.user, w.w) })
	}
	return nil
}

func (t *presenceTracker) stop() {
	t.mu.Lock()
	t.stopped = true
	for _, u := range t.users {
		if u.timer != nil {
			u.timer.Stop()
		}
	}
	t.mu.Unlock()
	t.wg.Wait()
}
