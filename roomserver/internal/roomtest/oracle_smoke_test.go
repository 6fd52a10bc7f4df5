package roomtest_test

import (
	"testing"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/roomversion"
)

func TestOracleAgreesOnIDs(t *testing.T) {
	for _, v := range roomversion.All() {
		r := roomtest.Init(t, v.ID, "@alice:a.test", "public")
		r.Send("@alice:a.test", "m.room.message", nil, map[string]any{"body": "hi"})
		for _, e := range r.Order {
			pdu, err := gmsl.MustGetRoomVersion(gmsl.RoomVersion(v.ID)).NewEventFromUntrustedJSON(e.JSON())
			require.NoError(t, err, "v%s %s %s", v.ID, e.Type(), e.JSON())
			require.Equal(t, pdu.EventID(), e.ID(), "v%s %s", v.ID, e.Type())
			require.Equal(t, pdu.RoomID().String(), e.RoomID())
			red, err := event.Redact(e.JSON(), v)
			require.NoError(t, err)
			pdu.Redact()
			require.JSONEq(t, string(pdu.JSON()), string(red), "v%s %s", v.ID, e.Type())
		}
	}
}
