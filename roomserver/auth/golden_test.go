package auth_test

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/roomserver/signing"
)

// goldenFile is one testdata/*.json file: authorisation cases, each run in
// every room version it names.
type goldenFile struct {
	Description string       `json:"description"`
	Cases       []goldenCase `json:"cases"`
}

// goldenCase: a room (create, optional standard start, members, more state),
// an event and the expected decision. In room version 12 the creators are
// removed from the users of every power levels content (the event's too,
// unless KeepCreators), so that cases can share contents across versions.
//
// Strings "${pubkey:SERVER}" anywhere in contents become the base64 public key
// of roomtest.Key(SERVER).
type goldenCase struct {
	Name     string `json:"name"`
	Versions string `json:"versions"` // "1-12", "1-5,7"
	Spec     string `json:"spec"`     // the rule text the case relies on
	Creator  string `json:"creator"`  // default @alice:a.test
	// Create replaces the create content; CreateExtra is merged into the
	// usual one.
	Create      map[string]any `json:"create"`
	CreateExtra map[string]any `json:"create_extra"`
	// NoInit skips the standard start: the creator joins, power levels
	// (PowerLevels, default {"users": {creator: 100}}, no users in v12) and
	// join rules (JoinRules, default {"join_rule": JoinRule or "public"}).
	NoInit      bool              `json:"no_init"`
	NoPL        bool              `json:"no_power_levels"`
	PowerLevels json.RawMessage   `json:"power_levels"`
	JoinRule    string            `json:"join_rule"`
	JoinRules   json.RawMessage   `json:"join_rules"`
	Members     map[string]string `json:"members"` // user → membership
	State       []goldenEvent     `json:"state"`
	Event       goldenEvent       `json:"event"`
	// Allowed is the expected decision; Rule the rule that rejects, or for
	// an allowed event the rule that allows it (documentation and coverage).
	Allowed bool `json:"allowed"`
	// KeepCreators keeps v12 creators in the event's power levels.
	KeepCreators bool `json:"keep_creators"`
	// OmitCreate leaves the create event out of the state.
	OmitCreate bool   `json:"omit_create"`
	Rule       string `json:"rule"`
}

type goldenEvent struct {
	Sender   string          `json:"sender"`
	Type     string          `json:"type"`
	StateKey *string         `json:"state_key"`
	Content  json.RawMessage `json:"content"`
	Redacts  string          `json:"redacts"`
	Signers  []string        `json:"signers"`
	IDServer string          `json:"id_server"`
	RoomID   string          `json:"room_id"`
	// Prev: "create" (only the create event), "none", or default the
	// previous event.
	Prev string `json:"prev"`
	// SignTPI signs content.third_party_invite.signed with these servers'
	// test keys; BadTPISignature then corrupts the signatures.
	SignTPI         []string `json:"sign_tpi"`
	BadTPISignature bool     `json:"bad_tpi_signature"`
}

const goldenCreator = "@alice:a.test"

func parseVersions(t *testing.T, s string) []*roomversion.Version {
	t.Helper()
	var out []*roomversion.Version
	for _, part := range strings.Split(s, ",") {
		lo, hi, found := strings.Cut(strings.TrimSpace(part), "-")
		if !found {
			hi = lo
		}
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || a > b {
			t.Fatalf("bad versions %q", s)
		}
		for n := a; n <= b; n++ {
			out = append(out, roomversion.MustGet(strconv.Itoa(n)))
		}
	}
	return out
}

func expandPlaceholders(raw []byte) []byte {
	s := string(raw)
	for {
		i := strings.Index(s, "${pubkey:")
		if i < 0 {
			return []byte(s)
		}
		j := strings.Index(s[i:], "}")
		server := s[i+len("${pubkey:") : i+j]
		s = s[:i] + signing.EncodeBase64(roomtest.Key(server).Public()) + s[i+j+1:]
	}
}

