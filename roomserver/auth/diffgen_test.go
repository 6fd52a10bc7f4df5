package auth_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/roomserver/signing"
)

// The differential test's population: users on three servers who appear in
// room state, outsiders who never do, and identity servers for third-party
// invites.
var (
	diffCreator   = "@alice:a.test"
	diffUsers     = []string{"@alice:a.test", "@bob:b.test", "@carol:c.test", "@dave:a.test", "@erin:b.test", "@frank:c.test"}
	diffOutsiders = []string{"@gina:b.test", "@hank:d.test"}
	badUserIDs    = []string{"notauser", "@nodomain", "@bad:", ""}
	idServers     = []string{"id1.test", "id2.test", "id3.test"}
	levelChoices  = []int64{0, 0, 10, 20, 49, 50, 50, 51, 75, 99, 100, 100, 101, 150, -5}
	eventTypes    = []string{"m.room.name", "m.room.topic", "m.room.power_levels", "m.room.message", "m.room.third_party_invite",
		"m.room.redaction", "m.room.join_rules", "m.room.aliases", "com.example.state", "m.room.history_visibility"}
	joinRuleChoices = []string{"public", "public", "invite", "invite", "knock", "restricted", "knock_restricted", "private"}
)

// diffRoom is one create event of a version with pools of state events in
// its room, from which each case draws a state.
type diffRoom struct {
	b        *builder
	create   *event.Event
	creators []string                           // v12 creators, else the creator
	members  map[string]map[string]*event.Event // user → membership → event
	pls      []*event.Event
	jrs      []*event.Event
	tpis     []*event.Event
}

// diffWorld is the generator of one room version.
type diffWorld struct {
	t     testing.TB
	v     *roomversion.Version
	rng   *rand.Rand
	rooms []*diffRoom
}

func newDiffWorld(t testing.TB, v *roomversion.Version, rng *rand.Rand) *diffWorld {
	w := &diffWorld{t: t, v: v, rng: rng}
	for variant := range 6 {
		w.rooms = append(w.rooms, w.newRoom(variant))
	}
	return w
}

func (w *diffWorld) chance(p float64) bool { return w.rng.Float64() < p }

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// newRoom builds create variant n and its pools.
func (w *diffWorld) newRoom(n int) *diffRoom {
	v := w.v
	content := createContent(v, diffCreator)
	creators := []string{diffCreator}
	switch n {
	case 1:
		content["m.federate"] = false
	case 2:
		content["m.federate"] = true
	case 3:
		if v.PrivilegedCreators {
			content["additional_creators"] = []string{"@bob:b.test"}
			creators = append(creators, "@bob:b.test")
		}
	case 4:
		if v.PrivilegedCreators {
			content["additional_creators"] = []string{"@bob:b.test", "@dave:a.test"}
			content["m.federate"] = false
			creators = append(creators, "@bob:b.test", "@dave:a.test")
		} else if !v.CreatorIsSender {
			content["creator"] = "@dave:a.test" // differs from the sender
			creators = []string{"@dave:a.test"}
		}
	case 5:
		if v.PrivilegedCreators {
			content["additional_creators"] = []string{}
		}
	}
	b, create := newRoom(w.t, v, diffCreator, content)
	b.tag = fmt.Sprintf("r%d", n)
	r := &diffRoom{b: b, create: create, creators: creators, members: map[string]map[string]*event.Event{}}
	memberships := []string{"join", "invite", "leave", "ban"}
	if v.Knocking {
		memberships = append(memberships, "knock")
	}
	for _, u := range diffUsers {
		r.members[u] = map[string]*event.Event{}
		for _, m := range memberships {
			sender := u
			if m == "invite" || m == "ban" {
				sender = diffCreator
			}
			c := map[string]any{"membership": m}
			if w.chance(0.3) {
				c["displayname"] = "name"
			}
			r.members[u][m] = w.mustBuild(b, evSpec{Sender: sender, Type: event.TypeMember, StateKey: sp(u), Content: c, Prev: []*event.Event{create}})
		}
	}
	for range 24 {
		r.pls = append(r.pls, w.mustBuild(b, evSpec{Sender: diffCreator, Type: event.TypePowerLevels, StateKey: sp(""),
			Content: w.randomPowerLevels(r), Prev: []*event.Event{create}}))
	}
	for _, rule := range joinRuleChoices {
		c := map[string]any{"join_rule": rule}
		if rule == "restricted" || rule == "knock_restricted" {
			c["allow"] = []any{map[string]any{"type": "m.room_membership", "room_id": "!space:b.test"}}
		}
		r.jrs = append(r.jrs, w.mustBuild(b, evSpec{Sender: diffCreator, Type: event.TypeJoinRules, StateKey: sp(""), Content: c, Prev: []*event.Event{create}}))
	}
	tpiContents := []struct {
		sender, token string
		content       map[string]any
	}{
		{"@alice:a.test", "tok1", map[string]any{"display_name": "x", "public_key": pubKey("id1.test")}},
		{"@bob:b.test", "tok2", map[string]any{"display_name": "y", "public_keys": []any{map[string]any{"public_key": pubKey("id2.test")}}}},
		{"@dave:a.test", "tok3", map[string]any{"display_name": "z", "public_key": pubKey("id1.test"),
			"public_keys": []any{map[string]any{"public_key": pubKey("id2.test")}, map[string]any{"public_key": pubKey("id3.test")}}}},
	}
	for _, tc := range tpiContents {
		r.tpis = append(r.tpis, w.mustBuild(b, evSpec{Sender: tc.sender, Type: event.TypeThirdPartyInvite, StateKey: sp(tc.token), Content: tc.content, Prev: []*event.Event{create}}))
	}
	return r
}

