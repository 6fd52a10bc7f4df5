package roomversion

import (
	"fmt"
	"sort"
	"strconv"
)

// EventIDFormat says how an event gets its ID.
type EventIDFormat int

const (
	// EventIDServerAssigned: "$opaque:domain" carried in the event (v1, v2).
	EventIDServerAssigned EventIDFormat = iota + 1
	// EventIDHashStd: "$" + standard unpadded base64 of the reference hash (v3).
	EventIDHashStd
	// EventIDHashURL: "$" + URL-safe unpadded base64 of the reference hash (v4+).
	EventIDHashURL
)

// StateResAlgorithm names a state resolution algorithm.
type StateResAlgorithm int

const (
	StateResV1   StateResAlgorithm = iota + 1 // room version 1
	StateResV2                                // room versions 2 to 11
	StateResV2_1                              // room version 12: empty start state, conflicted subgraph
)

// RedactionAlgorithm names the set of keys kept by redaction.
type RedactionAlgorithm int

const (
	RedactionV1  RedactionAlgorithm = iota + 1 // v1–v5: aliases kept
	RedactionV6                                // v6–v7: aliases dropped
	RedactionV8                                // v8: join_rules allow kept
	RedactionV9                                // v9–v10: join_authorised_via_users_server kept
	RedactionV11                               // v11+: create keeps all, redacts, invite, signed
)

// Version is one room version's rules.
type Version struct {
	ID     string
	Stable bool

	EventIDFormat EventIDFormat
	// RoomIDFromCreate: the room ID is "!" + the create event's reference hash,
	// and the create event carries no room_id (v12).
	RoomIDFromCreate bool
	StateRes         StateResAlgorithm
	Redaction        RedactionAlgorithm
	// StrictCanonicalJSON enforces integer ranges, no floats, no duplicate keys (v6+).
	StrictCanonicalJSON bool
	// EnforceKeyValidity requires valid_until_ts >= origin_server_ts (v5+).
	EnforceKeyValidity bool

	// Authorisation rule variants.
	AuthRedactionRule         bool // v1–v2: m.room.redaction checked against the redact level
	AuthAliasesRule           bool // v1–v5: m.room.aliases special case
	AuthNotificationsPL       bool // v6+: notifications keys checked in power level changes
	Knocking                  bool // v7+: "knock" join rule and membership
	RestrictedJoins           bool // v8+: "restricted" join rule, join_authorised_via_users_server
	KnockRestricted           bool // v10+: "knock_restricted" join rule
	IntegerPowerLevels        bool // v10+: power level values must be JSON integers
	CreatorIsSender           bool // v11+: the creator is the create event's sender, no content.creator
	RedactsInContent          bool // v11+: m.room.redaction carries redacts in content
	PrivilegedCreators        bool // v12: creators have infinite power, additional_creators
	CreateInAuthEvents        bool // v1–v11: m.room.create is selected as an auth event
	CheckRoomIDDomainOnCreate bool // v1–v11: room_id domain must match the creator's domain
}

// String returns the version's identifier.
func (v *Version) String() string { return v.ID }

// HasEventIDInJSON reports whether events carry "event_id" and use the
// [id, {hashes}] pair format for prev_events and auth_events (v1, v2).
func (v *Version) HasEventIDInJSON() bool { return v.EventIDFormat == EventIDServerAssigned }

// Default is the version new rooms get unless configured otherwise.
const Default = "12"

var registry = buildRegistry()

func buildRegistry() map[string]*Version {
	m := make(map[string]*Version, 12)
	for n := 1; n <= 12; n++ {
		v := &Version{
			ID:                        strconv.Itoa(n),
			Stable:                    true,
			EventIDFormat:             EventIDHashURL,
			StateRes:                  StateResV2,
			Redaction:                 RedactionV1,
			StrictCanonicalJSON:       n >= 6,
			EnforceKeyValidity:        n >= 5,
			AuthRedactionRule:         n <= 2,
			AuthAliasesRule:           n <= 5,
			AuthNotificationsPL:       n >= 6,
			Knocking:                  n >= 7,
			RestrictedJoins:           n >= 8,
			KnockRestricted:           n >= 10,
			IntegerPowerLevels:        n >= 10,
			CreatorIsSender:           n >= 11,
			RedactsInContent:          n >= 11,
			PrivilegedCreators:        n >= 12,
			RoomIDFromCreate:          n >= 12,
			CreateInAuthEvents:        n <= 11,
			CheckRoomIDDomainOnCreate: n <= 11,
		}
		switch {
		case n <= 2:
			v.EventIDFormat = EventIDServerAssigned
		case n == 3:
			v.EventIDFormat = EventIDHashStd
		}
		switch {
		case n == 1:
			v.StateRes = StateResV1
		case n >= 12:
			v.StateRes = StateResV2_1
		}
		switch {
		case n >= 11:
			v.Redaction = RedactionV11
		case n >= 9:
			v.Redaction = RedactionV9
		case n == 8:
			v.Redaction = RedactionV8
		case n >= 6:
			v.Redaction = RedactionV6
		}
		m[v.ID] = v
	}
	return m
}

// UnsupportedError is returned for an unknown room version.
type UnsupportedError struct{ ID string }

func (e UnsupportedError) Error() string { return fmt.Sprintf("unsupported room version %q", e.ID) }

// Get returns the rules of room version id.
func Get(id string) (*Version, error) {
	v, ok := registry[id]
	if !ok {
		return nil, UnsupportedError{ID: id}
	}
	return v, nil
}

// MustGet is Get for versions known at compile time; an unknown id is a
// programming error and returns nil.
func MustGet(id string) *Version {
	return registry[id]
}

// Known reports whether id is a supported room version.
func Known(id string) bool { _, ok := registry[id]; return ok }

// All returns every supported version in numeric order.
func All() []*Version {
	out := make([]*Version, 0, len(registry))
	for _, v := range registry {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := strconv.Atoi(out[i].ID)
		b, _ := strconv.Atoi(out[j].ID)
		return a < b
	})
	return out
}
