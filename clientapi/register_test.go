package clientapi

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/concordchat/concord/config"
	"github.com/concordchat/concord/roomserver/mxid"
)

func TestRegisterDummyFlow(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		body := map[string]any{"username": "Alice", "password": "wonderland", "initial_device_display_name": "Alice's phone"}
		first := e.do("POST", v3+"/register", body, "")
		require.Equal(t, 401, first.status)
		assert.Equal(t, []any{map[string]any{"stages": []any{"m.login.dummy"}}}, first.body["flows"])
		assert.Equal(t, map[string]any{}, first.body["params"])
		assert.NotEmpty(t, first.str("session"))
		assert.NotContains(t, first.body, "errcode", "a plain challenge has no errcode")
		assert.NotContains(t, first.body, "completed")

		body["auth"] = map[string]any{"type": "m.login.dummy", "session": first.str("session")}
		r := e.do("POST", v3+"/register", body, "")
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, "@alice:test.local", r.str("user_id"), "the localpart is lowercased")
		assert.Equal(t, "test.local", r.str("home_server"))
		assert.True(t, strings.HasPrefix(r.str("access_token"), accessTokenPrefix))
		assert.Len(t, r.str("device_id"), deviceIDLength)
		assert.NotContains(t, r.body, "refresh_token")
		assert.NotContains(t, r.body, "expires_in_ms")

		who := e.whoami(r.str("access_token"))
		require.Equal(t, 200, who.status)
		assert.Equal(t, map[string]any{"user_id": "@alice:test.local", "device_id": r.str("device_id"), "is_guest": false}, who.body)

		u, err := e.store.GetUser(e.ctx, "alice")
		require.NoError(t, err)
		assert.NoError(t, bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("wonderland")))
		cost, err := bcrypt.Cost([]byte(u.PasswordHash))
		require.NoError(t, err)
		assert.Equal(t, bcrypt.MinCost, cost)
		assert.False(t, u.IsGuest)
		p, err := e.store.GetProfile(e.ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, "alice", p.DisplayName, "displayname starts as the localpart")
		d, err := e.store.GetDevice(e.ctx, "alice", r.str("device_id"))
		require.NoError(t, err)
		assert.Equal(t, "Alice's phone", d.DisplayName)

		// A finished session cannot register anyone else.
		body["username"] = "mallory"
		again := e.do("POST", v3+"/register", body, "")
		e.expectError(again, 400, "M_UNKNOWN")
		// The name is taken now, and that is checked before authentication.
		taken := e.do("POST", v3+"/register", map[string]any{"username": "ALICE", "password": "x"}, "")
		e.expectError(taken, 400, "M_USER_IN_USE")
	})
}

func TestRegisterOptions(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		// Auth on the first request, without a session: one round trip.
		r := e.do("POST", v3+"/register", map[string]any{
			"username": "bob", "password": "pw", "device_id": "BOBPHONE",
			"auth": map[string]any{"type": "m.login.dummy"},
		}, "")
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, "BOBPHONE", r.str("device_id"))
		assert.Equal(t, []string{"BOBPHONE"}, e.deviceIDs("bob"))

		// inhibit_login: an account, no device, no token.
		r = e.do("POST", v3+"/register", map[string]any{
			"username": "carol", "password": "pw", "inhibit_login": true, "auth": map[string]any{"type": "m.login.dummy"},
		}, "")
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, map[string]any{"user_id": "@carol:test.local", "home_server": "test.local"}, r.body)
		assert.Empty(t, e.deviceIDs("carol"))

		// refresh_token: an expiring access token and a refresh token.
		r = e.do("POST", v3+"/register", map[string]any{
			"username": "dave", "password": "pw", "refresh_token": true, "auth": map[string]any{"type": "m.login.dummy"},
		}, "")
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.True(t, strings.HasPrefix(r.str("refresh_token"), refreshTokenPrefix))
		assert.Equal(t, float64(300000), r.body["expires_in_ms"])

		// No username: the server picks a valid one.
		r = e.do("POST", v3+"/register", map[string]any{"password": "pw", "auth": map[string]any{"type": "m.login.dummy"}}, "")
		require.Equal(t, 200, r.status, "%s", r.raw)
		id, err := mxid.ParseUserIDStrict(r.str("user_id"))
		require.NoError(t, err)
		assert.Equal(t, testServerName, id.Domain)
		assert.Len(t, id.Localpart, generatedUsernameLength)
		assert.Equal(t, 200, e.whoami(r.str("access_token")).status)
	})
}

