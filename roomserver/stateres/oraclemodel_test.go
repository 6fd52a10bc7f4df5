package stateres

import (
	"errors"
	"slices"
	"strings"

	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
)

// This file predicts, for one resolution, where gomatrixserverlib (the
// differential oracle) processes the input differently from the spec, so that
// a disagreement can be attributed to a documented oracle deviation. Each
// deviation is a precise predicate on what the two implementations do: the
// oracle's sequence of events for the iterative auth checks (modelled here
// from its documented behaviour) against Concord's (from the trace), and the
// oracle's auth decision at each check (Concord's auth rules evaluated with
// the oracle's auth state) against Concord's. When no predicate holds, the
// two run the same checks in the same order with the same outcomes, so their
// results must be identical; any difference then fails the test.

// Deviation names (see regress_test.go for a minimal case of each, citing
// the spec).
const (
	devLeaveLeave   = "auth: leave->leave allowed"
	devFallbackSelf = "iterative checks: fallback adds the checked event instead of the auth event"
	devPowerSet     = "step 1: power set X differs (unconflicted events dropped, auth chain only through conflicted events)"
	devTopoOrder    = "step 1: reverse topological power ordering differs"
	devOthersSet    = "step 3: remaining events differ"
	devMainline     = "step 3: mainline ordering differs"
	devSplit        = "conflicted/unconflicted split differs (v2 oracle used for v12)"
	devV21          = "v12: v2.1 result differs from v2 (the oracle has no working v2.1)"
	devInvalid      = "input holds events that fail auth against their own auth events"
)

// gmslModel collects the predicted deviations of one resolution.
type gmslModel struct {
	devs map[string]bool
	v1   bool
}

func newModel(v1 bool) *gmslModel { return &gmslModel{devs: map[string]bool{}, v1: v1} }

func (m *gmslModel) add(d string) { m.devs[d] = true }

// isLeaveLeave: Concord refused a self-leave of a user whose membership is
// leave; gomatrixserverlib allows it ("NOTSPEC: Leave -> Leave is benign").
func isLeaveLeave(e *event.Event, err error) bool {
	var ae *auth.Error
	return errors.As(err, &ae) && ae.Rule == auth.RuleLeaveSelf && strings.Contains(ae.Reason, `"leave"`) &&
		e.Membership() == event.Leave && e.StateKeyIs(e.Sender())
}

// onCheck compares each of Concord's auth decisions with the oracle's.
func (m *gmslModel) onCheck(r *resolver, n node, err error) {
	g := r.g
	e := g.evs[n]
	if isLeaveLeave(e, err) {
		m.add(devLeaveLeave)
		return
	}
	if m.v1 || !r.fallback {
		return
	}
	// The oracle's auth state for e: for each key it needs, the partial
	// state's event, else — when e has a non-rejected auth event for the
	// key — e itself under e's own key.
	state := map[event.StateKey]*event.Event{}
	sender := event.StateKey{Type: event.TypeMember, StateKey: e.Sender()}
	needed := []event.StateKey{createKey}
	if e.Type() == event.TypeMember {
		switch e.Membership() {
		case event.Join, event.Invite, event.Knock:
			needed = append(needed, event.StateKey{Type: event.TypeJoinRules})
		}
		needed = append(needed, event.StateKey{Type: event.TypePowerLevels}, sender, e.Key())
	} else {
		needed = append(needed, event.StateKey{Type: event.TypePowerLevels}, sender)
	}
	for _, k := range needed {
		if kid, ok := g.keyIdx[k]; ok {
			if p := r.state.get(kid); p != none {
				state[k] = g.evs[p]
				continue
			}
		}
		for _, a := range g.auth(n) {
			if g.evs[a].Key() == k && g.evs[a].IsState() && !g.rejected(a) {
				state[e.Key()] = e
				break
			}
		}
	}
	oerr := auth.Check(e, auth.FromMap(state))
	if (oerr == nil) != (err == nil) && !isLeaveLeave(e, oerr) {
		m.add(devFallbackSelf)
	}
}

