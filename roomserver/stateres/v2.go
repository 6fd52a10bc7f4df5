package stateres

import "github.com/concordchat/concord/roomserver/event"

// resolveV2 is the state resolution algorithm of room versions 2–11, and with
// v21 the one of room version 12: the conflicted state subgraph joins the
// full conflicted set and the first iterative auth checks start from an empty
// state map.
func (r *resolver) resolveV2(v21 bool) (map[event.StateKey]string, error) {
	g := r.g
	conf := r.conflicted()
	fcs := r.authDifference()
	if r.tr != nil {
		r.tr.authDiff = clone(fcs)
	}
	fcs.or(conf)
	if v21 {
		sub := r.conflictedSubgraph(conf)
		if r.tr != nil {
			r.tr.subgraph = clone(sub)
		}
		fcs.or(sub)
	}
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}

	// Step 1: the power events and their auth chains within the full
	// conflicted set, in reverse topological power ordering.
	x := r.powerSet(fcs)
	sorted := r.reverseTopological(x)

	// Step 2: iterative auth checks from the unconflicted state map (v2) or
	// from an empty map (v2.1).
	r.state = make(partialState, len(g.keys))
	for i := range r.state {
		r.state[i] = none
		if !v21 && r.unconflicted(int32(i)) {
			r.state[i] = r.first[i]
		}
	}
	r.fallback = true
	r.iterate(sorted)
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}

	// Step 3: the remaining events by mainline ordering based on the
	// resolved power levels event.
	others := make([]node, 0, 16)
	fcs.each(func(n node) {
		if !x.has(n) && g.key(n) >= 0 {
			others = append(others, n)
		}
	})
	pl := none
	if k, ok := g.keyIdx[event.StateKey{Type: event.TypePowerLevels}]; ok {
		pl = r.state.get(k)
	}
	others = r.mainlineOrder(others, pl)
	if r.tr != nil {
		r.tr.conflicted, r.tr.fcs, r.tr.x = conf, fcs, x
		r.tr.sortedX, r.tr.others, r.tr.mainlinePL = sorted, others, pl
	}

	// Step 4: iterative auth checks on the partial state.
	r.iterate(others)

	// Step 5: the unconflicted state map wins.
	return r.result(func(k int32) bool { return r.unconflicted(k) }), nil
}

// result renders the partial state overlaid with the keys for which keep
// holds (taking the first state set's event for them).
func (r *resolver) result(keep func(int32) bool) map[event.StateKey]string {
	g := r.g
	out := make(map[event.StateKey]string, len(g.keys))
	for k, n := range r.state {
		if n != none {
			out[g.keys[k]] = g.ids[n]
		}
	}
	for k := range r.first {
		if keep(int32(k)) {
			out[g.keys[k]] = g.ids[r.first[k]]
		}
	}
	return out
}

func clone(b bitset) bitset { return append(bitset(nil), b...) }
