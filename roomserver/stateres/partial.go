package stateres

import (
	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
)

var createKey = event.StateKey{Type: event.TypeCreate}

// partialState maps interned state keys to events; it grows as keys are
// interned while resolving.
type partialState []node

func (p partialState) get(k int32) node {
	if k < 0 || int(k) >= len(p) {
		return none
	}
	return p[k]
}

func (p *partialState) set(k int32, n node) {
	for int(k) >= len(*p) {
		*p = append(*p, none)
	}
	(*p)[k] = n
}

// lookup is the StateProvider of the iterative auth checks for the event
// r.cur: the partial state first; when the key is absent, "the appropriate
// state event from the event's auth_events is used if the auth event is not
// rejected" (v2 only: r.fallback). In room version 12 the create event is
// the one named by the room ID.
func (r *resolver) lookup(k event.StateKey) *event.Event {
	g := r.g
	if kid, ok := g.keyIdx[k]; ok {
		if n := r.state.get(kid); n != none {
			return g.evs[n]
		}
	}
	if r.fallback {
		for _, a := range g.auth(r.cur) {
			if e := g.evs[a]; e.IsState() && e.Type() == k.Type && *e.StateKey() == k.StateKey && !g.rejected(a) {
				if r.tr != nil {
					r.tr.fallback(r.cur, a)
				}
				return e
			}
		}
	}
	if k == createKey && g.v.RoomIDFromCreate && r.create != none {
		return g.evs[r.create]
	}
	return nil
}

// authLookup is the StateProvider over the auth events of r.pcur (used for
// the sender's power level in the reverse topological power ordering).
func (r *resolver) authLookup(k event.StateKey) *event.Event {
	g := r.g
	for _, a := range g.auth(r.pcur) {
		if e := g.evs[a]; e.IsState() && e.Type() == k.Type && *e.StateKey() == k.StateKey {
			return e
		}
	}
	if k == createKey && g.v.RoomIDFromCreate && r.create != none {
		return g.evs[r.create]
	}
	return nil
}

// senderPower is the power level of n's sender looking at n's auth events,
// computed once per event.
func (r *resolver) senderPower(n node) int64 {
	g := r.g
	if g.flags[n]&flagPowerSet != 0 {
		return g.power[n]
	}
	r.pcur = n
	p := auth.SenderPowerLevel(g.evs[n], r.authProvider)
	g.power[n] = p
	g.flags[n] |= flagPowerSet
	return p
}

// allowed runs the authorisation rules on n against the partial state.
func (r *resolver) allowed(n node) bool {
	r.cur = n
	err := auth.Check(r.g.evs[n], r.stateProvider)
	if r.tr != nil && r.tr.onCheck != nil {
		r.tr.onCheck(r, n, err)
	}
	return err == nil
}

// iterate is the iterative auth checks algorithm: every event allowed by the
// authorisation rules against the partial state is applied to it, in order.
func (r *resolver) iterate(events []node) {
	for _, n := range events {
		k := r.g.key(n)
		if k < 0 {
			continue
		}
		if r.allowed(n) {
			r.state.set(k, n)
			if r.tr != nil {
				r.tr.applied = append(r.tr.applied, n)
			}
		} else if r.tr != nil {
			r.tr.refused = append(r.tr.refused, n)
		}
	}
}
