package syncapi

import (
	"context"

	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage/rooms"
)

// History visibility values (client-server API, "Room History Visibility").
const (
	visWorldReadable = "world_readable"
	visShared        = "shared"
	visInvited       = "invited"
	visJoined        = "joined"
)

// Visibility decides which events of a room one user may see, caching the
// state it reads per snapshot (consecutive messages share one).
type Visibility struct {
	store   *rooms.Store
	user    string
	current map[string]string // room ID → the user's current membership
	cache   map[int64]visState
	ignored map[string]bool // senders whose non-state events the user ignores
}

type visState struct {
	membership string
	history    string
}

// NewVisibility makes a checker for user; current gives the user's membership
// now per room ID (for "shared" history).
func NewVisibility(store *rooms.Store, user string, current map[string]string) *Visibility {
	return &Visibility{store: store, user: user, current: current, cache: map[int64]visState{}}
}

// SetIgnored sets the users the viewer ignores (m.ignored_user_list): their
// non-state events are invisible to the viewer.
func (v *Visibility) SetIgnored(users map[string]bool) { v.ignored = users }

// Filter keeps the events of one room the user may see, in order.
func (v *Visibility) Filter(ctx context.Context, roomID string, evs []rooms.StoredEvent) ([]rooms.StoredEvent, error) {
	out := evs[:0:0]
	for _, se := range evs {
		ok, err := v.Visible(ctx, roomID, se)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, se)
		}
	}
	return out, nil
}

// Visible applies the history visibility rules to one event.
func (v *Visibility) Visible(ctx context.Context, roomID string, se rooms.StoredEvent) (bool, error) {
	e := se.Event
	if !e.IsState() && v.ignored[e.Sender()] {
		return false, nil
	}
	if e.Type() == event.TypeMember && e.StateKeyIs(v.user) {
		return true, nil // users always see changes to their own membership
	}
	st, err := v.stateBefore(ctx, se.StateBeforeNID)
	if err != nil {
		return false, err
	}
	history := st.history
	if e.Type() == event.TypeHistoryVisibility && e.StateKeyIs("") {
		history = morePermissive(history, historyOf(e))
	}
	switch history {
	case visWorldReadable:
		return true, nil
	case visInvited:
		return st.membership == event.Join || st.membership == event.Invite, nil
	case visJoined:
		return st.membership == event.Join, nil
	default: // shared, and anything unknown is treated as shared
		return st.membership == event.Join || v.current[roomID] == event.Join, nil
	}
}

func (v *Visibility) stateBefore(ctx context.Context, snapshot int64) (visState, error) {
	if st, ok := v.cache[snapshot]; ok {
		return st, nil
	}
	memberKey := event.StateKey{Type: event.TypeMember, StateKey: v.user}
	histKey := event.StateKey{Type: event.TypeHistoryVisibility}
	nids, err := v.store.StateAt(ctx, snapshot, []event.StateKey{memberKey, histKey})
	if err != nil {
		return visState{}, err
	}
	st := visState{history: visShared}
	if len(nids) > 0 {
		list := make([]int64, 0, len(nids))
		for _, n := range nids {
			list = append(list, n)
		}
		evs, err := v.store.EventsByNID(ctx, list)
		if err != nil {
			return visState{}, err
		}
		for _, se := range evs {
			switch se.NID {
			case nids[memberKey]:
				st.membership = se.Event.Membership()
			case nids[histKey]:
				st.history = historyOf(se.Event)
			}
		}
	}
	v.cache[snapshot] = st
	return st, nil
}

func historyOf(e *event.Event) string {
	if h := gjson.GetBytes(e.Content(), "history_visibility"); h.Type == gjson.String {
		return h.Str
	}
	return visShared
}

var permissiveness = map[string]int{visJoined: 0, visInvited: 1, visShared: 2, visWorldReadable: 3}

func morePermissive(a, b string) string {
	if permissiveness[b] > permissiveness[a] {
		return b
	}
	return a
}
