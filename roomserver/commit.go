package roomserver

import (
	"context"
	"fmt"
	"sort"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/storage/rooms"
)

// committed is what a successful transaction produced.
type committed struct {
	roomNID   int64
	nids      []int64 // per batch event
	befores   []int64 // per batch event: the snapshot of the state before it
	snapshot  int64
	chainLen  int
	stateNIDs map[event.StateKey]int64
	redacted  []stateEntry // stored events replaced by their redacted form
}

// commit stores a batch of accepted local events, then updates the hot
// state, publishes the stream positions and notifies. The room's mutex is
// held by the caller. The write goes through the group committer, which puts
// the batches of several rooms that arrive together into one transaction.
func (rs *RoomServer) commit(ctx context.Context, r *room, b *batch, newRoom bool) ([]Output, error) {
	n := len(b.events)
	req := &commitReq{r: r, b: b, newRoom: newRoom, first: rs.stream.allocate(n), dests: rs.destinations(r, b),
		ts: rs.now(), done: make(chan error, 1)}
	err := rs.committer.submit(ctx, req)
	if err != nil {
		rs.stream.done(req.first, n)
		return nil, fmt.Errorf("roomserver: store events in %s: %w", r.id, err)
	}
	outs := rs.apply(r, b, req.res, req.first)
	pos := rs.stream.done(req.first, n)
	if rs.deps.Notifier != nil {
		rs.deps.Notifier.OnRoomEvents(outs, pos)
	}
	return outs, nil
}

// writeBatch performs the writes; it may run more than once (transaction
// retries), so it only reads r and b and returns what it made.
func (rs *RoomServer) writeBatch(ctx context.Context, w *rooms.Writer, r *room, b *batch, newRoom bool,
	first int64, dests []string, ts int64) (committed, error) {
	res := committed{roomNID: r.nid, snapshot: r.snapshotNID, chainLen: r.chainLen,
		stateNIDs: map[event.StateKey]int64{}, nids: make([]int64, 0, len(b.events))}
	var err error
	if newRoom {
		if res.roomNID, err = w.InsertRoom(ctx, r.id, r.version.ID, ts); err != nil {
			return res, err
		}
	}
	batchNIDs := make(map[string]int64, len(b.events))
	idx := rs.newIndexer(w, b, &res)
	for i, e := range b.events {
		// Auth edges are stored for state events only: auth chains are walked
		// through state events (every auth event is one), and a message's own
		// auth events are in its JSON. This saves a statement per message.
		var authNIDs []int64
		for _, id := range stateAuthEvents(e) {
			if nid, ok := batchNIDs[id]; ok {
				authNIDs = append(authNIDs, nid)
			} else if nid, ok := r.nidOf(id); ok {
				authNIDs = append(authNIDs, nid)
			}
		}
		p := b.txns[i]
		nid, err := w.InsertEvent(ctx, rooms.NewEvent{RoomNID: res.roomNID, Event: e, AuthEventNIDs: authNIDs,
			StreamPos: first + int64(i), StateBeforeNID: res.snapshot, StateAfterNID: res.snapshot,
			TxnDevice: p.DeviceID, TxnID: p.TxnID})
		if err != nil {
			return res, err
		}
		batchNIDs[e.ID()] = nid
		res.nids = append(res.nids, nid)
		res.befores = append(res.befores, res.snapshot)
		if err := idx.index(ctx, i, nid, first+int64(i)); err != nil {
			return res, err
		}
		if e.IsState() {
			res.stateNIDs[e.Key()] = nid
			if err := rs.snapshotAfter(ctx, w, r, &res, e.Key(), nid); err != nil {
				return res, err
			}
		}
		if err := w.EnqueueOutbox(ctx, nid, dests, ts); err != nil {
			return res, err
		}
	}
	removed := make([]int64, 0, len(r.extremities))
	for _, x := range r.extremities {
		removed = append(removed, x.nid)
	}
	if err := w.SetForwardExtremities(ctx, res.roomNID, removed, []int64{res.nids[len(res.nids)-1]}); err != nil {
		return res, err
	}
	if len(res.stateNIDs) == 0 {
		return res, nil
	}
	changes := make([]rooms.StateChange, 0, len(res.stateNIDs))
	for k, nid := range res.stateNIDs {
		changes = append(changes, rooms.StateChange{Key: k, EventNID: nid, Membership: b.overlay[k].Membership()})
	}
	sort.Slice(changes, func(i, j int) bool { return lessKey(changes[i].Key, changes[j].Key) })
	return res, w.UpdateCurrentState(ctx, res.roomNID, res.snapshot, changes)
}

