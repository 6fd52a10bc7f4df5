package stateres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// diffCases is the number of seeded cases of the differential run:
// CONCORD_DIFF_CASES, else 10,200 (850 per room version).
func diffCases(t *testing.T) int {
	if s := os.Getenv("CONCORD_DIFF_CASES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("CONCORD_DIFF_CASES=%q is not a positive number", s)
		}
		return n
	}
	if testing.Short() {
		return 1200
	}
	return 10200
}

// caseConfig derives the shape of case seed: mostly small rooms, one in 500
// large (hundreds of events over four forks).
func caseConfig(seed uint64) roomtest.RandomConfig {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	if seed%500 == 499 {
		return roomtest.RandomConfig{Users: 24, Servers: 4, Forks: 4, Prefix: 80, Steps: 400}
	}
	cfg := roomtest.RandomConfig{Users: 2 + rng.IntN(5), Servers: 1 + rng.IntN(3), Forks: 2 + rng.IntN(3),
		Prefix: rng.IntN(9), Steps: 4 + rng.IntN(27)}
	if rng.IntN(4) == 0 {
		cfg.BadRate = 0.1
	}
	return cfg
}

// diffStats counts the outcomes of the differential run.
type diffStats struct {
	mu                  sync.Mutex
	cases, agree        int
	agreeDespite        int // agreed although a deviation was predicted
	explained           map[string]int
	excluded            int
	perVersion          map[string]int
	permuted, viaChains int
}

func (s *diffStats) record(ver string, agree bool, devs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cases++
	s.perVersion[ver]++
	switch {
	case agree && len(devs) > 0:
		s.agree++
		s.agreeDespite++
	case agree:
		s.agree++
	default:
		s.excluded++
		for _, d := range devs {
			s.explained[d]++
		}
	}
}

// TestDifferential resolves seeded random forks in every room version with
// Concord and gomatrixserverlib and requires identical resolved states,
// except where a documented oracle deviation (oraclemodel_test.go) is
// predicted for the case. The same cases also check that the result does not
// depend on the order of the state sets, and that an AuthChainSource gives
// the same result in at most three source calls.
func TestDifferential(t *testing.T) {
	n := diffCases(t)
	stats := &diffStats{explained: map[string]int{}, perVersion: map[string]int{}}
	start := time.Now()
	versions := roomversion.All()
	for vi, v := range versions {
		t.Run("v"+v.ID, func(t *testing.T) {
			t.Parallel()
			for i := vi; i < n; i += len(versions) {
				seed := uint64(i)
				runDiffCase(t, v, seed, caseConfig(seed), stats)
				if t.Failed() {
					return
				}
			}
		})
	}
	t.Cleanup(func() {
		t.Logf("differential: %d cases in %v: %d identical (%d of them despite a predicted deviation), %d excluded by a deviation predicate; per version %v; order-invariance %d, auth-chain source %d",
			stats.cases, time.Since(start).Round(time.Millisecond), stats.agree, stats.agreeDespite, stats.excluded, stats.perVersion, stats.permuted, stats.viaChains)
		keys := make([]string, 0, len(stats.explained))
		for k := range stats.explained {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			t.Logf("  excluded by %q: %d", k, stats.explained[k])
		}
		if stats.cases >= 10000 && stats.agree < stats.cases/2 {
			t.Errorf("only %d of %d cases were compared", stats.agree, stats.cases)
		}
	})
}