// goldenRoom builds the state of c in version v and the event to check.
func goldenRoom(t *testing.T, v *roomversion.Version, c goldenCase) (map[event.StateKey]*event.Event, *event.Event) {
	t.Helper()
	creator := c.Creator
	if creator == "" {
		creator = goldenCreator
	}
	var createC any
	switch {
	case c.Create != nil:
		createC = c.Create
	case c.CreateExtra != nil:
		m := createContent(v, creator)
		maps.Copy(m, c.CreateExtra)
		createC = m
	}
	b, create := newRoom(t, v, creator, createC)
	state := map[event.StateKey]*event.Event{create.Key(): create}
	last := create
	add := func(s evSpec) {
		if s.Prev == nil {
			s.Prev = []*event.Event{last}
		}
		e := b.mustBuild(t, s)
		state[e.Key()] = e
		last = e
	}
	if !c.NoInit {
		add(evSpec{Sender: creator, Type: event.TypeMember, StateKey: sp(creator), Content: map[string]any{"membership": "join"}})
		if !c.NoPL {
			pl := json.RawMessage(c.PowerLevels)
			if pl == nil {
				users := map[string]any{}
				if !v.PrivilegedCreators {
					users[creator] = 100
				}
				pl, _ = json.Marshal(map[string]any{"users": users})
			}
			add(evSpec{Sender: creator, Type: event.TypePowerLevels, StateKey: sp(""), Content: dropCreators(t, v, creator, c, expandPlaceholders(pl))})
		}
		jr := json.RawMessage(c.JoinRules)
		if jr == nil {
			rule := c.JoinRule
			if rule == "" {
				rule = "public"
			}
			jr, _ = json.Marshal(map[string]any{"join_rule": rule})
		}
		add(evSpec{Sender: creator, Type: event.TypeJoinRules, StateKey: sp(""), Content: jr})
	}
	for _, user := range slices.Sorted(maps.Keys(c.Members)) {
		m := c.Members[user]
		sender := user
		if m == "invite" || m == "ban" {
			sender = creator
		}
		add(evSpec{Sender: sender, Type: event.TypeMember, StateKey: sp(user), Content: map[string]any{"membership": m}})
	}
	for _, ge := range c.State {
		s := goldenSpec(t, v, ge, last, create)
		if s.Type == event.TypePowerLevels {
			s.Content = dropCreators(t, v, creator, c, s.Content.(json.RawMessage))
		}
		add(s)
	}
	if c.OmitCreate {
		delete(state, create.Key())
	}
	s := goldenSpec(t, v, c.Event, last, create)
	if s.Type == event.TypePowerLevels && !c.KeepCreators {
		s.Content = dropCreators(t, v, creator, c, s.Content.(json.RawMessage))
	}
	if s.Prev == nil {
		s.Prev = []*event.Event{last}
	}
	return state, b.mustBuild(t, s)
}

func goldenSpec(t *testing.T, v *roomversion.Version, ge goldenEvent, last, create *event.Event) evSpec {
	t.Helper()
	content := json.RawMessage(`{}`)
	if ge.Content != nil {
		content = expandPlaceholders(ge.Content)
	}
	if len(ge.SignTPI) > 0 {
		content = signTPI(t, v, content, ge.SignTPI, ge.BadTPISignature)
	}
	s := evSpec{Sender: ge.Sender, Type: ge.Type, StateKey: ge.StateKey, Content: content,
		Redacts: ge.Redacts, Signers: ge.Signers, IDServer: ge.IDServer, RoomID: ge.RoomID}
	switch ge.Prev {
	case "create":
		s.Prev = []*event.Event{create}
	case "none":
		s.Prev = []*event.Event{}
	case "":
		if ge.Type == event.TypeCreate {
			s.Prev = []*event.Event{}
		}
	default:
		t.Fatalf("bad prev %q", ge.Prev)
	}
	return s
}

