package pushrules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Kind is a kind of push rule.
type Kind string

// The kinds of rule, in the order they are checked.
const (
	Override  Kind = "override"
	Content   Kind = "content"
	Room      Kind = "room"
	Sender    Kind = "sender"
	Underride Kind = "underride"
)

// Kinds lists every kind in evaluation order.
var Kinds = []Kind{Override, Content, Room, Sender, Underride}

// ParseKind returns the kind named s.
func ParseKind(s string) (Kind, bool) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, true
		}
	}
	return "", false
}

// HasConditions reports whether rules of the kind carry a conditions list
// (override and underride); the other kinds have predefined conditions.
func (k Kind) HasConditions() bool { return k == Override || k == Underride }

// Condition is one condition of an override or underride rule. Its JSON is
// kept as received, so conditions of kinds this server does not know (which
// never match) round-trip unchanged.
type Condition struct {
	Kind       string
	Key        string
	Pattern    string
	HasPattern bool
	Is         string
	// Value is the raw JSON of "value", nil when absent.
	Value json.RawMessage

	raw json.RawMessage
}

// UnmarshalJSON reads a condition object. Fields of the wrong JSON type are
// left empty (Validate reports them); the original JSON is kept.
func (c *Condition) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if m == nil {
		return errors.New("pushrules: condition is not an object")
	}
	*c = Condition{}
	_ = json.Unmarshal(m["kind"], &c.Kind)
	_ = json.Unmarshal(m["key"], &c.Key)
	if p, ok := m["pattern"]; ok && json.Unmarshal(p, &c.Pattern) == nil {
		c.HasPattern = true
	}
	_ = json.Unmarshal(m["is"], &c.Is)
	if v, ok := m["value"]; ok {
		c.Value = append(json.RawMessage(nil), bytes.TrimSpace(v)...)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return err
	}
	c.raw = buf.Bytes()
	return nil
}

// MarshalJSON writes the condition as it was received.
func (c Condition) MarshalJSON() ([]byte, error) {
	if c.raw != nil {
		return c.raw, nil
	}
	m := map[string]any{"kind": c.Kind}
	if c.Key != "" {
		m["key"] = c.Key
	}
	if c.HasPattern {
		m["pattern"] = c.Pattern
	}
	if c.Is != "" {
		m["is"] = c.Is
	}
	if c.Value != nil {
		m["value"] = c.Value
	}
	return json.Marshal(m)
}

// Action is one action of a rule, as raw JSON: a string ("notify") or an
// object ({"set_tweak": "sound", "value": "default"}).
type Action = json.RawMessage

// Rule is one push rule.
type Rule struct {
	Kind    Kind
	RuleID  string
	Default bool
	Enabled bool
	Actions []Action
	// Conditions of override and underride rules.
	Conditions []Condition
	// Pattern of content rules.
	Pattern string
}

// ruleJSON is the wire form of a rule ("PushRule" in the spec).
type ruleJSON struct {
	Actions    []Action     `json:"actions"`
	Conditions *[]Condition `json:"conditions,omitempty"`
	Default    bool         `json:"default"`
	Enabled    bool         `json:"enabled"`
	Pattern    *string      `json:"pattern,omitempty"`
	RuleID     string       `json:"rule_id"`
}

// MarshalJSON writes the rule in the form of its kind: conditions for
// override and underride rules, pattern for content rules, neither for room
// and sender rules (their rule ID is their condition).
func (r Rule) MarshalJSON() ([]byte, error) {
	out := ruleJSON{Actions: r.Actions, Default: r.Default, Enabled: r.Enabled, RuleID: r.RuleID}
	if out.Actions == nil {
		out.Actions = []Action{}
	}
	switch {
	case r.Kind.HasConditions():
		conds := r.Conditions
		if conds == nil {
			conds = []Condition{}
		}
		out.Conditions = &conds
	case r.Kind == Content:
		p := r.Pattern
		out.Pattern = &p
	}
	return json.Marshal(out)
}

// Ruleset is a user's rules by kind, each list in priority order.
type Ruleset struct {
	Override  []Rule `json:"override"`
	Content   []Rule `json:"content"`
	Room      []Rule `json:"room"`
	Sender    []Rule `json:"sender"`
	Underride []Rule `json:"underride"`
}

// List returns the rules of one kind.
func (rs *Ruleset) List(k Kind) []Rule {
	switch k {
	case Override:
		return rs.Override
	case Content:
		return rs.Content
	case Room:
		return rs.Room
	case Sender:
		return rs.Sender
	case Underride:
		return rs.Underride
	}
	return nil
}

func (rs *Ruleset) set(k Kind, rules []Rule) {
	switch k {
	case Override:
		rs.Override = rules
	case Content:
		rs.Content = rules
	case Room:
		rs.Room = rules
	case Sender:
		rs.Sender = rules
	case Underride:
		rs.Underride = rules
	}
}

// Find returns the rule of kind k with the given ID.
func (rs *Ruleset) Find(k Kind, ruleID string) (Rule, bool) {
	for _, r := range rs.List(k) {
		if r.RuleID == ruleID {
			return r, true
		}
	}
	return Rule{}, false
}

// MarshalJSON writes every kind, empty kinds as [].
func (rs Ruleset) MarshalJSON() ([]byte, error) {
	type plain Ruleset
	p := plain(rs)
	for _, l := range []*[]Rule{&p.Override, &p.Content, &p.Room, &p.Sender, &p.Underride} {
		if *l == nil {
			*l = []Rule{}
		}
	}
	return json.Marshal(p)
}

// UnmarshalJSON reads a ruleset, setting each rule's Kind.
func (rs *Ruleset) UnmarshalJSON(b []byte) error {
	var m map[string][]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*rs = Ruleset{}
	for _, k := range Kinds {
		var rules []Rule
		for _, raw := range m[string(k)] {
			r, err := decodeRule(k, raw)
			if err != nil {
				return err
			}
			rules = append(rules, r)
		}
		rs.set(k, rules)
	}
	return nil
}

func decodeRule(k Kind, raw []byte) (Rule, error) {
	var w struct {
		Actions    []Action    `json:"actions"`
		Conditions []Condition `json:"conditions"`
		Default    bool        `json:"default"`
		Enabled    bool        `json:"enabled"`
		Pattern    string      `json:"pattern"`
		RuleID     string      `json:"rule_id"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return Rule{}, fmt.Errorf("pushrules: %s rule: %w", k, err)
	}
	return Rule{Kind: k, RuleID: w.RuleID, Default: w.Default, Enabled: w.Enabled, Actions: w.Actions,
		Conditions: w.Conditions, Pattern: w.Pattern}, nil
}
