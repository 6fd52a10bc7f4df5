package clientapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/pushrules"
)

var defaultOverrideIDs = []string{".m.rule.master", ".m.rule.suppress_notices", ".m.rule.invite_for_me",
	".m.rule.member_event", ".m.rule.is_user_mention", ".m.rule.contains_display_name", ".m.rule.is_room_mention",
	".m.rule.roomnotif", ".m.rule.tombstone", ".m.rule.reaction", ".m.rule.room.server_acl", ".m.rule.suppress_edits"}

var defaultUnderrideIDs = []string{".m.rule.call", ".m.rule.encrypted_room_one_to_one", ".m.rule.room_one_to_one",
	".m.rule.message", ".m.rule.encrypted"}

func mautrixIDs(rules pushrules.PushRuleArray) []string {
	out := []string{}
	for _, r := range rules {
		out = append(out, r.RuleID)
	}
	return out
}

func mautrixMapIDs(rules pushrules.PushRuleMap) []string {
	out := []string{}
	for id := range rules.Map {
		out = append(out, id)
	}
	return out
}

// TestPushRulesDefaults: a new user has the whole default ruleset, with their
// own ID and localpart filled in, in the same form on both GET endpoints.
func TestPushRulesDefaults(t *testing.T) {
	forEachPushEnv(t, func(t *testing.T, e *pushEnv) {
		bob := e.user("bob")
		rs, err := bob.GetPushRules(e.ctx)
		require.NoError(t, err)
		assert.Equal(t, defaultOverrideIDs, mautrixIDs(rs.Override))
		assert.Equal(t, []string{".m.rule.contains_user_name"}, mautrixIDs(rs.Content))
		assert.Equal(t, defaultUnderrideIDs, mautrixIDs(rs.Underride))
		assert.Empty(t, rs.Room.Map)
		assert.Empty(t, rs.Sender.Map)
		assert.Equal(t, "bob", rs.Content[0].Pattern)
		assert.False(t, rs.Override[0].Enabled, "master is off")
		assert.True(t, rs.Override[1].Enabled)
		assert.True(t, rs.Override[2].Default)
		assert.Equal(t, bob.UserID.String(), rs.Override[2].Conditions[2].Pattern, "invite_for_me names the user")

		all := e.do(bob, http.MethodGet, "/pushrules/", nil, nil)
		global := e.do(bob, http.MethodGet, "/pushrules/global/", nil, nil)
		require.Equal(t, http.StatusOK, all.status)
		require.Equal(t, http.StatusOK, global.status)
		assert.Equal(t, global.body, all.body["global"])
		for _, kind := range []string{"override", "content", "room", "sender", "underride"} {
			list, ok := global.body[kind].([]any)
			require.True(t, ok, "%s is a list", kind)
			for _, r := range list {
				rule := r.(map[string]any)
				for _, f := range []string{"actions", "default", "enabled", "rule_id"} {
					assert.Contains(t, rule, f, "%s rule %v", kind, rule["rule_id"])
				}
			}
		}

		one := e.do(bob, http.MethodGet, ruleURL("override", ".m.rule.suppress_notices"), nil, nil)
		require.Equal(t, http.StatusOK, one.status)
		assert.JSONEq(t, `{"rule_id":".m.rule.suppress_notices","default":true,"enabled":true,"actions":[],
			"conditions":[{"kind":"event_match","key":"content.msgtype","pattern":"m.notice"}]}`, string(one.raw))
	})
}

