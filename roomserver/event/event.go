package event

import (
	"encoding/json"
	"sync/atomic"

	"github.com/concordchat/concord/roomserver/roomversion"
)

// Well-known event types used by the room core.
const (
	TypeCreate            = "m.room.create"
	TypeMember            = "m.room.member"
	TypePowerLevels       = "m.room.power_levels"
	TypeJoinRules         = "m.room.join_rules"
	TypeThirdPartyInvite  = "m.room.third_party_invite"
	TypeRedaction         = "m.room.redaction"
	TypeAliases           = "m.room.aliases"
	TypeHistoryVisibility = "m.room.history_visibility"
)

// Membership values.
const (
	Join   = "join"
	Invite = "invite"
	Leave  = "leave"
	Ban    = "ban"
	Knock  = "knock"
)

// StateKey identifies a piece of room state: (event type, state key).
type StateKey struct {
	Type     string
	StateKey string
}

// Event is a validated PDU of a known room version.
type Event struct {
	raw     []byte // the event JSON, without event_id for v3+
	version *roomversion.Version

	id             string
	roomID         string
	typ            string
	stateKey       *string
	sender         string
	origin         string
	originServerTS int64
	depth          int64
	prevEvents     []string
	authEvents     []string
	redacts        string
	content        json.RawMessage
	unsigned       json.RawMessage
	contentHash    string
	membership     string // content.membership for m.room.member, else ""
	redacted       bool

	memo [memoSlots]atomic.Pointer[any]
}

// ID returns the event ID.
func (e *Event) ID() string { return e.id }

// RoomID returns the room ID; for a v12 create event it is derived from the event ID.
func (e *Event) RoomID() string { return e.roomID }

// Type returns the event type.
func (e *Event) Type() string { return e.typ }

// StateKey returns the state key, or nil for a non-state event.
func (e *Event) StateKey() *string { return e.stateKey }

// IsState reports whether the event has a state key.
func (e *Event) IsState() bool { return e.stateKey != nil }

// StateKeyIs reports whether the event is state with exactly this state key.
func (e *Event) StateKeyIs(k string) bool { return e.stateKey != nil && *e.stateKey == k }

// Key returns the (type, state key) tuple; only meaningful for state events.
func (e *Event) Key() StateKey {
	if e.stateKey == nil {
		return StateKey{Type: e.typ}
	}
	return StateKey{Type: e.typ, StateKey: *e.stateKey}
}

// Sender returns the sender's user ID.
func (e *Event) Sender() string { return e.sender }

// Origin returns the deprecated "origin" field, if present.
func (e *Event) Origin() string { return e.origin }

// OriginServerTS returns the origin timestamp in milliseconds.
func (e *Event) OriginServerTS() int64 { return e.originServerTS }

// Depth returns the event's depth.
func (e *Event) Depth() int64 { return e.depth }

// PrevEvents returns the IDs of the event's prev_events.
func (e *Event) PrevEvents() []string { return e.prevEvents }

// AuthEvents returns the IDs of the event's auth_events.
func (e *Event) AuthEvents() []string { return e.authEvents }

// Redacts returns the ID of the event a redaction redacts, from the top level
// (v1–v10) or from content (v11+), or "".
func (e *Event) Redacts() string { return e.redacts }

// Content returns the raw content object.
func (e *Event) Content() json.RawMessage { return e.content }

// Unsigned returns the raw unsigned object, or nil.
func (e *Event) Unsigned() json.RawMessage { return e.unsigned }

// Membership returns content.membership of an m.room.member event, else "".
func (e *Event) Membership() string { return e.membership }

// ContentHash returns the claimed sha256 content hash (unpadded base64).
func (e *Event) ContentHash() string { return e.contentHash }

// Version returns the room version the event was parsed for.
func (e *Event) Version() *roomversion.Version { return e.version }

// Redacted reports whether the event's JSON is the redacted form.
func (e *Event) Redacted() bool { return e.redacted }

// JSON returns the event as stored and sent over federation (no event_id for v3+).
func (e *Event) JSON() []byte { return e.raw }

// memoSlots is the number of per-event cache slots other packages may use.
const memoSlots = 4

// MemoSlot names one per-event cache slot.
type MemoSlot int

// Memo slots reserved for the room core's packages.
const (
	MemoPowerLevels MemoSlot = iota // parsed power levels content (auth)
	MemoJoinRules                   // parsed join rules content (auth)
	MemoCreate                      // parsed create content (auth)
	MemoMember                      // parsed member content (auth)
)

// Memo returns the value fn computes for this event in slot, computing it once
// in the common case (concurrent first calls may each compute it; fn must be
// pure). The value must not be modified by callers.
func (e *Event) Memo(slot MemoSlot, fn func(*Event) any) any {
	if p := e.memo[slot].Load(); p != nil {
		return *p
	}
	v := fn(e)
	e.memo[slot].Store(&v)
	return v
}
