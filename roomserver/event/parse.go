package event

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/roomserver/cjson"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// Limits from the spec ("Size limits" and the PDU schemas).
const (
	MaxEventBytes = 65536
	MaxKeyBytes   = 255 // type and state_key
	MaxPrevEvents = 20
	MaxAuthEvents = 10
	MaxDepth      = math.MaxInt64
)

var (
	// ErrBadJSON: not JSON, or not canonical JSON where the version enforces it.
	ErrBadJSON = errors.New("event: bad JSON")
	// ErrTooLarge: the event exceeds 65,536 bytes of canonical JSON.
	ErrTooLarge = errors.New("event: larger than 65536 bytes")
	// ErrInvalid: a field is missing, of the wrong type or out of its limits.
	ErrInvalid = errors.New("event: invalid")
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// legacyKeys are top-level keys some servers add by mistake; Synapse drops them
// on receipt and so does Concord, so they never affect hashes.
var legacyKeys = []string{"outlier", "destinations", "age_ts"}

// Parse validates untrusted event JSON of room version v, as received over
// federation. The event ID is read from the JSON (v1, v2) or computed from the
// reference hash (v3+). When the content hash does not match, the event is
// replaced by its redacted form (Redacted() is then true), as the spec
// requires. Signatures are not checked here (see VerifySignatures).
func Parse(raw []byte, v *roomversion.Version) (*Event, error) {
	omit := legacyKeys
	if !v.HasEventIDInJSON() {
		omit = append(omit[:len(omit):len(omit)], "event_id")
	}
	canonical, err := cjson.Encode(raw, cjson.Options{Strict: v.StrictCanonicalJSON, Omit: omit})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadJSON, err)
	}
	if len(canonical) > MaxEventBytes {
		return nil, ErrTooLarge
	}
	e, err := fromCanonical(canonical, v, "")
	if err != nil {
		return nil, err
	}
	want, err := computeContentHash(canonical)
	if err != nil {
		return nil, err
	}
	if want == e.contentHash {
		return e, nil
	}
	redacted, err := Redact(canonical, v)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(redacted, canonical) {
		e.redacted = true
		return e, nil
	}
	r, err := fromCanonical(redacted, v, e.id)
	if err != nil {
		return nil, err
	}
	r.redacted = true
	return r, nil
}

// FromTrusted rebuilds an event from JSON this server validated before (for
// example read back from its database). id, when known, saves recomputing the
// reference hash.
func FromTrusted(raw []byte, v *roomversion.Version, id string, redacted bool) (*Event, error) {
	e, err := fromCanonical(raw, v, id)
	if err != nil {
		return nil, err
	}
	e.redacted = redacted
	return e, nil
}

