package stateres

import (
	"context"
	"fmt"

	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// Resolve returns the resolved state for the given state sets (each: state
// key → event ID) using the algorithm of version v. Events are obtained via
// the EventSource in batches.
//
// The result is a new map; the inputs are not modified. With fewer than two
// state sets there is nothing to resolve and the union is returned.
func Resolve(ctx context.Context, v *roomversion.Version, stateSets []map[event.StateKey]string, src EventSource) (map[event.StateKey]string, error) {
	return resolve(ctx, v, stateSets, src, nil)
}

// resolve is Resolve with an optional trace of the intermediate sets (tests).
func resolve(ctx context.Context, v *roomversion.Version, stateSets []map[event.StateKey]string, src EventSource, tr *trace) (map[event.StateKey]string, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: no room version", ErrUnsupported)
	}
	if len(stateSets) < 2 {
		out := map[event.StateKey]string{}
		for _, s := range stateSets {
			for k, id := range s {
				out[k] = id
			}
		}
		return out, nil
	}
	r, err := newResolver(ctx, v, stateSets, src, tr)
	if err != nil {
		return nil, err
	}
	switch v.StateRes {
	case roomversion.StateResV1:
		return r.resolveV1()
	case roomversion.StateResV2, roomversion.StateResV2_1:
		return r.resolveV2(v.StateRes == roomversion.StateResV2_1 && (tr == nil || !tr.forceV2))
	}
	return nil, fmt.Errorf("%w: room version %s", ErrUnsupported, v.ID)
}

// entry is one (key, event) pair of a state set, interned.
type entry struct {
	key int32
	n   node
}

// resolver holds the state of one Resolve call.
type resolver struct {
	ctx context.Context
	src EventSource
	g   *graph
	tr  *trace

	sets  [][]entry
	first []node  // per key: the event of the first set that has the key
	seen  []int32 // per key: how many sets have the key with value first
	multi []bool  // per key: sets disagree on the event

	create node // the room's create event, or none

	state         partialState // the partial state of the iterative checks
	fallback      bool         // look in the event's auth events for absent keys
	cur, pcur     node         // the event being checked / whose power is computed
	stateProvider auth.StateProvider
	authProvider  auth.StateProvider
	local         []int32 // scratch: node → index in a subset, -1 otherwise
}

func newResolver(ctx context.Context, v *roomversion.Version, stateSets []map[event.StateKey]string, src EventSource, tr *trace) (*resolver, error) {
	hint := 0
	for _, s := range stateSets {
		hint += len(s)
	}
	g := newGraph(v, hint)
	if rs, ok := src.(RejectionSource); ok {
		g.rej = rs
	}
	r := &resolver{ctx: ctx, src: src, g: g, tr: tr, create: none, cur: none, pcur: none}
	r.stateProvider = r.lookup
	if tr != nil {
		tr.g = g
	}
	r.authProvider = r.authLookup
	r.sets = make([][]entry, len(stateSets))
	roots := make([]string, 0, hint)
	for i, s := range stateSets {
		es := make([]entry, 0, len(s))
		for k, id := range s {
			n, isNew := g.intern(id)
			if isNew {
				roots = append(roots, id)
			}
			es = append(es, entry{key: g.internKey(k), n: n})
		}
		r.sets[i] = es
	}
	nkeys := len(g.keys)
	r.first = make([]node, nkeys)
	r.seen = make([]int32, nkeys)
	r.multi = make([]bool, nkeys)
	for i := range r.first {
		r.first[i] = none
	}
	for _, es := range r.sets {
		for _, e := range es {
			switch r.first[e.key] {
			case none:
				r.first[e.key] = e.n
				r.seen[e.key] = 1
			case e.n:
				r.seen[e.key]++
			default:
				r.multi[e.key] = true
			}
		}
	}
	if err := r.load(roots); err != nil {
		return nil, err
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	return r, nil
}

// load fetches the state events and their auth chains.
func (r *resolver) load(roots []string) error {
	g := r.g
	if acs, ok := r.src.(AuthChainSource); ok {
		chain, err := acs.AuthChain(r.ctx, roots)
		if err != nil {
			return fmt.Errorf("stateres: auth chain: %w", err)
		}
		all := append(roots[:len(roots):len(roots)], chain...)
		if err := g.load(r.ctx, r.src, all, false); err != nil {
			return err
		}
		// Anything the index missed is walked for, so the result never
		// depends on the index being complete.
		var missed []string
		for _, e := range g.evs {
			if e == nil {
				continue
			}
			for _, a := range e.AuthEvents() {
				if _, ok := g.index[a]; !ok {
					missed = append(missed, a)
				}
			}
		}
		if len(missed) > 0 {
			if err := g.load(r.ctx, r.src, missed, true); err != nil {
				return err
			}
		}
	} else if err := g.load(r.ctx, r.src, roots, true); err != nil {
		return err
	}
	if g.v.RoomIDFromCreate {
		// v12: the create event is named by the room ID, not by auth_events.
		if err := r.findCreateV12(); err != nil {
			return err
		}
	}
	g.finish()
	return nil
}

// findCreateV12 loads the create event named by the room ID of the state.
func (r *resolver) findCreateV12() error {
	g := r.g
	for _, es := range r.sets {
		for _, e := range es {
			ev := g.evs[e.n]
			if ev == nil || len(ev.RoomID()) < 2 {
				continue
			}
			id := "$" + ev.RoomID()[1:]
			if err := g.load(r.ctx, r.src, []string{id}, true); err != nil {
				return err
			}
			if n := g.index[id]; g.evs[n] != nil {
				r.create = n
			}
			return nil
		}
	}
	return nil
}

// check validates the state sets against the loaded events.
func (r *resolver) check() error {
	g := r.g
	room := ""
	for _, es := range r.sets {
		for _, e := range es {
			ev := g.evs[e.n]
			if ev == nil {
				return fmt.Errorf("%w: %s", ErrMissingEvent, g.ids[e.n])
			}
			if !ev.IsState() || ev.Key() != g.keys[e.key] {
				return fmt.Errorf("%w: %s is not the state event for %v", ErrBadStateSet, ev.ID(), g.keys[e.key])
			}
			if ev.Version() != nil && ev.Version().ID != g.v.ID {
				return fmt.Errorf("%w: %s is an event of room version %s", ErrBadStateSet, ev.ID(), ev.Version().ID)
			}
			if room == "" {
				room = ev.RoomID()
			} else if ev.RoomID() != room {
				return fmt.Errorf("%w: %s is in room %s, not %s", ErrBadStateSet, ev.ID(), ev.RoomID(), room)
			}
			if r.create == none && ev.Type() == event.TypeCreate && ev.StateKeyIs("") {
				r.create = e.n
			}
		}
	}
	return nil
}

// unconflicted reports whether key k has the same event in every state set.
func (r *resolver) unconflicted(k int32) bool {
	return k >= 0 && int(k) < len(r.multi) && !r.multi[k] && int(r.seen[k]) == len(r.sets)
}

// conflicted returns the conflicted state set: every event of a key that is
// not unconflicted.
func (r *resolver) conflicted() bitset {
	c := newBitset(len(r.g.ids))
	for _, es := range r.sets {
		for _, e := range es {
			if !r.unconflicted(e.key) {
				c.add(e.n)
			}
		}
	}
	return c
}
