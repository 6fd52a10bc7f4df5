package stateres

import "math/bits"

// bitset is a fixed-size set of nodes.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)>>6) }

func (b bitset) has(n node) bool { return b[n>>6]&(1<<(uint(n)&63)) != 0 }
func (b bitset) add(n node)      { b[n>>6] |= 1 << (uint(n) & 63) }

// addNew adds n and reports whether it was absent.
func (b bitset) addNew(n node) bool {
	w, m := n>>6, uint64(1)<<(uint(n)&63)
	if b[w]&m != 0 {
		return false
	}
	b[w] |= m
	return true
}

// or adds every member of o.
func (b bitset) or(o bitset) {
	for i := range b {
		b[i] |= o[i]
	}
}

// each calls fn for every member in ascending order.
func (b bitset) each(fn func(node)) {
	for i, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			fn(node(i<<6 | t))
			w &= w - 1
		}
	}
}

// count returns the number of members.
func (b bitset) count() int {
	c := 0
	for _, w := range b {
		c += bits.OnesCount64(w)
	}
	return c
}
