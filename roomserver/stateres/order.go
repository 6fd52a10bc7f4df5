package stateres

import (
	"math"
	"slices"
	"strings"
)

// sortKey is what the orderings compare, precomputed per event.
type sortKey struct {
	rank int64 // power level (topological) or mainline position (mainline)
	ts   int64
	id   string
	n    node
}

// before is the spec's "x < y": greater rank first, then smaller
// origin_server_ts, then smaller event ID.
func (a *sortKey) before(b *sortKey) bool {
	if a.rank != b.rank {
		return a.rank > b.rank
	}
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	return a.id < b.id
}

func cmpKeys(a, b sortKey) int {
	switch {
	case a.rank != b.rank:
		if a.rank > b.rank {
			return -1
		}
		return 1
	case a.ts != b.ts:
		if a.ts < b.ts {
			return -1
		}
		return 1
	}
	return strings.Compare(a.id, b.id)
}

// reverseTopological sorts the events of x by the reverse topological power
// ordering: Kahn's algorithm over the auth edges between events of x, taking
// at each step the smallest ready event (highest sender power level, then
// earliest origin_server_ts, then smallest event ID) from a binary heap.
func (r *resolver) reverseTopological(x bitset) []node {
	g := r.g
	members := make([]node, 0, 16)
	x.each(func(n node) { members = append(members, n) })
	m := len(members)
	if m == 0 {
		return nil
	}
	local := r.scratchLocal()
	keys := make([]sortKey, m)
	for i, n := range members {
		local[n] = int32(i)
		keys[i] = sortKey{rank: r.senderPower(n), ts: g.evs[n].OriginServerTS(), id: g.ids[n], n: n}
	}
	// Dependencies of i: its auth events within x. Reverse edges (who waits
	// for i) in CSR form.
	indeg := make([]int32, m)
	revOff := make([]int32, m+1)
	for i, n := range members {
		for _, a := range g.auth(n) {
			if j := local[a]; j >= 0 {
				indeg[i]++
				revOff[j+1]++
			}
		}
	}
	for j := 0; j < m; j++ {
		revOff[j+1] += revOff[j]
	}
	rev := make([]int32, revOff[m])
	fill := slices.Clone(revOff[:m])
	for i, n := range members {
		for _, a := range g.auth(n) {
			if j := local[a]; j >= 0 {
				rev[fill[j]] = int32(i)
				fill[j]++
			}
		}
	}
	h := keyHeap{keys: keys, items: make([]int32, 0, m)}
	for i := 0; i < m; i++ {
		if indeg[i] == 0 {
			h.push(int32(i))
		}
	}
	out := make([]node, 0, m)
	for len(h.items) > 0 {
		i := h.pop()
		out = append(out, members[i])
		for _, w := range rev[revOff[i]:revOff[i+1]] {
			if indeg[w]--; indeg[w] == 0 {
				h.push(w)
			}
		}
	}
	for _, n := range members {
		local[n] = -1
	}
	// A cycle (impossible for hash-named events) leaves events unplaced; they
	// follow in comparison order so that the result stays deterministic.
	if len(out) < m {
		var rest []sortKey
		for i := range keys {
			if indeg[i] > 0 {
				rest = append(rest, keys[i])
			}
		}
		slices.SortFunc(rest, cmpKeys)
		for _, k := range rest {
			out = append(out, k.n)
		}
	}
	return out
}

// scratchLocal returns a per-node int32 slice filled with -1, reused across
// calls (callers restore the -1s they set).
func (r *resolver) scratchLocal() []int32 {
	if r.local == nil {
		r.local = make([]int32, len(r.g.ids))
		for i := range r.local {
			r.local[i] = -1
		}
	}
	return r.local
}

// keyHeap is a binary min-heap of indices into keys.
type keyHeap struct {
	keys  []sortKey
	items []int32
}

func (h *keyHeap) less(a, b int32) bool { return h.keys[a].before(&h.keys[b]) }

func (h *keyHeap) push(i int32) {
	h.items = append(h.items, i)
	c := len(h.items) - 1
	for c > 0 {
		p := (c - 1) / 2
		if !h.less(h.items[c], h.items[p]) {
			break
		}
		h.items[c], h.items[p] = h.items[p], h.items[c]
		c = p
	}
}

func (h *keyHeap) pop() int32 {
	top := h.items[0]
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	h.items = h.items[:last]
	p := 0
	for {
		l := 2*p + 1
		if l >= last {
			break
		}
		c := l
		if r := l + 1; r < last && h.less(h.items[r], h.items[l]) {
			c = r
		}
		if !h.less(h.items[c], h.items[p]) {
			break
		}
		h.items[c], h.items[p] = h.items[p], h.items[c]
		p = c
	}
	return top
}

// infinity is the mainline position of an event whose power levels chain
// never meets the mainline.
const infinity = math.MaxInt64

// mainlineOrder sorts events by the mainline ordering based on the power
// levels event pl (none: every position is ∞). Positions are memoised per
// power levels event, so every chain is walked once.
func (r *resolver) mainlineOrder(events []node, pl node) []node {
	g := r.g
	pos := make(map[node]int64, 16)
	for i, p := 0, pl; p != none; i, p = i+1, g.plAuth[p] {
		if _, loop := pos[p]; loop {
			break
		}
		pos[p] = int64(i)
	}
	var path []node
	position := func(e node) int64 {
		path = path[:0]
		p := g.plAuth[e]
		var at int64 = infinity
		for p != none {
			if v, ok := pos[p]; ok {
				at = v
				break
			}
			path = append(path, p)
			if len(path) > len(g.ids) { // a cycle: give up on this chain
				break
			}
			p = g.plAuth[p]
		}
		for _, q := range path {
			pos[q] = at
		}
		return at
	}
	keys := make([]sortKey, len(events))
	for i, e := range events {
		keys[i] = sortKey{rank: position(e), ts: g.evs[e].OriginServerTS(), id: g.ids[e], n: e}
	}
	slices.SortFunc(keys, cmpKeys)
	out := make([]node, len(keys))
	for i, k := range keys {
		out[i] = k.n
	}
	return out
}
