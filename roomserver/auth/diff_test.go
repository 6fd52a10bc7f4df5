package auth_test

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// The differential test: CONCORD_DIFF_CASES cases per room version (default
// 10,000), from seed CONCORD_DIFF_SEED (default 1).
const (
	defaultDiffCases = 10_000
	defaultDiffSeed  = 1
)

func envInt(t *testing.T, name string, def uint64) uint64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return n
}

// oracle runs gomatrixserverlib's auth rules on Concord events.
type oracle struct {
	v     *roomversion.Version
	impl  gmsl.IRoomVersion
	cache map[*event.Event]gmsl.PDU
}

func newOracle(v *roomversion.Version) *oracle {
	return &oracle{v: v, impl: gmsl.MustGetRoomVersion(gmsl.RoomVersion(v.ID)), cache: map[*event.Event]gmsl.PDU{}}
}

func (o *oracle) pdu(e *event.Event) (gmsl.PDU, error) {
	if p, ok := o.cache[e]; ok {
		return p, nil
	}
	p, err := o.impl.NewEventFromTrustedJSON(e.JSON(), false)
	if err != nil {
		return nil, err
	}
	if p.EventID() != e.ID() {
		return nil, fmt.Errorf("oracle computes event ID %s, Concord %s", p.EventID(), e.ID())
	}
	o.cache[e] = p
	return p, nil
}

func oracleUserID(_ spec.RoomID, sender spec.SenderID) (*spec.UserID, error) {
	return spec.NewUserID(string(sender), true)
}

// allowed runs gomatrixserverlib.Allowed with the state as its auth events.
// A panic inside the library counts as a rejection and is reported in err.
func (o *oracle) allowed(e *event.Event, state diffState) (err error) {
	pdu, err := o.impl.NewEventFromTrustedJSON(e.JSON(), false)
	if err != nil {
		return fmt.Errorf("oracle cannot load the event: %w", err)
	}
	pdus := make([]gmsl.PDU, 0, len(state))
	for _, k := range slices.SortedFunc(maps.Keys(state), cmpStateKey) {
		p, err := o.pdu(state[k])
		if err != nil {
			return err
		}
		pdus = append(pdus, p)
	}
	provider, err := gmsl.NewAuthEvents(pdus)
	if err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("oracle panicked: %v", r)
		}
	}()
	return gmsl.Allowed(pdu, provider, oracleUserID)
}

// diffStats counts one version's outcomes.
type diffStats struct {
	cases, allowed, rejected int
	explained                map[string]int
	rules                    map[string]int
}

func TestDifferential(t *testing.T) {
	cases := int(envInt(t, "CONCORD_DIFF_CASES", defaultDiffCases))
	seed := envInt(t, "CONCORD_DIFF_SEED", defaultDiffSeed)
	start := time.Now()
	var mu sync.Mutex
	stats := map[string]*diffStats{}
	t.Cleanup(func() {
		total := 0
		for _, v := range roomversion.All() {
			s := stats[v.ID]
			if s == nil {
				continue
			}
			total += s.cases
			t.Logf("v%s: %d cases, %d allowed, %d rejected; spec-over-oracle disagreements: %v", v.ID, s.cases, s.allowed, s.rejected, s.explained)
			t.Logf("v%s: rejections by rule: %v", v.ID, s.rules)
		}
		t.Logf("differential: %d cases in %s (seed %d)", total, time.Since(start).Round(time.Millisecond), seed)
	})
	for vi, v := range roomversion.All() {
		t.Run("v"+v.ID, func(t *testing.T) {
			t.Parallel()
			s := runDifferential(t, v, seed, uint64(vi), cases)
			mu.Lock()
			stats[v.ID] = s
			mu.Unlock()
		})
	}
}

func runDifferential(t *testing.T, v *roomversion.Version, seed, stream uint64, cases int) *diffStats {
	rng := rand.New(rand.NewPCG(seed, stream))
	w := newDiffWorld(t, v, rng)
	o := newOracle(v)
	st := &diffStats{explained: map[string]int{}, rules: map[string]int{}}
	failures := 0
	for i := range cases {
		r := pick(rng, w.rooms)
		state := w.randomState(r)
		spec := w.candidate(r, state)
		e, err := r.b.build(spec)
		if err != nil {
			// Content the version's canonical JSON cannot carry.
			if errors.Is(err, event.ErrInvalid) || strings.Contains(err.Error(), "canonical") {
				continue
			}
			t.Fatalf("seed %d v%s case %d: build: %v", seed, v.ID, i, err)
		}
		st.cases++
		mine := auth.Check(e, auth.FromMap(state))
		theirs := o.allowed(e, state)
		if mine == nil {
			st.allowed++
		} else {
			st.rejected++
			var ae *auth.Error
			if errors.As(mine, &ae) {
				st.rules[ae.Rule]++
			}
		}
		// Check on the event's auth events alone decides the same.
		selected := event.SelectAuthEvents(v, e.Type(), e.StateKey(), e.Sender(), e.Content(),
			func(k event.StateKey) *event.Event { return state[k] })
		if again := auth.Check(e, auth.FromAuthEventsWithCreate(selected, r.create)); (again == nil) != (mine == nil) {
			t.Fatalf("seed %d v%s case %d: full state %v, auth events %v\nevent %s", seed, v.ID, i, mine, again, e.JSON())
		}
		if (mine == nil) == (theirs == nil) {
			continue
		}
		c := &diffCase{v: v, e: e, state: state, create: r.create, mine: mine, theirs: theirs}
		if name := c.explain(); name != "" {
			st.explained[name]++
			continue
		}
		failures++
		t.Errorf("seed %d v%s case %d: Concord %v, gomatrixserverlib %v\nevent %s\nstate:\n%s",
			seed, v.ID, i, orAllowed(mine), orAllowed(theirs), e.JSON(), describeState(state))
		if failures >= 10 {
			t.FailNow()
		}
	}
	return st
}

func orAllowed(err error) string {
	if err == nil {
		return "allowed"
	}
	return err.Error()
}

func describeState(s diffState) string {
	var b strings.Builder
	for _, k := range slices.SortedFunc(maps.Keys(s), cmpStateKey) {
		fmt.Fprintf(&b, "  %s\n", s[k].JSON())
	}
	return b.String()
}
