package clientapi

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

func TestWhoami(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		alice := e.register("alice", "pw", map[string]any{"device_id": "DEV1"})
		r := e.whoami(alice.token)
		require.Equal(t, 200, r.status)
		assert.Equal(t, map[string]any{"user_id": "@alice:test.local", "device_id": "DEV1", "is_guest": false}, r.body)
		e.expectError(e.whoami(""), 401, "M_MISSING_TOKEN")
		e.expectError(e.whoami("cat_nope"), 401, "M_UNKNOWN_TOKEN")
	})
}

func TestChangePassword(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		alice := e.register("alice", "old-password", nil)
		other := e.login("alice", "old-password", nil).str("access_token")
		bob := e.register("bob", "pw", nil)
		path := v3 + "/account/password"
		body := map[string]any{"new_password": "new-password"}

		first := e.do("POST", path, body, alice.token)
		require.Equal(t, 401, first.status)
		assert.Equal(t, []any{map[string]any{"stages": []any{"m.login.password"}}}, first.body["flows"])
		session := first.str("session")

		// A wrong password fails the stage; the session stays usable.
		body["auth"] = passwordAuth(session, alice.userID, "wrong")
		r := e.do("POST", path, body, alice.token)
		require.Equal(t, 401, r.status)
		assert.Equal(t, "M_FORBIDDEN", r.errcode())
		assert.Equal(t, session, r.str("session"))
		assert.NotContains(t, r.body, "completed")

		// Someone else's identity does not pass, even with their password.
		body["auth"] = passwordAuth(session, bob.userID, "pw")
		r = e.do("POST", path, body, alice.token)
		require.Equal(t, 401, r.status)
		assert.Equal(t, "M_FORBIDDEN", r.errcode())

		// Bob cannot use Alice's session.
		body["auth"] = passwordAuth(session, bob.userID, "pw")
		e.expectError(e.do("POST", path, body, bob.token), 403, "M_FORBIDDEN")

		body["auth"] = passwordAuth(session, "alice", "old-password")
		r = e.do("POST", path, body, alice.token)
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, map[string]any{}, r.body)

		// Other devices are logged out, this one stays; bob is untouched.
		e.expectError(e.whoami(other), 401, "M_UNKNOWN_TOKEN")
		assert.Equal(t, 200, e.whoami(alice.token).status)
		assert.Equal(t, []string{alice.deviceID}, e.deviceIDs("alice"))
		assert.Equal(t, 200, e.whoami(bob.token).status)
		e.expectError(e.login("alice", "old-password", nil), 403, "M_FORBIDDEN")
		assert.Equal(t, 200, e.login("alice", "new-password", nil).status)

		// The session is finished: it cannot change the password again.
		body["new_password"] = "third"
		e.expectError(e.do("POST", path, body, alice.token), 400, "M_UNKNOWN")

		// logout_devices: false keeps the other devices.
		keep := e.login("alice", "new-password", nil).str("access_token")
		r = e.uiaRoundTrip("POST", path, alice.token,
			map[string]any{"new_password": "fourth", "logout_devices": false}, "@alice:test.local", "new-password")
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, 200, e.whoami(keep).status)
		assert.Equal(t, 200, e.login("alice", "fourth", nil).status)

		e.expectError(e.do("POST", path, map[string]any{}, alice.token), 400, "M_MISSING_PARAM")
		e.expectError(e.do("POST", path, map[string]any{"new_password": 1}, alice.token), 400, "M_BAD_JSON")
		e.expectError(e.do("POST", path, map[string]any{"new_password": "x", "logout_devices": "yes"}, alice.token), 400, "M_BAD_JSON")
		e.expectError(e.do("POST", path, map[string]any{"new_password": "x"}, ""), 401, "M_MISSING_TOKEN")
	})
}

func TestDeactivate(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		alice := e.register("alice", "pw", nil)
		phone := e.login("alice", "pw", nil).str("access_token")
		path := v3 + "/account/deactivate"

		first := e.do("POST", path, nil, alice.token) // an empty body is fine
		require.Equal(t, 401, first.status)
		assert.Equal(t, []any{map[string]any{"stages": []any{"m.login.password"}}}, first.body["flows"])
		r := e.do("POST", path, map[string]any{"auth": passwordAuth(first.str("session"), "alice", "wrong")}, alice.token)
		require.Equal(t, 401, r.status)
		assert.Equal(t, "M_FORBIDDEN", r.errcode())
		u, err := e.store.GetUser(e.ctx, "alice")
		require.NoError(t, err)
		assert.False(t, u.Deactivated)

		r = e.do("POST", path, map[string]any{"auth": passwordAuth(first.str("session"), "alice", "pw"), "erase": true}, alice.token)
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, map[string]any{"id_server_unbind_result": "success"}, r.body)

		u, err = e.store.GetUser(e.ctx, "alice")
		require.NoError(t, err)
		assert.True(t, u.Deactivated)
		assert.Empty(t, u.PasswordHash)
		e.expectError(e.whoami(alice.token), 401, "M_UNKNOWN_TOKEN")
		e.expectError(e.whoami(phone), 401, "M_UNKNOWN_TOKEN")
		assert.Empty(t, e.deviceIDs("alice"))
		e.expectError(e.login("alice", "pw", nil), 403, "M_USER_DEACTIVATED")
		// The user ID is never handed out again.
		e.expectError(e.do("POST", v3+"/register", map[string]any{"username": "alice", "password": "x"}, ""), 400, "M_USER_IN_USE")
		e.expectError(e.do("POST", path, map[string]any{"erase": "yes"}, alice.token), 401, "M_UNKNOWN_TOKEN")
	})
}

