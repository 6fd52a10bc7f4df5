package clientapi

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	mevent "maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// TestRelationsPaging: /relations pages backwards and forwards with
// next_batch, from and to, recurses on request, and answers bad input with
// the right errors.
func TestRelationsPaging(t *testing.T) {
	forEachHistoryEnv(t, func(t *testing.T, h *historyEnv) {
		alice, bob := h.user("alice"), h.user("bob")
		room := h.publicRoom(t, alice, bob)
		root := h.text(t, alice, room, "root")
		var replies []id.EventID
		for i := 0; i < 7; i++ {
			replies = append(replies, h.relate(t, bob, room, "m.thread", root, fmt.Sprintf("reply %d", i)))
		}
		rel := func(q map[string]string, path ...any) (ids []string, next, prev string, depth int64, hasDepth bool) {
			res := h.get(t, alice, q, append([]any{"v1", "rooms", room, "relations", root}, path...)...)
			d := res.Get("recursion_depth")
			return histIDs(res.Get("chunk")), res.Get("next_batch").Str, res.Get("prev_batch").Str, d.Int(), d.Exists()
		}
		rev := func(evs ...id.EventID) []string {
			out := histStrs(evs...)
			for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
				out[i], out[j] = out[j], out[i]
			}
			return out
		}

		// Backwards, three at a time.
		var all []string
		q := map[string]string{"limit": "3"}
		pages := 0
		for {
			got, next, prev, _, hasDepth := rel(q)
			assert.False(t, hasDepth, "no recursion_depth without recurse")
			assert.Equal(t, q["from"], prev)
			all = append(all, got...)
			pages++
			if next == "" {
				break
			}
			q = map[string]string{"limit": "3", "from": next}
			require.Less(t, pages, 5)
		}
		assert.Equal(t, 3, pages)
		assert.Equal(t, rev(replies...), all)

		// Forwards from the start, bounded by a token from the middle.
		got, next, _, _, _ := rel(map[string]string{"dir": "f", "limit": "4"})
		assert.Equal(t, histStrs(replies[:4]...), got)
		got, next2, _, _, _ := rel(map[string]string{"dir": "f", "limit": "4", "from": next})
		assert.Equal(t, histStrs(replies[4:]...), got)
		assert.Empty(t, next2)
		_, mid, _, _, _ := rel(map[string]string{"limit": "2"}) // after replies[5]
		got, _, _, _, _ = rel(map[string]string{"limit": "10", "from": mid})
		assert.Equal(t, rev(replies[:5]...), got)
		got, _, _, _, _ = rel(map[string]string{"dir": "f", "limit": "10", "to": mid})
		assert.Equal(t, histStrs(replies[:5]...), got)
		got, _, _, _, _ = rel(map[string]string{"limit": "10", "to": mid})
		assert.Equal(t, rev(replies[5:]...), got)

		// recurse: a reaction to a reply relates to the root only indirectly.
		react, err := alice.SendReaction(h.ctx, room, replies[6], "🎉")
		require.NoError(t, err)
		edit := h.relate(t, bob, room, "m.replace", replies[6], "reply 6, edited")
		got, _, _, _, hasDepth := rel(map[string]string{"limit": "3", "recurse": "false"})
		assert.Equal(t, rev(replies[4:]...), got)
		assert.True(t, hasDepth)
		got, _, _, depth, hasDepth := rel(map[string]string{"limit": "4", "recurse": "true"})
		assert.Equal(t, rev(replies[5], replies[6], react.EventID, edit), got)
		assert.True(t, hasDepth)
		assert.Equal(t, int64(3), depth)
		// With a rel_type filter the reaction only relates through non-matching events.
		got, _, _, _, _ = rel(map[string]string{"limit": "3", "recurse": "true"}, "m.thread")
		assert.Equal(t, rev(replies[4:]...), got)
		// A listed child carries its own aggregations.
		res := h.get(t, alice, map[string]string{"limit": "1"}, "v1", "rooms", room, "relations", root, "m.thread")
		assert.Equal(t, edit.String(), res.Get("chunk.0."+relPath("m.replace")+".event_id").Str)

		// Bad input.
		for _, bad := range []map[string]string{{"dir": "x"}, {"limit": "many"}, {"limit": "-1"}, {"from": "garbage"},
			{"to": "s-1"}, {"recurse": "maybe"}} {
			_, err := h.rawGet(alice, bad, "v1", "rooms", room, "relations", root)
			requireMatrixError(t, err, http.StatusBadRequest, "M_INVALID_PARAM")
		}
		_, err = h.rawGet(alice, nil, "v1", "rooms", room, "relations", "$unknown")
		requireMatrixError(t, err, http.StatusNotFound, "M_NOT_FOUND")
		_, err = h.rawGet(alice, nil, "v1", "rooms", "not-a-room", "relations", root)
		requireMatrixError(t, err, http.StatusBadRequest, "M_INVALID_PARAM")
		other := h.publicRoom(t, bob)
		_, err = h.rawGet(bob, nil, "v1", "rooms", other, "relations", root)
		requireMatrixError(t, err, http.StatusNotFound, "M_NOT_FOUND")
	})
}

