package stateres

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// golden is one hand-built scenario of testdata/*.json.
//
// The harness starts branch "init" with the events CREATE, IMA (creator
// joins), IPOWER (creator at 100; nothing in v12, where creators need no
// level), IJR (public) and IMB, IMC, IMZ (bob, charlie and zara join). Steps
// then fork branches ({"fork": "b", "from": "a"}) or send named events on a
// branch, their auth events selected from the branch's state. The branches
// named in "resolve" are resolved, and the result (by event name) must be
// "expected"; "full_conflicted", when given, is the full conflicted set. In
// room version 12 the creator (alice) is left out of power levels "users".
type golden struct {
	Description    string            `json:"description"`
	Spec           string            `json:"spec"`
	Versions       []string          `json:"versions"`
	Steps          []goldenStep      `json:"steps"`
	Resolve        []string          `json:"resolve"`
	Expected       map[string]string `json:"expected"`
	FullConflicted []string          `json:"full_conflicted"`
}

type goldenStep struct {
	Fork     string         `json:"fork"`
	From     string         `json:"from"`
	On       string         `json:"on"`
	ID       string         `json:"id"`
	Sender   string         `json:"sender"`
	Type     string         `json:"type"`
	StateKey *string        `json:"state_key"`
	Content  map[string]any `json:"content"`
	TS       int64          `json:"ts"`
}

const (
	alice   = "@alice:a.test"
	bob     = "@bob:b.test"
	charlie = "@charlie:c.test"
	zara    = "@zara:z.test"
)

// goldenRoom builds the scenario in room version ver.
func goldenRoom(t *testing.T, ver string, g *golden) (*roomtest.Room, map[string]string) {
	names := map[string]string{} // event ID → name
	r := roomtest.NewUnsigned(t, ver, alice, nil)
	r.Branches["init"] = r.Branches[roomtest.Main]
	names[r.Order[0].ID()] = "CREATE"
	send := func(b, name, sender, typ string, sk *string, content any, ts int64) {
		e := r.SendUnsigned(b, sender, typ, sk, content, ts)
		names[e.ID()] = name
	}
	users := map[string]any{}
	if !r.Version.PrivilegedCreators {
		users[alice] = 100
	}
	send("init", "IMA", alice, event.TypeMember, roomtest.StrPtr(alice), map[string]any{"membership": "join"}, 0)
	send("init", "IPOWER", alice, event.TypePowerLevels, roomtest.StrPtr(""), map[string]any{"users": users}, 0)
	send("init", "IJR", alice, event.TypeJoinRules, roomtest.StrPtr(""), map[string]any{"join_rule": "public"}, 0)
	send("init", "IMB", bob, event.TypeMember, roomtest.StrPtr(bob), map[string]any{"membership": "join"}, 0)
	send("init", "IMC", charlie, event.TypeMember, roomtest.StrPtr(charlie), map[string]any{"membership": "join"}, 0)
	send("init", "IMZ", zara, event.TypeMember, roomtest.StrPtr(zara), map[string]any{"membership": "join"}, 0)
	for _, s := range g.Steps {
		if s.Fork != "" {
			r.Fork(s.From, s.Fork)
			continue
		}
		var content any = s.Content
		if s.Content == nil {
			content = map[string]any{}
		}
		if u, ok := s.Content["users"].(map[string]any); ok && r.Version.PrivilegedCreators {
			delete(u, alice) // v12 creators may not be listed (rule 10.4)
		}
		send(s.On, s.ID, s.Sender, s.Type, s.StateKey, content, s.TS)
	}
	return r, names
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var g golden
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, ver := range g.Versions {
			t.Run(strings.TrimSuffix(filepath.Base(f), ".json")+"/v"+ver, func(t *testing.T) {
				r, names := goldenRoom(t, ver, &g)
				var sets []map[event.StateKey]string
				for _, b := range g.Resolve {
					sets = append(sets, r.StateIDs(b))
				}
				tr := &trace{}
				got, err := resolve(context.Background(), roomversion.MustGet(ver), sets, &memSource{events: r.Events}, tr)
				if err != nil {
					t.Fatal(err)
				}
				gotNames := map[string]string{}
				for k, id := range got {
					gotNames[k.Type+"|"+k.StateKey] = names[id]
				}
				if !equalStringMaps(gotNames, g.Expected) {
					t.Errorf("%s\nspec: %s\ngot      %v\nexpected %v\nevents %v", g.Description, g.Spec, gotNames, g.Expected, names)
				}
				if g.FullConflicted != nil {
					var fcs []string
					tr.fcs.each(func(n node) { fcs = append(fcs, names[tr.g.ids[n]]) })
					slices.Sort(fcs)
					want := slices.Sorted(slices.Values(g.FullConflicted))
					if !slices.Equal(fcs, want) {
						t.Errorf("full conflicted set %v, expected %v", fcs, want)
					}
				}
			})
		}
	}
}

func equalStringMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
