package pushrules

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGlob covers the appendix's rules and the spec's event_match examples.
func TestGlob(t *testing.T) {
	whole := []struct {
		pattern, value string
		want           bool
	}{
		{"lunc?*", "Lunch plans", true}, // spec example
		{"lunc?*", "LUNCH", true},
		{"lunc?*", " lunch", false},
		{"lunc?*", "lunc", false},
		{"m.notice", "m.notice", true},
		{"m.notice", "mXnotice", false}, // '.' is literal
		{"m.*", "m.room.message", true},
		{"m.*", "xm.room", false},
		{"", "", true},
		{"", "x", false},
		{"*", "", true},
		{"[ab]", "a", false}, // only * and ? are special
		{"[ab]", "[AB]", true},
		{"a+b", "a+b", true},
		{"?", "é", true}, // one character, not one byte
		{"école", "ÉCOLE", true},
		{"line*", "line one\nline two", true},
	}
	for _, c := range whole {
		assert.Equal(t, c.want, CompileGlob(c.pattern).MatchWhole(c.value), "%q ~ %q", c.pattern, c.value)
	}
	words := []struct {
		pattern, value string
		want           bool
	}{
		{"ex*ple", "An example event.", true}, // spec example
		{"ex*ple", "exple", true},
		{"ex*ple", "An exciting triple-whammy", true},
		{"ex*ple", "examples", false},
		{"cake", "I like cake.", true},
		{"cake", "cupcake", false},
		{"cake", "cake_shop", false}, // '_' is a word character
		{"cake", "cake-shop", true},
		{"cake", "CAKE!", true},
		{"@room", "@room please read", true},
		{"@room", "hey @room", true},
		{"@room", "@roommates", false},
		{"bob", "bob", true},
		{"bob", "2bob", false},
	}
	for _, c := range words {
		assert.Equal(t, c.want, CompileGlob(c.pattern).MatchWords(c.value), "%q in %q", c.pattern, c.value)
	}
}

