package clientapi

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoginFlows(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		r := e.do("GET", v3+"/login", nil, "")
		require.Equal(t, 200, r.status)
		assert.Equal(t, map[string]any{"flows": []any{map[string]any{"type": "m.login.password"}}}, r.body)
	})
}

func TestLoginPassword(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		alice := e.register("alice", "wonderland", nil)
		seen := map[string]bool{alice.deviceID: true}
		for _, user := range []string{"alice", "@alice:test.local", "ALICE", "@Alice:test.local"} {
			r := e.login(user, "wonderland", nil)
			require.Equal(t, 200, r.status, "%s: %s", user, r.raw)
			assert.Equal(t, "@alice:test.local", r.str("user_id"))
			assert.Equal(t, "test.local", r.str("home_server"))
			assert.False(t, seen[r.str("device_id")], "each login is a new device")
			seen[r.str("device_id")] = true
			who := e.whoami(r.str("access_token"))
			assert.Equal(t, r.str("device_id"), who.str("device_id"))
		}
		// The deprecated top-level "user".
		r := e.do("POST", v3+"/login", map[string]any{"type": "m.login.password", "user": "alice", "password": "wonderland"}, "")
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Len(t, e.deviceIDs("alice"), 6)

		for name, tc := range map[string]struct {
			user, password string
		}{
			"wrong password":    {"alice", "nope"},
			"empty password":    {"alice", ""},
			"unknown user":      {"nobody", "wonderland"},
			"other server":      {"@alice:elsewhere.example", "wonderland"},
			"invalid user ID":   {"@alice", "wonderland"},
			"invalid localpart": {"al ice", "wonderland"},
		} {
			r := e.login(tc.user, tc.password, nil)
			e.expectError(r, 403, "M_FORBIDDEN")
			assert.Equal(t, "Invalid username or password", r.str("error"), name)
		}
		assert.Len(t, e.deviceIDs("alice"), 6, "failed logins make no device")
	})
}

func TestLoginRequestErrors(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		e.register("alice", "pw", nil)
		for _, tc := range []struct {
			name    string
			body    any
			status  int
			errcode string
		}{
			{"missing type", map[string]any{"user": "alice", "password": "pw"}, 400, "M_MISSING_PARAM"},
			{"token login", map[string]any{"type": "m.login.token", "token": "abc"}, 400, "M_UNKNOWN"},
			{"sso", map[string]any{"type": "m.login.sso"}, 400, "M_UNKNOWN"},
			{"no identifier", map[string]any{"type": "m.login.password", "password": "pw"}, 400, "M_MISSING_PARAM"},
			{"empty identifier user", map[string]any{"type": "m.login.password", "identifier": map[string]any{"type": "m.id.user"}, "password": "pw"}, 400, "M_MISSING_PARAM"},
			{"third-party identifier", map[string]any{"type": "m.login.password", "identifier": map[string]any{"type": "m.id.thirdparty", "medium": "email", "address": "a@example.org"}, "password": "pw"}, 403, "M_FORBIDDEN"},
			{"phone identifier", map[string]any{"type": "m.login.password", "identifier": map[string]any{"type": "m.id.phone", "country": "FR", "phone": "0600000000"}, "password": "pw"}, 403, "M_FORBIDDEN"},
			{"legacy 3pid", map[string]any{"type": "m.login.password", "medium": "email", "address": "a@example.org", "password": "pw"}, 403, "M_FORBIDDEN"},
			{"unknown identifier type", map[string]any{"type": "m.login.password", "identifier": map[string]any{"type": "m.id.nope"}, "password": "pw"}, 400, "M_UNKNOWN"},
			{"identifier wrong type", map[string]any{"type": "m.login.password", "identifier": "alice", "password": "pw"}, 400, "M_BAD_JSON"},
			{"password wrong type", map[string]any{"type": "m.login.password", "user": "alice", "password": 12}, 400, "M_BAD_JSON"},
			{"device name too long", map[string]any{"type": "m.login.password", "user": "alice", "password": "pw", "initial_device_display_name": string(make([]rune, 101))}, 400, "M_INVALID_PARAM"},
			{"not json", "{type: password}", 400, "M_NOT_JSON"},
			{"empty body", "", 400, "M_NOT_JSON"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := e.sub(t)
				e.expectError(e.do("POST", v3+"/login", tc.body, ""), tc.status, tc.errcode)
			})
		}
	})
}

func TestLoginDeactivated(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		e.register("gone", "pw", nil)
		require.NoError(t, e.store.DeactivateUser(e.ctx, "gone"))
		e.expectError(e.login("gone", "pw", nil), 403, "M_USER_DEACTIVATED")
	})
}

