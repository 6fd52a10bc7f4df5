package pushrules

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/concordchat/concord/roomserver/mxid"
)

// Errors of rule validation, wrapped with a message saying what is wrong.
var (
	// ErrInvalidRule: a value is not allowed (M_INVALID_PARAM).
	ErrInvalidRule = errors.New("pushrules: invalid rule")
	// ErrMissingField: a required field is absent (M_MISSING_PARAM).
	ErrMissingField = errors.New("pushrules: missing field")
	// ErrBadJSON: a field has the wrong JSON type (M_BAD_JSON).
	ErrBadJSON = errors.New("pushrules: wrong JSON type")
	// ErrReservedRuleID: user rules may not use the server-default namespace.
	ErrReservedRuleID = errors.New("pushrules: rule IDs starting with '.' are reserved for server-default rules")
)

// MaxRuleIDBytes bounds a rule ID (room and user IDs fit in it).
const MaxRuleIDBytes = 255

// CheckRuleID checks the rule ID of a rule a user creates or replaces: not
// empty, not in the server-default namespace, no '/' or '\', and for room
// and sender rules a room ID or user ID.
func CheckRuleID(kind Kind, ruleID string) error {
	switch {
	case ruleID == "":
		return fmt.Errorf("%w: empty rule ID", ErrInvalidRule)
	case IsServerDefault(ruleID):
		return ErrReservedRuleID
	case len(ruleID) > MaxRuleIDBytes:
		return fmt.Errorf("%w: rule ID longer than %d bytes", ErrInvalidRule, MaxRuleIDBytes)
	case strings.ContainsAny(ruleID, "/\\"):
		return fmt.Errorf("%w: rule IDs may not contain '/' or '\\'", ErrInvalidRule)
	}
	switch kind {
	case Room:
		if !mxid.ValidRoomID(ruleID, true) && !mxid.ValidRoomID(ruleID, false) {
			return fmt.Errorf("%w: the rule ID of a room rule is a room ID", ErrInvalidRule)
		}
	case Sender:
		if _, err := mxid.ParseUserID(ruleID); err != nil {
			return fmt.Errorf("%w: the rule ID of a sender rule is a user ID", ErrInvalidRule)
		}
	}
	return nil
}

// ParseRule reads the body of PUT /pushrules/global/{kind}/{ruleId}: actions
// (required), conditions (override and underride; absent means none) and
// pattern (required for content rules). Fields that do not apply to the kind
// are ignored. The rule comes back enabled.
func ParseRule(kind Kind, ruleID string, body map[string]json.RawMessage) (Rule, error) {
	r := Rule{Kind: kind, RuleID: ruleID, Enabled: true}
	var err error
	if r.Actions, err = ParseActions(body); err != nil {
		return Rule{}, err
	}
	switch kind {
	case Override, Underride:
		raw, ok := body["conditions"]
		if !ok || string(raw) == "null" {
			r.Conditions = []Condition{}
			break
		}
		if r.Conditions, err = parseConditions(raw); err != nil {
			return Rule{}, err
		}
	case Content:
		raw, ok := body["pattern"]
		if !ok {
			return Rule{}, fmt.Errorf("%w: content rules need a pattern", ErrMissingField)
		}
		if json.Unmarshal(raw, &r.Pattern) != nil {
			return Rule{}, fmt.Errorf("%w: pattern must be a string", ErrBadJSON)
		}
	}
	return r, nil
}

// ParseActions reads and checks the "actions" field of a request body.
func ParseActions(body map[string]json.RawMessage) ([]Action, error) {
	raw, ok := body["actions"]
	if !ok {
		return nil, fmt.Errorf("%w: actions", ErrMissingField)
	}
	var actions []Action
	if json.Unmarshal(raw, &actions) != nil || actions == nil {
		return nil, fmt.Errorf("%w: actions must be an array", ErrBadJSON)
	}
	return CleanActions(actions)
}

func parseConditions(raw json.RawMessage) ([]Condition, error) {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil, fmt.Errorf("%w: conditions must be an array", ErrBadJSON)
	}
	out := make([]Condition, 0, len(items))
	for i, item := range items {
		var fields map[string]json.RawMessage
		if json.Unmarshal(item, &fields) != nil || fields == nil {
			return nil, fmt.Errorf("%w: conditions[%d] must be an object", ErrBadJSON, i)
		}
		if err := checkCondition(fields); err != nil {
			return nil, fmt.Errorf("conditions[%d]: %w", i, err)
		}
		var c Condition
		if err := json.Unmarshal(item, &c); err != nil {
			return nil, fmt.Errorf("%w: conditions[%d]: %v", ErrBadJSON, i, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// checkCondition checks the parameters of the condition kinds this server
// knows. Conditions of other kinds are kept: they never match.
func checkCondition(f map[string]json.RawMessage) error {
	str := func(name string, required bool) (string, error) {
		raw, ok := f[name]
		if !ok {
			if required {
				return "", fmt.Errorf("%w: %s", ErrMissingField, name)
			}
			return "", nil
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", fmt.Errorf("%w: %s must be a string", ErrBadJSON, name)
		}
		return s, nil
	}
	needKey := func(kind string) error {
		key, err := str("key", true)
		if err == nil && key == "" {
			err = fmt.Errorf("%w: %s needs a non-empty key", ErrInvalidRule, kind)
		}
		return err
	}
	kind, err := str("kind", true)
	if err != nil {
		return err
	}
	switch kind {
	case "":
		return fmt.Errorf("%w: empty condition kind", ErrInvalidRule)
	case CondEventMatch:
		if err := needKey(kind); err != nil {
			return err
		}
		_, err := str("pattern", true)
		return err
	case CondEventPropertyIs, CondEventPropertyContains:
		if err := needKey(kind); err != nil {
			return err
		}
		raw, ok := f["value"]
		if !ok {
			return fmt.Errorf("%w: value", ErrMissingField)
		}
		if _, ok := scalarValue(raw); !ok {
			return fmt.Errorf("%w: value must be a string, an integer in ±(2^53−1), a boolean or null", ErrInvalidRule)
		}
	case CondRoomMemberCount:
		is, err := str("is", true)
		if err != nil {
			return err
		}
		if _, ok := ParseMemberCount(is); !ok {
			return fmt.Errorf("%w: is must be an integer optionally prefixed by ==, <, >, >= or <=", ErrInvalidRule)
		}
	case CondSenderNotificationPermission:
		return needKey(kind)
	}
	return nil
}