// TestSplitPath covers the appendix's escapes.
func TestSplitPath(t *testing.T) {
	cases := map[string][]string{
		"content.body":                 {"content", "body"},
		`content.m\.relates_to`:        {"content", "m.relates_to"},
		`content.m\\foo`:               {"content", `m\foo`},
		`content.m\x`:                  {"content", `m\x`},
		`content.m\\.x`:                {"content", `m\`, "x"},
		`type`:                         {"type"},
		`content.m\.mentions.user_ids`: {"content", "m.mentions", "user_ids"},
		`a..b`:                         {"a", "", "b"},
		`trailing\`:                    {`trailing\`},
		"":                             nil,
	}
	for in, want := range cases {
		assert.Equal(t, want, SplitPath(in), in)
	}
}

func cond(t *testing.T, js string) compiledCondition {
	t.Helper()
	var c Condition
	require.NoError(t, json.Unmarshal([]byte(js), &c))
	return compileCondition(c)
}

func matches(t *testing.T, condJSON, eventJSON string) bool {
	t.Helper()
	e, err := EventFromJSON([]byte(eventJSON))
	require.NoError(t, err)
	return cond(t, condJSON).match(&evalInput{ev: e})
}

// TestEventMatch: absent and non-string properties never match, even "*".
func TestEventMatch(t *testing.T) {
	topic := func(v string) string {
		return `{"type":"m.room.topic","state_key":"","sender":"@a:hs","room_id":"!r:hs","content":{"topic":` + v + `}}`
	}
	c := `{"kind":"event_match","key":"content.topic","pattern":"lunc?*"}`
	assert.True(t, matches(t, c, topic(`"Lunch plans"`)))
	assert.False(t, matches(t, c, topic(`null`)))
	star := `{"kind":"event_match","key":"content.topic","pattern":"*"}`
	assert.True(t, matches(t, star, topic(`""`)))
	assert.False(t, matches(t, star, topic(`null`)))
	assert.False(t, matches(t, star, topic(`5`)))
	assert.False(t, matches(t, star, topic(`{"a":"b"}`)))
	assert.False(t, matches(t, `{"kind":"event_match","key":"content.nope","pattern":"*"}`, topic(`"x"`)))
	assert.True(t, matches(t, `{"kind":"event_match","key":"state_key","pattern":""}`, topic(`"x"`)))
	assert.True(t, matches(t, `{"kind":"event_match","key":"sender","pattern":"@a:*"}`, topic(`"x"`)))
	assert.True(t, matches(t, `{"kind":"event_match","key":"room_id","pattern":"!r:hs"}`, topic(`"x"`)))
	assert.False(t, matches(t, `{"kind":"event_match","key":"content.topic"}`, topic(`"x"`)), "no pattern")

	// Escaped dots name one property; unescaped dots walk into objects.
	flat := `{"type":"m.room.message","content":{"m.relates_to":{"rel_type":"m.thread"}}}`
	nested := `{"type":"m.room.message","content":{"m":{"relates_to":{"rel_type":"m.thread"}}}}`
	escaped := `{"kind":"event_match","key":"content.m\\.relates_to.rel_type","pattern":"m.thread"}`
	plain := `{"kind":"event_match","key":"content.m.relates_to.rel_type","pattern":"m.thread"}`
	assert.True(t, matches(t, escaped, flat))
	assert.False(t, matches(t, escaped, nested))
	assert.True(t, matches(t, plain, nested))
	assert.False(t, matches(t, plain, flat))
	back := `{"type":"x","content":{"m\\foo":"yes"}}`
	assert.True(t, matches(t, `{"kind":"event_match","key":"content.m\\\\foo","pattern":"yes"}`, back))
}

// TestEventPropertyIs follows the spec's example and its non-matches.
func TestEventPropertyIs(t *testing.T) {
	create := func(v string) string {
		return `{"type":"m.room.create","state_key":"","content":{"creator":"@e:x","m.federate":` + v + `,"n":42,"f":1.5,"z":null,"arr":[1]}}`
	}
	c := `{"kind":"event_property_is","key":"content.m\\.federate","value":true}`
	assert.True(t, matches(t, c, create(`true`)))
	assert.False(t, matches(t, c, create(`"true"`)))
	assert.False(t, matches(t, c, create(`1`)))
	assert.False(t, matches(t, c, create(`false`)))
	assert.True(t, matches(t, `{"kind":"event_property_is","key":"content.n","value":42}`, create(`true`)))
	assert.False(t, matches(t, `{"kind":"event_property_is","key":"content.n","value":"42"}`, create(`true`)))
	assert.False(t, matches(t, `{"kind":"event_property_is","key":"content.f","value":1.5}`, create(`true`)), "floats are not supported")
	assert.True(t, matches(t, `{"kind":"event_property_is","key":"content.z","value":null}`, create(`true`)))
	assert.False(t, matches(t, `{"kind":"event_property_is","key":"content.missing","value":null}`, create(`true`)), "absent is not null")
	assert.False(t, matches(t, `{"kind":"event_property_is","key":"content.arr","value":1}`, create(`true`)))
	assert.False(t, matches(t, `{"kind":"event_property_is","key":"content.n","value":9007199254740993}`, create(`true`)), "out of range value")
	assert.False(t, matches(t, `{"kind":"event_property_is","key":"content.n"}`, create(`true`)), "no value")
}

// TestEventPropertyContains follows the spec's example.
func TestEventPropertyContains(t *testing.T) {
	alias := `{"type":"m.room.canonical_alias","state_key":"","content":{"alias":"#somewhere:localhost",
		"alt_aliases":["#somewhere:example.org","#myroom:example.com",{"x":1},7,null,true]}}`
	assert.True(t, matches(t, `{"kind":"event_property_contains","key":"content.alt_aliases","value":"#myroom:example.com"}`, alias))
	assert.False(t, matches(t, `{"kind":"event_property_contains","key":"content.alt_aliases","value":":example.com"}`, alias))
	assert.True(t, matches(t, `{"kind":"event_property_contains","key":"content.alt_aliases","value":7}`, alias))
	assert.True(t, matches(t, `{"kind":"event_property_contains","key":"content.alt_aliases","value":null}`, alias))
	assert.True(t, matches(t, `{"kind":"event_property_contains","key":"content.alt_aliases","value":true}`, alias))
	assert.False(t, matches(t, `{"kind":"event_property_contains","key":"content.alias","value":"#somewhere:localhost"}`, alias), "not an array")
	assert.False(t, matches(t, `{"kind":"event_property_contains","key":"content.none","value":"x"}`, alias))
}

// TestDisplayName matches the user's display name on word boundaries,
// case-insensitively and literally.
func TestDisplayName(t *testing.T) {
	c := cond(t, `{"kind":"contains_display_name"}`)
	check := func(name, body string) bool {
		e, err := NewEvent(EventFields{Type: "m.room.message", Content: json.RawMessage(`{"body":` + string(mustJSON(body)) + `}`)})
		require.NoError(t, err)
		return c.match(&evalInput{ev: e, displayName: name})
	}
	cases := []struct {
		name, body string
		want       bool
	}{
		{"Bob", "hi bob!", true},
		{"Bob", "bob", true},
		{"Bob", "BOB: look", true},
		{"Bob", "bobby", false},
		{"Bob", "kebob", false},
		{"Bob", "bob_smith", false},
		{"Bob Smith", "hey bob smith.", true},
		{"Bob Smith", "hey bob  smith", false},
		{"B.o*b", "hi b.o*b", true},
		{"B.o*b", "hi bxoob", false},
		{"", "anything", false},
		{"Zoë", "ZOË?", true},
	}
	for _, cs := range cases {
		assert.Equal(t, cs.want, check(cs.name, cs.body), "%q in %q", cs.name, cs.body)
	}
	e, err := NewEvent(EventFields{Type: "m.room.message", Content: json.RawMessage(`{"body":5}`)})
	require.NoError(t, err)
	assert.False(t, c.match(&evalInput{ev: e, displayName: "5"}), "body must be a string")
}

// TestMemberCount covers every prefix.
func TestMemberCount(t *testing.T) {
	cases := []struct {
		is    string
		count int
		want  bool
		valid bool
	}{
		{"2", 2, true, true}, {"2", 3, false, true},
		{"==2", 2, true, true}, {"==2", 1, false, true},
		{"<10", 9, true, true}, {"<10", 10, false, true},
		{">10", 11, true, true}, {">10", 10, false, true},
		{">=10", 10, true, true}, {">=10", 9, false, true},
		{"<=10", 10, true, true}, {"<=10", 11, false, true},
		{"", 0, false, false}, {"==", 0, false, false}, {"two", 2, false, false},
		{"=2", 2, false, false}, {"!=2", 3, false, false}, {"-1", 0, false, false}, {"+2", 2, false, false},
		{"2.0", 2, false, false}, {" 2", 2, false, false},
	}
	for _, c := range cases {
		cmp, ok := ParseMemberCount(c.is)
		assert.Equal(t, c.valid, ok, c.is)
		if ok {
			assert.Equal(t, c.want, cmp(c.count), "%q with %d", c.is, c.count)
		}
		compiled := cond(t, `{"kind":"room_member_count","is":`+string(mustJSON(c.is))+`}`)
		e, _ := NewEvent(EventFields{Type: "x"})
		assert.Equal(t, c.want, compiled.match(&evalInput{ev: e, room: RoomContext{MemberCount: c.count}}), "%q with %d", c.is, c.count)
	}
}

// TestSenderPermission compares the sender's level with notifications[key].
func TestSenderPermission(t *testing.T) {
	c := cond(t, `{"kind":"sender_notification_permission","key":"room"}`)
	e, _ := NewEvent(EventFields{Type: "x"})
	levels := func(k string) int64 { return map[string]int64{"room": 20}[k] }
	assert.True(t, c.match(&evalInput{ev: e, room: RoomContext{SenderPowerLevel: 50}}))
	assert.False(t, c.match(&evalInput{ev: e, room: RoomContext{SenderPowerLevel: 49}}))
	assert.True(t, c.match(&evalInput{ev: e, room: RoomContext{SenderPowerLevel: 20, NotificationLevel: levels}}))
	assert.False(t, c.match(&evalInput{ev: e, room: RoomContext{SenderPowerLevel: 19, NotificationLevel: levels}}))
	assert.False(t, cond(t, `{"kind":"sender_notification_permission"}`).match(&evalInput{ev: e, room: RoomContext{SenderPowerLevel: 100}}))
}

// TestConditionRoundTrip: conditions are served as they were stored,
// including fields this server does not know.
func TestConditionRoundTrip(t *testing.T) {
	in := `{"kind":"org.example.related","rel_type":"m.in_reply_to","include_fallbacks":false,"pattern":""}`
	var c Condition
	require.NoError(t, json.Unmarshal([]byte(in), &c))
	assert.True(t, c.HasPattern)
	out, err := json.Marshal(c)
	require.NoError(t, err)
	assert.JSONEq(t, in, string(out))
	require.Error(t, json.Unmarshal([]byte(`null`), &c))
}

// TestNewEventContent rejects content that is not an object.
func TestNewEventContent(t *testing.T) {
	_, err := NewEvent(EventFields{Type: "x", Content: json.RawMessage(`[1]`)})
	require.Error(t, err)
	e, err := NewEvent(EventFields{Type: "x"})
	require.NoError(t, err)
	assert.False(t, e.hasBody)
}
