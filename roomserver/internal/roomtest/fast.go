package roomtest

import (
	"crypto/sha256"
	"encoding/json"
	"maps"
	"testing"

	"github.com/concordchat/concord/roomserver/cjson"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/roomserver/signing"
)

// BuildUnsigned makes an event like Build but without signing it, for tests that need many events and never verify
// them (state resolution, ordering). In room versions 1 and 2 the event ID is
// a hash of the event, so a room built twice from the same inputs has the
// same IDs in every version. ts is the
// origin_server_ts; auth are the auth events.
func (r *Room) BuildUnsigned(sender, typ string, stateKey *string, content any, prev, auth []*event.Event, ts int64) *event.Event {
	r.t.Helper()
	raw, err := json.Marshal(content)
	if err != nil {
		r.t.Fatal(err)
	}
	v := r.Version
	server := mxid.Domain(sender)
	obj := map[string]any{
		"type":             typ,
		"sender":           sender,
		"content":          json.RawMessage(raw),
		"origin_server_ts": ts,
		"depth":            depthOf(prev),
		"prev_events":      refsOf(prev, v.HasEventIDInJSON()),
		"auth_events":      refsOf(auth, v.HasEventIDInJSON()),
		"hashes":           map[string]string{},
		"signatures":       map[string]any{server: map[string]string{"ed25519:test": "unsigned"}},
	}
	if stateKey != nil {
		obj["state_key"] = *stateKey
	}
	isCreate := typ == event.TypeCreate && stateKey != nil && *stateKey == ""
	if !(v.RoomIDFromCreate && isCreate) {
		obj["room_id"] = r.ID
	}
	if v.Redaction < roomversion.RedactionV11 {
		obj["origin"] = server
	}
	out, err := cjson.Marshal(obj)
	if err != nil {
		r.t.Fatal(err)
	}
	// The real content hash: it is what keeps the IDs of events that differ
	// only in redacted-away content apart.
	hash, err := event.ContentHash(out, v)
	if err != nil {
		r.t.Fatal(err)
	}
	obj["hashes"] = map[string]string{"sha256": hash}
	if out, err = cjson.Marshal(obj); err != nil {
		r.t.Fatal(err)
	}
	if v.HasEventIDInJSON() {
		sum := sha256.Sum256(out)
		obj["event_id"] = "$" + signing.EncodeBase64URL(sum[:12]) + ":" + server
		if out, err = cjson.Marshal(obj); err != nil {
			r.t.Fatal(err)
		}
	}
	e, err := event.FromTrusted(out, v, "", false)
	if err != nil {
		r.t.Fatalf("roomtest: build %s: %v", typ, err)
	}
	r.Events[e.ID()] = e
	r.Order = append(r.Order, e)
	return e
}

func depthOf(prev []*event.Event) int64 {
	var d int64
	for _, p := range prev {
		if p.Depth() > d {
			d = p.Depth()
		}
	}
	return d + 1
}

func refsOf(events []*event.Event, pairs bool) []any {
	out := make([]any, 0, len(events))
	for _, e := range events {
		if pairs {
			out = append(out, []any{e.ID(), map[string]string{"sha256": e.ContentHash()}})
		} else {
			out = append(out, e.ID())
		}
	}
	return out
}

// NewUnsigned makes a room like New whose events are built with
// BuildUnsigned, so that their IDs are the same on every run in every version.
func NewUnsigned(t testing.TB, ver, creator string, createContent map[string]any) *Room {
	t.Helper()
	v, err := roomversion.Get(ver)
	if err != nil {
		t.Fatal(err)
	}
	r := &Room{t: t, Version: v, Creator: creator, Events: map[string]*event.Event{},
		Branches: map[string]*Branch{Main: {State: map[event.StateKey]*event.Event{}}},
		ts:       1_700_000_000_000}
	content := map[string]any{"room_version": ver}
	if !v.CreatorIsSender {
		content["creator"] = creator
	}
	maps.Copy(content, createContent)
	if !v.RoomIDFromCreate {
		r.ID = "!room:" + mxid.Domain(creator)
	}
	create := r.SendUnsigned(Main, creator, event.TypeCreate, StrPtr(""), content, 0)
	r.ID = create.RoomID()
	return r
}

// SendUnsigned is SendOn with BuildUnsigned; ts 0 means one millisecond after
// the previous event.
func (r *Room) SendUnsigned(b, sender, typ string, stateKey *string, content any, ts int64) *event.Event {
	r.t.Helper()
	br := r.Branches[b]
	if br == nil {
		r.t.Fatalf("roomtest: no branch %q", b)
	}
	raw, err := json.Marshal(content)
	if err != nil {
		r.t.Fatal(err)
	}
	auth := event.SelectAuthEvents(r.Version, typ, stateKey, sender, raw, func(k event.StateKey) *event.Event { return br.State[k] })
	var prev []*event.Event
	if br.Head != nil {
		prev = []*event.Event{br.Head}
	}
	if ts == 0 {
		r.ts++
		ts = r.ts
	}
	e := r.BuildUnsigned(sender, typ, stateKey, json.RawMessage(raw), prev, auth, ts)
	br.Head = e
	if e.IsState() {
		br.State[e.Key()] = e
	}
	return e
}
