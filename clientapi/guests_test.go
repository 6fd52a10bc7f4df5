package clientapi

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/concordchat/concord/config"
	"github.com/concordchat/concord/roomserver/mxid"
)

func TestGuestRegistration(t *testing.T) {
	forEachGTEnv(t, func(t *testing.T, e *gtEnv) {
		g := e.guest("Guest phone")
		assert.Equal(t, map[string]any{"user_id": g.UserID.String(), "device_id": g.DeviceID.String(), "is_guest": true},
			e.whoami(g).body)
		uid, err := mxid.ParseUserIDStrict(g.UserID.String())
		require.NoError(t, err)
		assert.Equal(t, testServerName, uid.Domain)
		u, err := e.accounts.GetUser(e.ctx, uid.Localpart)
		require.NoError(t, err)
		assert.True(t, u.IsGuest)
		assert.Empty(t, u.PasswordHash, "a guest has no password")
		assert.False(t, u.IsAdmin, "a guest never becomes the first admin")
		devs, err := g.GetDevicesInfo(e.ctx)
		require.NoError(t, err)
		require.Len(t, devs.Devices, 1)
		assert.Equal(t, "Guest phone", devs.Devices[0].DisplayName)

		// Every field but initial_device_display_name is ignored, whatever
		// its type; the server picks the user and device IDs.
		r := e.do("POST", v3+"/register?kind=guest", "", map[string]any{
			"username": 7, "password": "pw", "device_id": "MINE", "inhibit_login": true, "refresh_token": true,
			"initial_device_display_name": "Second",
		})
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.NotEqual(t, "MINE", r.str("device_id"))
		assert.NotEmpty(t, r.str("access_token"))
		assert.NotEqual(t, g.UserID.String(), r.str("user_id"))
		assert.NotContains(t, r.body, "refresh_token")
		assert.Equal(t, testServerName, r.str("home_server"))
		who2 := e.do("GET", v3+"/account/whoami", r.str("access_token"), nil)
		assert.Equal(t, map[string]any{"user_id": r.str("user_id"), "device_id": r.str("device_id"), "is_guest": true}, who2.body)

		// An empty body is fine; bad input still gets Matrix errors.
		r = e.do("POST", v3+"/register?kind=guest", "", nil)
		require.Equal(t, 200, r.status, "%s", r.raw)
		gtExpectErr(t, e.do("POST", v3+"/register?kind=guest", "", "not json"), 400, "M_NOT_JSON")
		gtExpectErr(t, e.do("POST", v3+"/register?kind=guest", "", "[]"), 400, "M_BAD_JSON")
		gtExpectErr(t, e.do("POST", v3+"/register?kind=guest", "", map[string]any{"initial_device_display_name": 5}), 400, "M_BAD_JSON")
		gtExpectErr(t, e.do("POST", v3+"/register?kind=guest", "", map[string]any{"initial_device_display_name": strings.Repeat("x", 101)}), 400, "M_INVALID_PARAM")

		n, err := e.accounts.CountFullUsers(e.ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
		// Guests do not count for the first-admin rule: the first full
		// account registered after them is the admin.
		alice := e.user("alice")
		au, err := e.accounts.GetUser(e.ctx, "alice")
		require.NoError(t, err)
		assert.True(t, au.IsAdmin)
		assert.Equal(t, false, e.whoami(alice).body["is_guest"])
	}, allowGuests)
}

func TestGuestRegistrationDisabled(t *testing.T) {
	forEachGTEnv(t, func(t *testing.T, e *gtEnv) {
		cli, err := mautrix.NewClient(e.srv.URL, "", "")
		require.NoError(t, err)
		_, _, err = cli.RegisterGuest(e.ctx, &mautrix.ReqRegister[any]{})
		gtMatrixErr(t, err, 403, "M_FORBIDDEN")
		n, err := e.accounts.CountUsers(e.ctx)
		require.NoError(t, err)
		assert.Zero(t, n, "no account was made")
	})
}

// Guests do not depend on open registration.
func TestGuestRegistrationWithoutOpenRegistration(t *testing.T) {
	forEachGTEnv(t, func(t *testing.T, e *gtEnv) {
		r := e.do("POST", v3+"/register?kind=guest", "", map[string]any{})
		require.Equal(t, 200, r.status, "%s", r.raw)
		gtExpectErr(t, e.do("POST", v3+"/register", "", map[string]any{"username": "x", "password": "y"}), 403, "M_FORBIDDEN")
	}, allowGuests, func(c *config.Config) { c.Registration.Enabled = false })
}

func TestGuestEndpoints(t *testing.T) {
	forEachGTEnv(t, func(t *testing.T, e *gtEnv) {
		alice := e.user("alice")
		room := e.room(alice, "public_chat", "guests", "can_join", "")
		first, err := alice.SendText(e.ctx, room, "hello guests")
		require.NoError(t, err)
		g := e.guest("Guest phone")
		gtok := g.AccessToken
		me := url.PathEscape(g.UserID.String())
		rid := url.PathEscape(room.String())
		_, err = g.JoinRoomByID(e.ctx, room)
		require.NoError(t, err)

		// Refused: everything the spec does not list for guests, before the
		// handler runs (the checks after the loop show nothing happened).
		for _, tc := range []struct {
			method, path string
			body         any
		}{
			{"POST", v3 + "/createRoom", map[string]any{}},
			{"GET", v3 + "/joined_rooms", nil},
			{"POST", v3 + "/rooms/" + rid + "/invite", map[string]any{"user_id": "@bob:test.local"}},
			{"POST", v3 + "/rooms/" + rid + "/kick", map[string]any{"user_id": alice.UserID}},
			{"POST", v3 + "/rooms/" + rid + "/ban", map[string]any{"user_id": alice.UserID}},
			{"PUT", v3 + "/rooms/" + rid + "/redact/" + url.PathEscape(first.EventID.String()) + "/t1", map[string]any{}},
			{"GET", v3 + "/rooms/" + rid + "/joined_members", nil},
			{"PUT", v3 + "/profile/" + me + "/avatar_url", map[string]any{"avatar_url": "mxc://test.local/abc"}},
			{"POST", v3 + "/user/" + me + "/filter", map[string]any{}},
			{"GET", v3 + "/capabilities", nil},
			{"POST", v3 + "/account/password", map[string]any{"new_password": "x"}},
			{"POST", v3 + "/account/deactivate", map[string]any{}},
			{"DELETE", v3 + "/devices/" + url.PathEscape(g.DeviceID.String()), map[string]any{}},
			{"POST", v3 + "/delete_devices", map[string]any{"devices": []string{g.DeviceID.String()}}},
			{"POST", v3 + "/logout", map[string]any{}},
			{"POST", v3 + "/logout/all", map[string]any{}},
			{"POST", v3 + "/user/" + me + "/openid/request_token", map[string]any{}},
			{"PUT", v3 + "/directory/room/" + url.PathEscape("#mine:test.local"), map[string]any{"room_id": room}},
			{"POST", "/_matrix/client/r0/createRoom", map[string]any{}},
		} {
			t.Run(tc.method+" "+tc.path, func(t *testing.T) {
				gtExpectErr(t, e.sub(t).do(tc.method, tc.path, gtok, tc.body), 403, "M_GUEST_ACCESS_FORBIDDEN")
			})
		}
		// Admin routes answer as to any non-admin.
		gtExpectErr(t, e.do("GET", "/_synapse/admin/v1/registration_tokens", gtok, nil), 403, "M_FORBIDDEN")

		// Nothing of that happened.
		assert.Equal(t, true, e.whoami(g).body["is_guest"], "the guest was neither logged out nor deactivated")
		assert.Equal(t, "join", e.membership(room, alice.UserID), "alice was not kicked or banned")
		assert.Equal(t, "", e.membership(room, "@bob:test.local"))
		gtExpectErr(t, e.do("GET", v3+"/directory/room/"+url.PathEscape("#mine:test.local"), "", nil), 404, "M_NOT_FOUND")
		prof, err := alice.GetProfile(e.ctx, g.UserID)
		require.NoError(t, err)
		assert.Empty(t, prof.AvatarURL.String())
		ev, err := alice.GetEvent(e.ctx, room, first.EventID)
		require.NoError(t, err)
		assert.Equal(t, "hello guests", ev.Content.Raw["body"], "not redacted")

		// Allowed: the spec's list.
		require.NoError(t, g.SetDisplayName(e.ctx, "Visitor"))
		prof, err = alice.GetProfile(e.ctx, g.UserID)
		require.NoError(t, err)
		assert.Equal(t, "Visitor", prof.DisplayName)
		require.NoError(t, g.SetDeviceInfo(e.ctx, g.DeviceID, &mautrix.ReqDeviceInfo{DisplayName: "Renamed"}))
		dev, err := g.GetDeviceInfo(e.ctx, g.DeviceID)
		require.NoError(t, err)
		assert.Equal(t, "Renamed", dev.DisplayName)
		sent, err := g.SendText(e.ctx, room, "hi from a guest")
		require.NoError(t, err)
		ev, err = alice.GetEvent(e.ctx, room, sent.EventID)
		require.NoError(t, err)
		assert.Equal(t, g.UserID, ev.Sender)
		assert.Equal(t, "hi from a guest", ev.Content.Raw["body"])
		// State: the gate lets it through, the room's power levels decide.
		_, err = g.SendStateEvent(e.ctx, room, event.StateTopic, "", map[string]any{"topic": "guest topic"})
		gtMatrixErr(t, err, 403, "M_FORBIDDEN")
		var pl map[string]any
		require.NoError(t, alice.StateEvent(e.ctx, room, event.StatePowerLevels, "", &pl))
		pl["state_default"] = 0
		_, err = alice.SendStateEvent(e.ctx, room, event.StatePowerLevels, "", pl)
		require.NoError(t, err)
		_, err = g.SendStateEvent(e.ctx, room, event.StateTopic, "", map[string]any{"topic": "guest topic"})
		require.NoError(t, err)
		var topic map[string]any
		require.NoError(t, g.StateEvent(e.ctx, room, event.StateTopic, "", &topic))
		assert.Equal(t, "guest topic", topic["topic"])
		st := e.do("GET", v3+"/rooms/"+rid+"/state", gtok, nil)
		require.Equal(t, 200, st.status, "%s", st.raw)
		assert.Len(t, st.list, 9, "create, 2 members, power levels, join rules, history, alias, guest access, topic")
		members, err := g.Members(e.ctx, room)
		require.NoError(t, err)
		joined := map[id.UserID]bool{}
		for _, m := range members.Chunk {
			if m.Content.Raw["membership"] == "join" {
				joined[id.UserID(*m.StateKey)] = true
			}
		}
		assert.Equal(t, map[id.UserID]bool{alice.UserID: true, g.UserID: true}, joined)
		msgs, err := g.Messages(e.ctx, room, "", "", mautrix.DirectionBackward, nil, 50)
		require.NoError(t, err)
		assert.Equal(t, []string{"hi from a guest", "hello guests"}, gtBodies(msgs.Chunk))
		sync, err := g.SyncRequest(e.ctx, 0, "", "", false, "")
		require.NoError(t, err)
		require.Contains(t, sync.Rooms.Join, room)
		assert.Equal(t, []string{"hello guests", "hi from a guest"}, gtBodies(sync.Rooms.Join[room].Timeline.Events))
		// Optional-auth routes are open to guests as to anyone.
		_, err = g.GetProfile(e.ctx, alice.UserID)
		require.NoError(t, err)
		_, err = g.LeaveRoom(e.ctx, room)
		require.NoError(t, err)
		assert.Equal(t, "leave", e.membership(room, g.UserID))
	}, allowGuests)
}

func TestGuestJoinNeedsCanJoin(t *testing.T) {
	forEachGTEnv(t, func(t *testing.T, e *gtEnv) {
		alice := e.user("alice")
		forbidden := e.room(alice, "public_chat", "closed", "", "") // the preset says forbidden
		open := e.room(alice, "public_chat", "open", "can_join", "")
		private := e.room(alice, "private_chat", "", "", "") // can_join, but invite only
		g := e.guest("")

		_, err := g.JoinRoomByID(e.ctx, forbidden)
		gtMatrixErr(t, err, 403, "M_GUEST_ACCESS_FORBIDDEN")
		_, err = g.JoinRoom(e.ctx, "#closed:test.local", nil)
		gtMatrixErr(t, err, 403, "M_GUEST_ACCESS_FORBIDDEN")
		assert.Equal(t, "", e.membership(forbidden, g.UserID))

		// Through an alias, as most clients join.
		resp, err := g.JoinRoom(e.ctx, "#open:test.local", nil)
		require.NoError(t, err)
		assert.Equal(t, open, resp.RoomID)
		assert.Equal(t, "join", e.membership(open, g.UserID))

		// can_join does not override the join rules.
		_, err = g.JoinRoomByID(e.ctx, private)
		gtMatrixErr(t, err, 403, "M_FORBIDDEN")
		_, err = alice.InviteUser(e.ctx, private, &mautrix.ReqInviteUser{UserID: g.UserID})
		require.NoError(t, err)
		_, err = g.JoinRoomByID(e.ctx, private)
		require.NoError(t, err)
		assert.Equal(t, "join", e.membership(private, g.UserID))

		// An unknown room is not found, for guests as for anyone.
		_, err = g.JoinRoomByID(e.ctx, "!unknown:test.local")
		gtMatrixErr(t, err, 404, "M_NOT_FOUND")
		// A full user may join the forbidden room.
		bob := e.user("bob")
		_, err = bob.JoinRoomByID(e.ctx, forbidden)
		require.NoError(t, err)
	}, allowGuests)
}

func TestGuestReadsWorldReadableHistory(t *testing.T) {
	forEachGTEnv(t, func(t *testing.T, e *gtEnv) {
		alice := e.user("alice")
		world := e.room(alice, "public_chat", "", "can_join", "world_readable")
		joinedOnly := e.room(alice, "public_chat", "", "can_join", "joined")
		w1, err := alice.SendText(e.ctx, world, "w1")
		require.NoError(t, err)
		_, err = alice.SendText(e.ctx, world, "w2")
		require.NoError(t, err)
		j1, err := alice.SendText(e.ctx, joinedOnly, "j1")
		require.NoError(t, err)
		g := e.guest("")

		// Before joining: a world_readable event can be read, another not.
		ev, err := g.GetEvent(e.ctx, world, w1.EventID)
		require.NoError(t, err)
		assert.Equal(t, "w1", ev.Content.Raw["body"])
		_, err = g.GetEvent(e.ctx, joinedOnly, j1.EventID)
		gtMatrixErr(t, err, 404, "M_NOT_FOUND")

		// After joining: the world_readable history before the join is
		// there, the joined-only one is not.
		_, err = g.JoinRoomByID(e.ctx, world)
		require.NoError(t, err)
		_, err = g.JoinRoomByID(e.ctx, joinedOnly)
		require.NoError(t, err)
		msgs, err := g.Messages(e.ctx, world, "", "", mautrix.DirectionBackward, nil, 50)
		require.NoError(t, err)
		assert.Equal(t, []string{"w2", "w1"}, gtBodies(msgs.Chunk))
		msgs, err = g.Messages(e.ctx, joinedOnly, "", "", mautrix.DirectionBackward, nil, 50)
		require.NoError(t, err)
		assert.Empty(t, gtBodies(msgs.Chunk))
		_, err = alice.SendText(e.ctx, joinedOnly, "j2")
		require.NoError(t, err)
		msgs, err = g.Messages(e.ctx, joinedOnly, "", "", mautrix.DirectionBackward, nil, 50)
		require.NoError(t, err)
		assert.Equal(t, []string{"j2"}, gtBodies(msgs.Chunk))
	}, allowGuests)
}

func TestGuestsLeaveWhenGuestAccessEnds(t *testing.T) {
	forEachGTEnv(t, func(t *testing.T, e *gtEnv) {
		alice, bob := e.user("alice"), e.user("bob")
		room := e.room(alice, "public_chat", "", "can_join", "")
		other := e.room(alice, "public_chat", "", "can_join", "")
		g1, g2 := e.guest(""), e.guest("")
		_, err := g1.JoinRoomByID(e.ctx, room)
		require.NoError(t, err)
		_, err = g1.JoinRoomByID(e.ctx, other)
		require.NoError(t, err)
		_, err = alice.InviteUser(e.ctx, room, &mautrix.ReqInviteUser{UserID: g2.UserID})
		require.NoError(t, err)
		_, err = bob.JoinRoomByID(e.ctx, room)
		require.NoError(t, err)
		before, err := g1.SyncRequest(e.ctx, 0, "", "", false, "")
		require.NoError(t, err)
		require.Contains(t, before.Rooms.Join, room)

		_, err = alice.SendStateEvent(e.ctx, room, event.StateGuestAccess, "", map[string]any{"guest_access": "forbidden"})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			return e.membership(room, g1.UserID) == "leave" && e.membership(room, g2.UserID) == "leave"
		}, 10*time.Second, 20*time.Millisecond)
		assert.Equal(t, "join", e.membership(room, bob.UserID), "full users stay")
		assert.Equal(t, "join", e.membership(room, alice.UserID))
		assert.Equal(t, "join", e.membership(other, g1.UserID), "other rooms are untouched")

		// Each guest left by itself: the leave is its own event.
		members, err := alice.Members(e.ctx, room)
		require.NoError(t, err)
		senders := map[id.UserID]id.UserID{}
		for _, m := range members.Chunk {
			if m.Content.Raw["membership"] == "leave" {
				senders[id.UserID(*m.StateKey)] = m.Sender
			}
		}
		assert.Equal(t, map[id.UserID]id.UserID{g1.UserID: g1.UserID, g2.UserID: g2.UserID}, senders)
		sync, err := g1.SyncRequest(e.ctx, 0, before.NextBatch, "", false, "")
		require.NoError(t, err)
		assert.Contains(t, sync.Rooms.Leave, room)
		assert.NotContains(t, sync.Rooms.Join, room)

		// The guest cannot come back until guest access is restored.
		_, err = g1.JoinRoomByID(e.ctx, room)
		gtMatrixErr(t, err, 403, "M_GUEST_ACCESS_FORBIDDEN")
		_, err = alice.SendStateEvent(e.ctx, room, event.StateGuestAccess, "", map[string]any{"guest_access": "can_join"})
		require.NoError(t, err)
		_, err = g1.JoinRoomByID(e.ctx, room)
		require.NoError(t, err)
		assert.Equal(t, "join", e.membership(room, g1.UserID))
	}, allowGuests)
}

