package auth

import (
	"math"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// Infinite is the power level of room version 12 room creators. Parsed power
// levels never reach it (values are capped one below), so "greater than or
// equal" comparisons against any parsed level behave as the spec requires.
const Infinite int64 = math.MaxInt64

// Default levels (client-server API, m.room.power_levels; server-server API,
// "Definitions"): users_default 0, events_default 0, state_default 50, ban 50,
// kick 50, redact 50, invite 0; notifications.room 50.
const (
	DefaultUsersLevel        = 0
	DefaultEventsLevel       = 0
	DefaultStateLevel        = 50
	DefaultBanLevel          = 50
	DefaultKickLevel         = 50
	DefaultRedactLevel       = 50
	DefaultInviteLevel       = 0
	DefaultNotificationLevel = 50
	// CreatorLevelWithoutPowerLevels is the creator's level in room versions
	// 1–11 while the room has no m.room.power_levels event.
	CreatorLevelWithoutPowerLevels = 100
)

// The scalar properties, in the order the v12 rule 10.1 lists them.
const (
	propUsersDefault = iota
	propEventsDefault
	propStateDefault
	propBan
	propRedact
	propKick
	propInvite
	numProps
)

var propNames = [numProps]string{"users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"}

// PowerLevels is the parsed content of an m.room.power_levels event, with the
// defaults filled in for missing properties. Values must not be modified:
// parsed levels are cached on the event and shared.
type PowerLevels struct {
	UsersDefault  int64
	EventsDefault int64
	StateDefault  int64
	Ban           int64
	Redact        int64
	Kick          int64
	Invite        int64
	Events        map[string]int64
	Notifications map[string]int64
	Users         map[string]int64

	present uint8 // bit i: scalar property i was in the content
}

// DefaultPowerLevels returns the levels of a room without m.room.power_levels
// (the creator's own level is applied by UserPowerLevel, not here).
func DefaultPowerLevels() *PowerLevels {
	return &PowerLevels{
		UsersDefault: DefaultUsersLevel, EventsDefault: DefaultEventsLevel, StateDefault: DefaultStateLevel,
		Ban: DefaultBanLevel, Redact: DefaultRedactLevel, Kick: DefaultKickLevel, Invite: DefaultInviteLevel,
	}
}

func (p *PowerLevels) prop(i int) *int64 {
	switch i {
	case propUsersDefault:
		return &p.UsersDefault
	case propEventsDefault:
		return &p.EventsDefault
	case propStateDefault:
		return &p.StateDefault
	case propBan:
		return &p.Ban
	case propRedact:
		return &p.Redact
	case propKick:
		return &p.Kick
	default:
		return &p.Invite
	}
}

// Has reports whether the content had the named scalar property
// ("users_default", "events_default", "state_default", "ban", "redact",
// "kick" or "invite") with a valid value.
func (p *PowerLevels) Has(name string) bool {
	for i, n := range propNames {
		if n == name {
			return p.present&(1<<i) != 0
		}
	}
	return false
}

// UserLevel returns users[user], else users_default. It knows nothing of room
// creators: see UserPowerLevel for a user's level in a room.
func (p *PowerLevels) UserLevel(user string) int64 {
	if l, ok := p.Users[user]; ok {
		return l
	}
	return p.UsersDefault
}

// EventLevel returns the level required to send an event of type typ: the
// events entry, else state_default for state events, events_default otherwise.
func (p *PowerLevels) EventLevel(typ string, isState bool) int64 {
	if l, ok := p.Events[typ]; ok {
		return l
	}
	if isState {
		return p.StateDefault
	}
	return p.EventsDefault
}

// NotificationLevel returns notifications[key], else 50.
func (p *PowerLevels) NotificationLevel(key string) int64 {
	if l, ok := p.Notifications[key]; ok {
		return l
	}
	return DefaultNotificationLevel
}

// ParsePowerLevels reads m.room.power_levels content under the rules of room
// version v:
//
//   - v10 and later: every level must be a JSON integer (rules 10.1–10.3).
//   - v1–v9: a level may also be a string holding a base-10 integer with an
//     optional sign, leading zeros and surrounding whitespace ("stringy" power
//     levels), or a float, truncated towards zero ("floaty" power levels;
//     values beyond a double's range are rejected). Values beyond int64 are
//     capped.
//
// In every version users must be an object whose keys are valid user IDs, and
// events, notifications and users must be objects; a property that is present
// with a JSON null or any other value that is not a level is invalid. The
// returned error is an *Error naming rule 10.1, 10.2 or 10.3; the levels are
// returned as well, with every invalid value left at its default, for callers
// reading state that must not fail.
func ParsePowerLevels(v *roomversion.Version, content []byte) (*PowerLevels, error) {
	p := DefaultPowerLevels()
	var errScalar, errMaps, errUsers error
	strict := v.IntegerPowerLevels
	gjson.ParseBytes(content).ForEach(func(k, val gjson.Result) bool {
		switch k.Str {
		case "events", "notifications":
			m, bad := parseLevelMap(val, strict, false)
			if bad != "" && errMaps == nil {
				errMaps = reject(RulePLMaps, "%s: %s", k.Str, bad)
			}
			if k.Str == "events" {
				p.Events = m
			} else {
				p.Notifications = m
			}
		case "users":
			m, bad := parseLevelMap(val, strict, true)
			if bad != "" && errUsers == nil {
				errUsers = reject(RulePLUsers, "users: %s", bad)
			}
			p.Users = m
		default:
			for i, name := range propNames {
				if name != k.Str {
					continue
				}
				if l, ok := parseLevel(val, strict); ok {
					*p.prop(i) = l
					p.present |= 1 << i
				} else if errScalar == nil {
					errScalar = reject(RulePLScalars, "%s is not a valid power level: %s", name, val.Raw)
				}
			}
		}
		return true
	})
	for _, err := range []error{errScalar, errMaps, errUsers} {
		if err != nil {
			return p, err
		}
	}
	return p, nil
}

// parseLevelMap reads an object of levels; bad describes the first problem.
func parseLevelMap(val gjson.Result, strict, userKeys bool) (m map[string]int64, bad string) {
	if !val.IsObject() {
		return nil, "not an object"
	}
	m = make(map[string]int64)
	val.ForEach(func(k, lv gjson.Result) bool {
		if userKeys {
			if _, err := mxid.ParseUserID(k.Str); err != nil {
				if bad == "" {
					bad = strconv.Quote(k.Str) + " is not a valid user ID"
				}
				return true
			}
		}
		l, ok := parseLevel(lv, strict)
		if !ok {
			if bad == "" {
				bad = strconv.Quote(k.Str) + " has an invalid power level " + lv.Raw
			}
			return true
		}
		m[k.Str] = l
		return true
	})
	return m, bad
}

// maxLevel is the highest parsed level: Infinite is reserved for creators.
const maxLevel = Infinite - 1

// parseLevel reads one power level value.
func parseLevel(val gjson.Result, strict bool) (int64, bool) {
	switch val.Type {
	case gjson.Number:
		if n, err := strconv.ParseInt(val.Raw, 10, 64); err == nil {
			return capLevel(n), true
		}
		if strict {
			return 0, false
		}
		f, err := strconv.ParseFloat(val.Raw, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, false
		}
		return floatLevel(f), true
	case gjson.String:
		if strict {
			return 0, false
		}
		return parseStringLevel(val.Str)
	default:
		return 0, false
	}
}

// parseStringLevel accepts [whitespace][+|-]digits[whitespace].
func parseStringLevel(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	digits := s
	if digits != "" && (digits[0] == '+' || digits[0] == '-') {
		digits = digits[1:]
	}
	if digits == "" {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil { // only a range error is possible here
		if s[0] == '-' {
			return math.MinInt64, true
		}
		return maxLevel, true
	}
	return capLevel(n), true
}

func capLevel(n int64) int64 {
	if n > maxLevel {
		return maxLevel
	}
	return n
}

func floatLevel(f float64) int64 {
	f = math.Trunc(f)
	switch {
	case f >= math.MaxInt64: // 2^63 as a float
		return maxLevel
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return capLevel(int64(f))
}

type powerLevelsMemo struct {
	pl  *PowerLevels
	err error
}

// PowerLevelsOf parses an m.room.power_levels event's content under its room
// version (see ParsePowerLevels), once per event: the result is cached on the
// event and must not be modified.
func PowerLevelsOf(e *event.Event) (*PowerLevels, error) {
	m := e.Memo(event.MemoPowerLevels, func(e *event.Event) any {
		pl, err := ParsePowerLevels(e.Version(), e.Content())
		return &powerLevelsMemo{pl: pl, err: err}
	}).(*powerLevelsMemo)
	return m.pl, m.err
}
