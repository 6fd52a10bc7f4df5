package stateres

// trace records the intermediate sets of one resolution for tests and
// diagnostics. It is only filled when passed to resolve.
type trace struct {
	g *graph

	conflicted, authDiff, subgraph, fcs, x bitset
	sortedX, others                        []node
	mainlinePL                             node
	applied, refused                       []node
	fallbacks                              [][2]node // (event, auth event used)

	// onCheck, when set, is called after every auth check with its outcome.
	onCheck func(r *resolver, n node, err error)
	// forceV2 resolves a room version 12 room with the v2 algorithm (to
	// compare with an implementation that lacks v2.1).
	forceV2 bool
}

func (t *trace) fallback(e, a node) { t.fallbacks = append(t.fallbacks, [2]node{e, a}) }
