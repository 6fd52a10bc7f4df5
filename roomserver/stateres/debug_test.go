package stateres

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// short names events e0, e1... in creation order for dumps.
func shortNames(rr *roomtest.RandomRoom) map[string]string {
	m := map[string]string{}
	for i, e := range rr.Order {
		m[e.ID()] = "e" + strconv.Itoa(i)
	}
	return m
}

func dumpRoom(rr *roomtest.RandomRoom) string {
	names := shortNames(rr)
	var b strings.Builder
	for _, e := range rr.Order {
		var auth []string
		for _, a := range e.AuthEvents() {
			auth = append(auth, names[a])
		}
		sk := "-"
		if e.StateKey() != nil {
			sk = *e.StateKey()
		}
		inv := ""
		if rr.Invalid[e.ID()] {
			inv = " INVALID"
		}
		fmt.Fprintf(&b, "%s %s %s %s ts=%d d=%d auth=%v %s%s\n", names[e.ID()], e.Type(), sk, e.Sender(), e.OriginServerTS()-1_700_000_000_000, e.Depth(), auth, e.Content(), inv)
	}
	for i, s := range rr.StateSets {
		var parts []string
		for k, id := range s {
			parts = append(parts, fmt.Sprintf("%s/%s=%s", k.Type, k.StateKey, names[id]))
		}
		fmt.Fprintf(&b, "set %d: %v\n", i, parts)
	}
	return b.String()
}

func dumpTrace(rr *roomtest.RandomRoom, tr *trace) string {
	names := shortNames(rr)
	g := tr.g
	nm := func(n node) string { return names[g.ids[n]] }
	set := func(b bitset) string {
		var out []string
		if b == nil {
			return "-"
		}
		b.each(func(n node) { out = append(out, nm(n)) })
		return strings.Join(out, " ")
	}
	list := func(l []node) string {
		var out []string
		for _, n := range l {
			out = append(out, nm(n))
		}
		return strings.Join(out, " ")
	}
	var fb []string
	for _, f := range tr.fallbacks {
		fb = append(fb, nm(f[0])+"->"+nm(f[1]))
	}
	return fmt.Sprintf("conflicted: %s\nauthdiff: %s\nsubgraph: %s\nX sorted: %s\nothers: %s\napplied: %s\nrefused: %s\nfallbacks: %v\n",
		set(tr.conflicted), set(tr.authDiff), set(tr.subgraph), list(tr.sortedX), list(tr.others), list(tr.applied), list(tr.refused), fb)
}

// TestDebugCase dumps one case: CONCORD_DEBUG=ver:seed:forks:prefix:steps.
func TestDebugCase(t *testing.T) {
	spec := os.Getenv("CONCORD_DEBUG")
	if spec == "" {
		t.Skip("set CONCORD_DEBUG=ver:seed:users:forks:prefix:steps")
	}
	p := strings.Split(spec, ":")
	n := func(i int) int { x, _ := strconv.Atoi(p[i]); return x }
	v := roomversion.MustGet(p[0])
	cfg := roomtest.RandomConfig{Users: n(2), Servers: 2, Forks: n(3), Prefix: n(4), Steps: n(5)}
	rr := randomCase(t, v.ID, uint64(n(1)), cfg)
	tr := &trace{}
	got, err := resolve(context.Background(), v, rr.StateSets, &memSource{events: rr.Events}, tr)
	if err != nil {
		t.Fatal(err)
	}
	in := newOracleInput(t, v, rr.StateSets, rr.Events, rr.AuthChainEvents())
	want, err := in.resolve(nil)
	names := shortNames(rr)
	t.Logf("room:\n%s\ntrace:\n%s", dumpRoom(rr), dumpTrace(rr, tr))
	show := func(m map[event.StateKey]string) string {
		var out []string
		for k, id := range m {
			out = append(out, fmt.Sprintf("%s/%s=%s", k.Type, k.StateKey, names[id]))
		}
		return strings.Join(out, " ")
	}
	t.Logf("concord: %s\ngmsl: %s (err %v)", show(got), show(want), err)
}
