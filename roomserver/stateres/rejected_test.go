package stateres

import (
	"context"
	"testing"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// TestRejectedAuthEventNotUsed: "the appropriate state event from the
// event's auth_events is used if the auth event is not rejected". In room
// version 12 the iterative checks start from an empty state, so checking
// Alice's kick of Charlie (KC) takes Alice's membership from KC's auth
// events; when the source reports that join (IMA) rejected, the kick fails
// and Charlie stays joined. (His topic TC fails either way: state_default is
// 50.)
func TestRejectedAuthEventNotUsed(t *testing.T) {
	g := &golden{Steps: []goldenStep{
		{Fork: "a", From: "init"},
		{Fork: "b", From: "init"},
		{On: "a", ID: "KC", Sender: alice, Type: event.TypeMember, StateKey: ptr(charlie), Content: map[string]any{"membership": "leave"}},
		{On: "b", ID: "TC", Sender: charlie, Type: "m.room.topic", StateKey: ptr(""), Content: map[string]any{"topic": "c"}},
	}}
	r, names := goldenRoom(t, "12", g)
	ids := map[string]string{}
	for id, n := range names {
		ids[n] = id
	}
	sets := []map[event.StateKey]string{r.StateIDs("a"), r.StateIDs("b")}
	for _, tc := range []struct {
		rejected      map[string]bool
		member, topic string
	}{{nil, "KC", ""}, {map[string]bool{ids["IMA"]: true}, "IMC", ""}} {
		got, err := Resolve(context.Background(), roomversion.MustGet("12"), sets, &memSource{events: r.Events, rejected: tc.rejected})
		if err != nil {
			t.Fatal(err)
		}
		m := names[got[event.StateKey{Type: event.TypeMember, StateKey: charlie}]]
		topic := names[got[event.StateKey{Type: "m.room.topic"}]]
		if m != tc.member || topic != tc.topic {
			t.Errorf("rejected %v: charlie %q topic %q, want %q %q", tc.rejected, m, topic, tc.member, tc.topic)
		}
	}
}

func ptr(s string) *string { return &s }
