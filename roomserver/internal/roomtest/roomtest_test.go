package roomtest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/roomversion"
)

func TestInitEveryVersion(t *testing.T) {
	for _, v := range roomversion.All() {
		r := roomtest.Init(t, v.ID, "@alice:a.test", "public")
		r.Send("@bob:b.test", event.TypeMember, roomtest.StrPtr("@bob:b.test"), map[string]any{"membership": "join"})
		msg := r.Send("@bob:b.test", "m.room.message", nil, map[string]any{"body": "hi"})
		for _, e := range r.Order {
			again, err := event.Parse(e.JSON(), r.Version)
			require.NoError(t, err, "v%s %s", v.ID, e.Type())
			require.Equal(t, e.ID(), again.ID())
			require.False(t, again.Redacted())
			require.NoError(t, again.VerifySignatures(r.Lookup()))
		}
		require.Len(t, msg.AuthEvents(), map[bool]int{true: 3, false: 2}[v.CreateInAuthEvents])
	}
}