// TestMautrixClient drives the account endpoints with a real Matrix client
// library over HTTP.
func TestMautrixClient(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		srv := httptest.NewServer(e.engine)
		t.Cleanup(srv.Close)
		ctx := context.Background()

		cli, err := mautrix.NewClient(srv.URL, "", "")
		require.NoError(t, err)
		flows, err := cli.GetLoginFlows(ctx)
		require.NoError(t, err)
		assert.True(t, flows.HasFlow(mautrix.AuthTypePassword))
		assert.False(t, flows.HasFlow(mautrix.AuthTypeToken))

		avail, err := cli.RegisterAvailable(ctx, "alice")
		require.NoError(t, err)
		assert.True(t, avail.Available)

		reg, err := cli.RegisterDummy(ctx, &mautrix.ReqRegister[any]{
			Username: "alice", Password: "wonderland", InitialDeviceDisplayName: "mautrix phone",
		})
		require.NoError(t, err)
		assert.Equal(t, id.UserID("@alice:test.local"), reg.UserID)
		assert.NotEmpty(t, reg.AccessToken)
		_, err = cli.RegisterAvailable(ctx, "alice")
		assert.ErrorIs(t, err, mautrix.MUserInUse)

		_, err = cli.Login(ctx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword,
			Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "alice"}, Password: "wrong"})
		assert.ErrorIs(t, err, mautrix.MForbidden)
		login, err := cli.Login(ctx, &mautrix.ReqLogin{
			Type:                     mautrix.AuthTypePassword,
			Identifier:               mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "@alice:test.local"},
			Password:                 "wonderland",
			InitialDeviceDisplayName: "mautrix laptop",
			StoreCredentials:         true,
		})
		require.NoError(t, err)
		assert.Equal(t, reg.UserID, login.UserID)
		assert.NotEqual(t, reg.DeviceID, login.DeviceID)
		assert.Equal(t, login.AccessToken, cli.AccessToken)

		who, err := cli.Whoami(ctx)
		require.NoError(t, err)
		assert.Equal(t, login.UserID, who.UserID)
		assert.Equal(t, login.DeviceID, who.DeviceID)

		devices, err := cli.GetDevicesInfo(ctx)
		require.NoError(t, err)
		names := map[id.DeviceID]string{}
		for _, d := range devices.Devices {
			names[d.DeviceID] = d.DisplayName
		}
		assert.Equal(t, map[id.DeviceID]string{reg.DeviceID: "mautrix phone", login.DeviceID: "mautrix laptop"}, names)
		require.NoError(t, cli.SetDeviceInfo(ctx, reg.DeviceID, &mautrix.ReqDeviceInfo{DisplayName: "old phone"}))
		dev, err := cli.GetDeviceInfo(ctx, reg.DeviceID)
		require.NoError(t, err)
		assert.Equal(t, "old phone", dev.DisplayName)

		caps, err := cli.Capabilities(ctx)
		require.NoError(t, err)
		assert.True(t, caps.ChangePassword.IsEnabled())
		assert.False(t, caps.ThreePIDChanges.IsEnabled())
		assert.True(t, caps.RoomVersions.IsStable("12"))

		filter := mautrix.DefaultFilter()
		created, err := cli.CreateFilter(ctx, &filter)
		require.NoError(t, err)
		assert.NotEmpty(t, created.FilterID)
		again, err := cli.CreateFilter(ctx, &filter)
		require.NoError(t, err)
		assert.Equal(t, created.FilterID, again.FilterID)

		// Delete the first device with a password UIA stage.
		err = cli.DeleteDevice(ctx, reg.DeviceID, &mautrix.ReqDeleteDevice[any]{Auth: map[string]any{
			"type": "m.login.password", "password": "wonderland",
			"identifier": map[string]any{"type": "m.id.user", "user": "alice"},
		}})
		require.NoError(t, err)
		devices, err = cli.GetDevicesInfo(ctx)
		require.NoError(t, err)
		require.Len(t, devices.Devices, 1)
		assert.Equal(t, login.DeviceID, devices.Devices[0].DeviceID)
		old, err := mautrix.NewClient(srv.URL, reg.UserID, reg.AccessToken)
		require.NoError(t, err)
		_, err = old.Whoami(ctx)
		assert.ErrorIs(t, err, mautrix.MUnknownToken)

		_, err = cli.Logout(ctx)
		require.NoError(t, err)
		_, err = cli.Whoami(ctx)
		assert.ErrorIs(t, err, mautrix.MUnknownToken)
		assert.Empty(t, e.deviceIDs("alice"))
	})
}