func runDiffCase(t *testing.T, v *roomversion.Version, seed uint64, cfg roomtest.RandomConfig, stats *diffStats) {
	ctx := context.Background()
	rr := randomCase(t, v.ID, seed, cfg)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("v%s seed %d config %+v: %s\nreproduce: CONCORD_DEBUG=%s:%d:%d:%d:%d:%d go test -run TestDebugCase -v ./roomserver/stateres/",
			v.ID, seed, cfg, fmt.Sprintf(format, args...), v.ID, seed, cfg.Users, cfg.Forks, cfg.Prefix, cfg.Steps)
	}
	src := &memSource{events: rr.Events}

	// The spec result, and the one compared with the oracle.
	spec, err := Resolve(ctx, v, rr.StateSets, src)
	if err != nil {
		fail("resolve: %v", err)
		return
	}
	isV1 := v.StateRes == roomversion.StateResV1
	model := newModel(isV1)
	tr := &trace{onCheck: model.onCheck, forceV2: v.StateRes == roomversion.StateResV2_1}
	got, err := resolve(ctx, v, rr.StateSets, &memSource{events: rr.Events}, tr)
	if err != nil {
		fail("resolve: %v", err)
		return
	}
	if tr.forceV2 && !mapsEqual(spec, got) {
		model.add(devV21)
	}
	if len(rr.Invalid) > 0 {
		model.add(devInvalid)
	}

	// The oracle.
	all := rr.AuthChainEvents()
	if isV1 {
		all = unconflictedEvents(rr)
	} else {
		modelSequences(model, tr, rr, v)
	}
	want, err := newOracleInput(t, v, rr.StateSets, rr.Events, all).resolve(nil)
	if err != nil {
		fail("oracle: %v", err)
		return
	}
	agree := mapsEqual(got, want)
	devs := model.names()
	if !agree && len(devs) == 0 {
		fail("concord and gomatrixserverlib disagree, no deviation predicted:\n%s", diffStates(got, want, rr.Events))
		return
	}
	stats.record(v.ID, agree, devs)

	// Property: the order of the state sets does not matter.
	rev := slices.Clone(rr.StateSets)
	slices.Reverse(rev)
	again, err := Resolve(ctx, v, rev, src)
	if err != nil || !mapsEqual(spec, again) {
		fail("state set order changes the result (err %v):\n%s", err, diffStates(spec, again, rr.Events))
		return
	}
	// Property: an AuthChainSource gives the same result, in few calls.
	cs := chainSource{&memSource{events: rr.Events}}
	viaChains, err := Resolve(ctx, v, rr.StateSets, cs)
	if err != nil || !mapsEqual(spec, viaChains) {
		fail("AuthChainSource changes the result (err %v):\n%s", err, diffStates(spec, viaChains, rr.Events))
		return
	}
	if cs.calls > 3 {
		fail("AuthChainSource: %d Events calls", cs.calls)
	}
	stats.mu.Lock()
	stats.permuted++
	stats.viaChains++
	stats.mu.Unlock()
}

// unconflictedEvents is R of the v1 algorithm: the events of keys on which
// no two state sets name different events.
func unconflictedEvents(rr *roomtest.RandomRoom) []*event.Event {
	ids := map[event.StateKey]map[string]bool{}
	for _, s := range rr.StateSets {
		for k, id := range s {
			if ids[k] == nil {
				ids[k] = map[string]bool{}
			}
			ids[k][id] = true
		}
	}
	var out []*event.Event
	for _, m := range ids {
		if len(m) == 1 {
			for id := range m {
				out = append(out, rr.Events[id])
			}
		}
	}
	return out
}

// modelSequences predicts the oracle's step 1 and step 3 sequences.
func modelSequences(m *gmslModel, tr *trace, rr *roomtest.RandomRoom, v *roomversion.Version) {
	g := tr.g
	unconf := newBitset(len(g.ids))
	conflicted := tr.conflicted
	for k, id := range rr.StateSets[0] {
		same := true
		for _, s := range rr.StateSets[1:] {
			if s[k] != id {
				same = false
			}
		}
		if same {
			unconf.add(g.index[id])
		}
	}
	var list []node
	conflicted.each(func(n node) { list = append(list, n) })
	if v.StateRes == roomversion.StateResV2_1 {
		// ResolveConflicts: a key is conflicted when the sets name two or
		// more events for it; its "auth difference" is every conflicted
		// event that has auth events.
		old := newBitset(len(g.ids))
		distinct := map[event.StateKey]map[string]bool{}
		for _, s := range rr.StateSets {
			for k, id := range s {
				if distinct[k] == nil {
					distinct[k] = map[string]bool{}
				}
				distinct[k][id] = true
			}
		}
		for _, ids := range distinct {
			if len(ids) > 1 {
				for id := range ids {
					old.add(g.index[id])
				}
			}
		}
		if !slices.Equal(old, conflicted) {
			m.add(devSplit)
			return
		}
		conflicted.each(func(n node) {
			if len(g.auth(n)) > 0 {
				list = append(list, n)
			}
		})
	} else {
		tr.authDiff.each(func(n node) { list = append(list, n) })
	}
	m.sequences(tr, conflicted, unconf, list)
}
