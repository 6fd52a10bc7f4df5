package stateres

import (
	"context"
	"fmt"
	"testing"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// benchVersion is the room version of the benchmarks: the newest one whose
// algorithm gomatrixserverlib's ResolveConflictsNew runs (its v2.1 panics).
const benchVersion = "11"

// benchCase is one benchmark input, built once.
type benchCase struct {
	v      *roomversion.Version
	sets   []map[event.StateKey]string
	events map[string]*event.Event
	oracle *oracleInput
}

func newBenchCase(b *testing.B, r *roomtest.Room, branches ...string) *benchCase {
	c := &benchCase{v: r.Version, events: r.Events}
	for _, br := range branches {
		c.sets = append(c.sets, r.StateIDs(br))
	}
	rr := &roomtest.RandomRoom{Room: r, StateSets: c.sets}
	c.oracle = newOracleInput(b, r.Version, c.sets, r.Events, rr.AuthChainEvents())
	return c
}

// forks1000: two forks of 1,000 state events each — custom state on 900 keys
// both forks write, and 100 power level changes per fork.
func forks1000(b *testing.B) *benchCase {
	r := roomtest.NewUnsigned(b, benchVersion, alice, nil)
	pl := func(br string, i int) {
		r.SendUnsigned(br, alice, event.TypePowerLevels, roomtest.StrPtr(""), map[string]any{
			"users": map[string]any{alice: 100, bob: i % 60, charlie: 50}}, 0)
	}
	r.SendUnsigned(roomtest.Main, alice, event.TypeMember, roomtest.StrPtr(alice), map[string]any{"membership": "join"}, 0)
	pl(roomtest.Main, 0)
	r.SendUnsigned(roomtest.Main, alice, event.TypeJoinRules, roomtest.StrPtr(""), map[string]any{"join_rule": "public"}, 0)
	for _, u := range []string{bob, charlie} {
		r.SendUnsigned(roomtest.Main, u, event.TypeMember, roomtest.StrPtr(u), map[string]any{"membership": "join"}, 0)
	}
	r.Fork(roomtest.Main, "a")
	r.Fork(roomtest.Main, "b")
	for i := 0; i < 1000; i++ {
		for _, br := range []string{"a", "b"} {
			if i%10 == 0 {
				pl(br, i/10+len(br))
				continue
			}
			r.SendUnsigned(br, alice, "m.test.state", roomtest.StrPtr(fmt.Sprintf("k%d", i%900)), map[string]any{"branch": br, "i": i}, 0)
		}
	}
	return newBenchCase(b, r, "a", "b")
}

// members10000: 10,000 joined members (unconflicted), then on one fork
// kicks, bans and power level changes, on the other self-leaves and power
// level changes.
func members10000(b *testing.B) *benchCase {
	r := roomtest.NewUnsigned(b, benchVersion, alice, nil)
	r.SendUnsigned(roomtest.Main, alice, event.TypeMember, roomtest.StrPtr(alice), map[string]any{"membership": "join"}, 0)
	r.SendUnsigned(roomtest.Main, alice, event.TypePowerLevels, roomtest.StrPtr(""), map[string]any{"users": map[string]any{alice: 100}}, 0)
	r.SendUnsigned(roomtest.Main, alice, event.TypeJoinRules, roomtest.StrPtr(""), map[string]any{"join_rule": "public"}, 0)
	user := func(i int) string { return fmt.Sprintf("@m%d:s%d.test", i, i%50) }
	for i := 0; i < 10000; i++ {
		u := user(i)
		r.SendUnsigned(roomtest.Main, u, event.TypeMember, roomtest.StrPtr(u), map[string]any{"membership": "join"}, 0)
	}
	r.Fork(roomtest.Main, "a")
	r.Fork(roomtest.Main, "b")
	for i := 0; i < 100; i++ {
		membership := map[bool]string{true: "ban", false: "leave"}[i%2 == 0]
		r.SendUnsigned("a", alice, event.TypeMember, roomtest.StrPtr(user(i)), map[string]any{"membership": membership}, 0)
		u := user(5000 + i)
		r.SendUnsigned("b", u, event.TypeMember, roomtest.StrPtr(u), map[string]any{"membership": "leave"}, 0)
		if i%10 == 0 {
			for _, br := range []string{"a", "b"} {
				r.SendUnsigned(br, alice, event.TypePowerLevels, roomtest.StrPtr(""), map[string]any{
					"users": map[string]any{alice: 100, user(200 + i): 50 + len(br), user(300 + i): 10}}, 0)
			}
		}
	}
	return newBenchCase(b, r, "a", "b")
}

func BenchmarkResolve(b *testing.B) {
	for _, bc := range []struct {
		name  string
		build func(*testing.B) *benchCase
	}{{"forks1000", forks1000}, {"members10000", members10000}} {
		b.Run(bc.name, func(b *testing.B) {
			c := bc.build(b)
			ctx := context.Background()
			src := &memSource{events: c.events}
			got, err := Resolve(ctx, c.v, c.sets, src)
			if err != nil {
				b.Fatal(err)
			}
			want, err := c.oracle.resolve(nil)
			if err != nil {
				b.Fatal(err)
			}
			if !mapsEqual(got, want) {
				b.Fatalf("concord and gomatrixserverlib disagree:\n%s", diffStates(got, want, c.events))
			}
			b.Run("concord", func(b *testing.B) {
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if _, err := Resolve(ctx, c.v, c.sets, src); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("gmsl", func(b *testing.B) {
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if _, err := c.oracle.resolve(nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
