package stateres

import (
	"bytes"
	"crypto/sha1"
	"slices"

	"github.com/concordchat/concord/roomserver/event"
)

// resolveV1 is the state resolution algorithm of room version 1.
//
// "A conflict occurs between states where those states have different
// event_ids for the same (event_type, state_key)": a key that only some sets
// have, always with the same event, is not conflicted.
//
// The member step ("Repeat the above process for conflicts between
// m.room.member events") resolves each conflicted member key on its own
// against R as it stands after the join rules, and adds all the winners to R
// together, so that the result does not depend on the order of the keys.
func (r *resolver) resolveV1() (map[event.StateKey]string, error) {
	g := r.g
	r.fallback = false
	// R: the union of the states, excluding conflicting events.
	r.state = make(partialState, len(g.keys))
	for k := range r.state {
		r.state[k] = none
		if !r.multi[k] {
			r.state[k] = r.first[k]
		}
	}
	blocks := r.conflictBlocks()
	var pl, jr, members, others []int32
	for k := range blocks {
		key := g.keys[k]
		switch {
		case key.Type == event.TypePowerLevels && key.StateKey == "":
			pl = append(pl, k)
		case key.Type == event.TypeJoinRules && key.StateKey == "":
			jr = append(jr, k)
		case key.Type == event.TypeMember:
			members = append(members, k)
		default:
			others = append(others, k)
		}
	}
	for _, k := range pl {
		r.state.set(k, r.resolveAuthBlock(k, blocks[k]))
	}
	for _, k := range jr {
		r.state.set(k, r.resolveAuthBlock(k, blocks[k]))
	}
	won := make([]node, len(members))
	for i, k := range members {
		won[i] = r.resolveAuthBlock(k, blocks[k])
		r.state.set(k, none)
	}
	for i, k := range members {
		r.state.set(k, won[i])
	}
	slices.Sort(others) // deterministic; other events do not affect each other's auth
	for _, k := range others {
		r.state.set(k, r.resolveNormalBlock(blocks[k]))
	}
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}
	return r.result(func(int32) bool { return false }), nil
}

// conflictBlocks groups the distinct events of every conflicted key, sorted
// by ascending depth then descending sha1(event_id).
func (r *resolver) conflictBlocks() map[int32][]node {
	g := r.g
	blocks := map[int32][]node{}
	for _, es := range r.sets {
		for _, e := range es {
			if r.multi[e.key] && !slices.Contains(blocks[e.key], e.n) {
				blocks[e.key] = append(blocks[e.key], e.n)
			}
		}
	}
	type item struct {
		depth int64
		sum   [sha1.Size]byte
		n     node
	}
	for _, b := range blocks {
		items := make([]item, len(b))
		for i, n := range b {
			items[i] = item{depth: g.evs[n].Depth(), sum: sha1.Sum([]byte(g.ids[n])), n: n}
		}
		slices.SortFunc(items, func(a, b item) int {
			if a.depth != b.depth {
				if a.depth < b.depth {
					return -1
				}
				return 1
			}
			return -bytes.Compare(a.sum[:], b.sum[:])
		})
		for i := range items {
			b[i] = items[i].n
		}
	}
	return blocks
}

// resolveAuthBlock: "Add the first event in the list to R. For each
// subsequent event in the list, check that the event would be allowed by the
// authorisation rules for a room in state R. If the event would be allowed,
// then update R with the event and continue with the next event in the list.
// If it would not be allowed, stop".
func (r *resolver) resolveAuthBlock(k int32, block []node) node {
	won := block[0]
	r.state.set(k, won)
	for _, n := range block[1:] {
		if !r.allowed(n) {
			break
		}
		won = n
		r.state.set(k, won)
	}
	return won
}

// resolveNormalBlock: "pick the event with the highest depth and lowest
// sha1(event_id) that passes authentication in R"; when none does, the
// event with the lowest depth.
func (r *resolver) resolveNormalBlock(block []node) node {
	for i := len(block) - 1; i > 0; i-- {
		if r.allowed(block[i]) {
			return block[i]
		}
	}
	return block[0]
}
