package search

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/roomserver/signing"
)

func build(t *testing.T, typ string, stateKey *string, content any) *event.Event {
	t.Helper()
	v, err := roomversion.Get("11")
	require.NoError(t, err)
	key, err := signing.GenerateKey("hs.test")
	require.NoError(t, err)
	raw, err := json.Marshal(content)
	require.NoError(t, err)
	e, err := event.Builder{Version: v, RoomID: "!r:hs.test", Type: typ, StateKey: stateKey, Sender: "@a:hs.test",
		Content: json.RawMessage(raw), OriginServerTS: 1}.Build(key)
	require.NoError(t, err)
	return e
}

func TestTexts(t *testing.T) {
	empty, member := "", "@a:hs.test"
	cases := []struct {
		typ      string
		stateKey *string
		content  any
		want     map[string]string
	}{
		{"m.room.message", nil, map[string]any{"body": "hello there", "msgtype": "m.text"}, map[string]string{KeyBody: "hello there"}},
		{"m.room.message", nil, map[string]any{"body": 5}, nil},
		{"m.room.message", nil, map[string]any{"body": "   "}, nil},
		{"m.room.name", &empty, map[string]any{"name": "Den"}, map[string]string{KeyName: "Den"}},
		{"m.room.name", &member, map[string]any{"name": "not room state"}, nil},
		{"m.room.topic", &empty, map[string]any{"topic": "plain", "m.topic": map[string]any{"m.text": []any{
			map[string]any{"body": "<b>html</b>", "mimetype": "text/html"}, map[string]any{"body": "rich plain"}}}},
			map[string]string{KeyTopic: "plain rich plain"}},
		{"m.room.encrypted", nil, map[string]any{"ciphertext": "xyz"}, nil},
		{"m.reaction", nil, map[string]any{"body": "not searchable"}, nil},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Texts(build(t, c.typ, c.stateKey, c.content)), c.typ)
	}
}

func TestTerms(t *testing.T) {
	assert.Equal(t, []string{"martians", "and", "men"}, Terms("Martians AND men, men!"))
	assert.Equal(t, []string{"naïve", "café", "42"}, Terms("naïve café: 42"))
	assert.Empty(t, Terms(`" & | ! :* -- '`))
	long := ""
	for i := 0; i < 40; i++ {
		long += string(rune('a'+i%26)) + string(rune('a'+i/26)) + " "
	}
	assert.Len(t, Terms(long), maxTerms)
}

func TestMarked(t *testing.T) {
	assert.Equal(t, []string{"fox", "foxes"}, marked("the \x01Fox\x02 and \x01foxes\x02 \x01"))
	assert.Empty(t, marked("nothing marked"))
}