func TestRegisterErrors(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		e.register("taken", "pw", nil)
		dummy := map[string]any{"type": "m.login.dummy"}
		longest := strings.Repeat("a", mxid.MaxIDLength-len("@:"+testServerName))
		for _, tc := range []struct {
			name, query string
			body        any
			status      int
			errcode     string
		}{
			{"guest, guests disabled", "?kind=guest", `{}`, 403, "M_FORBIDDEN"},
			{"unknown kind", "?kind=admin", `{}`, 400, "M_INVALID_PARAM"},
			{"invalid characters", "", map[string]any{"username": "al ice", "password": "x"}, 400, "M_INVALID_USERNAME"},
			{"colon", "", map[string]any{"username": "a:b", "password": "x"}, 400, "M_INVALID_USERNAME"},
			{"non-ascii", "", map[string]any{"username": "ålice", "password": "x"}, 400, "M_INVALID_USERNAME"},
			{"user ID too long", "", map[string]any{"username": longest + "a", "password": "x"}, 400, "M_INVALID_USERNAME"},
			{"in use, other case", "", map[string]any{"username": "TAKEN", "password": "x"}, 400, "M_USER_IN_USE"},
			{"missing password", "", map[string]any{"username": "newbie", "auth": dummy}, 400, "M_MISSING_PARAM"},
			{"empty password", "", map[string]any{"username": "newbie", "password": "", "auth": dummy}, 400, "M_MISSING_PARAM"},
			{"device name too long", "", map[string]any{"username": "newbie", "password": "x", "initial_device_display_name": strings.Repeat("x", 101)}, 400, "M_INVALID_PARAM"},
			{"device ID too long", "", map[string]any{"username": "newbie", "password": "x", "device_id": strings.Repeat("D", 256)}, 400, "M_INVALID_PARAM"},
			{"unknown session", "", map[string]any{"username": "newbie", "password": "x", "auth": map[string]any{"type": "m.login.dummy", "session": "nope"}}, 400, "M_UNKNOWN"},
			{"appservice", "", map[string]any{"username": "bridge", "type": "m.login.application_service"}, 400, "M_UNRECOGNIZED"},
			{"username wrong type", "", map[string]any{"username": 7}, 400, "M_BAD_JSON"},
			{"auth wrong type", "", map[string]any{"auth": "dummy"}, 400, "M_BAD_JSON"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := e.sub(t)
				r := e.do("POST", v3+"/register"+tc.query, tc.body, "")
				e.expectError(r, tc.status, tc.errcode)
			})
		}
		// The longest user ID that fits is fine.
		r := e.register(longest, "pw", nil)
		assert.Len(t, r.userID, mxid.MaxIDLength)

		// A stage that no flow offers fails with the challenge and errcode.
		r2 := e.do("POST", v3+"/register", map[string]any{"username": "newbie", "password": "x",
			"auth": map[string]any{"type": "m.login.registration_token", "token": "x"}}, "")
		require.Equal(t, 401, r2.status)
		assert.Equal(t, "M_FORBIDDEN", r2.errcode())
		assert.NotEmpty(t, r2.str("session"))
		assert.NotNil(t, r2.body["flows"])
	})
}

func TestRegisterAvailable(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		e.register("taken", "pw", nil)
		r := e.do("GET", v3+"/register/available?username=free", nil, "")
		require.Equal(t, 200, r.status)
		assert.Equal(t, map[string]any{"available": true}, r.body)
		e.expectError(e.do("GET", v3+"/register/available?username=Taken", nil, ""), 400, "M_USER_IN_USE")
		e.expectError(e.do("GET", v3+"/register/available?username=bad%20name", nil, ""), 400, "M_INVALID_USERNAME")
		e.expectError(e.do("GET", v3+"/register/available", nil, ""), 400, "M_MISSING_PARAM")
	})
}