func pubKey(server string) string { return signing.EncodeBase64(roomtest.Key(server).Public()) }

// mustBuild makes a pool event (with fake signatures: Check only looks at
// which servers signed).
func (w *diffWorld) mustBuild(b *builder, s evSpec) *event.Event {
	w.t.Helper()
	s.FakeSignatures = true
	e, err := b.build(s)
	if err != nil {
		w.t.Fatalf("v%s: %v", w.v.ID, err)
	}
	return e
}

// level returns a random level, written as a string or float where the
// version accepts it (stringy: v1–v9; floats: v1–v5).
func (w *diffWorld) level() any {
	l := pick(w.rng, levelChoices)
	switch {
	case !w.v.IntegerPowerLevels && w.chance(0.15):
		return pick(w.rng, []string{fmt.Sprint(l), fmt.Sprintf(" %d ", l), fmt.Sprintf("%+d", l), fmt.Sprintf("00%d", max(l, 0))})
	case !w.v.StrictCanonicalJSON && w.chance(0.1):
		return float64(l) + 0.5
	}
	return l
}

var plScalars = []string{"users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"}

// randomPowerLevels makes valid power levels content for the room's state.
func (w *diffWorld) randomPowerLevels(r *diffRoom) map[string]any {
	c := map[string]any{}
	for _, k := range plScalars {
		if w.chance(0.35) {
			c[k] = w.level()
		}
	}
	users := map[string]any{}
	for _, u := range diffUsers {
		if w.v.PrivilegedCreators && slices.Contains(r.creators, u) {
			continue
		}
		if u == diffCreator && w.chance(0.85) {
			users[u] = 100
		} else if w.chance(0.5) {
			users[u] = w.level()
		}
	}
	c["users"] = users
	if w.chance(0.6) {
		events := map[string]any{}
		for _, t := range eventTypes {
			if w.chance(0.3) {
				events[t] = w.level()
			}
		}
		c["events"] = events
	}
	if w.chance(0.4) {
		n := map[string]any{"room": w.level()}
		if w.chance(0.3) {
			n["custom"] = w.level()
		}
		c["notifications"] = n
	}
	return c
}

// diffState is the state of one case.
type diffState map[event.StateKey]*event.Event

// randomState draws a state of room r.
func (w *diffWorld) randomState(r *diffRoom) diffState {
	s := diffState{r.create.Key(): r.create}
	for _, u := range diffUsers {
		var m string
		x := w.rng.Float64()
		switch {
		case u == diffCreator && x < 0.85, x < 0.45:
			m = "join"
		case x < 0.6:
			continue // no membership event
		case x < 0.72:
			m = "invite"
		case x < 0.82:
			m = "leave"
		case x < 0.92:
			m = "ban"
		default:
			m = "knock"
		}
		if e := r.members[u][m]; e != nil {
			s[e.Key()] = e
		}
	}
	if w.chance(0.9) {
		e := pick(w.rng, r.pls)
		s[e.Key()] = e
	}
	if w.chance(0.9) {
		e := pick(w.rng, r.jrs)
		s[e.Key()] = e
	}
	for _, e := range r.tpis {
		if w.chance(0.5) {
			s[e.Key()] = e
		}
	}
	return s
}
