package relations

import (
	"github.com/tidwall/gjson"
)

// Relation types with meaning to the server.
const (
	RelReplace    = "m.replace"
	RelAnnotation = "m.annotation"
	RelThread     = "m.thread"
	RelReference  = "m.reference"
)

// MaxKeyBytes bounds an annotation key, as Synapse does.
const MaxKeyBytes = 500

// Relation is the m.relates_to of an event's content.
type Relation struct {
	RelType  string
	ParentID string
	// Key is the annotation key of an m.annotation ("" if absent).
	Key string
	// HasKey reports whether the key was a string.
	HasKey bool
}

// FromContent reads m.relates_to from event content. It reports false when
// there is none or it lacks a string rel_type or event_id (a rich reply's
// m.in_reply_to alone is not a relation the server indexes).
func FromContent(content []byte) (Relation, bool) {
	rt := gjson.GetBytes(content, `m\.relates_to`)
	if !rt.IsObject() {
		return Relation{}, false
	}
	typ, parent := rt.Get("rel_type"), rt.Get("event_id")
	if typ.Type != gjson.String || parent.Type != gjson.String || typ.Str == "" || parent.Str == "" {
		return Relation{}, false
	}
	r := Relation{RelType: typ.Str, ParentID: parent.Str}
	if k := rt.Get("key"); k.Type == gjson.String {
		r.Key, r.HasKey = k.Str, true
	}
	return r, true
}
