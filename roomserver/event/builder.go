package event

import (
	"crypto/rand"
	"encoding/json"
	"fmt"

	"github.com/concordchat/concord/roomserver/cjson"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/roomserver/signing"
)

// Builder describes a new local event. Build fills in depth, hashes, the event
// ID and the signature.
type Builder struct {
	Version  *roomversion.Version
	RoomID   string // ignored for a v12 create event
	Type     string
	StateKey *string
	Sender   string
	Content  any // marshalled with encoding/json; json.RawMessage passes through
	// Redacts is the redacted event's ID for m.room.redaction; it is written
	// at the top level (v1–v10) or into content (v11+).
	Redacts string
	// PrevEvents are the forward extremities the event follows; AuthEvents
	// come from SelectAuthEvents.
	PrevEvents     []*Event
	AuthEvents     []*Event
	OriginServerTS int64
	Unsigned       json.RawMessage
}

// Build makes, hashes and signs the event with key.
func (b Builder) Build(key signing.Key) (*Event, error) {
	v := b.Version
	if v == nil {
		return nil, fmt.Errorf("event builder: no room version")
	}
	content, err := b.contentJSON()
	if err != nil {
		return nil, err
	}
	obj := map[string]any{
		"type":             b.Type,
		"sender":           b.Sender,
		"content":          content,
		"origin_server_ts": b.OriginServerTS,
		"depth":            depthAfter(b.PrevEvents),
		"prev_events":      refs(b.PrevEvents, v),
		"auth_events":      refs(b.AuthEvents, v),
		"hashes":           map[string]string{},
		"signatures":       map[string]any{},
	}
	if b.StateKey != nil {
		obj["state_key"] = *b.StateKey
	}
	if !(v.RoomIDFromCreate && b.Type == TypeCreate && b.StateKey != nil && *b.StateKey == "") {
		obj["room_id"] = b.RoomID
	}
	if !v.RedactsInContent && b.Redacts != "" {
		obj["redacts"] = b.Redacts
	}
	if v.Redaction < roomversion.RedactionV11 {
		obj["origin"] = key.ServerName
	}
	if v.HasEventIDInJSON() {
		obj["event_id"] = "$" + randomLocalpart() + ":" + key.ServerName
	}
	if len(b.Unsigned) > 0 {
		obj["unsigned"] = b.Unsigned
	}
	raw, err := cjson.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("event builder: %w", err)
	}
	hash, err := computeContentHash(raw)
	if err != nil {
		return nil, err
	}
	obj["hashes"] = map[string]string{"sha256": hash}
	if raw, err = cjson.Marshal(obj); err != nil {
		return nil, err
	}
	if raw, err = Sign(raw, v, key); err != nil {
		return nil, err
	}
	if len(raw) > MaxEventBytes {
		return nil, ErrTooLarge
	}
	return fromCanonical(raw, v, "")
}

func (b Builder) contentJSON() (json.RawMessage, error) {
	var raw []byte
	var err error
	switch c := b.Content.(type) {
	case nil:
		raw = []byte("{}")
	case json.RawMessage:
		raw = c
	case []byte:
		raw = c
	default:
		if raw, err = json.Marshal(c); err != nil {
			return nil, fmt.Errorf("event builder: content: %w", err)
		}
	}
	if b.Version.RedactsInContent && b.Redacts != "" {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("event builder: content: %w", err)
		}
		m["redacts"], _ = json.Marshal(b.Redacts)
		raw, _ = json.Marshal(m)
	}
	return raw, nil
}

// depthAfter is one more than the deepest prev event, capped at the maximum
// canonical JSON integer (the PDU schema: "If the room's depth is already at
// the limit, the depth must be set to the limit").
func depthAfter(prev []*Event) int64 {
	var d int64
	for _, p := range prev {
		if p.depth > d {
			d = p.depth
		}
	}
	if d >= cjson.MaxSafeInteger {
		return cjson.MaxSafeInteger
	}
	return d + 1
}

// refs renders event references in the version's format.
func refs(events []*Event, v *roomversion.Version) []any {
	out := make([]any, 0, len(events))
	for _, e := range events {
		if v.HasEventIDInJSON() {
			out = append(out, []any{e.id, map[string]string{"sha256": e.contentHash}})
		} else {
			out = append(out, e.id)
		}
	}
	return out
}

func randomLocalpart() string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}
