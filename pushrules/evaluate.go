package pushrules

import "slices"

// DefaultChange is a user's change to one server-default rule: nil fields
// keep the default.
type DefaultChange struct {
	Enabled *bool
	Actions []Action // nil: the default actions
}

// Build assembles a user's ruleset: the server-default rules with the user's
// changes applied, and the user's own rules (by kind, most important first)
// placed as the spec orders them: .m.rule.master first, then the user's
// rules of each kind above the server-default rules of that kind.
func Build(userID string, own map[Kind][]Rule, changes map[string]DefaultChange) (*Ruleset, error) {
	defaults, err := Defaults(userID)
	if err != nil {
		return nil, err
	}
	rs := &Ruleset{}
	for _, k := range Kinds {
		defs := defaults.List(k)
		for i := range defs {
			if ch, ok := changes[defs[i].RuleID]; ok {
				if ch.Enabled != nil {
					defs[i].Enabled = *ch.Enabled
				}
				if ch.Actions != nil {
					defs[i].Actions = ch.Actions
				}
			}
		}
		mine := make([]Rule, 0, len(own[k]))
		for _, r := range own[k] {
			r.Kind, r.Default = k, false
			mine = append(mine, r)
		}
		var list []Rule
		if k == Override && len(defs) > 0 && defs[0].RuleID == MasterRuleID {
			list = append(list, defs[0])
			defs = defs[1:]
		}
		list = append(list, mine...)
		list = append(list, defs...)
		rs.set(k, list)
	}
	return rs, nil
}

// Evaluator evaluates one user's ruleset against events.
type Evaluator struct {
	userID string
	rules  []compiledRule
}

type compiledRule struct {
	rule       Rule
	legacy     bool // a legacy mention rule: skipped when the event has m.mentions
	pattern    *Glob
	conditions []compiledCondition
}

// NewEvaluator compiles a ruleset for userID. Disabled rules are dropped.
func NewEvaluator(userID string, rs *Ruleset) *Evaluator {
	ev := &Evaluator{userID: userID}
	for _, k := range Kinds {
		for _, r := range rs.List(k) {
			if !r.Enabled {
				continue
			}
			r.Kind = k
			cr := compiledRule{rule: r, legacy: r.Default && legacyMentionRules[r.RuleID]}
			switch k {
			case Content:
				cr.pattern = CompileGlob(r.Pattern)
			case Override, Underride:
				for _, c := range r.Conditions {
					cr.conditions = append(cr.conditions, compileCondition(c))
				}
			}
			ev.rules = append(ev.rules, cr)
		}
	}
	return ev
}

// UserID returns the user the evaluator is for.
func (ev *Evaluator) UserID() string { return ev.userID }

// Evaluate returns the first enabled rule that matches the event for this
// user, and whether one matched. displayName is the user's display name in
// the room ("" when they have none). The rule's actions say what to do; a
// match with no "notify" action means no notification.
func (ev *Evaluator) Evaluate(e *Event, room RoomContext, displayName string) (Rule, bool) {
	in := &evalInput{ev: e, room: room, displayName: displayName}
	for i := range ev.rules {
		cr := &ev.rules[i]
		if cr.legacy && e.hasMentions {
			continue
		}
		if cr.matches(in) {
			r := cr.rule
			r.Actions = slices.Clone(r.Actions)
			return r, true
		}
	}
	return Rule{}, false
}

func (cr *compiledRule) matches(in *evalInput) bool {
	switch cr.rule.Kind {
	case Content:
		return in.ev.hasBody && cr.pattern.MatchWords(in.ev.body)
	case Room:
		return cr.rule.RuleID == in.ev.roomID
	case Sender:
		return cr.rule.RuleID == in.ev.sender
	}
	for _, c := range cr.conditions {
		if !c.match(in) {
			return false
		}
	}
	return true
}
