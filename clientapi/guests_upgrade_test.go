package clientapi

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

func TestGuestUpgrade(t *testing.T) {
	forEachGTEnv(t, func(t *testing.T, e *gtEnv) {
		alice := e.user("alice")
		room := e.room(alice, "public_chat", "", "can_join", "")
		g := e.guest("Guest phone")
		_, err := g.JoinRoomByID(e.ctx, room)
		require.NoError(t, err)
		localpart := strings.TrimSuffix(strings.TrimPrefix(g.UserID.String(), "@"), ":"+testServerName)

		// Checks made before authentication.
		upgrade := func(token, username string) map[string]any {
			return map[string]any{"guest_access_token": token, "username": username, "password": "new-password"}
		}
		gtExpectErr(t, e.do("POST", v3+"/register", "", upgrade("no-such-token", localpart)), 401, "M_UNKNOWN_TOKEN")
		gtExpectErr(t, e.do("POST", v3+"/register", "", upgrade(alice.AccessToken, "alice")), 403, "M_FORBIDDEN")
		gtExpectErr(t, e.do("POST", v3+"/register", "", upgrade(g.AccessToken, "someoneelse")), 403, "M_FORBIDDEN")
		gtExpectErr(t, e.do("POST", v3+"/register", "", upgrade(g.AccessToken, "alice")), 403, "M_FORBIDDEN")

		// The UIA round trip, as for any registration.
		body := upgrade(g.AccessToken, strings.ToUpper(localpart))
		first := e.do("POST", v3+"/register", "", body)
		require.Equal(t, 401, first.status, "%s", first.raw)
		body["auth"] = map[string]any{"type": stageDummy, "session": first.str("session")}
		body["initial_device_display_name"] = "Full phone"
		r := e.do("POST", v3+"/register", "", body)
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, g.UserID.String(), r.str("user_id"), "the guest keeps its user ID")
		assert.NotEqual(t, g.AccessToken, r.str("access_token"))

		full := e.do("GET", v3+"/account/whoami", r.str("access_token"), nil)
		assert.Equal(t, map[string]any{"user_id": g.UserID.String(), "device_id": r.str("device_id"), "is_guest": false}, full.body)
		u, err := e.accounts.GetUser(e.ctx, localpart)
		require.NoError(t, err)
		assert.False(t, u.IsGuest)
		assert.False(t, u.IsAdmin, "alice is the first admin")
		// The old guest token now acts for the full account: it may use
		// endpoints guests may not, and the room membership stayed.
		assert.Equal(t, false, e.whoami(g).body["is_guest"])
		rooms, err := g.JoinedRooms(e.ctx)
		require.NoError(t, err)
		assert.Equal(t, []id.RoomID{room}, rooms.JoinedRooms)
		// Both devices are the account's; the password logs in.
		devs, err := g.GetDevicesInfo(e.ctx)
		require.NoError(t, err)
		names := []string{}
		for _, d := range devs.Devices {
			names = append(names, d.DisplayName)
		}
		assert.ElementsMatch(t, []string{"Guest phone", "Full phone"}, names)
		cli, err := mautrix.NewClient(e.srv.URL, "", "")
		require.NoError(t, err)
		login, err := cli.Login(e.ctx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword,
			Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: localpart}, Password: "new-password"})
		require.NoError(t, err)
		assert.Equal(t, g.UserID, login.UserID)

		// Once upgraded, the token is no guest's any more.
		gtExpectErr(t, e.do("POST", v3+"/register", "", upgrade(g.AccessToken, localpart)), 403, "M_FORBIDDEN")

		// A password is needed, as for every registration.
		g2 := e.guest("")
		gtExpectErr(t, e.do("POST", v3+"/register", "", map[string]any{"guest_access_token": g2.AccessToken,
			"auth": map[string]any{"type": stageDummy}}), 400, "M_MISSING_PARAM")
		assert.Equal(t, true, e.whoami(g2).body["is_guest"])
		// Without a username, the guest's own is used.
		r = e.do("POST", v3+"/register", "", map[string]any{"guest_access_token": g2.AccessToken, "password": "pw",
			"auth": map[string]any{"type": stageDummy}})
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, g2.UserID.String(), r.str("user_id"))
	}, allowGuests)
}
