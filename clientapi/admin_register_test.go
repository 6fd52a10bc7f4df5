package clientapi

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/config"
)

const adminRegisterPath = "/_synapse/admin/v1/register"

func withSharedSecret(c *config.Config) { c.Registration.SharedSecret = "shared" }

func TestSharedSecretMACVector(t *testing.T) {
	// Computed with Python: hmac.new(b"shared", b"abcd\0pepper_roni\0pizza\0admin", hashlib.sha1).hexdigest()
	assert.Equal(t, "9137dfcf7331b042a61078c43e3d321efd00a9dc", sharedSecretMAC("shared", "abcd", "pepper_roni", "pizza", true))
	assert.Equal(t, "9709fad783b2317c08289fee854af62ee59de7e4", sharedSecretMAC("shared", "abcd", "bob", "pw", false))
}

func (e *accountEnv) nonce() string {
	e.t.Helper()
	r := e.do("GET", adminRegisterPath, nil, "")
	require.Equal(e.t, 200, r.status, "%s", r.raw)
	require.Len(e.t, r.str("nonce"), 64)
	return r.str("nonce")
}

func TestAdminRegister(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		nonce := e.nonce()
		r := e.do("POST", adminRegisterPath, map[string]any{
			"nonce": nonce, "username": "Pepper_Roni", "displayname": "Pepper Roni", "password": "pizza", "admin": true,
			"mac": sharedSecretMAC("shared", nonce, "Pepper_Roni", "pizza", true),
		}, "")
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, "@pepper_roni:test.local", r.str("user_id"))
		assert.Equal(t, "test.local", r.str("home_server"))
		assert.NotEmpty(t, r.str("device_id"))
		who := e.whoami(r.str("access_token"))
		require.Equal(t, 200, who.status)
		assert.Equal(t, "@pepper_roni:test.local", who.str("user_id"))
		u, err := e.store.GetUser(e.ctx, "pepper_roni")
		require.NoError(t, err)
		assert.True(t, u.IsAdmin)
		p, err := e.store.GetProfile(e.ctx, "pepper_roni")
		require.NoError(t, err)
		assert.Equal(t, "Pepper Roni", p.DisplayName)
		assert.Equal(t, 200, e.login("pepper_roni", "pizza", nil).status)

		// The nonce was used: replaying the very same request fails.
		replay := e.do("POST", adminRegisterPath, map[string]any{
			"nonce": nonce, "username": "other", "password": "pizza",
			"mac": sharedSecretMAC("shared", nonce, "other", "pizza", false),
		}, "")
		e.expectError(replay, 400, "M_UNKNOWN")

		// notadmin, no displayname, inhibit_login.
		nonce = e.nonce()
		r = e.do("POST", adminRegisterPath, map[string]any{
			"nonce": nonce, "username": "bob", "password": "pw", "inhibit_login": true,
			"mac": sharedSecretMAC("shared", nonce, "bob", "pw", false),
		}, "")
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, map[string]any{"user_id": "@bob:test.local", "home_server": "test.local"}, r.body)
		u, err = e.store.GetUser(e.ctx, "bob")
		require.NoError(t, err)
		assert.False(t, u.IsAdmin)
		p, err = e.store.GetProfile(e.ctx, "bob")
		require.NoError(t, err)
		assert.Equal(t, "bob", p.DisplayName)
		assert.Empty(t, e.deviceIDs("bob"))
	}, withSharedSecret)
}

func TestAdminRegisterWrongMAC(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		nonce := e.nonce()
		good := sharedSecretMAC("shared", nonce, "eve", "pw", false)
		r := e.do("POST", adminRegisterPath, map[string]any{"nonce": nonce, "username": "eve", "password": "pw",
			"mac": sharedSecretMAC("guess", nonce, "eve", "pw", false)}, "")
		e.expectError(r, 403, "M_FORBIDDEN")
		assert.Equal(t, "HMAC incorrect", r.str("error"))
		// Even the right MAC cannot use a nonce a failed request used up.
		r = e.do("POST", adminRegisterPath, map[string]any{"nonce": nonce, "username": "eve", "password": "pw", "mac": good}, "")
		e.expectError(r, 400, "M_UNKNOWN")
		_, err := e.store.GetUser(e.ctx, "eve")
		assert.Error(t, err, "no account was made")

		// Claiming admin with a MAC for notadmin fails on a fresh nonce.
		nonce = e.nonce()
		r = e.do("POST", adminRegisterPath, map[string]any{"nonce": nonce, "username": "eve", "password": "pw", "admin": true,
			"mac": sharedSecretMAC("shared", nonce, "eve", "pw", false)}, "")
		e.expectError(r, 403, "M_FORBIDDEN")

		// A nonce expires after a minute.
		nonce = e.nonce()
		e.clock.Advance(nonceTTL + time.Second)
		r = e.do("POST", adminRegisterPath, map[string]any{"nonce": nonce, "username": "eve", "password": "pw",
			"mac": sharedSecretMAC("shared", nonce, "eve", "pw", false)}, "")
		e.expectError(r, 400, "M_UNKNOWN")
	}, withSharedSecret)
}

