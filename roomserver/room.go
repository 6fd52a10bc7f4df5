package roomserver

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/storage/rooms"
)

// room is the in-memory hot state of one room. mu serializes every input to
// the room; the fields are only touched with mu held.
type room struct {
	mu     sync.Mutex
	id     string
	loaded bool

	nid         int64
	version     *roomversion.Version
	state       map[event.StateKey]stateEntry
	snapshotNID int64
	chainLen    int
	extremities []stateEntry
	create      *event.Event
	// nidByID indexes current state events by event ID (built lazily).
	nidByID map[string]int64
}

type stateEntry struct {
	nid int64
	ev  *event.Event
}

// load reads the room from storage the first time it is used.
func (rs *RoomServer) load(ctx context.Context, r *room) error {
	if r.loaded {
		return nil
	}
	info, err := rs.deps.Store.Room(ctx, r.id)
	if errors.Is(err, rooms.ErrNotFound) {
		return ErrRoomNotFound
	}
	if err != nil {
		return err
	}
	current, err := rs.deps.Store.CurrentState(ctx, info.NID)
	if err != nil {
		return err
	}
	extremNIDs, err := rs.deps.Store.ForwardExtremities(ctx, info.NID)
	if err != nil {
		return err
	}
	nids := make([]int64, 0, len(current)+len(extremNIDs))
	for _, nid := range current {
		nids = append(nids, nid)
	}
	nids = append(nids, extremNIDs...)
	evs, err := rs.eventsByNID(ctx, nids)
	if err != nil {
		return err
	}
	r.state = make(map[event.StateKey]stateEntry, len(current))
	r.nidByID = nil
	for k, nid := range current {
		ev := evs[nid]
		if ev == nil {
			return fmt.Errorf("roomserver: room %s: current state event %d missing", r.id, nid)
		}
		r.state[k] = stateEntry{nid: nid, ev: ev}
	}
	r.extremities = r.extremities[:0]
	for _, nid := range extremNIDs {
		ev := evs[nid]
		if ev == nil {
			return fmt.Errorf("roomserver: room %s: extremity %d missing", r.id, nid)
		}
		r.extremities = append(r.extremities, stateEntry{nid: nid, ev: ev})
	}
	r.nid, r.version, r.snapshotNID = info.NID, info.Version, info.SnapshotNID
	if info.SnapshotNID != 0 {
		snap, err := rs.deps.Store.SnapshotInfo(ctx, info.SnapshotNID)
		if err != nil {
			return err
		}
		r.chainLen = snap.ChainLen
	}
	if c, ok := r.state[event.StateKey{Type: event.TypeCreate}]; ok {
		r.create = c.ev
	}
	r.loaded = true
	return nil
}

// eventsByNID returns events by NID from the cache or storage.
func (rs *RoomServer) eventsByNID(ctx context.Context, nids []int64) (map[int64]*event.Event, error) {
	out := make(map[int64]*event.Event, len(nids))
	var missing []int64
	for _, nid := range nids {
		if ev, ok := rs.events.Get(nid); ok {
			out[nid] = ev
		} else {
			missing = append(missing, nid)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	stored, err := rs.deps.Store.EventsByNID(ctx, missing)
	if err != nil {
		return nil, err
	}
	for _, se := range stored {
		out[se.NID] = se.Event
		rs.events.Add(se.NID, se.Event)
	}
	return out, nil
}

// get is the current state lookup used by auth and auth event selection; in
// v12 rooms the create event is found through the room even if not in state
// form, which it always is for rooms this server stores.
func (r *room) get(k event.StateKey) *event.Event {
	if e, ok := r.state[k]; ok {
		return e.ev
	}
	return nil
}

// joinedServers lists the servers with at least one joined member, except self.
func (r *room) joinedServers(self string) []string {
	seen := map[string]bool{}
	var out []string
	for k, e := range r.state {
		if k.Type != event.TypeMember || e.ev.Membership() != event.Join {
			continue
		}
		d := mxid.Domain(k.StateKey)
		if d != self && !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// setState records a current state entry and indexes its event ID.
func (r *room) setState(k event.StateKey, e stateEntry) {
	if old, ok := r.state[k]; ok && r.nidByID != nil {
		delete(r.nidByID, old.ev.ID())
	}
	r.state[k] = e
	if r.nidByID == nil {
		r.nidByID = map[string]int64{}
	}
	r.nidByID[e.ev.ID()] = e.nid
}

// nidOf returns the NID of a current state event by its ID.
func (r *room) nidOf(id string) (int64, bool) {
	if r.nidByID == nil {
		r.nidByID = make(map[string]int64, len(r.state))
		for _, e := range r.state {
			r.nidByID[e.ev.ID()] = e.nid
		}
	}
	nid, ok := r.nidByID[id]
	return nid, ok
}