func TestGuestRouteKeys(t *testing.T) {
	assert.Equal(t, "GET /rooms/:/state/:/*", routeKey("GET", "/rooms/:roomId/state/:eventType/*stateKey"))
	assert.Equal(t, "PUT /profile/:/:", routeKey("PUT", "/profile/:userId/:field"))
	assert.Equal(t, "GET /_matrix/client/v1/media/download/:/:", routeKey("GET", "/_matrix/client/v1/media/download/:serverName/:mediaId"))
	assert.Equal(t, "GET /sync", routeKey("GET", "/sync"))

	// Every route of the API today that needs a token: the ones the spec
	// lists for guests get no gate refusal, the others do.
	a := &API{}
	allowed := map[string]bool{}
	for _, rt := range a.routes() {
		if rt.auth != authRequired {
			assert.Nil(t, guestGate(rt), "%s %s", rt.method, rt.path)
			continue
		}
		if _, ok := guestRoutes[routeKey(rt.method, rt.path)]; ok {
			allowed[rt.method+" "+rt.path] = true
		}
	}
	for _, want := range []string{
		"GET /sync", "POST /rooms/:roomId/join", "POST /join/:roomIdOrAlias", "POST /rooms/:roomId/leave",
		"PUT /rooms/:roomId/send/:eventType/:txnId", "GET /rooms/:roomId/state", "GET /rooms/:roomId/messages",
		"GET /rooms/:roomId/members", "GET /rooms/:roomId/event/:eventId", "PUT /rooms/:roomId/state/:eventType/*stateKey",
		"GET /account/whoami", "GET /devices", "PUT /devices/:deviceId", "PUT /profile/:userId/:field",
	} {
		assert.True(t, allowed[want], want)
	}
	for _, not := range []string{"POST /createRoom", "POST /rooms/:roomId/invite", "GET /joined_rooms", "POST /logout"} {
		assert.False(t, allowed[not], not)
	}
}