func TestAdminRegisterErrors(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		e.register("taken", "pw", nil)
		for _, tc := range []struct {
			name    string
			body    func(nonce string) map[string]any
			status  int
			errcode string
		}{
			{"no nonce", func(string) map[string]any { return map[string]any{"username": "a", "password": "b", "mac": "c"} }, 400, "M_BAD_JSON"},
			{"unknown nonce", func(string) map[string]any {
				return map[string]any{"nonce": "made-up", "username": "a", "password": "b", "mac": "c"}
			}, 400, "M_UNKNOWN"},
			{"no username", func(n string) map[string]any { return map[string]any{"nonce": n, "password": "b", "mac": "c"} }, 400, "M_BAD_JSON"},
			{"no password", func(n string) map[string]any { return map[string]any{"nonce": n, "username": "a", "mac": "c"} }, 400, "M_BAD_JSON"},
			{"no mac", func(n string) map[string]any { return map[string]any{"nonce": n, "username": "a", "password": "b"} }, 400, "M_BAD_JSON"},
			{"NUL in username", func(n string) map[string]any {
				return map[string]any{"nonce": n, "username": "a\x00b", "password": "b", "mac": "c"}
			}, 400, "M_INVALID_USERNAME"},
			{"empty password", func(n string) map[string]any {
				return map[string]any{"nonce": n, "username": "a", "password": "", "mac": "c"}
			}, 400, "M_INVALID_PARAM"},
			{"user_type", func(n string) map[string]any {
				return map[string]any{"nonce": n, "username": "a", "password": "b", "user_type": "bot", "mac": "c"}
			}, 400, "M_INVALID_PARAM"},
			{"admin not bool", func(n string) map[string]any {
				return map[string]any{"nonce": n, "username": "a", "password": "b", "admin": "yes", "mac": "c"}
			}, 400, "M_BAD_JSON"},
			{"invalid username", func(n string) map[string]any {
				return map[string]any{"nonce": n, "username": "a b", "password": "pw", "mac": sharedSecretMAC("shared", n, "a b", "pw", false)}
			}, 400, "M_INVALID_USERNAME"},
			{"taken", func(n string) map[string]any {
				return map[string]any{"nonce": n, "username": "Taken", "password": "pw", "mac": sharedSecretMAC("shared", n, "Taken", "pw", false)}
			}, 400, "M_USER_IN_USE"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := e.sub(t)
				e.expectError(e.do("POST", adminRegisterPath, tc.body(e.nonce()), ""), tc.status, tc.errcode)
			})
		}
		e.expectError(e.do("POST", adminRegisterPath, "nope", ""), 400, "M_NOT_JSON")
	}, withSharedSecret)
}

func TestAdminRegisterDisabled(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		for _, method := range []string{"GET", "POST"} {
			r := e.do(method, adminRegisterPath, `{}`, "")
			e.expectError(r, 400, "M_FORBIDDEN")
			assert.Equal(t, "Shared secret registration is not enabled", r.str("error"))
		}
	})
}

func TestNonceStore(t *testing.T) {
	s := newNonceStore()
	now := time.Unix(1000, 0)
	a, b := s.issue(now), s.issue(now)
	assert.NotEqual(t, a, b)
	assert.True(t, s.take(a, now.Add(nonceTTL)))
	assert.False(t, s.take(a, now), "single use")
	assert.False(t, s.take(b, now.Add(nonceTTL+time.Second)), "expired")
	assert.False(t, s.take(b, now), "an expired nonce is forgotten")

	// A full store drops the oldest nonce to make room.
	first := s.issue(now)
	for i := range maxNonces - 1 {
		s.issue(now.Add(time.Duration(i+1) * time.Millisecond))
	}
	last := s.issue(now.Add(time.Second))
	assert.Len(t, s.issued, maxNonces)
	assert.False(t, s.take(first, now.Add(time.Second)), "the oldest went")
	assert.True(t, s.take(last, now.Add(time.Second)))
	// Expired nonces are swept when new ones are issued.
	s.issue(now.Add(time.Hour))
	assert.Len(t, s.issued, 1, fmt.Sprint(len(s.issued)))
}
