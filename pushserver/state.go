package pushserver

import (
	"context"

	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/storage/push"
	"github.com/concordchat/concord/storage/rooms"
)

// roomState is what rule evaluation needs of a room state (the state before
// an event). It is shared through the snapshot cache and never modified.
type roomState struct {
	joined   int               // joined members
	local    map[string]string // local joined members → display name ("" for none)
	version  *roomversion.Version
	provider auth.StateProvider // create and power levels events
}

// level returns a user's power level in the state.
func (st *roomState) level(user string) int64 {
	if st.version == nil {
		return 0
	}
	return auth.UserPowerLevel(st.version, st.provider, user)
}

// notificationLevel returns the level the power levels require for a
// notification kind.
func (st *roomState) notificationLevel(key string) int64 {
	return auth.RoomPowerLevels(st.provider).NotificationLevel(key)
}

var (
	createKey = event.StateKey{Type: event.TypeCreate}
	plKey     = event.StateKey{Type: event.TypePowerLevels}
)

// stateBefore returns the state before a stored event, cached by snapshot:
// consecutive messages share one.
func (w *Worker) stateBefore(ctx context.Context, se rooms.StoredEvent) (*roomState, error) {
	if st, ok := w.states.Get(se.StateBeforeNID); ok {
		return st, nil
	}
	nids, err := w.deps.RoomStore.State(ctx, se.StateBeforeNID)
	if err != nil {
		return nil, err
	}
	want := make(map[event.StateKey]int64, len(nids))
	for k, nid := range nids {
		if k.Type == event.TypeMember || k == createKey || k == plKey {
			want[k] = nid
		}
	}
	evs, err := w.deps.RoomStore.StateEvents(ctx, want)
	if err != nil {
		return nil, err
	}
	st := &roomState{local: map[string]string{}, version: se.Event.Version()}
	byKey := map[event.StateKey]*event.Event{}
	for k, stored := range evs {
		e := stored.Event
		if k.Type != event.TypeMember {
			byKey[k] = e
			continue
		}
		if e.Membership() != event.Join {
			continue
		}
		st.joined++
		if w.isLocal(k.StateKey) {
			st.local[k.StateKey] = displayName(e)
		}
	}
	st.provider = auth.FromMap(byKey)
	w.states.Add(se.StateBeforeNID, st)
	return st, nil
}

func displayName(member *event.Event) string {
	if n := gjson.GetBytes(member.Content(), "displayname"); n.Type == gjson.String {
		return n.Str
	}
	return ""
}

func (w *Worker) isLocal(user string) bool {
	return mxid.Domain(user) == w.deps.ServerName
}

// maxThreadHops bounds how far relations are followed to find a thread, as
// the push module recommends (3).
const maxThreadHops = 3

// threadInfo is the thread of an event and how many relations lead from the
// event to the one with the m.thread relation (0 for that one).
type threadInfo struct {
	thread string
	hops   int
}

// threadOf returns the thread an event belongs to: the root's event ID for
// an m.thread relation, the thread of the event it relates to for other
// relations (reactions and edits of thread messages) when the m.thread
// relation is at most three relations away, and the main timeline otherwise
// (thread roots included). Known events' threads come from a cache, with
// the same result as reading them from the room store.
func (w *Worker) threadOf(ctx context.Context, e *event.Event) threadInfo {
	main := threadInfo{thread: push.ThreadMain}
	relType, parent := relation(e.Content())
	for hops := 0; ; hops++ {
		if relType == "m.thread" && parent != "" {
			return threadInfo{thread: parent, hops: hops}
		}
		if parent == "" || hops >= maxThreadHops {
			return main
		}
		if p, ok := w.threads.Get(parent); ok {
			if p.thread == push.ThreadMain || hops+1+p.hops > maxThreadHops {
				return main
			}
			return threadInfo{thread: p.thread, hops: hops + 1 + p.hops}
		}
		evs, err := w.deps.RoomStore.EventsByID(ctx, []string{parent})
		if err != nil || len(evs) == 0 || evs[0].Event.RoomID() != e.RoomID() {
			return main
		}
		relType, parent = relation(evs[0].Event.Content())
	}
}

// relation reads content["m.relates_to"]: rel_type and event_id.
func relation(content []byte) (relType, eventID string) {
	rel := gjson.GetBytes(content, `m\.relates_to`)
	if !rel.IsObject() {
		return "", ""
	}
	if t := rel.Get("rel_type"); t.Type == gjson.String {
		relType = t.Str
	}
	if id := rel.Get("event_id"); id.Type == gjson.String {
		eventID = id.Str
	}
	return relType, eventID
}