// dropCreators removes room creators from the users of a power levels
// content in the room's state in room version 12, where they may not appear:
// golden cases can then share one power levels content across versions.
func dropCreators(t *testing.T, v *roomversion.Version, creator string, c goldenCase, content []byte) json.RawMessage {
	t.Helper()
	if !v.PrivilegedCreators {
		return content
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(content, &m); err != nil {
		t.Fatal(err)
	}
	var users map[string]json.RawMessage
	if json.Unmarshal(m["users"], &users) != nil || users == nil {
		return content
	}
	delete(users, creator)
	if extra, ok := c.CreateExtra["additional_creators"].([]any); ok {
		for _, u := range extra {
			if s, ok := u.(string); ok {
				delete(users, s)
			}
		}
	}
	m["users"], _ = json.Marshal(users)
	out, _ := json.Marshal(m)
	return out
}

// signTPI signs content.third_party_invite.signed with the servers' keys.
func signTPI(t *testing.T, v *roomversion.Version, content json.RawMessage, servers []string, corrupt bool) json.RawMessage {
	t.Helper()
	var c map[string]json.RawMessage
	var tpi map[string]json.RawMessage
	if err := json.Unmarshal(content, &c); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(c["third_party_invite"], &tpi); err != nil {
		t.Fatal(err)
	}
	signed := []byte(tpi["signed"])
	for _, server := range servers {
		var err error
		if signed, err = signing.SignJSON(signed, roomtest.Key(server), v.StrictCanonicalJSON); err != nil {
			t.Fatal(err)
		}
	}
	if corrupt {
		var m map[string]any
		_ = json.Unmarshal(signed, &m)
		for _, keys := range m["signatures"].(map[string]any) {
			for id := range keys.(map[string]any) {
				keys.(map[string]any)[id] = signing.EncodeBase64(make([]byte, 64))
			}
		}
		signed, _ = json.Marshal(m)
	}
	tpi["signed"] = signed
	c["third_party_invite"], _ = json.Marshal(tpi)
	out, _ := json.Marshal(c)
	return out
}

func loadGolden(t *testing.T) map[string]goldenFile {
	t.Helper()
	paths, err := filepath.Glob("testdata/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	out := map[string]goldenFile{}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var f goldenFile
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[filepath.Base(p)] = f
	}
	return out
}

func TestGolden(t *testing.T) {
	covered := map[string]map[string]bool{} // version → rule ids seen
	for name, f := range loadGolden(t) {
		for _, c := range f.Cases {
			for _, v := range parseVersions(t, c.Versions) {
				t.Run(name+"/"+c.Name+"/v"+v.ID, func(t *testing.T) {
					state, e := goldenRoom(t, v, c)
					err := auth.Check(e, auth.FromMap(state))
					if c.Allowed {
						if err != nil {
							t.Fatalf("want allowed (%s), got %v\nevent %s", c.Rule, err, e.JSON())
						}
					} else {
						var ae *auth.Error
						if !errors.As(err, &ae) || !errors.Is(err, auth.ErrRejected) {
							t.Fatalf("want rejection by %s, got %v\nevent %s", c.Rule, err, e.JSON())
						}
						if ae.Rule != c.Rule {
							t.Fatalf("want rule %s, got %v\nevent %s", c.Rule, err, e.JSON())
						}
					}
					// The same decision from the event's auth events alone.
					auth2 := event.SelectAuthEvents(v, e.Type(), e.StateKey(), e.Sender(), e.Content(),
						func(k event.StateKey) *event.Event { return state[k] })
					err2 := auth.Check(e, auth.FromAuthEventsWithCreate(auth2, state[event.StateKey{Type: event.TypeCreate}]))
					if (err == nil) != (err2 == nil) {
						t.Fatalf("state %v vs auth events %v", err, err2)
					}
				})
				if covered[v.ID] == nil {
					covered[v.ID] = map[string]bool{}
				}
				key := c.Rule
				if c.Allowed {
					key = "allow:" + c.Rule
				}
				covered[v.ID][key] = true
			}
		}
	}
	t.Run("coverage", func(t *testing.T) {
		for _, r := range goldenCoverage {
			for _, v := range parseVersions(t, r.versions) {
				if !covered[v.ID][r.rule] {
					t.Errorf("no golden case for %s in v%s", r.rule, v.ID)
				}
			}
		}
	})
}

// goldenCoverage lists every rule outcome each version must have a golden
// case for: rejections by rule id, allowing branches as "allow:<rule>".
var goldenCoverage = []struct{ rule, versions string }{
	{"1.1", "1-12"}, {"1.2", "1-11"}, {"1.3", "1-12"}, {"1.4", "12"}, {"create.creator", "1-10"},
	{"allow:1.5", "1-12"},
	{"2", "12"}, {"3.4", "1-11"}, {"3.5", "1-12"}, {"4", "1-12"},
	{"aliases", "1-5"}, {"allow:aliases", "1-5"},
	{"5.1", "1-12"}, {"5.2.1", "8-12"},
	{"allow:5.3.1", "1-12"}, {"5.3.2", "1-12"}, {"5.3.3", "1-12"}, {"allow:5.3.4", "1-12"}, {"5.3.4", "1-12"},
	{"allow:5.3.5.1", "8-12"}, {"5.3.5.2", "8-12"}, {"allow:5.3.5.3", "8-12"}, {"allow:5.3.6", "1-12"}, {"5.3.7", "1-12"},
	{"5.4.1.1", "1-12"}, {"5.4.1.2", "1-12"}, {"5.4.1.3", "1-12"}, {"5.4.1.4", "1-12"}, {"5.4.1.5", "1-12"},
	{"5.4.1.6", "1-12"}, {"allow:5.4.1.7", "1-12"}, {"5.4.1.8", "1-12"},
	{"5.4.2", "1-12"}, {"5.4.3", "1-12"}, {"allow:5.4.4", "1-12"}, {"5.4.5", "1-12"},
	{"allow:5.5.1", "1-12"}, {"5.5.1", "1-12"}, {"5.5.2", "1-12"}, {"5.5.3", "1-12"}, {"allow:5.5.4", "1-12"}, {"5.5.5", "1-12"},
	{"5.6.1", "1-12"}, {"allow:5.6.2", "1-12"}, {"5.6.3", "1-12"},
	{"5.7.1", "7-12"}, {"5.7.2", "7-12"}, {"allow:5.7.3", "7-12"}, {"5.7.4", "7-12"},
	{"5.8", "1-12"},
	{"6", "1-12"}, {"allow:7.1", "1-12"}, {"7.1", "1-12"}, {"8", "1-12"}, {"9", "1-12"},
	{"10.1", "1-12"}, {"10.2", "1-12"}, {"10.3", "1-12"}, {"10.4", "12"}, {"allow:10.5", "1-12"},
	{"10.6", "1-12"}, {"10.7", "1-12"}, {"10.8", "1-12"}, {"10.9", "1-12"}, {"10.10", "1-12"}, {"allow:10.11", "1-12"},
	{"allow:11", "1-12"},
	{"redaction", "1-2"}, {"allow:redaction.1", "1-2"}, {"allow:redaction.2", "1-2"},
}