// fromCanonical extracts and checks the fields of canonical event JSON.
func fromCanonical(raw []byte, v *roomversion.Version, knownID string) (*Event, error) {
	root := gjson.ParseBytes(raw)
	if !root.IsObject() {
		return nil, invalid("event is not an object")
	}
	e := &Event{raw: raw, version: v}
	var seen uint16
	const (
		hasType = 1 << iota
		hasSender
		hasRoomID
		hasTS
		hasDepth
		hasPrev
		hasAuth
		hasHashes
		hasSignatures
		hasContent
		hasEventID
	)
	var err error
	root.ForEach(func(k, val gjson.Result) bool {
		switch k.Str {
		case "type":
			seen |= hasType
			e.typ, err = boundedString(val, "type", MaxKeyBytes)
		case "state_key":
			var s string
			s, err = boundedString(val, "state_key", MaxKeyBytes)
			e.stateKey = &s
		case "sender":
			seen |= hasSender
			if val.Type != gjson.String {
				err = invalid("sender is not a string")
			} else if _, perr := mxid.ParseUserID(val.Str); perr != nil {
				err = invalid("sender %q is not a valid user ID", val.Str)
			}
			e.sender = val.Str
		case "room_id":
			seen |= hasRoomID
			if val.Type != gjson.String {
				err = invalid("room_id is not a string")
			}
			e.roomID = val.Str
		case "origin":
			if val.Type != gjson.String {
				err = invalid("origin is not a string")
			}
			e.origin = val.Str
		case "origin_server_ts":
			seen |= hasTS
			e.originServerTS, err = integer(val, "origin_server_ts")
		case "depth":
			seen |= hasDepth
			e.depth, err = integer(val, "depth")
			if err == nil && e.depth < 0 {
				err = invalid("depth is negative")
			}
		case "prev_events":
			seen |= hasPrev
			e.prevEvents, err = eventRefs(val, v, "prev_events", MaxPrevEvents)
		case "auth_events":
			seen |= hasAuth
			e.authEvents, err = eventRefs(val, v, "auth_events", MaxAuthEvents)
		case "hashes":
			seen |= hasHashes
			if !val.IsObject() {
				err = invalid("hashes is not an object")
			} else if h := val.Get("sha256"); h.Type != gjson.String {
				err = invalid("hashes.sha256 is missing or not a string")
			} else {
				e.contentHash = h.Str
			}
		case "signatures":
			seen |= hasSignatures
			err = checkSignaturesShape(val)
		case "content":
			seen |= hasContent
			if !val.IsObject() {
				err = invalid("content is not an object")
			}
			e.content = []byte(val.Raw)
		case "unsigned":
			if !val.IsObject() {
				err = invalid("unsigned is not an object")
			}
			e.unsigned = []byte(val.Raw)
		case "redacts":
			if val.Type != gjson.String {
				err = invalid("redacts is not a string")
			} else if !v.RedactsInContent {
				e.redacts = val.Str
			}
		case "event_id":
			if v.HasEventIDInJSON() {
				seen |= hasEventID
				if val.Type != gjson.String || !mxid.ValidEventID(val.Str, true) {
					err = invalid("event_id is not a valid event ID")
				}
				e.id = val.Str
			}
		}
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	required := uint16(hasType | hasSender | hasTS | hasDepth | hasPrev | hasAuth | hasHashes | hasSignatures | hasContent)
	if v.HasEventIDInJSON() {
		required |= hasEventID
	}
	if missing := required &^ seen; missing != 0 {
		return nil, invalid("missing required keys (mask %#x)", missing)
	}
	if e.typ == TypeMember {
		e.membership = gjson.GetBytes(e.content, "membership").String()
		if m := gjson.GetBytes(e.content, "membership"); m.Type != gjson.String {
			e.membership = ""
		}
	}
	if v.RedactsInContent && e.typ == TypeRedaction {
		if r := gjson.GetBytes(e.content, "redacts"); r.Type == gjson.String {
			e.redacts = r.Str
		}
	}
	if err := e.finishIDs(v, seen&hasRoomID != 0, knownID); err != nil {
		return nil, err
	}
	return e, nil
}

// finishIDs computes the event ID (v3+) and checks the room ID's form.
func (e *Event) finishIDs(v *roomversion.Version, hasRoomID bool, knownID string) error {
	if !v.HasEventIDInJSON() {
		if knownID != "" {
			e.id = knownID
		} else {
			id, err := computeEventID(e.raw, v)
			if err != nil {
				return err
			}
			e.id = id
		}
	}
	isCreate := e.typ == TypeCreate && e.StateKeyIs("")
	switch {
	case v.RoomIDFromCreate && isCreate:
		if hasRoomID {
			return invalid("a room version %s create event must not have a room_id", v.ID)
		}
		e.roomID = "!" + e.id[1:]
	case !hasRoomID:
		return invalid("room_id is missing")
	case !mxid.ValidRoomID(e.roomID, !v.RoomIDFromCreate):
		return invalid("room_id %q is not valid for room version %s", e.roomID, v.ID)
	}
	return nil
}

func boundedString(val gjson.Result, name string, limit int) (string, error) {
	if val.Type != gjson.String {
		return "", invalid("%s is not a string", name)
	}
	if len(val.Str) > limit {
		return "", invalid("%s exceeds %d bytes", name, limit)
	}
	return val.Str, nil
}

// integer reads a JSON integer exactly from its text (gjson's float64 would
// lose precision beyond 2^53).
func integer(val gjson.Result, name string) (int64, error) {
	if val.Type != gjson.Number {
		return 0, invalid("%s is not a number", name)
	}
	n, err := strconv.ParseInt(val.Raw, 10, 64)
	if err != nil {
		return 0, invalid("%s is not an integer in range", name)
	}
	return n, nil
}

// eventRefs reads prev_events or auth_events: strings (v3+) or
// [event_id, {hashes}] pairs (v1, v2).
func eventRefs(val gjson.Result, v *roomversion.Version, name string, limit int) ([]string, error) {
	if !val.IsArray() {
		return nil, invalid("%s is not an array", name)
	}
	items := val.Array()
	if len(items) > limit {
		return nil, invalid("%s has %d entries, at most %d allowed", name, len(items), limit)
	}
	ids := make([]string, 0, len(items))
	for _, it := range items {
		var id gjson.Result
		if v.HasEventIDInJSON() {
			pair := it.Array()
			if !it.IsArray() || len(pair) != 2 || !pair[1].IsObject() {
				return nil, invalid("%s entries must be [event_id, hashes] pairs", name)
			}
			id = pair[0]
		} else {
			id = it
		}
		if id.Type != gjson.String || !mxid.ValidEventID(id.Str, v.HasEventIDInJSON()) {
			return nil, invalid("%s contains an invalid event ID", name)
		}
		ids = append(ids, id.Str)
	}
	return ids, nil
}

// checkSignaturesShape requires {server: {key_id: string}}.
func checkSignaturesShape(val gjson.Result) error {
	if !val.IsObject() {
		return invalid("signatures is not an object")
	}
	var err error
	val.ForEach(func(_, server gjson.Result) bool {
		if !server.IsObject() {
			err = invalid("signatures entries must be objects")
			return false
		}
		server.ForEach(func(_, sig gjson.Result) bool {
			if sig.Type != gjson.String {
				err = invalid("signatures must be strings")
			}
			return err == nil
		})
		return err == nil
	})
	return err
}
