package pushrules

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Condition kinds.
const (
	CondEventMatch                   = "event_match"
	CondEventPropertyIs              = "event_property_is"
	CondEventPropertyContains        = "event_property_contains"
	CondContainsDisplayName          = "contains_display_name"
	CondRoomMemberCount              = "room_member_count"
	CondSenderNotificationPermission = "sender_notification_permission"
)

// RoomContext is what rules need to know about the room an event was sent in,
// taken from the room state before the event.
type RoomContext struct {
	// MemberCount is the number of joined members.
	MemberCount int
	// SenderPowerLevel is the sender's power level.
	SenderPowerLevel int64
	// NotificationLevel returns the power level needed to trigger a
	// notification of a kind ("room"); nil means 50 for every kind.
	NotificationLevel func(key string) int64
}

// DefaultNotificationLevel applies when the power levels name no level.
const DefaultNotificationLevel = 50

func (r RoomContext) notificationLevel(key string) int64 {
	if r.NotificationLevel == nil {
		return DefaultNotificationLevel
	}
	return r.NotificationLevel(key)
}

// evalInput is one evaluation: the event, the room and the user.
type evalInput struct {
	ev          *Event
	room        RoomContext
	displayName string
}

// compiledCondition is a condition ready to evaluate.
type compiledCondition struct {
	match func(in *evalInput) bool
}

// compileCondition prepares c. Conditions of unknown kinds, and known kinds
// with missing or malformed parameters, never match.
func compileCondition(c Condition) compiledCondition {
	never := compiledCondition{match: func(*evalInput) bool { return false }}
	switch c.Kind {
	case CondEventMatch:
		if c.Key == "" || !c.HasPattern {
			return never
		}
		path, g := SplitPath(c.Key), CompileGlob(c.Pattern)
		body := len(path) == 2 && path[0] == "content" && path[1] == "body"
		return compiledCondition{match: func(in *evalInput) bool {
			v, ok := lookup(in.ev.obj, path)
			s, isString := v.(string)
			if !ok || !isString {
				return false
			}
			if body {
				return g.MatchWords(s)
			}
			return g.MatchWhole(s)
		}}
	case CondEventPropertyIs, CondEventPropertyContains:
		want, ok := scalarValue(c.Value)
		if c.Key == "" || !ok {
			return never
		}
		path, contains := SplitPath(c.Key), c.Kind == CondEventPropertyContains
		return compiledCondition{match: func(in *evalInput) bool {
			v, ok := lookup(in.ev.obj, path)
			if !ok {
				return false
			}
			if !contains {
				return scalarEqual(v, want)
			}
			arr, isArray := v.([]any)
			if !isArray {
				return false
			}
			for _, item := range arr {
				if scalarEqual(item, want) {
					return true
				}
			}
			return false
		}}
	case CondContainsDisplayName:
		return compiledCondition{match: func(in *evalInput) bool {
			if !in.ev.hasBody || in.displayName == "" {
				return false
			}
			return displayNameGlob(in.displayName).MatchWords(in.ev.body)
		}}
	case CondRoomMemberCount:
		cmp, ok := ParseMemberCount(c.Is)
		if !ok {
			return never
		}
		return compiledCondition{match: func(in *evalInput) bool { return cmp(in.room.MemberCount) }}
	case CondSenderNotificationPermission:
		if c.Key == "" {
			return never
		}
		key := c.Key
		return compiledCondition{match: func(in *evalInput) bool {
			return in.room.SenderPowerLevel >= in.room.notificationLevel(key)
		}}
	}
	return never
}

// ParseMemberCount reads a room_member_count "is" parameter: a decimal
// integer optionally prefixed by ==, <, >, >= or <= (no prefix means ==).
func ParseMemberCount(is string) (func(n int) bool, bool) {
	op := "=="
	for _, p := range []string{"==", ">=", "<=", "<", ">"} {
		if strings.HasPrefix(is, p) {
			op, is = p, is[len(p):]
			break
		}
	}
	if is == "" || is[0] == '+' || is[0] == '-' {
		return nil, false
	}
	n, err := strconv.ParseInt(is, 10, 64)
	if err != nil {
		return nil, false
	}
	switch op {
	case "<":
		return func(c int) bool { return int64(c) < n }, true
	case ">":
		return func(c int) bool { return int64(c) > n }, true
	case ">=":
		return func(c int) bool { return int64(c) >= n }, true
	case "<=":
		return func(c int) bool { return int64(c) <= n }, true
	default:
		return func(c int) bool { return int64(c) == n }, true
	}
}

// maxSafeInteger bounds canonical JSON integers: [-(2**53)+1, (2**53)-1].
const maxSafeInteger = 1<<53 - 1

// scalarValue decodes a condition value: a string, an integer in the
// canonical JSON range, a boolean or null.
func scalarValue(raw json.RawMessage) (any, bool) {
	if raw == nil {
		return nil, false
	}
	v, err := decodeValue(raw)
	if err != nil {
		return nil, false
	}
	switch x := v.(type) {
	case string, bool, nil:
		return x, true
	case json.Number:
		n, ok := safeInteger(x)
		return n, ok
	}
	return nil, false
}

func safeInteger(n json.Number) (int64, bool) {
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || i > maxSafeInteger || i < -maxSafeInteger {
		return 0, false
	}
	return i, true
}

// scalarEqual compares an event property with a condition value exactly:
// no type conversions, and only non-compound values.
func scalarEqual(v, want any) bool {
	switch x := v.(type) {
	case string:
		w, ok := want.(string)
		return ok && x == w
	case bool:
		w, ok := want.(bool)
		return ok && x == w
	case nil:
		return want == nil
	case json.Number:
		w, ok := want.(int64)
		if !ok {
			return false
		}
		n, ok := safeInteger(x)
		return ok && n == w
	}
	return false
}