func TestLoginReusesDevice(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		e.register("alice", "pw", nil)
		first := e.login("alice", "pw", map[string]any{"device_id": "PHONE", "initial_device_display_name": "Phone"})
		require.Equal(t, 200, first.status, "%s", first.raw)
		assert.Equal(t, "PHONE", first.str("device_id"))
		require.NoError(t, e.store.TouchDevice(e.ctx, "alice", "PHONE", e.clock.Now().UnixMilli(), "192.0.2.1"))

		again := e.login("alice", "pw", map[string]any{"device_id": "PHONE", "initial_device_display_name": "Ignored"})
		require.Equal(t, 200, again.status, "%s", again.raw)
		assert.Equal(t, "PHONE", again.str("device_id"))
		assert.NotEqual(t, first.str("access_token"), again.str("access_token"))

		// The old token of the device is gone, the new one works, and the
		// device is still one device with its name.
		e.expectError(e.whoami(first.str("access_token")), 401, "M_UNKNOWN_TOKEN")
		assert.Equal(t, "PHONE", e.whoami(again.str("access_token")).str("device_id"))
		d, err := e.store.GetDevice(e.ctx, "alice", "PHONE")
		require.NoError(t, err)
		assert.Equal(t, "Phone", d.DisplayName)
		assert.Len(t, e.deviceIDs("alice"), 2)

		// Another user may have a device with the same ID.
		e.register("bob", "pw", nil)
		bob := e.login("bob", "pw", map[string]any{"device_id": "PHONE"})
		require.Equal(t, 200, bob.status)
		assert.Equal(t, "@alice:test.local", e.whoami(again.str("access_token")).str("user_id"))
	})
}

func TestLogout(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		alice := e.register("alice", "pw", nil)
		laptop := e.login("alice", "pw", map[string]any{"device_id": "LAPTOP"}).str("access_token")
		bob := e.register("bob", "pw", nil)

		r := e.do("POST", v3+"/logout", nil, laptop)
		require.Equal(t, 200, r.status)
		assert.Equal(t, map[string]any{}, r.body)
		e.expectError(e.whoami(laptop), 401, "M_UNKNOWN_TOKEN")
		assert.Equal(t, []string{alice.deviceID}, e.deviceIDs("alice"), "logout deletes the device")
		e.expectError(e.do("POST", v3+"/logout", nil, laptop), 401, "M_UNKNOWN_TOKEN")

		phone := e.login("alice", "pw", nil).str("access_token")
		r = e.do("POST", v3+"/logout/all", nil, phone)
		require.Equal(t, 200, r.status)
		assert.Equal(t, map[string]any{}, r.body)
		e.expectError(e.whoami(phone), 401, "M_UNKNOWN_TOKEN")
		e.expectError(e.whoami(alice.token), 401, "M_UNKNOWN_TOKEN")
		assert.Empty(t, e.deviceIDs("alice"))
		assert.Equal(t, 200, e.whoami(bob.token).status, "other users stay logged in")
		assert.Equal(t, 200, e.login("alice", "pw", nil).status, "the account still works")
	})
}

func TestRefresh(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		e.register("alice", "pw", nil)
		r := e.login("alice", "pw", map[string]any{"refresh_token": true})
		require.Equal(t, 200, r.status)
		access, refresh := r.str("access_token"), r.str("refresh_token")
		assert.Equal(t, float64(refreshableTokenLifetime.Milliseconds()), r.body["expires_in_ms"])
		device := r.str("device_id")

		// The access token expires: soft logout.
		e.clock.Advance(refreshableTokenLifetime + time.Second)
		expired := e.whoami(access)
		e.expectError(expired, 401, "M_UNKNOWN_TOKEN")
		assert.Equal(t, true, expired.body["soft_logout"])

		rotated := e.do("POST", v3+"/refresh", map[string]any{"refresh_token": refresh}, "")
		require.Equal(t, 200, rotated.status, "%s", rotated.raw)
		assert.Equal(t, float64(300000), rotated.body["expires_in_ms"])
		newAccess, newRefresh := rotated.str("access_token"), rotated.str("refresh_token")
		assert.NotEqual(t, access, newAccess)
		assert.NotEqual(t, refresh, newRefresh)
		who := e.whoami(newAccess)
		require.Equal(t, 200, who.status)
		assert.Equal(t, device, who.str("device_id"), "the new tokens belong to the same device")

		// A refresh token works once.
		used := e.do("POST", v3+"/refresh", map[string]any{"refresh_token": refresh}, "")
		e.expectError(used, 401, "M_UNKNOWN_TOKEN")
		assert.NotContains(t, used.body, "soft_logout")

		// The chain goes on, and each refresh ends the previous access token.
		third := e.do("POST", v3+"/refresh", map[string]any{"refresh_token": newRefresh}, "")
		require.Equal(t, 200, third.status)
		e.expectError(e.whoami(newAccess), 401, "M_UNKNOWN_TOKEN")
		assert.Equal(t, 200, e.whoami(third.str("access_token")).status)

		e.expectError(e.do("POST", v3+"/refresh", map[string]any{"refresh_token": "crt_unknown"}, ""), 401, "M_UNKNOWN_TOKEN")
		e.expectError(e.do("POST", v3+"/refresh", map[string]any{}, ""), 400, "M_MISSING_PARAM")
		e.expectError(e.do("POST", v3+"/refresh", map[string]any{"refresh_token": 5}, ""), 400, "M_BAD_JSON")

		// Logging out ends the refresh token too.
		require.Equal(t, 200, e.do("POST", v3+"/logout", nil, third.str("access_token")).status)
		e.expectError(e.do("POST", v3+"/refresh", map[string]any{"refresh_token": third.str("refresh_token")}, ""), 401, "M_UNKNOWN_TOKEN")

		// Clients that do not ask for refresh tokens get tokens that last.
		plain := e.login("alice", "pw", nil)
		assert.NotContains(t, plain.body, "refresh_token")
		assert.NotContains(t, plain.body, "expires_in_ms")
		e.clock.Advance(365 * 24 * time.Hour)
		assert.Equal(t, 200, e.whoami(plain.str("access_token")).status)
	})
}
