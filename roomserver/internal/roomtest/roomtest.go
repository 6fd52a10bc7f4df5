package roomtest

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"testing"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/roomserver/signing"
)

// Main is the name of the branch every room starts with.
const Main = "main"

// Branch is a line of history with its own head and current state.
type Branch struct {
	Head  *event.Event
	State map[event.StateKey]*event.Event
}

// Room is a test room: every event made, and branches of history.
type Room struct {
	t        testing.TB
	Version  *roomversion.Version
	ID       string
	Creator  string
	Events   map[string]*event.Event
	Order    []*event.Event // in creation order
	Branches map[string]*Branch
	ts       int64
	keys     map[string]signing.Key
}

// Key returns the deterministic signing key of a server (seeded from its name).
func Key(server string) signing.Key {
	seed := sha256.Sum256([]byte("roomtest:" + server))
	k, err := signing.KeyFromSeed(server, "ed25519:test", seed[:])
	if err != nil {
		panic(err) // unreachable: the seed is always 32 bytes
	}
	return k
}

// StrPtr returns a pointer to s (for state keys).
func StrPtr(s string) *string { return &s }

// New makes a room of version ver created by creator, with no other state.
// Use Init for the usual create/join/power levels/join rules start.
func New(t testing.TB, ver, creator string) *Room {
	t.Helper()
	v, err := roomversion.Get(ver)
	if err != nil {
		t.Fatal(err)
	}
	r := &Room{t: t, Version: v, Creator: creator, Events: map[string]*event.Event{},
		Branches: map[string]*Branch{Main: {State: map[event.StateKey]*event.Event{}}},
		ts:       1_700_000_000_000, keys: map[string]signing.Key{}}
	content := map[string]any{"room_version": ver}
	if !v.CreatorIsSender {
		content["creator"] = creator
	}
	if !v.RoomIDFromCreate {
		r.ID = "!room:" + mxid.Domain(creator)
	}
	create := r.Send(creator, event.TypeCreate, StrPtr(""), content)
	r.ID = create.RoomID()
	return r
}

// Init makes a room with the usual initial state: the creator joins, power
// levels (creator 100 before v12), public or given join rule.
func Init(t testing.TB, ver, creator, joinRule string) *Room {
	r := New(t, ver, creator)
	r.Send(creator, event.TypeMember, StrPtr(creator), map[string]any{"membership": "join"})
	users := map[string]any{}
	if !r.Version.PrivilegedCreators {
		users[creator] = 100
	}
	r.Send(creator, event.TypePowerLevels, StrPtr(""), map[string]any{"users": users})
	r.Send(creator, event.TypeJoinRules, StrPtr(""), map[string]any{"join_rule": joinRule})
	return r
}

// Send appends an event to the main branch; see SendOn.
func (r *Room) Send(sender, typ string, stateKey *string, content any) *event.Event {
	return r.SendOn(Main, sender, typ, stateKey, content)
}

// SendOn builds an event on branch b, authorised by the branch's current state
// (auth events are selected from it; the rules are not checked), with the
// branch head as prev event. State events update the branch state.
func (r *Room) SendOn(b, sender, typ string, stateKey *string, content any) *event.Event {
	r.t.Helper()
	br := r.Branches[b]
	if br == nil {
		r.t.Fatalf("roomtest: no branch %q", b)
	}
	var prev []*event.Event
	if br.Head != nil {
		prev = []*event.Event{br.Head}
	}
	e := r.Build(sender, typ, stateKey, content, prev, br.State)
	br.Head = e
	if e.IsState() {
		br.State[e.Key()] = e
	}
	return e
}

// Build makes a signed event with the given prev events and auth events
// selected from state, without recording it on any branch.
func (r *Room) Build(sender, typ string, stateKey *string, content any, prev []*event.Event, state map[event.StateKey]*event.Event) *event.Event {
	r.t.Helper()
	raw, err := json.Marshal(content)
	if err != nil {
		r.t.Fatal(err)
	}
	r.ts++
	auth := event.SelectAuthEvents(r.Version, typ, stateKey, sender, raw, func(k event.StateKey) *event.Event { return state[k] })
	e, err := event.Builder{Version: r.Version, RoomID: r.ID, Type: typ, StateKey: stateKey, Sender: sender,
		Content: json.RawMessage(raw), PrevEvents: prev, AuthEvents: auth, OriginServerTS: r.ts,
	}.Build(r.key(mxid.Domain(sender)))
	if err != nil {
		r.t.Fatalf("roomtest: build %s: %v", typ, err)
	}
	r.Events[e.ID()] = e
	r.Order = append(r.Order, e)
	return e
}

func (r *Room) key(server string) signing.Key {
	k, ok := r.keys[server]
	if !ok {
		k = Key(server)
		r.keys[server] = k
	}
	return k
}

// Fork starts branch to from the current head and state of branch from.
func (r *Room) Fork(from, to string) *Branch {
	src := r.Branches[from]
	if src == nil {
		r.t.Fatalf("roomtest: no branch %q", from)
	}
	b := &Branch{Head: src.Head, State: maps.Clone(src.State)}
	r.Branches[to] = b
	return b
}

// StateIDs returns branch b's state as event IDs.
func (r *Room) StateIDs(b string) map[event.StateKey]string {
	out := map[event.StateKey]string{}
	for k, e := range r.Branches[b].State {
		out[k] = e.ID()
	}
	return out
}

// Lookup returns a key lookup that knows every server's test key.
func (r *Room) Lookup() event.KeyLookup {
	return func(server string, id signing.KeyID) (event.PublicKey, bool) {
		if id != "ed25519:test" {
			return event.PublicKey{}, false
		}
		return event.PublicKey{Key: Key(server).Public()}, true
	}
}

// SetTS sets the timestamp the next event gets (minus one).
func (r *Room) SetTS(ts int64) { r.ts = ts }

// String describes the room for failure messages.
func (r *Room) String() string {
	return fmt.Sprintf("room %s v%s with %d events", r.ID, r.Version.ID, len(r.Order))
}
