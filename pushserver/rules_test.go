package pushserver

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/pushrules"
	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/storagetest"
)

func parseRule(t *testing.T, kind pushrules.Kind, id, body string) pushrules.Rule {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(body), &m))
	r, err := pushrules.ParseRule(kind, id, m)
	require.NoError(t, err)
	return r
}

// TestRulesService: changes show at once in the ruleset and the compiled
// evaluator (the cache is invalidated), and bad changes fail with the
// sentinel errors the HTTP edge maps.
func TestRulesService(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db, 0, false)
		r := f.rules
		msg, err := pushrules.NewEvent(pushrules.EventFields{RoomID: "!r:hs.test", Sender: alice, Type: "m.room.message",
			Content: json.RawMessage(`{"body":"cake time"}`)})
		require.NoError(t, err)
		group := pushrules.RoomContext{MemberCount: 3}
		matched := func() string {
			t.Helper()
			ev, err := r.Evaluator(f.ctx, bob)
			require.NoError(t, err)
			rule, ok := ev.Evaluate(msg, group, "")
			if !ok {
				return ""
			}
			return rule.RuleID
		}
		assert.Equal(t, ".m.rule.message", matched())

		rs, err := r.Put(f.ctx, bob, parseRule(t, pushrules.Content, "cake", `{"pattern":"cake","actions":["notify"]}`), "", "")
		require.NoError(t, err)
		assert.Equal(t, "cake", rs.Content[0].RuleID, "the new ruleset is returned")
		assert.Equal(t, "cake", matched())

		_, err = r.SetEnabled(f.ctx, bob, pushrules.Content, "cake", false)
		require.NoError(t, err)
		assert.Equal(t, ".m.rule.message", matched())
		_, err = r.SetEnabled(f.ctx, bob, pushrules.Underride, ".m.rule.message", false)
		require.NoError(t, err)
		assert.Equal(t, "", matched())
		_, err = r.SetEnabled(f.ctx, bob, pushrules.Content, "cake", true)
		require.NoError(t, err)
		_, err = r.SetActions(f.ctx, bob, pushrules.Content, "cake", []pushrules.Action{})
		require.NoError(t, err)
		rule, err := r.Get(f.ctx, bob, pushrules.Content, "cake")
		require.NoError(t, err)
		assert.Empty(t, rule.Actions)
		assert.True(t, rule.Enabled)
		_, err = r.Delete(f.ctx, bob, pushrules.Content, "cake")
		require.NoError(t, err)
		_, err = r.Get(f.ctx, bob, pushrules.Content, "cake")
		assert.ErrorIs(t, err, ErrRuleNotFound)

		mine := parseRule(t, pushrules.Override, "mine", `{"actions":[]}`)
		_, err = r.Put(f.ctx, bob, mine, "nope", "")
		assert.ErrorIs(t, err, ErrRelativeRule)
		_, err = r.Put(f.ctx, bob, mine, "", ".m.rule.master")
		assert.ErrorIs(t, err, ErrRelativeRule)
		_, err = r.Put(f.ctx, bob, parseRule(t, pushrules.Override, ".m.rule.master", `{"actions":[]}`), "", "")
		assert.ErrorIs(t, err, pushrules.ErrReservedRuleID)
		_, err = r.Delete(f.ctx, bob, pushrules.Override, ".m.rule.master")
		assert.ErrorIs(t, err, ErrServerDefaultRule)
		_, err = r.Delete(f.ctx, bob, pushrules.Underride, ".m.rule.master")
		assert.ErrorIs(t, err, ErrRuleNotFound)
		_, err = r.SetEnabled(f.ctx, bob, pushrules.Override, ".m.rule.nope", true)
		assert.ErrorIs(t, err, ErrRuleNotFound)
		_, err = r.SetActions(f.ctx, bob, pushrules.Override, "nope", []pushrules.Action{})
		assert.ErrorIs(t, err, ErrRuleNotFound)

		// Other users are untouched.
		ev, err := r.Evaluator(f.ctx, carol)
		require.NoError(t, err)
		got, ok := ev.Evaluate(msg, group, "")
		require.True(t, ok)
		assert.Equal(t, ".m.rule.message", got.RuleID)
	})
}
