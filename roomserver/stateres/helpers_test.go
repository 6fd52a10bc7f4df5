package stateres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// memSource is an in-memory EventSource; it counts calls.
type memSource struct {
	events   map[string]*event.Event
	rejected map[string]bool
	calls    int
}

func (m *memSource) Events(_ context.Context, ids []string) ([]*event.Event, error) {
	m.calls++
	out := make([]*event.Event, 0, len(ids))
	for _, id := range ids {
		if e := m.events[id]; e != nil {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memSource) IsRejected(id string) bool { return m.rejected[id] }

// chainSource adds an AuthChainSource computed by walking the events.
type chainSource struct{ *memSource }

func (c chainSource) AuthChain(_ context.Context, ids []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	stack := []string{}
	for _, id := range ids {
		if e := c.events[id]; e != nil {
			stack = append(stack, e.AuthEvents()...)
		}
	}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
		if e := c.events[id]; e != nil {
			stack = append(stack, e.AuthEvents()...)
		}
	}
	return out, nil
}

var (
	_ EventSource     = (*memSource)(nil)
	_ RejectionSource = (*memSource)(nil)
	_ AuthChainSource = chainSource{}
)

// concordAllowed is the generator's auth check: Concord's rules against the
// event's auth events.
func concordAllowed(e *event.Event, authEvents []*event.Event, create *event.Event) bool {
	if e.Type() == event.TypeCreate {
		return auth.Check(e, auth.FromAuthEvents(nil)) == nil
	}
	return auth.Check(e, auth.FromAuthEventsWithCreate(authEvents, create)) == nil
}

// toPDU converts an event for gomatrixserverlib.
func toPDU(t testing.TB, e *event.Event) gmsl.PDU {
	t.Helper()
	pdu, err := gmsl.MustGetRoomVersion(gmsl.RoomVersion(e.Version().ID)).NewEventFromTrustedJSON(e.JSON(), false)
	if err != nil {
		t.Fatalf("gmsl: %v: %s", err, e.JSON())
	}
	if pdu.EventID() != e.ID() {
		t.Fatalf("gmsl event ID %s, concord %s", pdu.EventID(), e.ID())
	}
	return pdu
}

func userIDForSender(_ spec.RoomID, s spec.SenderID) (*spec.UserID, error) {
	return spec.NewUserID(string(s), true)
}

// oracleInput is the gomatrixserverlib form of one resolution.
type oracleInput struct {
	version roomversion.Version
	sets    [][]gmsl.PDU
	auth    []gmsl.PDU
}

func newOracleInput(t testing.TB, v *roomversion.Version, sets []map[event.StateKey]string, events map[string]*event.Event, all []*event.Event) *oracleInput {
	in := &oracleInput{version: *v}
	pdus := make(map[string]gmsl.PDU, len(all))
	for _, e := range all {
		p := toPDU(t, e)
		pdus[e.ID()] = p
		in.auth = append(in.auth, p)
	}
	for _, s := range sets {
		ids := make([]string, 0, len(s))
		for _, id := range s {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		list := make([]gmsl.PDU, 0, len(ids))
		for _, id := range ids {
			p := pdus[id]
			if p == nil {
				p = toPDU(t, events[id])
			}
			list = append(list, p)
		}
		in.sets = append(in.sets, list)
	}
	return in
}

// resolve runs the oracle: ResolveConflictsNew for room versions 1–11 and,
// because its v2.1 code panics whenever a conflicted power event exists
// (getPowerLevelFromAuthEvents needs a resolved create event, which v2.1's
// empty start never has), the v2 algorithm of ResolveConflicts for room
// version 12. A panic is returned as an error.
func (in *oracleInput) resolve(rejected map[string]bool) (out map[event.StateKey]string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("gomatrixserverlib panicked: %v", p)
		}
	}()
	isRejected := func(id string) bool { return rejected[id] }
	var res []gmsl.PDU
	if in.version.StateRes == roomversion.StateResV2_1 {
		var flat []gmsl.PDU
		for _, s := range in.sets {
			flat = append(flat, s...)
		}
		res, err = gmsl.ResolveConflicts(gmsl.RoomVersion(in.version.ID), flat, in.auth, userIDForSender, isRejected)
	} else {
		res, err = gmsl.ResolveConflictsNew(gmsl.RoomVersion(in.version.ID), in.sets, in.auth, userIDForSender, isRejected)
	}
	if err != nil {
		return nil, err
	}
	out = make(map[event.StateKey]string, len(res))
	for _, p := range res {
		out[event.StateKey{Type: p.Type(), StateKey: *p.StateKey()}] = p.EventID()
	}
	return out, nil
}

// diffStates describes how two resolved states differ.
func diffStates(a, b map[event.StateKey]string, events map[string]*event.Event) string {
	var lines []string
	keys := map[event.StateKey]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	for k := range keys {
		if a[k] != b[k] {
			lines = append(lines, fmt.Sprintf("  %s/%q: concord %s, other %s", k.Type, k.StateKey, describe(events[a[k]]), describe(events[b[k]])))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func describe(e *event.Event) string {
	if e == nil {
		return "(none)"
	}
	return fmt.Sprintf("%s[%s by %s ts=%d %s]", e.ID(), e.Type(), e.Sender(), e.OriginServerTS(), e.Content())
}

func mapsEqual(a, b map[event.StateKey]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// randomCase makes the random room of a seed.
func randomCase(t testing.TB, ver string, seed uint64, cfg roomtest.RandomConfig) *roomtest.RandomRoom {
	return roomtest.Random(t, ver, seed, cfg, concordAllowed)
}

func errorIs(err, target error) bool { return err != nil && errors.Is(err, target) }
