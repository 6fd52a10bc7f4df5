package pushserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"go.uber.org/zap"

	"github.com/concordchat/concord/pushrules"
	"github.com/concordchat/concord/storage/push"
)

// RulesDeps are what [NewRules] needs.
type RulesDeps struct {
	Store  *push.Store
	Logger *zap.Logger
	// CacheSize is the number of users whose compiled rules are kept; 0
	// means a default.
	CacheSize int
}

// Rules reads and changes users' push rules.
type Rules struct {
	store *push.Store
	log   *zap.Logger

	writeMu sync.Mutex // serialises changes (rare), so positions stay consistent

	mu    sync.Mutex // guards gen; the cache has its own lock
	gen   uint64     // bumped by every change, so a load racing a change is not cached
	cache *lru.Cache[string, *userRules]
}

// userRules is one user's built ruleset and its compiled evaluator. Both are
// shared and must not be modified.
type userRules struct {
	ruleset *pushrules.Ruleset
	eval    *pushrules.Evaluator
}

// NewRules makes the rules service.
func NewRules(deps RulesDeps) (*Rules, error) {
	if deps.Store == nil {
		return nil, errors.New("pushserver: RulesDeps.Store is nil")
	}
	if deps.Logger == nil {
		deps.Logger = zap.NewNop()
	}
	if deps.CacheSize <= 0 {
		deps.CacheSize = 10_000
	}
	cache, err := lru.New[string, *userRules](deps.CacheSize)
	if err != nil {
		return nil, err
	}
	return &Rules{store: deps.Store, log: deps.Logger.Named("pushrules"), cache: cache}, nil
}

// Ruleset returns the user's whole ruleset. It must not be modified.
func (r *Rules) Ruleset(ctx context.Context, userID string) (*pushrules.Ruleset, error) {
	u, err := r.load(ctx, userID)
	if err != nil {
		return nil, err
	}
	return u.ruleset, nil
}

// Evaluator returns the user's compiled rules.
func (r *Rules) Evaluator(ctx context.Context, userID string) (*pushrules.Evaluator, error) {
	u, err := r.load(ctx, userID)
	if err != nil {
		return nil, err
	}
	return u.eval, nil
}

// Get returns one rule ([ErrRuleNotFound]).
func (r *Rules) Get(ctx context.Context, userID string, kind pushrules.Kind, ruleID string) (pushrules.Rule, error) {
	rs, err := r.Ruleset(ctx, userID)
	if err != nil {
		return pushrules.Rule{}, err
	}
	rule, ok := rs.Find(kind, ruleID)
	if !ok {
		return pushrules.Rule{}, ErrRuleNotFound
	}
	return rule, nil
}

func (r *Rules) load(ctx context.Context, userID string) (*userRules, error) {
	if u, ok := r.cache.Get(userID); ok {
		return u, nil
	}
	r.mu.Lock()
	gen := r.gen
	r.mu.Unlock()
	rules, changes, err := r.store.Rules(ctx, userID)
	if err != nil {
		return nil, err
	}
	own := map[pushrules.Kind][]pushrules.Rule{}
	for _, sr := range rules {
		kind, ok := pushrules.ParseKind(sr.Kind)
		if !ok {
			continue
		}
		rule := pushrules.Rule{Kind: kind, RuleID: sr.RuleID, Enabled: sr.Enabled, Pattern: sr.Pattern}
		if err := json.Unmarshal(sr.Actions, &rule.Actions); err != nil {
			return nil, fmt.Errorf("pushserver: stored actions of %s/%s: %w", sr.Kind, sr.RuleID, err)
		}
		if err := json.Unmarshal(sr.Conditions, &rule.Conditions); err != nil {
			return nil, fmt.Errorf("pushserver: stored conditions of %s/%s: %w", sr.Kind, sr.RuleID, err)
		}
		own[kind] = append(own[kind], rule)
	}
	defaults := map[string]pushrules.DefaultChange{}
	for _, c := range changes {
		ch := pushrules.DefaultChange{Enabled: c.Enabled}
		if c.Actions != nil {
			if err := json.Unmarshal(c.Actions, &ch.Actions); err != nil {
				return nil, fmt.Errorf("pushserver: stored actions of %s: %w", c.RuleID, err)
			}
			if ch.Actions == nil {
				ch.Actions = []pushrules.Action{}
			}
		}
		defaults[c.RuleID] = ch
	}
	rs, err := pushrules.Build(userID, own, defaults)
	if err != nil {
		return nil, err
	}
	u := &userRules{ruleset: rs, eval: pushrules.NewEvaluator(userID, rs)}
	r.mu.Lock()
	if r.gen == gen {
		r.cache.Add(userID, u)
	}
	r.mu.Unlock()
	return u, nil
}

