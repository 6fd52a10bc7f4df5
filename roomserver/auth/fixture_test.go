package auth_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/concordchat/concord/roomserver/cjson"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/roomserver/signing"
)

// evSpec describes a test event. Unlike event.Builder it can make any
// content the version's canonical JSON allows (floats in v1–v5), any
// prev_events, extra signatures and v1–v2 event IDs on another server.
type evSpec struct {
	Sender   string
	Type     string
	StateKey *string
	Content  any // marshalled with encoding/json; json.RawMessage passes through
	Prev     []*event.Event
	Auth     []*event.Event
	Redacts  string   // top level (v1–v10) or content.redacts (v11+)
	Signers  []string // servers that sign besides the sender's
	IDServer string   // v1–v2: the event ID's server (default: the sender's)
	RoomID   string   // default: the fixture's room
	// FakeSignatures skips ed25519 signing (Check only looks at which servers
	// signed) to make many events quickly.
	FakeSignatures bool
}

// builder makes events of one room version with deterministic IDs.
type builder struct {
	v      *roomversion.Version
	roomID string
	tag    string // distinguishes v1–v2 event IDs of different builders
	n      int
	keys   map[string]signing.Key
}

func newBuilder(v *roomversion.Version) *builder {
	return &builder{v: v, keys: map[string]signing.Key{}}
}

func (b *builder) key(server string) signing.Key {
	k, ok := b.keys[server]
	if !ok {
		k = roomtest.Key(server)
		b.keys[server] = k
	}
	return k
}

func sp(s string) *string { return &s }

// build makes the event or returns an error (for generators).
func (b *builder) build(s evSpec) (*event.Event, error) {
	v := b.v
	b.n++
	var content json.RawMessage
	switch c := s.Content.(type) {
	case nil:
		content = json.RawMessage(`{}`)
	case json.RawMessage:
		content = c
	case string:
		content = json.RawMessage(c)
	default:
		raw, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		content = raw
	}
	if v.RedactsInContent && s.Redacts != "" {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(content, &m); err != nil {
			return nil, err
		}
		m["redacts"], _ = json.Marshal(s.Redacts)
		content, _ = json.Marshal(m)
	}
	obj := map[string]any{
		"type": s.Type, "sender": s.Sender, "content": content,
		"origin_server_ts": 1_700_000_000_000 + b.n, "depth": b.n,
		"prev_events": refs(v, s.Prev), "auth_events": refs(v, s.Auth),
		"hashes": map[string]string{}, "signatures": map[string]any{},
	}
	if s.StateKey != nil {
		obj["state_key"] = *s.StateKey
	}
	roomID := s.RoomID
	if roomID == "" {
		roomID = b.roomID
	}
	if !(v.RoomIDFromCreate && s.Type == event.TypeCreate && s.StateKey != nil && *s.StateKey == "") {
		obj["room_id"] = roomID
	}
	if !v.RedactsInContent && s.Redacts != "" {
		obj["redacts"] = s.Redacts
	}
	senderServer := mxid.Domain(s.Sender)
	if v.Redaction < roomversion.RedactionV11 {
		obj["origin"] = senderServer
	}
	if v.HasEventIDInJSON() {
		idServer := s.IDServer
		if idServer == "" {
			idServer = senderServer
		}
		obj["event_id"] = fmt.Sprintf("$%sev%d:%s", b.tag, b.n, idServer)
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	if raw, err = cjson.Encode(raw, cjson.Options{Strict: v.StrictCanonicalJSON}); err != nil {
		return nil, err
	}
	hash, err := event.ContentHash(raw, v)
	if err != nil {
		return nil, err
	}
	obj["hashes"] = map[string]string{"sha256": hash}
	if s.FakeSignatures {
		sigs := map[string]any{}
		for _, server := range append([]string{senderServer}, s.Signers...) {
			sigs[server] = map[string]string{"ed25519:test": "c2ln"}
		}
		obj["signatures"] = sigs
	}
	if raw, err = json.Marshal(obj); err != nil {
		return nil, err
	}
	if raw, err = cjson.Encode(raw, cjson.Options{Strict: v.StrictCanonicalJSON}); err != nil {
		return nil, err
	}
	if !s.FakeSignatures {
		for _, server := range append([]string{senderServer}, s.Signers...) {
			if raw, err = event.Sign(raw, v, b.key(server)); err != nil {
				return nil, err
			}
		}
	}
	e, err := event.Parse(raw, v)
	if err != nil {
		return nil, fmt.Errorf("%w in %.300s", err, raw)
	}
	if e.Redacted() {
		return nil, fmt.Errorf("test event came out redacted: %s", raw)
	}
	return e, nil
}

// mustBuild is build for fixed test input.
func (b *builder) mustBuild(t testing.TB, s evSpec) *event.Event {
	t.Helper()
	e, err := b.build(s)
	if err != nil {
		t.Fatalf("build %s: %v", s.Type, err)
	}
	return e
}

func refs(v *roomversion.Version, events []*event.Event) []any {
	out := make([]any, 0, len(events))
	for _, e := range events {
		if v.HasEventIDInJSON() {
			out = append(out, []any{e.ID(), map[string]string{"sha256": e.ContentHash()}})
		} else {
			out = append(out, e.ID())
		}
	}
	return out
}

// createContent returns the usual create content of version v by creator.
func createContent(v *roomversion.Version, creator string) map[string]any {
	c := map[string]any{"room_version": v.ID}
	if !v.CreatorIsSender {
		c["creator"] = creator
	}
	return c
}

// newRoom makes a builder for a room whose create event has content (nil:
// the usual content), sent by creator; it sets the room ID.
func newRoom(t testing.TB, v *roomversion.Version, creator string, content any) (*builder, *event.Event) {
	t.Helper()
	b := newBuilder(v)
	if !v.RoomIDFromCreate {
		b.roomID = "!room:" + mxid.Domain(creator)
	}
	if content == nil {
		content = createContent(v, creator)
	}
	create := b.mustBuild(t, evSpec{Sender: creator, Type: event.TypeCreate, StateKey: sp(""), Content: content})
	b.roomID = create.RoomID()
	return b, create
}

func jsonUnmarshal(raw []byte, v any) error { return json.Unmarshal(raw, v) }
