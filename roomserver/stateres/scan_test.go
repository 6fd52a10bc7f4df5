package stateres

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// TestScanDeviations finds, for each oracle deviation, the smallest random
// case in which it alone explains a disagreement (the source of the
// regression cases in regress_test.go): CONCORD_SCAN=N scans N seeds.
func TestScanDeviations(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CONCORD_SCAN"))
	if n == 0 {
		t.Skip("set CONCORD_SCAN=N")
	}
	best := map[string]int{}
	for i := 0; i < n; i++ {
		v := roomversion.All()[i%12]
		seed := uint64(i)
		cfg := roomtest.RandomConfig{Users: 2 + i%3, Servers: 2, Forks: 2, Prefix: i % 3, Steps: 3 + i%6}
		rr := randomCase(t, v.ID, seed, cfg)
		if len(rr.Invalid) > 0 {
			continue
		}
		model := newModel(v.StateRes == roomversion.StateResV1)
		tr := &trace{onCheck: model.onCheck, forceV2: v.StateRes == roomversion.StateResV2_1}
		got, err := resolve(context.Background(), v, rr.StateSets, &memSource{events: rr.Events}, tr)
		if err != nil {
			t.Fatal(err)
		}
		spec, _ := Resolve(context.Background(), v, rr.StateSets, &memSource{events: rr.Events})
		if tr.forceV2 && !mapsEqual(spec, got) {
			model.add(devV21)
		}
		all := rr.AuthChainEvents()
		if v.StateRes == roomversion.StateResV1 {
			all = unconflictedEvents(rr)
		} else {
			modelSequences(model, tr, rr, v)
		}
		want, err := newOracleInput(t, v, rr.StateSets, rr.Events, all).resolve(nil)
		if err != nil || mapsEqual(got, want) || len(model.devs) != 1 {
			continue
		}
		d := model.names()[0]
		if b, ok := best[d]; !ok || len(rr.Order) < b {
			best[d] = len(rr.Order)
			t.Logf("%s: v%s seed %d config %+v (%d events)", d, v.ID, seed, cfg, len(rr.Order))
		}
	}
}
