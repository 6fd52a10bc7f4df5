package relations

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFromContent(t *testing.T) {
	cases := []struct {
		content string
		want    Relation
		ok      bool
	}{
		{`{"m.relates_to":{"rel_type":"m.thread","event_id":"$root"}}`, Relation{RelType: RelThread, ParentID: "$root"}, true},
		{`{"m.relates_to":{"rel_type":"m.annotation","event_id":"$e","key":"👍"}}`,
			Relation{RelType: RelAnnotation, ParentID: "$e", Key: "👍", HasKey: true}, true},
		{`{"m.relates_to":{"rel_type":"m.annotation","event_id":"$e","key":5}}`, Relation{RelType: RelAnnotation, ParentID: "$e"}, true},
		{`{"m.relates_to":{"m.in_reply_to":{"event_id":"$e"}}}`, Relation{}, false},
		{`{"m.relates_to":{"rel_type":"m.replace"}}`, Relation{}, false},
		{`{"m.relates_to":{"rel_type":"","event_id":"$e"}}`, Relation{}, false},
		{`{"m.relates_to":{"rel_type":"m.thread","event_id":7}}`, Relation{}, false},
		{`{"m.relates_to":"m.thread"}`, Relation{}, false},
		{`{"body":"plain"}`, Relation{}, false},
	}
	for _, c := range cases {
		got, ok := FromContent([]byte(c.content))
		assert.Equal(t, c.ok, ok, c.content)
		assert.Equal(t, c.want, got, c.content)
	}
}
