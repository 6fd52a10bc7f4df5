package auth_test

import (
	"fmt"
	"testing"

	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// benchRoom is a room of version v with members joined users, power levels
// listing plUsers of them, and a public join rule.
type benchRoom struct {
	b     *builder
	state map[event.StateKey]*event.Event
	head  *event.Event
}

func benchUser(i int) string { return fmt.Sprintf("@user%d:s%d.test", i, i%50) }

func newBenchRoom(tb testing.TB, v *roomversion.Version, members, plUsers int) *benchRoom {
	b, create := newRoom(tb, v, "@alice:a.test", nil)
	r := &benchRoom{b: b, state: map[event.StateKey]*event.Event{create.Key(): create}, head: create}
	add := func(s evSpec) {
		s.Prev, s.FakeSignatures = []*event.Event{r.head}, true
		e := b.mustBuild(tb, s)
		r.state[e.Key()] = e
		r.head = e
	}
	add(evSpec{Sender: "@alice:a.test", Type: event.TypeMember, StateKey: sp("@alice:a.test"), Content: map[string]any{"membership": "join"}})
	users := map[string]any{}
	if !v.PrivilegedCreators {
		users["@alice:a.test"] = 100
	}
	for i := range plUsers {
		users[benchUser(i)] = 50
	}
	add(evSpec{Sender: "@alice:a.test", Type: event.TypePowerLevels, StateKey: sp(""), Content: map[string]any{"users": users, "events": map[string]any{"m.room.name": 50}}})
	add(evSpec{Sender: "@alice:a.test", Type: event.TypeJoinRules, StateKey: sp(""), Content: map[string]any{"join_rule": "public"}})
	for i := range members {
		u := benchUser(i)
		add(evSpec{Sender: u, Type: event.TypeMember, StateKey: sp(u), Content: map[string]any{"membership": "join", "displayname": u}})
	}
	return r
}

func (r *benchRoom) event(tb testing.TB, s evSpec) *event.Event {
	s.Prev, s.FakeSignatures = []*event.Event{r.head}, true
	return r.b.mustBuild(tb, s)
}

// BenchmarkCheck checks events against the state of a room with 10,000
// joined members (room version 12 and 10): a join, a kick, a message, and
// power level changes with 100 and with 2,000 users listed (about the most
// a 64 KiB event holds).
func BenchmarkCheck(b *testing.B) {
	for _, ver := range []string{"12", "10"} {
		v := roomversion.MustGet(ver)
		for _, plUsers := range []int{100, 2_000} {
			r := newBenchRoom(b, v, 10_000, plUsers)
			state := auth.FromMap(r.state)
			cur := r.state[event.StateKey{Type: event.TypePowerLevels}]
			plContent := map[string]any{}
			_ = jsonUnmarshal(cur.Content(), &plContent)
			plContent["users"].(map[string]any)[benchUser(plUsers/2)] = 10 // alice demotes one user
			cases := []struct {
				name string
				e    *event.Event
			}{
				{"member-join", r.event(b, evSpec{Sender: "@new:x.test", Type: event.TypeMember, StateKey: sp("@new:x.test"), Content: map[string]any{"membership": "join"}})},
				{"member-kick", r.event(b, evSpec{Sender: "@alice:a.test", Type: event.TypeMember, StateKey: sp(benchUser(7)), Content: map[string]any{"membership": "leave"}})},
				{"message", r.event(b, evSpec{Sender: benchUser(3), Type: "m.room.message", Content: map[string]any{"body": "hi"}})},
				{"power-levels", r.event(b, evSpec{Sender: "@alice:a.test", Type: event.TypePowerLevels, StateKey: sp(""), Content: plContent})},
			}
			for _, tc := range cases {
				if tc.name != "power-levels" && plUsers != 100 {
					continue
				}
				name := fmt.Sprintf("v%s/%s", ver, tc.name)
				if tc.name == "power-levels" {
					name = fmt.Sprintf("v%s/power-levels-%d-users", ver, plUsers)
				}
				if err := auth.Check(tc.e, state); err != nil {
					b.Fatalf("%s: %v", name, err)
				}
				b.Run(name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if err := auth.Check(tc.e, state); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// BenchmarkParsePowerLevels is the one-time parse of a 2,000-user power
// levels content (cached per event afterwards).
func BenchmarkParsePowerLevels(b *testing.B) {
	v := roomversion.MustGet("12")
	r := newBenchRoom(b, v, 0, 2_000)
	content := r.state[event.StateKey{Type: event.TypePowerLevels}].Content()
	b.ReportAllocs()
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		if _, err := auth.ParsePowerLevels(v, content); err != nil {
			b.Fatal(err)
		}
	}
}
