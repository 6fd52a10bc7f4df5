package roomtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// RandomConfig shapes a random room made by Random.
type RandomConfig struct {
	Users   int     // members besides the creator (at least 1)
	Servers int     // servers the users are spread over (at least 1)
	Forks   int     // branches whose states are returned (at least 2)
	Prefix  int     // random events on the main branch before the first fork
	Steps   int     // random events after the first fork, over all branches
	BadRate float64 // probability that an event failing auth is kept in its branch's state anyway
}

// Allowed reports whether e passes the authorisation rules against authEvents
// (in room version 12 the create event is not among them).
type Allowed func(e *event.Event, authEvents []*event.Event, create *event.Event) bool

// RandomRoom is a room with random forks, and the states to resolve.
type RandomRoom struct {
	*Room
	Seed      uint64
	Config    RandomConfig
	Create    *event.Event
	Users     []string
	StateSets []map[event.StateKey]string
	// Invalid holds the events that fail auth against their own auth events
	// but were kept in a branch's state (BadRate).
	Invalid map[string]bool
	// Rejected holds the events that failed auth and were dropped.
	Rejected int

	rng      *rand.Rand
	allowed  Allowed
	branches []string
}

// Random makes a room of version ver from seed: users on several servers,
// initial state, random events on the main branch, then Forks branches that
// each apply random state changes (power level promotions and demotions, bans,
// kicks, unbans, invites, joins, leaves, knocks, join rule changes, topics and
// names, custom state; additional creators in version 12). Every event is
// checked with allowed against its auth events; one that fails is dropped, or
// with probability BadRate kept in its branch's state and listed in Invalid.
// The same seed, version and config always give the same events.
func Random(t testing.TB, ver string, seed uint64, cfg RandomConfig, allowed Allowed) *RandomRoom {
	t.Helper()
	v, err := roomversion.Get(ver)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Users = max(cfg.Users, 1)
	cfg.Servers = max(cfg.Servers, 1)
	cfg.Forks = max(cfg.Forks, 2)
	rr := &RandomRoom{Seed: seed, Config: cfg, Invalid: map[string]bool{}, allowed: allowed,
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	rr.Users = make([]string, cfg.Users+1)
	for i := range rr.Users {
		rr.Users[i] = fmt.Sprintf("@u%d:s%d.test", i, i%cfg.Servers)
	}
	creator := rr.Users[0]
	rr.Room = &Room{t: t, Version: v, Creator: creator, Events: map[string]*event.Event{},
		Branches: map[string]*Branch{Main: {State: map[event.StateKey]*event.Event{}}},
		ts:       1_700_000_000_000, keys: nil}
	if !v.RoomIDFromCreate {
		rr.ID = "!room:s0.test"
	}
	rr.branches = []string{Main}
	rr.setup()
	for i := 0; i < cfg.Prefix; i++ {
		rr.step(Main)
	}
	rr.fork()
	forkAt := make([]int, cfg.Forks-2)
	for i := range forkAt {
		forkAt[i] = rr.rng.IntN(max(cfg.Steps, 1))
	}
	for s := 0; s < cfg.Steps; s++ {
		for _, at := range forkAt {
			if at == s {
				rr.fork()
			}
		}
		rr.step(rr.branches[rr.rng.IntN(len(rr.branches))])
	}
	for len(rr.branches) < cfg.Forks {
		rr.fork()
	}
	for _, b := range rr.branches {
		rr.StateSets = append(rr.StateSets, rr.StateIDs(b))
	}
	return rr
}

func (rr *RandomRoom) fork() {
	from := rr.branches[rr.rng.IntN(len(rr.branches))]
	name := fmt.Sprintf("fork%d", len(rr.branches))
	rr.Fork(from, name)
	rr.branches = append(rr.branches, name)
}

// nextTS advances the clock by 0–3 ms, so that equal timestamps occur.
func (rr *RandomRoom) nextTS() int64 {
	rr.ts += int64(rr.rng.IntN(4))
	return rr.ts
}

// send builds an event on branch b and applies it when allowed.
func (rr *RandomRoom) send(b, sender, typ string, stateKey *string, content any) *event.Event {
	br := rr.Branches[b]
	raw, err := json.Marshal(content)
	if err != nil {
		rr.t.Fatal(err)
	}
	auth := event.SelectAuthEvents(rr.Version, typ, stateKey, sender, raw, func(k event.StateKey) *event.Event { return br.State[k] })
	var prev []*event.Event
	if br.Head != nil {
		prev = []*event.Event{br.Head}
	}
	e := rr.BuildUnsigned(sender, typ, stateKey, json.RawMessage(raw), prev, auth, rr.nextTS())
	if typ == event.TypeCreate {
		rr.Create = e
		rr.ID = e.RoomID()
	}
	ok := rr.allowed == nil || rr.allowed(e, auth, rr.Create)
	if !ok {
		if rr.rng.Float64() >= rr.Config.BadRate {
			rr.Rejected++
			return nil
		}
		rr.Invalid[e.ID()] = true
	}
	br.Head = e
	if e.IsState() {
		br.State[e.Key()] = e
	}
	return e
}

func (rr *RandomRoom) setup() {
	v, rng, creator := rr.Version, rr.rng, rr.Creator
	content := map[string]any{"room_version": v.ID}
	if !v.CreatorIsSender {
		content["creator"] = creator
	}
	if v.PrivilegedCreators && len(rr.Users) > 2 && rng.IntN(3) == 0 {
		content["additional_creators"] = []string{rr.Users[1+rng.IntN(len(rr.Users)-1)]}
	}
	rr.send(Main, creator, event.TypeCreate, StrPtr(""), content)
	rr.send(Main, creator, event.TypeMember, StrPtr(creator), map[string]any{"membership": event.Join})
	users := map[string]any{}
	if !v.PrivilegedCreators {
		users[creator] = 100
	}
	for _, u := range rr.Users[1:] {
		switch rng.IntN(4) {
		case 0:
			users[u] = 50
		case 1:
			users[u] = 100
		}
	}
	pl := map[string]any{"users": users, "users_default": 0, "events_default": 0,
		"state_default": 50, "ban": 50, "kick": 50, "redact": 50, "invite": rng.IntN(2) * 50,
		"events": map[string]any{event.TypePowerLevels: 50 + 50*rng.IntN(2), "m.room.name": 50}}
	rr.send(Main, creator, event.TypePowerLevels, StrPtr(""), pl)
	rr.send(Main, creator, event.TypeJoinRules, StrPtr(""), map[string]any{"join_rule": "public"})
	for _, u := range rr.Users[1:] {
		rr.send(Main, u, event.TypeMember, StrPtr(u), map[string]any{"membership": event.Join})
	}
}

// membership returns u's membership on branch b.
func (rr *RandomRoom) membership(b, u string) string {
	if e := rr.Branches[b].State[event.StateKey{Type: event.TypeMember, StateKey: u}]; e != nil {
		return e.Membership()
	}
	return ""
}

// pick returns a random user, usually one joined on branch b.
func (rr *RandomRoom) pick(b string) string {
	if rr.rng.IntN(5) > 0 {
		var joined []string
		for _, u := range rr.Users {
			if rr.membership(b, u) == event.Join {
				joined = append(joined, u)
			}
		}
		if len(joined) > 0 {
			return joined[rr.rng.IntN(len(joined))]
		}
	}
	return rr.Users[rr.rng.IntN(len(rr.Users))]
}

// step sends one random event on branch b.
func (rr *RandomRoom) step(b string) {
	rng := rr.rng
	sender, target := rr.pick(b), rr.Users[rng.IntN(len(rr.Users))]
	member := func(who, m string) {
		rr.send(b, sender, event.TypeMember, StrPtr(who), map[string]any{"membership": m})
	}
	switch rng.IntN(14) {
	case 0, 1, 2:
		rr.changePowerLevels(b, sender)
	case 3:
		member(target, event.Ban)
	case 4:
		member(target, event.Leave) // a kick, an unban or a leave
	case 5:
		member(sender, event.Leave)
	case 6:
		if rr.membership(b, target) == event.Ban {
			member(target, event.Leave)
		} else {
			member(target, event.Invite)
		}
	case 7:
		sender = target
		member(target, event.Join)
	case 8:
		rules := []string{"public", "invite"}
		if rr.Version.Knocking {
			rules = append(rules, "knock")
		}
		rr.send(b, sender, event.TypeJoinRules, StrPtr(""), map[string]any{"join_rule": rules[rng.IntN(len(rules))]})
	case 9:
		if rr.Version.Knocking {
			sender = target
			member(target, event.Knock)
		} else {
			member(target, event.Invite)
		}
	case 10:
		rr.send(b, sender, "m.room.topic", StrPtr(""), map[string]any{"topic": fmt.Sprintf("topic %d", rng.IntN(1000))})
	case 11:
		rr.send(b, sender, "m.room.name", StrPtr(""), map[string]any{"name": fmt.Sprintf("name %d", rng.IntN(1000))})
	case 12:
		rr.send(b, sender, "m.test.state", StrPtr(rr.Users[rng.IntN(len(rr.Users))]), map[string]any{"n": rng.IntN(1000)})
	default:
		rr.send(b, sender, "m.room.message", nil, map[string]any{"body": "hi"})
	}
}

// changePowerLevels sends a random change of the branch's power levels.
func (rr *RandomRoom) changePowerLevels(b, sender string) {
	rng := rr.rng
	content := map[string]any{}
	if pl := rr.Branches[b].State[event.StateKey{Type: event.TypePowerLevels}]; pl != nil {
		_ = json.Unmarshal(pl.Content(), &content)
	}
	users, _ := content["users"].(map[string]any)
	users = maps.Clone(users)
	if users == nil {
		users = map[string]any{}
	}
	levels := []int{0, 25, 50, 75, 100}
	for n := 1 + rng.IntN(2); n > 0; n-- {
		switch rng.IntN(6) {
		case 0, 1, 2: // promote or demote someone
			u := rr.Users[rng.IntN(len(rr.Users))]
			if rr.Version.PrivilegedCreators && u == rr.Creator && rng.IntN(4) > 0 {
				u = rr.Users[len(rr.Users)-1]
			}
			if rng.IntN(5) == 0 {
				delete(users, u)
			} else {
				users[u] = levels[rng.IntN(len(levels))]
			}
		case 3:
			content[[]string{"ban", "kick", "invite", "state_default"}[rng.IntN(4)]] = levels[rng.IntN(len(levels))]
		case 4:
			events, _ := content["events"].(map[string]any)
			events = maps.Clone(events)
			if events == nil {
				events = map[string]any{}
			}
			events[event.TypePowerLevels] = levels[1+rng.IntN(len(levels)-1)]
			content["events"] = events
		default:
			content["users_default"] = levels[rng.IntN(2)]
		}
	}
	content["users"] = users
	rr.send(b, sender, event.TypePowerLevels, StrPtr(""), content)
}

// AuthChainEvents returns the state events of every state set and their auth
// chains, each once.
func (rr *RandomRoom) AuthChainEvents() []*event.Event {
	seen := map[string]bool{}
	var out []*event.Event
	var stack []string
	for _, s := range rr.StateSets {
		for _, id := range s {
			stack = append(stack, id)
		}
	}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		e := rr.Events[id]
		if e == nil {
			continue
		}
		out = append(out, e)
		stack = append(stack, e.AuthEvents()...)
	}
	return out
}
