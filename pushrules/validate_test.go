package pushrules

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func body(t *testing.T, js string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(js), &m))
	return m
}

func TestCheckRuleID(t *testing.T) {
	cases := []struct {
		kind Kind
		id   string
		want error
	}{
		{Override, "mine", nil},
		{Override, ".m.rule.master", ErrReservedRuleID},
		{Override, ".mine", ErrReservedRuleID},
		{Override, "", ErrInvalidRule},
		{Override, "a/b", ErrInvalidRule},
		{Override, `a\b`, ErrInvalidRule},
		{Override, strings.Repeat("x", 256), ErrInvalidRule},
		{Room, "!room:hs.test", nil},
		{Room, "!" + strings.Repeat("A", 43), nil},
		{Room, "not-a-room", ErrInvalidRule},
		{Sender, "@spam:hs.test", nil},
		{Sender, "spam", ErrInvalidRule},
		{Content, "SSByZWFsbHkgbGlrZSBjYWtl", nil},
	}
	for _, c := range cases {
		err := CheckRuleID(c.kind, c.id)
		if c.want == nil {
			assert.NoError(t, err, "%s %q", c.kind, c.id)
		} else {
			assert.ErrorIs(t, err, c.want, "%s %q", c.kind, c.id)
		}
	}
}

func TestParseRule(t *testing.T) {
	r, err := ParseRule(Content, "cake", body(t, `{"pattern":"cake*lie","actions":["notify","dont_notify",{"set_tweak":"sound","value":"x.wav"}]}`))
	require.NoError(t, err)
	assert.Equal(t, "cake*lie", r.Pattern)
	assert.True(t, r.Enabled)
	assert.Equal(t, []Action{Action(`"notify"`), Action(`{"set_tweak":"sound","value":"x.wav"}`)}, r.Actions, "dont_notify is stripped")

	r, err = ParseRule(Override, "hl", body(t, `{"actions":["notify",{"set_tweak":"highlight","value":null},{"set_tweak":"x","value":{"a":1}}]}`))
	require.NoError(t, err)
	assert.Equal(t, []Action{Action(`"notify"`), Action(`{"set_tweak":"highlight"}`), Action(`{"set_tweak":"x","value":{"a":1}}`)}, r.Actions,
		"a null value is no value; other tweak values pass through")

	r, err = ParseRule(Override, "beer", body(t, `{"conditions":[{"kind":"event_match","key":"content.body","pattern":"beer"},
		{"kind":"room_member_count","is":"<=10"}],"actions":["notify"]}`))
	require.NoError(t, err)
	assert.Len(t, r.Conditions, 2)

	r, err = ParseRule(Underride, "all", body(t, `{"actions":[]}`))
	require.NoError(t, err)
	assert.NotNil(t, r.Conditions)
	assert.Empty(t, r.Conditions)

	r, err = ParseRule(Room, "!r:hs", body(t, `{"actions":[],"conditions":"ignored","pattern":5}`))
	require.NoError(t, err, "fields that do not apply to the kind are ignored")
	assert.Empty(t, r.Conditions)

	r, err = ParseRule(Override, "future", body(t, `{"actions":[],"conditions":[{"kind":"org.example.x","whatever":1}]}`))
	require.NoError(t, err, "unknown condition kinds are kept")
	assert.Equal(t, "org.example.x", r.Conditions[0].Kind)

	bad := []struct {
		kind Kind
		body string
		want error
	}{
		{Override, `{}`, ErrMissingField},
		{Override, `{"actions":"notify"}`, ErrBadJSON},
		{Override, `{"actions":null}`, ErrBadJSON},
		{Override, `{"actions":["explode"]}`, ErrInvalidRule},
		{Override, `{"actions":[5]}`, ErrInvalidRule},
		{Override, `{"actions":[{"value":"x"}]}`, ErrInvalidRule},
		{Override, `{"actions":[{"set_tweak":""}]}`, ErrInvalidRule},
		{Override, `{"actions":[{"set_tweak":"highlight","value":"yes"}]}`, ErrInvalidRule},
		{Content, `{"actions":[]}`, ErrMissingField},
		{Content, `{"actions":[],"pattern":7}`, ErrBadJSON},
		{Override, `{"actions":[],"conditions":{}}`, ErrBadJSON},
		{Override, `{"actions":[],"conditions":[5]}`, ErrBadJSON},
		{Override, `{"actions":[],"conditions":[{}]}`, ErrMissingField},
		{Override, `{"actions":[],"conditions":[{"kind":5}]}`, ErrBadJSON},
		{Override, `{"actions":[],"conditions":[{"kind":""}]}`, ErrInvalidRule},
		{Override, `{"actions":[],"conditions":[{"kind":"event_match","pattern":"x"}]}`, ErrMissingField},
		{Override, `{"actions":[],"conditions":[{"kind":"event_match","key":"","pattern":"x"}]}`, ErrInvalidRule},
		{Override, `{"actions":[],"conditions":[{"kind":"event_match","key":"type"}]}`, ErrMissingField},
		{Override, `{"actions":[],"conditions":[{"kind":"event_match","key":"type","pattern":1}]}`, ErrBadJSON},
		{Override, `{"actions":[],"conditions":[{"kind":"event_property_is","key":"content.x"}]}`, ErrMissingField},
		{Override, `{"actions":[],"conditions":[{"kind":"event_property_is","key":"content.x","value":1.5}]}`, ErrInvalidRule},
		{Override, `{"actions":[],"conditions":[{"kind":"event_property_contains","key":"content.x","value":[1]}]}`, ErrInvalidRule},
		{Override, `{"actions":[],"conditions":[{"kind":"event_property_is","key":"content.x","value":9007199254740992}]}`, ErrInvalidRule},
		{Override, `{"actions":[],"conditions":[{"kind":"room_member_count","is":"lots"}]}`, ErrInvalidRule},
		{Override, `{"actions":[],"conditions":[{"kind":"room_member_count"}]}`, ErrMissingField},
		{Override, `{"actions":[],"conditions":[{"kind":"sender_notification_permission"}]}`, ErrMissingField},
		{Override, `{"actions":[],"conditions":[{"kind":"sender_notification_permission","key":""}]}`, ErrInvalidRule},
	}
	for _, c := range bad {
		_, err := ParseRule(c.kind, "x", body(t, c.body))
		assert.ErrorIs(t, err, c.want, "%s %s", c.kind, c.body)
	}
}
