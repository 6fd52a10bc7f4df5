package stateres

import (
	"context"
	"fmt"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// node is the dense index of an event within one Resolve call.
type node = int32

const none node = -1

// Per-node flags.
const (
	flagLoaded   uint8 = 1 << iota // the source returned the event
	flagPL                         // m.room.power_levels with state key ""
	flagPower                      // a power event (v2 definition)
	flagRejKnown                   // rejected status looked up
	flagRejected                   // the source reports it rejected
	flagPowerSet                   // power[n] holds the sender's power level
)

// graph is the auth DAG of one Resolve call with event IDs interned to dense
// int32 nodes. Auth edges are stored in compressed sparse row form; edges to
// events the source did not return are dropped.
type graph struct {
	v      *roomversion.Version
	ids    []string
	evs    []*event.Event
	index  map[string]node
	flags  []uint8
	keyOf  []int32 // interned state key, -1 for none, -2 not computed yet
	plAuth []node  // the power levels event among the auth events, or none
	power  []int64 // sender's power level from its auth events (flagPowerSet)

	authOff []int32 // auth edges of n: authTo[authOff[n]:authOff[n+1]]
	authTo  []node

	keys   []event.StateKey
	keyIdx map[event.StateKey]int32

	rej RejectionSource
}

func newGraph(v *roomversion.Version, hint int) *graph {
	return &graph{v: v, index: make(map[string]node, hint), keyIdx: make(map[event.StateKey]int32, hint)}
}

// intern returns the node of id, adding it when new.
func (g *graph) intern(id string) (node, bool) {
	if n, ok := g.index[id]; ok {
		return n, false
	}
	n := node(len(g.ids))
	g.index[id] = n
	g.ids = append(g.ids, id)
	g.evs = append(g.evs, nil)
	g.flags = append(g.flags, 0)
	return n, true
}

// internKey returns the dense index of a state key.
func (g *graph) internKey(k event.StateKey) int32 {
	if i, ok := g.keyIdx[k]; ok {
		return i
	}
	i := int32(len(g.keys))
	g.keyIdx[k] = i
	g.keys = append(g.keys, k)
	return i
}

// load fetches the events of roots and, when walk is set, their whole auth
// chains, one EventSource call per level of the DAG.
func (g *graph) load(ctx context.Context, src EventSource, roots []string, walk bool) error {
	batch := make([]string, 0, len(roots))
	for _, id := range roots {
		if n, _ := g.intern(id); g.flags[n]&flagLoaded == 0 && g.evs[n] == nil {
			batch = append(batch, id)
		}
	}
	batch = dedupe(batch)
	for len(batch) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		evs, err := src.Events(ctx, batch)
		if err != nil {
			return fmt.Errorf("stateres: loading events: %w", err)
		}
		next := batch[:0:0]
		for _, e := range evs {
			if e == nil {
				continue
			}
			n, ok := g.index[e.ID()]
			if !ok || g.flags[n]&flagLoaded != 0 {
				continue
			}
			g.evs[n] = e
			g.flags[n] |= flagLoaded
			if !walk {
				continue
			}
			for _, a := range e.AuthEvents() {
				if _, isNew := g.intern(a); isNew {
					next = append(next, a)
				}
			}
		}
		// IDs asked for but not returned stay unloaded and are never asked again.
		batch = next
	}
	return nil
}

func dedupe(ids []string) []string {
	seen := make(map[string]struct{}, len(ids))
	out := ids[:0]
	for _, id := range ids {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return out
}

// finish builds the edge table and per-node caches once every event is loaded.
func (g *graph) finish() {
	n := len(g.ids)
	g.keyOf = make([]int32, n)
	g.plAuth = make([]node, n)
	g.power = make([]int64, n)
	g.authOff = make([]int32, n+1)
	total := 0
	for i, e := range g.evs {
		g.keyOf[i] = -2
		g.plAuth[i] = none
		if e != nil {
			total += len(e.AuthEvents())
		}
	}
	g.authTo = make([]node, 0, total)
	for i, e := range g.evs {
		g.authOff[i] = int32(len(g.authTo))
		if e == nil {
			continue
		}
		if e.Type() == event.TypePowerLevels && e.StateKeyIs("") {
			g.flags[i] |= flagPL
		}
		if isPowerEvent(e) {
			g.flags[i] |= flagPower
		}
		for _, id := range e.AuthEvents() {
			a, ok := g.index[id]
			if !ok || g.evs[a] == nil {
				continue
			}
			g.authTo = append(g.authTo, a)
		}
	}
	g.authOff[n] = int32(len(g.authTo))
	for i := range g.evs {
		for _, a := range g.auth(node(i)) {
			if g.flags[a]&flagPL != 0 {
				g.plAuth[i] = a
				break
			}
		}
	}
}

// auth returns the loaded auth events of n.
func (g *graph) auth(n node) []node { return g.authTo[g.authOff[n]:g.authOff[n+1]] }

// key returns the interned state key of n, or -1 for a non-state event.
func (g *graph) key(n node) int32 {
	if k := g.keyOf[n]; k != -2 {
		return k
	}
	k := int32(-1)
	if e := g.evs[n]; e != nil && e.IsState() {
		k = g.internKey(e.Key())
	}
	g.keyOf[n] = k
	return k
}

// rejected reports (and caches) whether the source says n was rejected.
func (g *graph) rejected(n node) bool {
	f := g.flags[n]
	if f&flagRejKnown == 0 {
		f |= flagRejKnown
		if g.rej != nil && g.rej.IsRejected(g.ids[n]) {
			f |= flagRejected
		}
		g.flags[n] = f
	}
	return f&flagRejected != 0
}

// isPowerEvent is the spec's definition: "a state event with type
// m.room.power_levels or m.room.join_rules, or a state event with type
// m.room.member where the membership is leave or ban and the sender does not
// match the state_key" (no condition on the state key of the first two).
func isPowerEvent(e *event.Event) bool {
	if !e.IsState() {
		return false
	}
	switch e.Type() {
	case event.TypePowerLevels, event.TypeJoinRules:
		return true
	case event.TypeMember:
		m := e.Membership()
		return (m == event.Leave || m == event.Ban) && !e.StateKeyIs(e.Sender())
	}
	return false
}
