package pushrules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const bob = "@bob:hs.test"

func ruleIDs(rules []Rule) []string {
	out := make([]string, 0, len(rules))
	for _, r := range rules {
		out = append(out, r.RuleID)
	}
	return out
}

// TestDefaultOrder pins every server-default rule's ID, kind and place.
func TestDefaultOrder(t *testing.T) {
	rs, err := Defaults(bob)
	require.NoError(t, err)
	assert.Equal(t, []string{".m.rule.master", ".m.rule.suppress_notices", ".m.rule.invite_for_me",
		".m.rule.member_event", ".m.rule.is_user_mention", ".m.rule.contains_display_name",
		".m.rule.is_room_mention", ".m.rule.roomnotif", ".m.rule.tombstone", ".m.rule.reaction",
		".m.rule.room.server_acl", ".m.rule.suppress_edits"}, ruleIDs(rs.Override))
	assert.Equal(t, []string{".m.rule.contains_user_name"}, ruleIDs(rs.Content))
	assert.Empty(t, rs.Room)
	assert.Empty(t, rs.Sender)
	assert.Equal(t, []string{".m.rule.call", ".m.rule.encrypted_room_one_to_one", ".m.rule.room_one_to_one",
		".m.rule.message", ".m.rule.encrypted"}, ruleIDs(rs.Underride))
	for _, k := range Kinds {
		for _, r := range rs.List(k) {
			assert.True(t, r.Default, r.RuleID)
			assert.Equal(t, r.RuleID != MasterRuleID, r.Enabled, r.RuleID)
			kind, ok := DefaultKind(r.RuleID)
			assert.True(t, ok)
			assert.Equal(t, k, kind)
		}
	}
	_, ok := DefaultKind(".m.rule.nonexistent")
	assert.False(t, ok)

	// The user's own ID and localpart are filled in.
	invite, _ := rs.Find(Override, ".m.rule.invite_for_me")
	assert.Equal(t, bob, invite.Conditions[2].Pattern)
	name, _ := rs.Find(Content, ".m.rule.contains_user_name")
	assert.Equal(t, "bob", name.Pattern)
	mention, _ := rs.Find(Override, ".m.rule.is_user_mention")
	assert.JSONEq(t, `"@bob:hs.test"`, string(mention.Conditions[0].Value))
}

// specDir is the Matrix spec checkout (CONCORD_MATRIX_SPEC or ../shared).
func specDir() string {
	if d := os.Getenv("CONCORD_MATRIX_SPEC"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "matrix-spec")
}

var jsonBlock = regexp.MustCompile("(?s)```json\n(.*?)```")

// TestDefaultsMatchSpec compares every server-default rule the spec defines
// (push module, "Predefined Rules") with ours, field by field.
func TestDefaultsMatchSpec(t *testing.T) {
	text, err := os.ReadFile(filepath.Join(specDir(), "content", "client-server-api", "modules", "push.md"))
	if err != nil {
		t.Skipf("the Matrix spec is not available (%v): set CONCORD_MATRIX_SPEC", err)
	}
	rs, err := Defaults(bob)
	require.NoError(t, err)
	seen := 0
	for _, m := range jsonBlock.FindAllStringSubmatch(string(text), -1) {
		block := strings.ReplaceAll(m[1], "[the user's Matrix ID]", bob)
		var def map[string]any
		if json.Unmarshal([]byte(block), &def) != nil || def["default"] != true {
			continue
		}
		id, _ := def["rule_id"].(string)
		kind, ok := DefaultKind(id)
		require.True(t, ok, "spec rule %s is missing", id)
		ours, _ := rs.Find(kind, id)
		b, err := json.Marshal(ours)
		require.NoError(t, err)
		var got map[string]any
		require.NoError(t, json.Unmarshal(b, &got))
		assert.Equal(t, def, got, id)
		seen++
	}
	// 10 override rules and 5 underride rules are defined in the spec today.
	assert.GreaterOrEqual(t, seen, 15)
}

// TestRulesetJSON checks the wire forms of each kind and a round trip.
func TestRulesetJSON(t *testing.T) {
	own := map[Kind][]Rule{
		Room:    {{RuleID: "!r:hs.test", Enabled: true, Actions: []Action{}}},
		Sender:  {{RuleID: "@spam:hs.test", Enabled: true, Actions: []Action{}}},
		Content: {{RuleID: "cake", Enabled: true, Pattern: "cake*lie", Actions: []Action{Action(`"notify"`)}}},
	}
	rs, err := Build(bob, own, nil)
	require.NoError(t, err)
	b, err := json.Marshal(rs)
	require.NoError(t, err)
	var wire map[string][]map[string]any
	require.NoError(t, json.Unmarshal(b, &wire))
	assert.Equal(t, map[string]any{"rule_id": "!r:hs.test", "default": false, "enabled": true, "actions": []any{}}, wire["room"][0])
	assert.Equal(t, map[string]any{"rule_id": "@spam:hs.test", "default": false, "enabled": true, "actions": []any{}}, wire["sender"][0])
	assert.Equal(t, map[string]any{"rule_id": "cake", "default": false, "enabled": true, "pattern": "cake*lie",
		"actions": []any{"notify"}}, wire["content"][0])
	assert.Equal(t, []any{}, wire["override"][0]["conditions"], "master has an empty conditions list")

	var back Ruleset
	require.NoError(t, json.Unmarshal(b, &back))
	b2, err := json.Marshal(back)
	require.NoError(t, err)
	assert.JSONEq(t, string(b), string(b2))
	assert.Equal(t, Content, back.Content[0].Kind)

	empty, err := json.Marshal(Ruleset{})
	require.NoError(t, err)
	assert.JSONEq(t, `{"override":[],"content":[],"room":[],"sender":[],"underride":[]}`, string(empty))
}

// TestBuildOrder: master first, then the user's rules above the defaults of
// each kind; changes to defaults apply.
func TestBuildOrder(t *testing.T) {
	off, on := false, true
	own := map[Kind][]Rule{
		Override:  {{RuleID: "a", Enabled: true}, {RuleID: "b", Enabled: false}},
		Content:   {{RuleID: "c", Enabled: true, Pattern: "x"}},
		Underride: {{RuleID: "u", Enabled: true}},
	}
	changes := map[string]DefaultChange{
		MasterRuleID:      {Enabled: &on},
		".m.rule.message": {Enabled: &off, Actions: []Action{Action(`"notify"`), Action(`{"set_tweak":"highlight"}`)}},
	}
	rs, err := Build(bob, own, changes)
	require.NoError(t, err)
	assert.Equal(t, []string{MasterRuleID, "a", "b", ".m.rule.suppress_notices"}, ruleIDs(rs.Override)[:4])
	assert.Equal(t, []string{"c", ".m.rule.contains_user_name"}, ruleIDs(rs.Content))
	assert.Equal(t, "u", rs.Underride[0].RuleID)
	assert.True(t, rs.Override[0].Enabled)
	assert.False(t, rs.Override[2].Enabled)
	msg, _ := rs.Find(Underride, ".m.rule.message")
	assert.False(t, msg.Enabled)
	assert.True(t, msg.Default)
	assert.Len(t, msg.Actions, 2)
	a, _ := rs.Find(Override, "a")
	assert.False(t, a.Default)
}