// TestPushRulesCRUD creates, orders, changes and deletes rules through the
// API and checks what GET and /sync (m.push_rules account data) show.
func TestPushRulesCRUD(t *testing.T) {
	forEachPushEnv(t, func(t *testing.T, e *pushEnv) {
		bob, alice := e.user("bob"), e.user("alice")
		_, next := e.syncCounts(bob, "")
		put := func(kind, id string, req *mautrix.ReqPutPushRule) {
			t.Helper()
			require.NoError(t, bob.PutPushRule(e.ctx, "global", pushrules.PushRuleType(kind), id, req))
		}
		notify := []*pushrules.PushAction{{Action: pushrules.ActionNotify}}
		cond := []*pushrules.PushCondition{{Kind: pushrules.KindEventMatch, Key: "content.body", Pattern: "beer"},
			{Kind: pushrules.KindRoomMemberCount, MemberCountCondition: "<=10"}}
		put("override", "a", &mautrix.ReqPutPushRule{Actions: notify, Conditions: cond})
		put("override", "b", &mautrix.ReqPutPushRule{Actions: notify})
		put("override", "c", &mautrix.ReqPutPushRule{Actions: notify, Before: "a"})
		put("override", "d", &mautrix.ReqPutPushRule{Actions: notify, After: "b"})
		put("content", "cake", &mautrix.ReqPutPushRule{Pattern: "cake*lie", Actions: []*pushrules.PushAction{
			{Action: pushrules.ActionNotify}, {Action: pushrules.ActionSetTweak, Tweak: pushrules.TweakSound, Value: "cakealarm.wav"}}})
		put("room", "!abc:hs.test", &mautrix.ReqPutPushRule{Actions: []*pushrules.PushAction{}})
		put("sender", "@spam:hs.test", &mautrix.ReqPutPushRule{Actions: []*pushrules.PushAction{}})

		rs, err := bob.GetPushRules(e.ctx)
		require.NoError(t, err)
		assert.Equal(t, append([]string{".m.rule.master", "b", "d", "c", "a"}, defaultOverrideIDs[1:]...), mautrixIDs(rs.Override))
		assert.Equal(t, []string{"cake", ".m.rule.contains_user_name"}, mautrixIDs(rs.Content))
		assert.Equal(t, []string{"!abc:hs.test"}, mautrixMapIDs(rs.Room))
		assert.Equal(t, []string{"@spam:hs.test"}, mautrixMapIDs(rs.Sender))

		a := e.do(bob, http.MethodGet, ruleURL("override", "a"), nil, nil)
		require.Equal(t, http.StatusOK, a.status)
		assert.JSONEq(t, `{"rule_id":"a","default":false,"enabled":true,"actions":["notify"],
			"conditions":[{"kind":"event_match","key":"content.body","pattern":"beer"},{"kind":"room_member_count","is":"<=10"}]}`, string(a.raw))
		cake := e.do(bob, http.MethodGet, ruleURL("content", "cake"), nil, nil)
		assert.JSONEq(t, `{"rule_id":"cake","default":false,"enabled":true,"pattern":"cake*lie",
			"actions":["notify",{"set_tweak":"sound","value":"cakealarm.wav"}]}`, string(cake.raw))
		room := e.do(bob, http.MethodGet, ruleURL("room", "!abc:hs.test"), nil, nil)
		assert.JSONEq(t, `{"rule_id":"!abc:hs.test","default":false,"enabled":true,"actions":[]}`, string(room.raw))

		// Replacing keeps the place; before/after move it.
		put("override", "c", &mautrix.ReqPutPushRule{Actions: []*pushrules.PushAction{}})
		put("override", "b", &mautrix.ReqPutPushRule{Actions: notify, After: "a"})
		rs, err = bob.GetPushRules(e.ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{".m.rule.master", "d", "c", "a", "b"}, mautrixIDs(rs.Override)[:5])
		assert.Empty(t, rs.Override[2].Actions, "c was replaced")

		// enabled and actions, of the user's rules and of defaults.
		enabled := func(kind, id string) any {
			r := e.do(bob, http.MethodGet, ruleURL(kind, id, "enabled"), nil, nil)
			require.Equal(t, http.StatusOK, r.status, string(r.raw))
			return r.body["enabled"]
		}
		assert.Equal(t, true, enabled("override", "d"))
		require.NoError(t, bob.SetPushRuleEnabled(e.ctx, "global", "override", "d", false))
		assert.Equal(t, false, enabled("override", "d"))
		put("override", "d", &mautrix.ReqPutPushRule{Actions: notify})
		assert.Equal(t, false, enabled("override", "d"), "replacing keeps the enabled state")
		assert.Equal(t, false, enabled("override", ".m.rule.master"))
		require.NoError(t, bob.SetPushRuleEnabled(e.ctx, "global", "override", ".m.rule.master", true))
		assert.Equal(t, true, enabled("override", ".m.rule.master"))

		require.NoError(t, bob.PutPushRuleActions(e.ctx, "global", "underride", ".m.rule.message", []*pushrules.PushAction{
			{Action: pushrules.ActionNotify}, {Action: pushrules.ActionSetTweak, Tweak: pushrules.TweakHighlight}}))
		act := e.do(bob, http.MethodGet, ruleURL("underride", ".m.rule.message", "actions"), nil, nil)
		require.Equal(t, http.StatusOK, act.status)
		assert.JSONEq(t, `{"actions":["notify",{"set_tweak":"highlight"}]}`, string(act.raw))
		r := e.do(bob, http.MethodPut, ruleURL("override", "a", "actions"), nil, map[string]any{"actions": []any{"dont_notify"}})
		require.Equal(t, http.StatusOK, r.status, string(r.raw))
		act = e.do(bob, http.MethodGet, ruleURL("override", "a", "actions"), nil, nil)
		assert.JSONEq(t, `{"actions":[]}`, string(act.raw), "historical actions are stripped")
		msg := e.do(bob, http.MethodGet, ruleURL("underride", ".m.rule.message"), nil, nil)
		assert.Equal(t, true, msg.body["default"], "a changed default rule is still a default rule")

		// Delete.
		require.NoError(t, bob.DeletePushRule(e.ctx, "global", "override", "a"))
		gone := e.do(bob, http.MethodGet, ruleURL("override", "a"), nil, nil)
		assert.Equal(t, http.StatusNotFound, gone.status)
		assert.Equal(t, "M_NOT_FOUND", gone.errcode())

		// The user's clients get the rules as m.push_rules account data.
		sync := e.do(bob, http.MethodGet, "/sync", url.Values{"since": {next}}, nil)
		require.Equal(t, http.StatusOK, sync.status)
		var body struct {
			AccountData struct {
				Events []struct {
					Type    string          `json:"type"`
					Content json.RawMessage `json:"content"`
				} `json:"events"`
			} `json:"account_data"`
		}
		require.NoError(t, json.Unmarshal(sync.raw, &body))
		var pushData json.RawMessage
		for _, ev := range body.AccountData.Events {
			if ev.Type == "m.push_rules" {
				pushData = ev.Content
			}
		}
		require.NotNil(t, pushData, "m.push_rules in account_data")
		all := e.do(bob, http.MethodGet, "/pushrules/", nil, nil)
		assert.JSONEq(t, string(all.raw), string(pushData), "account data is the current ruleset")

		// Rules are per user.
		ars, err := alice.GetPushRules(e.ctx)
		require.NoError(t, err)
		assert.Equal(t, defaultOverrideIDs, mautrixIDs(ars.Override))
		assert.Empty(t, ars.Room.Map)
		missing := e.do(alice, http.MethodGet, ruleURL("content", "cake"), nil, nil)
		assert.Equal(t, http.StatusNotFound, missing.status)
	})
}

