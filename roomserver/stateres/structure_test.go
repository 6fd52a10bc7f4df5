package stateres

import (
	"context"
	"slices"
	"testing"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// TestSetsAgainstDefinitions checks the auth difference and the conflicted
// state subgraph against their definitions computed naively (every auth
// chain materialised, every path enumerated) on seeded random rooms.
func TestSetsAgainstDefinitions(t *testing.T) {
	v := roomversion.MustGet("12")
	for seed := uint64(0); seed < 300; seed++ {
		rr := randomCase(t, v.ID, seed, caseConfig(seed+1))
		tr := &trace{}
		if _, err := resolve(context.Background(), v, rr.StateSets, &memSource{events: rr.Events}, tr); err != nil {
			t.Fatal(err)
		}
		g := tr.g
		chain := func(id string) map[string]bool {
			out := map[string]bool{}
			stack := slices.Clone(rr.Events[id].AuthEvents())
			for len(stack) > 0 {
				x := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if !out[x] {
					out[x] = true
					stack = append(stack, rr.Events[x].AuthEvents()...)
				}
			}
			return out
		}
		// Auth difference: ∪Cᵢ − ∩Cᵢ.
		count := map[string]int{}
		for _, s := range rr.StateSets {
			full := map[string]bool{}
			for _, id := range s {
				for x := range chain(id) {
					full[x] = true
				}
			}
			for x := range full {
				count[x]++
			}
		}
		var want, got []string
		for x, c := range count {
			if c < len(rr.StateSets) {
				want = append(want, x)
			}
		}
		tr.authDiff.each(func(n node) { got = append(got, g.ids[n]) })
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			t.Fatalf("seed %d: auth difference %v, by definition %v", seed, got, want)
		}
		// Conflicted subgraph: every event on a path from one conflicted
		// event to another, found by enumerating paths.
		conf := map[string]bool{}
		tr.conflicted.each(func(n node) { conf[g.ids[n]] = true })
		sub := map[string]bool{}
		var walk func(path []string)
		walk = func(path []string) {
			last := path[len(path)-1]
			if len(path) > 1 && conf[last] {
				for _, x := range path {
					sub[x] = true
				}
			}
			for _, a := range rr.Events[last].AuthEvents() {
				walk(append(slices.Clone(path), a))
			}
		}
		if len(rr.Order) < 60 {
			for c := range conf {
				sub[c] = true
				walk([]string{c})
			}
			want, got = want[:0], got[:0]
			for x := range sub {
				want = append(want, x)
			}
			tr.subgraph.each(func(n node) { got = append(got, g.ids[n]) })
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(want, got) {
				t.Fatalf("seed %d: conflicted subgraph %v, by definition %v", seed, got, want)
			}
		}
	}
}

// TestErrors covers the inputs Resolve refuses.
func TestErrors(t *testing.T) {
	g := &golden{Steps: []goldenStep{{Fork: "a", From: "init"}, {Fork: "b", From: "init"},
		{On: "b", ID: "T", Sender: alice, Type: "m.room.topic", StateKey: ptr(""), Content: map[string]any{"topic": "x"}}}}
	r, _ := goldenRoom(t, "11", g)
	v := roomversion.MustGet("11")
	ctx := context.Background()
	a, b := r.StateIDs("a"), r.StateIDs("b")

	missing := map[event.StateKey]string{{Type: "m.room.name"}: "$nope"}
	for k, id := range a {
		missing[k] = id
	}
	if _, err := Resolve(ctx, v, []map[event.StateKey]string{missing, b}, &memSource{events: r.Events}); !errorIs(err, ErrMissingEvent) {
		t.Errorf("missing event: %v", err)
	}
	wrongKey := map[event.StateKey]string{{Type: "m.room.name"}: b[event.StateKey{Type: "m.room.topic"}]}
	if _, err := Resolve(ctx, v, []map[event.StateKey]string{a, wrongKey}, &memSource{events: r.Events}); !errorIs(err, ErrBadStateSet) {
		t.Errorf("wrong key: %v", err)
	}
	if _, err := Resolve(ctx, roomversion.MustGet("10"), []map[event.StateKey]string{a, b}, &memSource{events: r.Events}); !errorIs(err, ErrBadStateSet) {
		t.Errorf("wrong version: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Resolve(cancelled, v, []map[event.StateKey]string{a, b}, &memSource{events: r.Events}); err == nil {
		t.Error("cancelled context: no error")
	}
	one, err := Resolve(ctx, v, []map[event.StateKey]string{a}, &memSource{events: r.Events})
	if err != nil || !mapsEqual(one, a) {
		t.Errorf("one state set: %v %v", one, err)
	}
}
