package push

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Rule is a user-defined push rule as stored.
type Rule struct {
	Kind       string
	RuleID     string
	Pattern    string          // content rules
	Conditions json.RawMessage // JSON array
	Actions    json.RawMessage // JSON array
	Enabled    bool
}

// DefaultChange is a user's change to a server-default rule; nil fields keep
// the default.
type DefaultChange struct {
	RuleID  string
	Enabled *bool
	Actions json.RawMessage
}

// Rules returns the user's own rules, per kind most important first (kinds
// in no particular order), and their changes to server-default rules.
func (s *Store) Rules(ctx context.Context, userID string) ([]Rule, []DefaultChange, error) {
	var rules []Rule
	var changes []DefaultChange
	err := s.db.ReadTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.q(`
			SELECT kind, rule_id, pattern, conditions, actions, enabled FROM push_rules
			WHERE user_id = $1 ORDER BY kind, position, rule_id`), userID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r Rule
			var conds, actions string
			if err := rows.Scan(&r.Kind, &r.RuleID, &r.Pattern, &conds, &actions, &r.Enabled); err != nil {
				return err
			}
			r.Conditions, r.Actions = json.RawMessage(conds), json.RawMessage(actions)
			rules = append(rules, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		drows, err := tx.QueryContext(ctx, s.q(`
			SELECT rule_id, enabled, actions FROM push_rule_defaults WHERE user_id = $1 ORDER BY rule_id`), userID)
		if err != nil {
			return err
		}
		defer drows.Close()
		for drows.Next() {
			var c DefaultChange
			var enabled sql.NullBool
			var actions sql.NullString
			if err := drows.Scan(&c.RuleID, &enabled, &actions); err != nil {
				return err
			}
			if enabled.Valid {
				c.Enabled = &enabled.Bool
			}
			if actions.Valid {
				c.Actions = json.RawMessage(actions.String)
			}
			changes = append(changes, c)
		}
		return drows.Err()
	})
	if err != nil {
		return nil, nil, fmt.Errorf("push: rules of %s: %w", userID, err)
	}
	return rules, changes, nil
}

// PutRule creates or replaces a rule of the user. With before (or after),
// the rule is placed right above (or below) that rule of the same kind, which
// must exist ([ErrRelativeNotFound]); before wins when both are given.
// Without either, a new rule becomes the most important of its kind and a
// replaced rule keeps its place. A replaced rule keeps its enabled state; a
// new one is enabled.
func (s *Store) PutRule(ctx context.Context, userID string, r Rule, before, after string) error {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		order, err := s.order(ctx, tx, userID, r.Kind)
		if err != nil {
			return err
		}
		exists := slices.Contains(order, r.RuleID)
		newOrder := slices.DeleteFunc(slices.Clone(order), func(id string) bool { return id == r.RuleID })
		switch {
		case before != "" || after != "":
			anchor, offset := before, 0
			if before == "" {
				anchor, offset = after, 1
			}
			i := slices.Index(newOrder, anchor)
			if i < 0 {
				return fmt.Errorf("%w: %s", ErrRelativeNotFound, anchor)
			}
			newOrder = slices.Insert(newOrder, i+offset, r.RuleID)
		case exists:
			newOrder = order
		default:
			newOrder = slices.Insert(newOrder, 0, r.RuleID)
		}
		if _, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO push_rules (user_id, kind, rule_id, position, pattern, conditions, actions, enabled)
			VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE)
			ON CONFLICT (user_id, kind, rule_id) DO UPDATE SET pattern = excluded.pattern,
				conditions = excluded.conditions, actions = excluded.actions`),
			userID, r.Kind, r.RuleID, slices.Index(newOrder, r.RuleID), r.Pattern, string(r.Conditions), string(r.Actions)); err != nil {
			return err
		}
		return s.renumber(ctx, tx, userID, r.Kind, newOrder)
	})
	if err != nil {
		return fmt.Errorf("push: put rule %s/%s of %s: %w", r.Kind, r.RuleID, userID, err)
	}
	return nil
}

// order returns the rule IDs of one kind, most important first.
func (s *Store) order(ctx context.Context, tx *sql.Tx, userID, kind string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, s.q(`
		SELECT rule_id FROM push_rules WHERE user_id = $1 AND kind = $2 ORDER BY position, rule_id`), userID, kind)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// renumber sets positions 0, 1, ... in the given order.
func (s *Store) renumber(ctx context.Context, tx *sql.Tx, userID, kind string, order []string) error {
	for i, id := range order {
		if _, err := tx.ExecContext(ctx, s.q(`
			UPDATE push_rules SET position = $1 WHERE user_id = $2 AND kind = $3 AND rule_id = $4 AND position <> $1`),
			i, userID, kind, id); err != nil {
			return err
		}
	}
	return nil
}

// DeleteRule deletes a rule of the user ([ErrNotFound] when there is none).
func (s *Store) DeleteRule(ctx context.Context, userID, kind, ruleID string) error {
	return s.exec1(ctx, "delete rule", `DELETE FROM push_rules WHERE user_id = $1 AND kind = $2 AND rule_id = $3`,
		userID, kind, ruleID)
}

// SetEnabled enables or disables a rule of the user ([ErrNotFound]).
func (s *Store) SetEnabled(ctx context.Context, userID, kind, ruleID string, enabled bool) error {
	return s.exec1(ctx, "set enabled", `UPDATE push_rules SET enabled = $4 WHERE user_id = $1 AND kind = $2 AND rule_id = $3`,
		userID, kind, ruleID, enabled)
}

// SetActions replaces the actions of a rule of the user ([ErrNotFound]).
func (s *Store) SetActions(ctx context.Context, userID, kind, ruleID string, actions json.RawMessage) error {
	return s.exec1(ctx, "set actions", `UPDATE push_rules SET actions = $4 WHERE user_id = $1 AND kind = $2 AND rule_id = $3`,
		userID, kind, ruleID, string(actions))
}

// exec1 runs a statement that must touch exactly one rule.
func (s *Store) exec1(ctx context.Context, what, query string, args ...any) error {
	var n int64
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(query), args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("push: %s: %w", what, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// exec runs one statement in a write transaction.
func (s *Store) exec(ctx context.Context, what, query string, args ...any) error {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(query), args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("push: %s: %w", what, err)
	}
	return nil
}

// SetDefaultEnabled records that the user enabled or disabled a
// server-default rule.
func (s *Store) SetDefaultEnabled(ctx context.Context, userID, ruleID string, enabled bool) error {
	return s.exec(ctx, "set default enabled", `
		INSERT INTO push_rule_defaults (user_id, rule_id, enabled) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, rule_id) DO UPDATE SET enabled = excluded.enabled`, userID, ruleID, enabled)
}

// SetDefaultActions records the user's actions for a server-default rule.
func (s *Store) SetDefaultActions(ctx context.Context, userID, ruleID string, actions json.RawMessage) error {
	if !json.Valid(actions) {
		return errors.New("push: set default actions: not JSON")
	}
	return s.exec(ctx, "set default actions", `
		INSERT INTO push_rule_defaults (user_id, rule_id, actions) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, rule_id) DO UPDATE SET actions = excluded.actions`, userID, ruleID, string(actions))
}
