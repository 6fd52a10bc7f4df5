package pushrules

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Action names and the tweak the server reads.
const (
	ActionNotify = "notify"
	// The historical actions: clients and servers must ignore them.
	actionDontNotify = "dont_notify"
	actionCoalesce   = "coalesce"

	TweakHighlight = "highlight"
	TweakSound     = "sound"
)

// Effects is what a list of actions means for notification counts.
type Effects struct {
	Notify    bool
	Highlight bool
}

// EffectsOf reads a list of actions: "notify" notifies; a highlight tweak
// without a value (or a null one), or with the value true, highlights. Highlighting only
// counts for events that notify (a rule that highlights without notifying
// produces no notification at all).
func EffectsOf(actions []Action) Effects {
	var e Effects
	for _, a := range actions {
		var s string
		if json.Unmarshal(a, &s) == nil {
			if s == ActionNotify {
				e.Notify = true
			}
			continue
		}
		var tw struct {
			SetTweak string          `json:"set_tweak"`
			Value    json.RawMessage `json:"value"`
		}
		if json.Unmarshal(a, &tw) != nil || tw.SetTweak != TweakHighlight {
			continue
		}
		v := bytes.TrimSpace(tw.Value)
		e.Highlight = len(v) == 0 || bytes.Equal(v, []byte("null")) || bytes.Equal(v, []byte("true"))
	}
	if !e.Notify {
		e.Highlight = false
	}
	return e
}

// CleanActions checks a list of actions a client sent and returns it with the
// historical actions (dont_notify, coalesce) removed, as the spec requires
// servers to ignore them. An action must be "notify", a historical action, or
// an object with a string set_tweak (tweaks are passed through as they are).
func CleanActions(actions []Action) ([]Action, error) {
	out := make([]Action, 0, len(actions))
	for i, a := range actions {
		var err error
		var s string
		if json.Unmarshal(a, &s) == nil {
			switch s {
			case ActionNotify:
				out = append(out, compact(a))
			case actionDontNotify, actionCoalesce:
			default:
				return nil, fmt.Errorf("%w: actions[%d]: unknown action %q", ErrInvalidRule, i, s)
			}
			continue
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(a, &obj) != nil || obj == nil {
			return nil, fmt.Errorf("%w: actions[%d]: an action is a string or an object", ErrInvalidRule, i)
		}
		var tweak string
		if err := json.Unmarshal(obj["set_tweak"], &tweak); err != nil || tweak == "" {
			return nil, fmt.Errorf("%w: actions[%d]: an action object needs a set_tweak string", ErrInvalidRule, i)
		}
		if v, ok := obj["value"]; ok && string(bytes.TrimSpace(v)) == "null" {
			// A null value is no value: drop it, so the tweak reads as the
			// spec writes it ({"set_tweak": "highlight"}).
			delete(obj, "value")
			if a, err = json.Marshal(obj); err != nil {
				return nil, err
			}
		}
		if tweak == TweakHighlight {
			if v, ok := obj["value"]; ok {
				var b bool
				if json.Unmarshal(v, &b) != nil {
					return nil, fmt.Errorf("%w: actions[%d]: the highlight tweak's value is a boolean", ErrInvalidRule, i)
				}
			}
		}
		out = append(out, compact(a))
	}
	return out, nil
}

func compact(a []byte) Action {
	var buf bytes.Buffer
	if json.Compact(&buf, a) != nil {
		return append(Action(nil), a...)
	}
	return buf.Bytes()
}