func TestRegisterClosedNeedsToken(t *testing.T) {
	closed := func(c *config.Config) { c.Registration.Enabled = false; c.Registration.RequireToken = true }
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		e.expectError(e.do("POST", v3+"/register", map[string]any{"username": "a", "password": "x"}, ""), 403, "M_FORBIDDEN")
		e.expectError(e.do("GET", v3+"/register/available?username=a", nil, ""), 403, "M_FORBIDDEN")

		// The bootstrap token of a new server: one use.
		_, err := e.store.CreateRegistrationToken(e.ctx, "bootstrap", ptrInt64(1), nil)
		require.NoError(t, err)
		body := map[string]any{"username": "admin", "password": "secret"}
		first := e.do("POST", v3+"/register", body, "")
		require.Equal(t, 401, first.status)
		assert.Equal(t, []any{map[string]any{"stages": []any{"m.login.registration_token"}}}, first.body["flows"])
		session := first.str("session")

		// Dummy auth is not a way in, and a wrong token is refused.
		body["auth"] = map[string]any{"type": "m.login.dummy", "session": session}
		r := e.do("POST", v3+"/register", body, "")
		require.Equal(t, 401, r.status)
		assert.Equal(t, "M_FORBIDDEN", r.errcode())
		body["auth"] = map[string]any{"type": "m.login.registration_token", "token": "wrong", "session": session}
		r = e.do("POST", v3+"/register", body, "")
		require.Equal(t, 401, r.status)
		assert.Equal(t, "M_UNAUTHORIZED", r.errcode())
		assert.Equal(t, session, r.str("session"), "the session survives a failed stage")

		body["auth"] = map[string]any{"type": "m.login.registration_token", "token": "bootstrap", "session": session}
		r = e.do("POST", v3+"/register", body, "")
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, "@admin:test.local", r.str("user_id"))
		u, err := e.store.GetUser(e.ctx, "admin")
		require.NoError(t, err)
		assert.True(t, u.IsAdmin, "the first account of the server is its admin")
		tok, err := e.store.GetRegistrationToken(e.ctx, "bootstrap")
		require.NoError(t, err)
		assert.Equal(t, int64(1), tok.Completed)
		assert.Equal(t, int64(0), tok.Pending)

		// The token is used up: registration is closed again.
		e.expectError(e.do("POST", v3+"/register", map[string]any{"username": "b", "password": "x"}, ""), 403, "M_FORBIDDEN")
	}, closed)
}

func TestRegisterRequireToken(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		_, err := e.store.CreateRegistrationToken(e.ctx, "invite", ptrInt64(2), nil)
		require.NoError(t, err)
		first := e.do("POST", v3+"/register", map[string]any{}, "")
		require.Equal(t, 401, first.status)
		assert.Equal(t, []any{map[string]any{"stages": []any{"m.login.registration_token"}}}, first.body["flows"])

		for i, name := range []string{"one", "two"} {
			r := e.do("POST", v3+"/register", map[string]any{"username": name, "password": "x",
				"auth": map[string]any{"type": "m.login.registration_token", "token": "invite"}}, "")
			require.Equal(t, 200, r.status, "registration %d: %s", i, r.raw)
		}
		r := e.do("POST", v3+"/register", map[string]any{"username": "three", "password": "x",
			"auth": map[string]any{"type": "m.login.registration_token", "token": "invite"}}, "")
		require.Equal(t, 401, r.status)
		assert.Equal(t, "M_UNAUTHORIZED", r.errcode())
		tok, err := e.store.GetRegistrationToken(e.ctx, "invite")
		require.NoError(t, err)
		assert.Equal(t, int64(2), tok.Completed)
		assert.Equal(t, int64(0), tok.Pending)
	}, func(c *config.Config) { c.Registration.RequireToken = true })
}

func TestRegistrationTokenValidity(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		const path = "/_matrix/client/v1/register/m.login.registration_token/validity"
		_, err := e.store.CreateRegistrationToken(e.ctx, "good", nil, nil)
		require.NoError(t, err)
		_, err = e.store.CreateRegistrationToken(e.ctx, "usedup", ptrInt64(0), nil)
		require.NoError(t, err)
		past := e.clock.Now().UnixMilli() - 1
		_, err = e.store.CreateRegistrationToken(e.ctx, "expired", nil, &past)
		require.NoError(t, err)
		for token, valid := range map[string]bool{"good": true, "usedup": false, "expired": false, "unknown": false} {
			r := e.do("GET", path+"?token="+token, nil, "")
			require.Equal(t, 200, r.status)
			assert.Equal(t, map[string]any{"valid": valid}, r.body, token)
		}
		e.expectError(e.do("GET", path, nil, ""), 400, "M_MISSING_PARAM")
	}, func(c *config.Config) { c.Registration.Enabled = false })
}

func TestFirstAccountIsAdmin(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		// Racing registrations on an empty server: exactly one admin.
		const n = 5
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				r := e.do("POST", v3+"/register", map[string]any{"username": fmt.Sprintf("user%d", i), "password": "pw",
					"auth": map[string]any{"type": "m.login.dummy"}}, "")
				assert.Equal(t, 200, r.status, "%s", r.raw)
			})
		}
		close(start)
		wg.Wait()
		admins := 0
		for i := range n {
			u, err := e.store.GetUser(context.Background(), fmt.Sprintf("user%d", i))
			require.NoError(t, err)
			if u.IsAdmin {
				admins++
			}
		}
		assert.Equal(t, 1, admins)
		later := e.register("later", "pw", nil)
		u, err := e.store.GetUser(context.Background(), later.localpart)
		require.NoError(t, err)
		assert.False(t, u.IsAdmin)
	})
}

func ptrInt64(n int64) *int64 { return &n }