// TestRelationsVisibility: children follow history visibility and ignored
// users; a parent the user cannot see is not found.
func TestRelationsVisibility(t *testing.T) {
	forEachHistoryEnv(t, func(t *testing.T, h *historyEnv) {
		alice, bob, carol := h.user("alice"), h.user("bob"), h.user("carol")
		room := h.publicRoom(t, alice, bob)
		_, err := alice.SendStateEvent(h.ctx, room, mevent.StateHistoryVisibility, "",
			map[string]any{"history_visibility": "joined"})
		require.NoError(t, err)
		root := h.text(t, alice, room, "root")
		early := h.relate(t, bob, room, "m.thread", root, "before carol")
		_, err = h.rawGet(carol, nil, "v1", "rooms", room, "relations", root)
		requireMatrixError(t, err, http.StatusNotFound, "M_NOT_FOUND")
		_, err = carol.JoinRoomByID(h.ctx, room)
		require.NoError(t, err)
		_, err = h.rawGet(carol, nil, "v1", "rooms", room, "relations", root)
		requireMatrixError(t, err, http.StatusNotFound, "M_NOT_FOUND") // the root predates her join

		late := h.relate(t, bob, room, "m.reference", early, "after carol joined")
		mine := h.relate(t, alice, room, "m.reference", early, "alice too")
		list := func(cli *mautrix.Client) []string {
			return histIDs(h.get(t, cli, nil, "v1", "rooms", room, "relations", early).Get("chunk"))
		}
		assert.Equal(t, histStrs(mine, late), list(alice))
		_, err = h.rawGet(carol, nil, "v1", "rooms", room, "relations", early)
		requireMatrixError(t, err, http.StatusNotFound, "M_NOT_FOUND")

		visibleRoot := h.text(t, alice, room, "root carol sees")
		r1 := h.relate(t, bob, room, "m.reference", visibleRoot, "bob")
		r2 := h.relate(t, alice, room, "m.reference", visibleRoot, "alice")
		list = func(cli *mautrix.Client) []string {
			return histIDs(h.get(t, cli, nil, "v1", "rooms", room, "relations", visibleRoot).Get("chunk"))
		}
		assert.Equal(t, histStrs(r2, r1), list(carol))
		h.ignore(t, carol.UserID, bob.UserID)
		assert.Equal(t, histStrs(r2), list(carol), "children of ignored users are left out")
		assert.Equal(t, histStrs(r2), histIDs(h.event(t, carol, room, visibleRoot).Get(relPath("m.reference")+".chunk")))
		assert.Equal(t, histStrs(r1, r2), histIDs(h.event(t, alice, room, visibleRoot).Get(relPath("m.reference")+".chunk")))
	})
}