// sequences compares the oracle's step 1 and step 3 sequences with
// Concord's. conflicted and unconf are the oracle's conflicted and
// unconflicted events; fcsList is its full conflicted list (with repeats).
func (m *gmslModel) sequences(tr *trace, conflicted, unconf bitset, fcsList []node) {
	g := tr.g
	isCtrl := func(n node) bool {
		e := g.evs[n]
		switch e.Type() {
		case event.TypePowerLevels, event.TypeJoinRules:
			return e.StateKeyIs("")
		case event.TypeMember:
			return !e.StateKeyIs("") && !e.StateKeyIs(e.Sender()) && (e.Membership() == event.Leave || e.Membership() == event.Ban)
		}
		return false
	}
	// X: control events of the list and what they reach through
	// conflicted events only; mult counts the copies in the oracle's list.
	mult := map[node]int{}
	inX := map[node]bool{}
	var stack []node
	for _, n := range fcsList {
		if unconf.has(n) || !isCtrl(n) {
			continue
		}
		mult[n]++
		if !inX[n] {
			inX[n] = true
			stack = append(stack, n)
		}
	}
	reached := map[node]bool{}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, a := range g.auth(x) {
			if conflicted.has(a) && !reached[a] {
				reached[a] = true
				mult[a]++
				if !inX[a] {
					inX[a] = true
					stack = append(stack, a)
				}
			}
		}
	}
	var specX []node
	tr.x.each(func(n node) { specX = append(specX, n) })
	var modelX []node
	for n := range inX {
		modelX = append(modelX, n)
	}
	slices.Sort(modelX)
	if !slices.Equal(specX, modelX) {
		m.add(devPowerSet)
	} else if !slices.Equal(tr.sortedX, m.kahn(tr, inX, mult)) {
		m.add(devTopoOrder)
	}
	var others []node
	for _, n := range fcsList {
		if !unconf.has(n) && !isCtrl(n) && !inX[n] {
			others = append(others, n)
		}
	}
	specOthers := slices.Clone(tr.others)
	sortedOthers := slices.Clone(others)
	slices.Sort(specOthers)
	slices.Sort(sortedOthers)
	if !slices.Equal(specOthers, sortedOthers) {
		m.add(devOthersSet)
	} else if !slices.Equal(tr.others, m.mainline(tr, others)) {
		m.add(devMainline)
	}
}

// oraclePower is the oracle's sender power for the ordering: creators
// (v12) 2^53, else the first power levels auth event's users/users_default,
// else 0.
func oraclePower(g *graph, create *event.Event, n node) int64 {
	e := g.evs[n]
	if g.v.PrivilegedCreators && create != nil && auth.IsCreator(create, e.Sender()) {
		return 1 << 53
	}
	if p := g.plAuth[n]; p != none {
		pl, err := auth.PowerLevelsOf(g.evs[p])
		if err != nil {
			return 0
		}
		return pl.UserLevel(e.Sender())
	}
	return 0
}

// kahn models the oracle's ordering: it repeatedly takes the largest event
// that no remaining event cites and puts it in front; in-degrees count every
// copy of an event, and events never freed go first in ascending order.
func (m *gmslModel) kahn(tr *trace, inX map[node]bool, mult map[node]int) []node {
	g := tr.g
	var create *event.Event
	for n, e := range g.evs {
		if e != nil && e.Type() == event.TypeCreate && e.StateKeyIs("") {
			create = g.evs[n]
		}
	}
	key := func(n node) sortKey {
		return sortKey{rank: oraclePower(g, create, n), ts: g.evs[n].OriginServerTS(), id: g.ids[n], n: n}
	}
	cmp := func(a, b node) int { return cmpKeys(key(a), key(b)) }
	indeg := map[node]int{}
	for n := range inX {
		for _, a := range g.auth(n) {
			indeg[a] += mult[n]
		}
	}
	pending := map[node]bool{}
	var ready []node
	for n := range inX {
		if indeg[n] == 0 {
			ready = append(ready, n)
		} else {
			pending[n] = true
		}
	}
	var rev []node
	for len(ready) > 0 {
		slices.SortStableFunc(ready, cmp)
		x := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		rev = append(rev, x)
		for _, a := range g.auth(x) {
			indeg[a]--
			if indeg[a] == 0 && pending[a] {
				delete(pending, a)
				ready = append(ready, a)
			}
		}
	}
	var rest []node
	for n := range pending {
		rest = append(rest, n)
	}
	slices.SortStableFunc(rest, cmp)
	slices.Reverse(rev)
	return append(rest, rev...)
}

// mainline models the oracle's mainline ordering: positions counted from
// the root of the mainline (0 also when the mainline is never met), then the
// number of power levels events walked, then origin_server_ts and event ID.
func (m *gmslModel) mainline(tr *trace, events []node) []node {
	g := tr.g
	var line []node
	for p := tr.mainlinePL; p != none && !slices.Contains(line, p); p = g.plAuth[p] {
		line = append(line, p)
	}
	pos := map[node]int64{}
	for i, p := range line {
		pos[p] = int64(len(line) - 1 - i)
	}
	type item struct {
		pos, steps, ts int64
		id             string
		n              node
	}
	items := make([]item, len(events))
	for i, n := range events {
		it := item{ts: g.evs[n].OriginServerTS(), id: g.ids[n], n: n}
		for p := g.plAuth[n]; p != none; p = g.plAuth[p] {
			if v, ok := pos[p]; ok {
				it.pos = v
				break
			}
			it.steps++
		}
		items[i] = it
	}
	slices.SortStableFunc(items, func(a, b item) int {
		switch {
		case a.pos != b.pos:
			return int(a.pos - b.pos)
		case a.steps != b.steps:
			return int(a.steps - b.steps)
		case a.ts != b.ts:
			return int(a.ts - b.ts)
		}
		return strings.Compare(a.id, b.id)
	})
	out := make([]node, len(items))
	for i, it := range items {
		out[i] = it.n
	}
	return out
}

func (m *gmslModel) names() []string {
	var out []string
	for d := range m.devs {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}
