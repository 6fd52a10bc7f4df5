package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
)

// TestGuestsAndOpenIDWiring checks what run wires for guests and OpenID in
// the real binary: guest registration behind registration.allow_guests, the
// guest evictor in the roomserver's notifier fan-out, and the federation
// OpenID userinfo endpoint on the client listener.
func TestGuestsAndOpenIDWiring(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		s := newServer(t, backend)
		guestCli, err := mautrix.NewClient(s.url, "", "")
		require.NoError(t, err)
		_, _, err = guestCli.RegisterGuest(ctx, &mautrix.ReqRegister[any]{})
		var he mautrix.HTTPError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, http.StatusForbidden, he.Response.StatusCode, "guests are off by default")

		s.stop()
		s.env = append(s.env, "CONCORD_REGISTRATION_ALLOW_GUESTS=true")
		s.start()
		alice := s.register(t, "alice")

		// OpenID: the token from the client API is exchanged at the federation path.
		tok, err := alice.RequestOpenIDToken(ctx)
		require.NoError(t, err)
		res, err := http.Get(s.url + "/_matrix/federation/v1/openid/userinfo?access_token=" + url.QueryEscape(tok.AccessToken))
		require.NoError(t, err)
		var info map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&info))
		_ = res.Body.Close()
		assert.Equal(t, map[string]any{"sub": alice.UserID.String()}, info)

		// A guest joins a can_join room and is made to leave when guest
		// access ends.
		reg, _, err := guestCli.RegisterGuest(ctx, &mautrix.ReqRegister[any]{})
		require.NoError(t, err)
		guestCli.SetCredentials(reg.UserID, reg.AccessToken)
		room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		require.NoError(t, err)
		_, err = guestCli.JoinRoomByID(ctx, room.RoomID)
		require.ErrorAs(t, err, &he)
		assert.Equal(t, "M_GUEST_ACCESS_FORBIDDEN", he.RespError.ErrCode)
		_, err = alice.SendStateEvent(ctx, room.RoomID, event.StateGuestAccess, "", map[string]any{"guest_access": "can_join"})
		require.NoError(t, err)
		_, err = guestCli.JoinRoomByID(ctx, room.RoomID)
		require.NoError(t, err)
		_, err = alice.SendStateEvent(ctx, room.RoomID, event.StateGuestAccess, "", map[string]any{"guest_access": "forbidden"})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			var member map[string]any
			if err := alice.StateEvent(ctx, room.RoomID, event.StateMember, reg.UserID.String(), &member); err != nil {
				return false
			}
			return member["membership"] == "leave"
		}, 10*time.Second, 50*time.Millisecond)
	})
}
