package clientapi

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// TestDeactivationLeavesRooms: after deactivation the user has left the
// rooms they were joined to and declined their invites.
func TestDeactivationLeavesRooms(t *testing.T) {
	forEachRoomsEnv(t, func(t *testing.T, e *roomsEnv) {
		alice, bob := e.user("alice"), e.user("bob")
		joined, err := alice.CreateRoom(e.ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		require.NoError(t, err)
		_, err = bob.JoinRoomByID(e.ctx, joined.RoomID)
		require.NoError(t, err)
		invited, err := alice.CreateRoom(e.ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bob.UserID}})
		require.NoError(t, err)

		_, err = bob.MakeFullRequest(e.ctx, mautrix.FullRequest{Method: "POST", URL: bob.BuildClientURL("v3", "account", "deactivate"),
			RequestJSON: map[string]any{"auth": map[string]any{"type": "m.login.password", "password": "pw-bob",
				"identifier": map[string]any{"type": "m.id.user", "user": "bob"}}}})
		require.NoError(t, err)

		for _, room := range []id.RoomID{joined.RoomID, invited.RoomID} {
			m, err := e.rs.Membership(e.ctx, room.String(), bob.UserID.String())
			require.NoError(t, err)
			require.Equal(t, "leave", m, "room %s", room)
		}
	})
}

// TestDeviceLastSeen: a request records the device's last-seen time and IP.
func TestDeviceLastSeen(t *testing.T) {
	forEachRoomsEnv(t, func(t *testing.T, e *roomsEnv) {
		alice := e.user("alice")
		_, err := alice.Whoami(e.ctx)
		require.NoError(t, err)
		devs, err := alice.GetDevicesInfo(e.ctx)
		require.NoError(t, err)
		require.Len(t, devs.Devices, 1)
		require.Positive(t, devs.Devices[0].LastSeenTS)
		require.Equal(t, "127.0.0.1", devs.Devices[0].LastSeenIP)
	})
}

// TestWellKnownClient: the discovery document is served at its own path.
func TestWellKnownClient(t *testing.T) {
	forEachRoomsEnv(t, func(t *testing.T, e *roomsEnv) {
		resp, err := http.Get(e.srv.URL + "/.well-known/matrix/client")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var wk struct {
			HS struct {
				BaseURL string `json:"base_url"`
			} `json:"m.homeserver"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&wk))
		require.Equal(t, "http://"+testServerName, wk.HS.BaseURL)
	})
}
