package pushrules

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const roomID = "!room:hs.test"

// ev builds a test event: type, content and an optional state key.
func ev(t *testing.T, typ string, content string, stateKey ...string) *Event {
	t.Helper()
	f := EventFields{EventID: "$e", RoomID: roomID, Sender: "@alice:hs.test", Type: typ, Content: json.RawMessage(content)}
	if len(stateKey) > 0 {
		f.StateKey = &stateKey[0]
	}
	e, err := NewEvent(f)
	require.NoError(t, err)
	return e
}

func evaluator(t *testing.T, own map[Kind][]Rule, changes map[string]DefaultChange) *Evaluator {
	t.Helper()
	rs, err := Build(bob, own, changes)
	require.NoError(t, err)
	return NewEvaluator(bob, rs)
}

type outcome struct {
	rule      string // "" when no rule matches
	notify    bool
	highlight bool
}

func run(ev *Evaluator, e *Event, room RoomContext, name string) outcome {
	r, ok := ev.Evaluate(e, room, name)
	if !ok {
		return outcome{}
	}
	eff := EffectsOf(r.Actions)
	return outcome{rule: r.RuleID, notify: eff.Notify, highlight: eff.Highlight}
}

// TestDefaultRules evaluates events that each default rule is written for,
// for @bob:hs.test (display name "Bob Smith") with the default ruleset.
func TestDefaultRules(t *testing.T) {
	group := RoomContext{MemberCount: 5, SenderPowerLevel: 50}
	dm := RoomContext{MemberCount: 2}
	lowPower := RoomContext{MemberCount: 5, SenderPowerLevel: 0}
	custom := RoomContext{MemberCount: 5, SenderPowerLevel: 20, NotificationLevel: func(k string) int64 {
		if k == "room" {
			return 10
		}
		return 50
	}}
	cases := []struct {
		name    string
		event   *Event
		room    RoomContext
		want    outcome
		comment string
	}{
		{"notice", ev(t, "m.room.message", `{"msgtype":"m.notice","body":"bob: build done"}`), group,
			outcome{rule: ".m.rule.suppress_notices"}, "notices are silent even when they mention"},
		{"invite for me", ev(t, "m.room.member", `{"membership":"invite"}`, bob), group,
			outcome{rule: ".m.rule.invite_for_me", notify: true}, ""},
		{"invite for another", ev(t, "m.room.member", `{"membership":"invite"}`, "@carol:hs.test"), group,
			outcome{rule: ".m.rule.member_event"}, ""},
		{"join", ev(t, "m.room.member", `{"membership":"join"}`, "@carol:hs.test"), dm,
			outcome{rule: ".m.rule.member_event"}, ""},
		{"user mention", ev(t, "m.room.message", `{"msgtype":"m.text","body":"hi","m.mentions":{"user_ids":["@bob:hs.test"]}}`), group,
			outcome{rule: ".m.rule.is_user_mention", notify: true, highlight: true}, ""},
		{"mention of another", ev(t, "m.room.message", `{"msgtype":"m.text","body":"hi","m.mentions":{"user_ids":["@carol:hs.test"]}}`), group,
			outcome{rule: ".m.rule.message", notify: true}, ""},
		{"display name", ev(t, "m.room.message", `{"msgtype":"m.text","body":"hey Bob Smith, lunch?"}`), group,
			outcome{rule: ".m.rule.contains_display_name", notify: true, highlight: true}, ""},
		{"display name with m.mentions", ev(t, "m.room.message", `{"msgtype":"m.text","body":"hey Bob Smith","m.mentions":{}}`), group,
			outcome{rule: ".m.rule.message", notify: true}, "legacy rules are off when m.mentions is present"},
		{"room mention", ev(t, "m.room.message", `{"msgtype":"m.text","body":"all","m.mentions":{"room":true}}`), group,
			outcome{rule: ".m.rule.is_room_mention", notify: true, highlight: true}, ""},
		{"room mention without power", ev(t, "m.room.message", `{"msgtype":"m.text","body":"all","m.mentions":{"room":true}}`), lowPower,
			outcome{rule: ".m.rule.message", notify: true}, "notifications.room defaults to 50"},
		{"room mention with lowered level", ev(t, "m.room.message", `{"msgtype":"m.text","body":"all","m.mentions":{"room":true}}`), custom,
			outcome{rule: ".m.rule.is_room_mention", notify: true, highlight: true}, ""},
		{"room mention false", ev(t, "m.room.message", `{"msgtype":"m.text","body":"all","m.mentions":{"room":"true"}}`), group,
			outcome{rule: ".m.rule.message", notify: true}, "a string is not true"},
		{"@room", ev(t, "m.room.message", `{"msgtype":"m.text","body":"@room meeting now"}`), group,
			outcome{rule: ".m.rule.roomnotif", notify: true, highlight: true}, ""},
		{"@room without power", ev(t, "m.room.message", `{"msgtype":"m.text","body":"@room meeting now"}`), lowPower,
			outcome{rule: ".m.rule.message", notify: true}, ""},
		{"@room with m.mentions", ev(t, "m.room.message", `{"msgtype":"m.text","body":"@room meeting","m.mentions":{}}`), group,
			outcome{rule: ".m.rule.message", notify: true}, ""},
		{"tombstone", ev(t, "m.room.tombstone", `{"body":"moved","replacement_room":"!new:hs.test"}`, ""), group,
			outcome{rule: ".m.rule.tombstone", notify: true, highlight: true}, ""},
		{"tombstone with a state key", ev(t, "m.room.tombstone", `{"replacement_room":"!new:hs.test"}`, "x"), group,
			outcome{}, "no implicit state_key condition: nothing else matches"},
		{"reaction", ev(t, "m.reaction", `{"m.relates_to":{"rel_type":"m.annotation","event_id":"$x","key":"👍"}}`), dm,
			outcome{rule: ".m.rule.reaction"}, ""},
		{"server acl", ev(t, "m.room.server_acl", `{"allow":["*"]}`, ""), group,
			outcome{rule: ".m.rule.room.server_acl"}, ""},
		{"edit", ev(t, "m.room.message", `{"msgtype":"m.text","body":"* fixed","m.new_content":{"body":"fixed"},"m.relates_to":{"rel_type":"m.replace","event_id":"$x"}}`), dm,
			outcome{rule: ".m.rule.suppress_edits"}, ""},
		{"user name", ev(t, "m.room.message", `{"msgtype":"m.text","body":"ask bob: he knows"}`), group,
			outcome{rule: ".m.rule.contains_user_name", notify: true, highlight: true}, ""},
		{"user name inside a word", ev(t, "m.room.message", `{"msgtype":"m.text","body":"kebobs for lunch"}`), group,
			outcome{rule: ".m.rule.message", notify: true}, ""},
		{"call", ev(t, "m.call.invite", `{"call_id":"1","version":1}`), group,
			outcome{rule: ".m.rule.call", notify: true}, ""},
		{"encrypted one to one", ev(t, "m.room.encrypted", `{"algorithm":"m.megolm.v1.aes-sha2"}`), dm,
			outcome{rule: ".m.rule.encrypted_room_one_to_one", notify: true}, ""},
		{"one to one", ev(t, "m.room.message", `{"msgtype":"m.text","body":"hi"}`), dm,
			outcome{rule: ".m.rule.room_one_to_one", notify: true}, ""},
		{"group message", ev(t, "m.room.message", `{"msgtype":"m.text","body":"hi"}`), group,
			outcome{rule: ".m.rule.message", notify: true}, ""},
		{"encrypted group", ev(t, "m.room.encrypted", `{"algorithm":"m.megolm.v1.aes-sha2"}`), group,
			outcome{rule: ".m.rule.encrypted", notify: true}, ""},
		{"topic", ev(t, "m.room.topic", `{"topic":"hello bob"}`, ""), group,
			outcome{}, "no rule for other state"},
	}
	e := evaluator(t, nil, nil)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, run(e, c.event, c.room, "Bob Smith"), c.comment)
		})
	}

	// The one-to-one sound is "default"; the call's is "ring".
	r, _ := e.Evaluate(ev(t, "m.call.invite", `{}`), group, "")
	assert.JSONEq(t, `{"set_tweak":"sound","value":"ring"}`, string(r.Actions[1]))
}

