package stateres

// authDifference returns ∪Cᵢ − ∩Cᵢ where Cᵢ is the full auth chain of state
// set i (the union of the auth chains of its events). Rather than
// materialising each chain, it walks from each set once, stamping visited
// nodes with the set's number and counting how many sets reach each node.
func (r *resolver) authDifference() bitset {
	g := r.g
	n := len(g.ids)
	stamp := make([]int32, n)
	count := make([]int32, n)
	stack := make([]node, 0, 64)
	for i, es := range r.sets {
		mark := int32(i + 1)
		stack = stack[:0]
		for _, e := range es {
			for _, a := range g.auth(e.n) {
				if stamp[a] != mark {
					stamp[a] = mark
					count[a]++
					stack = append(stack, a)
				}
			}
		}
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, a := range g.auth(x) {
				if stamp[a] != mark {
					stamp[a] = mark
					count[a]++
					stack = append(stack, a)
				}
			}
		}
	}
	k := int32(len(r.sets))
	diff := newBitset(n)
	for i, c := range count {
		if c > 0 && c < k {
			diff.add(node(i))
		}
	}
	return diff
}

// conflictedSubgraph returns the events on auth_events paths between two
// events of the conflicted set c (endpoints included): the events reachable
// from some conflicted event that can themselves reach a conflicted event.
// Both searches are linear: a forward walk from c, then a memoised post-order
// walk that decides "reaches a conflicted event" once per node.
func (r *resolver) conflictedSubgraph(c bitset) bitset {
	g := r.g
	n := len(g.ids)
	const (
		unseen = iota
		open
		done
	)
	state := make([]uint8, n)
	reaches := newBitset(n)
	out := newBitset(n)
	type frame struct {
		n node
		i int32
	}
	stack := make([]frame, 0, 64)
	c.each(func(start node) {
		if state[start] != unseen {
			return
		}
		state[start] = open
		stack = append(stack[:0], frame{n: start})
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			edges := g.auth(top.n)
			if int(top.i) < len(edges) {
				a := edges[top.i]
				top.i++
				if state[a] == unseen {
					state[a] = open
					stack = append(stack, frame{n: a})
				}
				continue
			}
			// Post-order: every auth event of top.n is decided.
			x := top.n
			stack = stack[:len(stack)-1]
			state[x] = done
			if c.has(x) {
				reaches.add(x)
				continue
			}
			for _, a := range edges {
				if reaches.has(a) {
					reaches.add(x)
					break
				}
			}
		}
	})
	// Every node visited above is reachable from a conflicted event (or is
	// one); those that reach a conflicted event lie on a path between two.
	for i := range state {
		if state[i] == done && reaches.has(node(i)) {
			out.add(node(i))
		}
	}
	return out
}

// powerSet returns X of step 1: the power events of the full conflicted set
// fcs, together with the events of their auth chains that are in fcs.
func (r *resolver) powerSet(fcs bitset) bitset {
	g := r.g
	x := newBitset(len(g.ids))
	seen := newBitset(len(g.ids))
	stack := make([]node, 0, 64)
	fcs.each(func(p node) {
		if g.flags[p]&flagPower != 0 {
			x.add(p)
			stack = append(stack, p)
		}
	})
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, a := range g.auth(p) {
			if seen.addNew(a) {
				if fcs.has(a) {
					x.add(a)
				}
				stack = append(stack, a)
			}
		}
	}
	return x
}