// change runs a change of the user's rules and returns the new ruleset.
func (r *Rules) change(ctx context.Context, userID string, fn func() error) (*pushrules.Ruleset, error) {
	r.writeMu.Lock()
	err := fn()
	r.mu.Lock()
	r.gen++
	r.cache.Remove(userID)
	r.mu.Unlock()
	r.writeMu.Unlock()
	if err != nil {
		return nil, err
	}
	return r.Ruleset(ctx, userID)
}

// Put creates or replaces a user-defined rule, placed before or after
// another user-defined rule of its kind when asked (see push.Store.PutRule).
// The rule must have been parsed with pushrules.ParseRule; its ID is checked
// with pushrules.CheckRuleID.
func (r *Rules) Put(ctx context.Context, userID string, rule pushrules.Rule, before, after string) (*pushrules.Ruleset, error) {
	if err := pushrules.CheckRuleID(rule.Kind, rule.RuleID); err != nil {
		return nil, err
	}
	for _, rel := range []string{before, after} {
		if rel != "" && pushrules.IsServerDefault(rel) {
			return nil, fmt.Errorf("%w: rules cannot be placed relative to server-default rule %s", ErrRelativeRule, rel)
		}
	}
	conds := rule.Conditions
	if conds == nil {
		conds = []pushrules.Condition{}
	}
	condJSON, err := json.Marshal(conds)
	if err != nil {
		return nil, err
	}
	actionsJSON, err := marshalActions(rule.Actions)
	if err != nil {
		return nil, err
	}
	return r.change(ctx, userID, func() error {
		err := r.store.PutRule(ctx, userID, push.Rule{Kind: string(rule.Kind), RuleID: rule.RuleID, Pattern: rule.Pattern,
			Conditions: condJSON, Actions: actionsJSON}, before, after)
		if errors.Is(err, push.ErrRelativeNotFound) {
			return fmt.Errorf("%w: %v", ErrRelativeRule, err)
		}
		return err
	})
}

// Delete deletes a user-defined rule.
func (r *Rules) Delete(ctx context.Context, userID string, kind pushrules.Kind, ruleID string) (*pushrules.Ruleset, error) {
	if pushrules.IsServerDefault(ruleID) {
		if k, ok := pushrules.DefaultKind(ruleID); ok && k == kind {
			return nil, ErrServerDefaultRule
		}
		return nil, ErrRuleNotFound
	}
	return r.change(ctx, userID, func() error {
		return notFound(r.store.DeleteRule(ctx, userID, string(kind), ruleID))
	})
}

// SetEnabled enables or disables a rule, server-default or the user's.
func (r *Rules) SetEnabled(ctx context.Context, userID string, kind pushrules.Kind, ruleID string, enabled bool) (*pushrules.Ruleset, error) {
	if pushrules.IsServerDefault(ruleID) {
		if k, ok := pushrules.DefaultKind(ruleID); !ok || k != kind {
			return nil, ErrRuleNotFound
		}
		return r.change(ctx, userID, func() error { return r.store.SetDefaultEnabled(ctx, userID, ruleID, enabled) })
	}
	return r.change(ctx, userID, func() error {
		return notFound(r.store.SetEnabled(ctx, userID, string(kind), ruleID, enabled))
	})
}

// SetActions replaces the actions of a rule, server-default or the user's.
// The actions must have been checked with pushrules.CleanActions.
func (r *Rules) SetActions(ctx context.Context, userID string, kind pushrules.Kind, ruleID string, actions []pushrules.Action) (*pushrules.Ruleset, error) {
	js, err := marshalActions(actions)
	if err != nil {
		return nil, err
	}
	if pushrules.IsServerDefault(ruleID) {
		if k, ok := pushrules.DefaultKind(ruleID); !ok || k != kind {
			return nil, ErrRuleNotFound
		}
		return r.change(ctx, userID, func() error { return r.store.SetDefaultActions(ctx, userID, ruleID, js) })
	}
	return r.change(ctx, userID, func() error {
		return notFound(r.store.SetActions(ctx, userID, string(kind), ruleID, js))
	})
}

func marshalActions(actions []pushrules.Action) (json.RawMessage, error) {
	if actions == nil {
		actions = []pushrules.Action{}
	}
	return json.Marshal(actions)
}

func notFound(err error) error {
	if errors.Is(err, push.ErrNotFound) {
		return ErrRuleNotFound
	}
	return err
}