// TestMasterRule: enabled, it silences everything, even user overrides.
func TestMasterRule(t *testing.T) {
	on := true
	own := map[Kind][]Rule{Override: {{RuleID: "loud", Enabled: true, Actions: []Action{Action(`"notify"`)}}}}
	e := evaluator(t, own, map[string]DefaultChange{MasterRuleID: {Enabled: &on}})
	got := run(e, ev(t, "m.room.message", `{"body":"hi","m.mentions":{"user_ids":["@bob:hs.test"]}}`), RoomContext{MemberCount: 2}, "")
	assert.Equal(t, outcome{rule: MasterRuleID}, got)
}

// TestDisabledRules: a disabled rule is skipped, whether default or the user's.
func TestDisabledRules(t *testing.T) {
	off := false
	msg := ev(t, "m.room.message", `{"body":"hi"}`)
	group := RoomContext{MemberCount: 3}
	e := evaluator(t, nil, map[string]DefaultChange{".m.rule.message": {Enabled: &off}})
	assert.Equal(t, outcome{}, run(e, msg, group, ""))

	own := map[Kind][]Rule{Override: {{RuleID: "mute", Enabled: false, Actions: []Action{}}}}
	e = evaluator(t, own, nil)
	assert.Equal(t, outcome{rule: ".m.rule.message", notify: true}, run(e, msg, group, ""))
	own[Override][0].Enabled = true
	e = evaluator(t, own, nil)
	assert.Equal(t, outcome{rule: "mute"}, run(e, msg, group, ""))
}