// TestPushRulesErrors: bad requests get the right error and change nothing.
func TestPushRulesErrors(t *testing.T) {
	forEachPushEnv(t, func(t *testing.T, e *pushEnv) {
		bob := e.user("bob")
		require.NoError(t, bob.PutPushRule(e.ctx, "global", "override", "mine", &mautrix.ReqPutPushRule{Actions: []*pushrules.PushAction{}}))
		before := e.do(bob, http.MethodGet, "/pushrules/", nil, nil)
		cases := []struct {
			name    string
			method  string
			path    string
			query   url.Values
			body    any
			status  int
			errcode string
		}{
			{"unknown kind", http.MethodGet, "/pushrules/global/nokind/x", nil, nil, 400, "M_INVALID_PARAM"},
			{"unknown rule", http.MethodGet, ruleURL("override", "nope"), nil, nil, 404, "M_NOT_FOUND"},
			{"default rule of another kind", http.MethodGet, ruleURL("underride", ".m.rule.master"), nil, nil, 404, "M_NOT_FOUND"},
			{"unknown scope", http.MethodGet, "/pushrules/device/override/x", nil, nil, 404, "M_UNRECOGNIZED"},
			{"replace a default rule", http.MethodPut, ruleURL("override", ".m.rule.master"), nil, map[string]any{"actions": []any{}}, 400, "M_INVALID_PARAM"},
			{"reserved rule ID", http.MethodPut, ruleURL("override", ".mine"), nil, map[string]any{"actions": []any{}}, 400, "M_INVALID_PARAM"},
			{"slash in rule ID", http.MethodPut, ruleURL("override", "a/b"), nil, map[string]any{"actions": []any{}}, 400, "M_INVALID_PARAM"},
			{"backslash in rule ID", http.MethodPut, ruleURL("override", `a\b`), nil, map[string]any{"actions": []any{}}, 400, "M_INVALID_PARAM"},
			{"room rule not a room", http.MethodPut, ruleURL("room", "lobby"), nil, map[string]any{"actions": []any{}}, 400, "M_INVALID_PARAM"},
			{"sender rule not a user", http.MethodPut, ruleURL("sender", "spam"), nil, map[string]any{"actions": []any{}}, 400, "M_INVALID_PARAM"},
			{"not JSON", http.MethodPut, ruleURL("override", "x"), nil, "actions", 400, "M_NOT_JSON"},
			{"not an object", http.MethodPut, ruleURL("override", "x"), nil, "[]", 400, "M_BAD_JSON"},
			{"no actions", http.MethodPut, ruleURL("override", "x"), nil, map[string]any{}, 400, "M_MISSING_PARAM"},
			{"actions not a list", http.MethodPut, ruleURL("override", "x"), nil, map[string]any{"actions": "notify"}, 400, "M_BAD_JSON"},
			{"unknown action", http.MethodPut, ruleURL("override", "x"), nil, map[string]any{"actions": []any{"explode"}}, 400, "M_INVALID_PARAM"},
			{"tweak without name", http.MethodPut, ruleURL("override", "x"), nil, map[string]any{"actions": []any{map[string]any{"value": 1}}}, 400, "M_INVALID_PARAM"},
			{"content without pattern", http.MethodPut, ruleURL("content", "x"), nil, map[string]any{"actions": []any{}}, 400, "M_MISSING_PARAM"},
			{"bad member count", http.MethodPut, ruleURL("override", "x"), nil,
				map[string]any{"actions": []any{}, "conditions": []any{map[string]any{"kind": "room_member_count", "is": "lots"}}}, 400, "M_INVALID_PARAM"},
			{"compound value", http.MethodPut, ruleURL("override", "x"), nil,
				map[string]any{"actions": []any{}, "conditions": []any{map[string]any{"kind": "event_property_is", "key": "content.x", "value": []any{1}}}}, 400, "M_INVALID_PARAM"},
			{"condition without kind", http.MethodPut, ruleURL("override", "x"), nil,
				map[string]any{"actions": []any{}, "conditions": []any{map[string]any{"key": "type"}}}, 400, "M_MISSING_PARAM"},
			{"conditions not a list", http.MethodPut, ruleURL("override", "x"), nil,
				map[string]any{"actions": []any{}, "conditions": map[string]any{}}, 400, "M_BAD_JSON"},
			{"before unknown rule", http.MethodPut, ruleURL("override", "x"), url.Values{"before": {"nope"}}, map[string]any{"actions": []any{}}, 400, "M_INVALID_PARAM"},
			{"after a default rule", http.MethodPut, ruleURL("override", "x"), url.Values{"after": {".m.rule.master"}}, map[string]any{"actions": []any{}}, 400, "M_INVALID_PARAM"},
			{"before a rule of another kind", http.MethodPut, ruleURL("underride", "x"), url.Values{"before": {"mine"}}, map[string]any{"actions": []any{}}, 400, "M_INVALID_PARAM"},
			{"delete a default rule", http.MethodDelete, ruleURL("override", ".m.rule.master"), nil, nil, 403, "M_FORBIDDEN"},
			{"delete an unknown default rule", http.MethodDelete, ruleURL("override", ".m.rule.nope"), nil, nil, 404, "M_NOT_FOUND"},
			{"delete an unknown rule", http.MethodDelete, ruleURL("override", "nope"), nil, nil, 404, "M_NOT_FOUND"},
			{"delete with the wrong kind", http.MethodDelete, ruleURL("underride", "mine"), nil, nil, 404, "M_NOT_FOUND"},
			{"enable an unknown rule", http.MethodPut, ruleURL("override", "nope", "enabled"), nil, map[string]any{"enabled": true}, 404, "M_NOT_FOUND"},
			{"enabled missing", http.MethodPut, ruleURL("override", ".m.rule.master", "enabled"), nil, map[string]any{}, 400, "M_MISSING_PARAM"},
			{"enabled not a boolean", http.MethodPut, ruleURL("override", ".m.rule.master", "enabled"), nil, map[string]any{"enabled": "yes"}, 400, "M_BAD_JSON"},
			{"get enabled of an unknown rule", http.MethodGet, ruleURL("sender", "@x:hs.test", "enabled"), nil, nil, 404, "M_NOT_FOUND"},
			{"actions of an unknown rule", http.MethodPut, ruleURL("override", "nope", "actions"), nil, map[string]any{"actions": []any{}}, 404, "M_NOT_FOUND"},
			{"actions of a default of another kind", http.MethodPut, ruleURL("underride", ".m.rule.master", "actions"), nil, map[string]any{"actions": []any{}}, 404, "M_NOT_FOUND"},
			{"bad actions", http.MethodPut, ruleURL("override", "mine", "actions"), nil, map[string]any{"actions": []any{7}}, 400, "M_INVALID_PARAM"},
			{"get actions of an unknown rule", http.MethodGet, ruleURL("content", "nope", "actions"), nil, nil, 404, "M_NOT_FOUND"},
			{"notifications limit", http.MethodGet, "/notifications", url.Values{"limit": {"abc"}}, nil, 400, "M_INVALID_PARAM"},
			{"notifications zero limit", http.MethodGet, "/notifications", url.Values{"limit": {"0"}}, nil, 400, "M_INVALID_PARAM"},
			{"notifications token", http.MethodGet, "/notifications", url.Values{"from": {"garbage"}}, nil, 400, "M_INVALID_PARAM"},
		}
		for _, c := range cases {
			r := e.do(bob, c.method, c.path, c.query, c.body)
			assert.Equal(t, c.status, r.status, "%s: %s", c.name, r.raw)
			assert.Equal(t, c.errcode, r.errcode(), "%s: %s", c.name, r.raw)
		}
		after := e.do(bob, http.MethodGet, "/pushrules/", nil, nil)
		assert.JSONEq(t, string(before.raw), string(after.raw), "failed requests changed nothing")

		anon := e.do(nil, http.MethodGet, "/pushrules/", nil, nil)
		assert.Equal(t, http.StatusUnauthorized, anon.status)
		assert.Equal(t, "M_MISSING_TOKEN", anon.errcode())
	})
}