// snapshotAfter writes the snapshot after state event nid: a one-entry delta
// on the previous snapshot, or a full base when the chain is long enough.
func (rs *RoomServer) snapshotAfter(ctx context.Context, w *rooms.Writer, r *room, res *committed, key event.StateKey, nid int64) error {
	var entries map[event.StateKey]int64
	parent, chain := res.snapshot, res.chainLen+1
	if res.snapshot == 0 || chain > rooms.MaxChainLen {
		entries = make(map[event.StateKey]int64, len(r.state)+len(res.stateNIDs))
		for k, e := range r.state {
			entries[k] = e.nid
		}
		for k, n := range res.stateNIDs {
			entries[k] = n
		}
		parent, chain = 0, 0
	} else {
		entries = map[event.StateKey]int64{key: nid}
	}
	snap, err := w.InsertSnapshot(ctx, res.roomNID, parent, chain, entries)
	if err != nil {
		return err
	}
	res.snapshot, res.chainLen = snap, chain
	return w.SetStateAfter(ctx, nid, snap)
}

// apply moves a committed batch into the room's hot state and the event cache.
func (rs *RoomServer) apply(r *room, b *batch, res committed, first int64) []Output {
	r.nid, r.snapshotNID, r.chainLen, r.loaded = res.roomNID, res.snapshot, res.chainLen, true
	outs := make([]Output, len(b.events))
	for i, e := range b.events {
		nid := res.nids[i]
		rs.events.Add(nid, e)
		if e.IsState() && res.stateNIDs[e.Key()] == nid {
			r.setState(e.Key(), stateEntry{nid: nid, ev: e})
		}
		outs[i] = Output{RoomID: r.id, Event: e, StreamPos: first + int64(i), StateChanged: e.IsState(),
			NID: nid, RoomNID: res.roomNID, StateBeforeNID: res.befores[i]}
	}
	for _, x := range res.redacted {
		rs.events.Add(x.nid, x.ev)
		if cur, ok := r.state[x.ev.Key()]; ok && x.ev.IsState() && cur.nid == x.nid {
			r.setState(x.ev.Key(), x)
		}
	}
	last := len(b.events) - 1
	r.extremities = []stateEntry{{nid: res.nids[last], ev: b.events[last]}}
	if c, ok := r.state[event.StateKey{Type: event.TypeCreate}]; ok {
		r.create = c.ev
	}
	return outs
}

// destinations are the other servers to send the batch to: those with joined
// members before or after it.
func (rs *RoomServer) destinations(r *room, b *batch) []string {
	self := rs.ServerName()
	seen := map[string]bool{}
	var out []string
	add := func(servers []string) {
		for _, s := range servers {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	add(r.joinedServers(self))
	for k, e := range b.overlay {
		if k.Type == event.TypeMember && e.Membership() == event.Join {
			if d := mxid.Domain(k.StateKey); d != self {
				add([]string{d})
			}
		}
	}
	sort.Strings(out)
	return out
}

func lessKey(a, b event.StateKey) bool {
	if a.Type != b.Type {
		return a.Type < b.Type
	}
	return a.StateKey < b.StateKey
}

// stateAuthEvents returns the auth events whose edges are stored: those of
// state events.
func stateAuthEvents(e *event.Event) []string {
	if !e.IsState() {
		return nil
	}
	return e.AuthEvents()
}