// TestUserRules: room, sender and content rules, their order and the
// actions of defaults changed by the user.
func TestUserRules(t *testing.T) {
	group := RoomContext{MemberCount: 3}
	msg := func(sender, room, body string) *Event {
		e, err := NewEvent(EventFields{EventID: "$e", RoomID: room, Sender: sender, Type: "m.room.message",
			Content: json.RawMessage(`{"msgtype":"m.text","body":` + string(mustJSON(body)) + `}`)})
		require.NoError(t, err)
		return e
	}
	highlight := []Action{Action(`"notify"`), Action(`{"set_tweak":"highlight"}`)}
	own := map[Kind][]Rule{
		Room:    {{RuleID: "!muted:hs.test", Enabled: true, Actions: []Action{}}},
		Sender:  {{RuleID: "@boss:hs.test", Enabled: true, Actions: highlight}},
		Content: {{RuleID: "nocake", Enabled: true, Pattern: "cake*lie", Actions: []Action{}}, {RuleID: "cake", Enabled: true, Pattern: "cake", Actions: highlight}},
	}
	e := evaluator(t, own, map[string]DefaultChange{".m.rule.message": {Actions: []Action{}}})
	assert.Equal(t, outcome{rule: "!muted:hs.test"}, run(e, msg("@boss:hs.test", "!muted:hs.test", "hi"), group, ""),
		"room rules rank above sender rules")
	assert.Equal(t, outcome{rule: "@boss:hs.test", notify: true, highlight: true}, run(e, msg("@boss:hs.test", roomID, "hi"), group, ""))
	assert.Equal(t, outcome{rule: "nocake"}, run(e, msg("@x:hs.test", roomID, "the cake is a lie"), group, ""),
		"the first content rule wins")
	assert.Equal(t, outcome{rule: "cake", notify: true, highlight: true}, run(e, msg("@x:hs.test", roomID, "Cake time!"), group, ""))
	assert.Equal(t, outcome{rule: ".m.rule.message"}, run(e, msg("@x:hs.test", roomID, "hi"), group, ""),
		"changed actions of a default rule")

	// Reordered: cake above nocake.
	own[Content][0], own[Content][1] = own[Content][1], own[Content][0]
	e = evaluator(t, own, nil)
	assert.Equal(t, outcome{rule: "cake", notify: true, highlight: true}, run(e, msg("@x:hs.test", roomID, "the cake is a lie"), group, ""))
}

// TestUnknownCondition: a rule with a condition this server does not know
// never matches, and a rule without conditions always does.
func TestUnknownCondition(t *testing.T) {
	var conds []Condition
	require.NoError(t, json.Unmarshal([]byte(`[{"kind":"org.example.future","key":"type"}]`), &conds))
	own := map[Kind][]Rule{
		Override:  {{RuleID: "future", Enabled: true, Conditions: conds, Actions: []Action{Action(`"notify"`), Action(`{"set_tweak":"highlight"}`)}}},
		Underride: {{RuleID: "all", Enabled: true, Conditions: []Condition{}, Actions: []Action{Action(`"notify"`)}}},
	}
	e := evaluator(t, own, nil)
	assert.Equal(t, outcome{rule: "all", notify: true}, run(e, ev(t, "m.room.topic", `{"topic":"x"}`, ""), RoomContext{MemberCount: 9}, ""))
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

// TestEffects reads actions: highlight needs notify; value false is off;
// historical actions mean nothing.
func TestEffects(t *testing.T) {
	cases := []struct {
		actions string
		want    Effects
	}{
		{`[]`, Effects{}},
		{`["notify"]`, Effects{Notify: true}},
		{`["notify", {"set_tweak":"highlight"}]`, Effects{Notify: true, Highlight: true}},
		{`["notify", {"set_tweak":"highlight","value":true}]`, Effects{Notify: true, Highlight: true}},
		{`["notify", {"set_tweak":"highlight","value":false}]`, Effects{Notify: true}},
		{`["notify", {"set_tweak":"highlight","value":null}]`, Effects{Notify: true, Highlight: true}},
		{`[{"set_tweak":"highlight"}]`, Effects{}},
		{`["dont_notify"]`, Effects{}},
		{`["coalesce", {"set_tweak":"sound","value":"default"}]`, Effects{}},
	}
	for _, c := range cases {
		var actions []Action
		require.NoError(t, json.Unmarshal([]byte(c.actions), &actions))
		assert.Equal(t, c.want, EffectsOf(actions), c.actions)
	}
}
