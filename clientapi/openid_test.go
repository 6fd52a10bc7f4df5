package clientapi

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/federationapi"
	"github.com/concordchat/concord/roomserver/signing"
)

// withFederation mounts the federation API on the env's engine, as
// cmd/concord does on the client listener. The server is idle meanwhile.
func (e *gtEnv) withFederation() {
	e.t.Helper()
	key, err := signing.GenerateKey(e.cfg.ServerName)
	require.NoError(e.t, err)
	fed, err := federationapi.New(federationapi.Deps{ServerName: e.cfg.ServerName, Key: key, OpenID: e.accounts})
	require.NoError(e.t, err)
	fed.Register(e.engine)
}

// userinfo exchanges an OpenID token at the federation API.
func (e *gtEnv) userinfo(token string) gtResp {
	e.t.Helper()
	return e.do("GET", "/_matrix/federation/v1/openid/userinfo?access_token="+url.QueryEscape(token), "", nil)
}

// TestOpenID is the LiveKit-style round trip: a user asks its homeserver for
// an OpenID token, a third-party service exchanges it for the user ID.
func TestOpenID(t *testing.T) {
	forEachGTEnv(t, func(t *testing.T, e *gtEnv) {
		e.withFederation()
		alice, bob := e.user("alice"), e.user("bob")
		tok, err := alice.RequestOpenIDToken(e.ctx) // mautrix sends no body
		require.NoError(t, err)
		assert.Equal(t, "Bearer", tok.TokenType)
		assert.Equal(t, testServerName, tok.MatrixServerName)
		assert.Equal(t, 3600, tok.ExpiresIn)
		require.NotEmpty(t, tok.AccessToken)
		r := e.do("POST", v3+"/user/"+url.PathEscape(bob.UserID.String())+"/openid/request_token", bob.AccessToken, map[string]any{})
		require.Equal(t, 200, r.status, "%s", r.raw)
		bobTok := r.str("access_token")
		assert.NotEqual(t, tok.AccessToken, bobTok)
		assert.Equal(t, float64(3600), r.body["expires_in"])

		assert.Equal(t, map[string]any{"sub": alice.UserID.String()}, e.userinfo(tok.AccessToken).body)
		assert.Equal(t, map[string]any{"sub": bob.UserID.String()}, e.userinfo(bobTok).body)
		// Usable more than once within its lifetime.
		assert.Equal(t, map[string]any{"sub": alice.UserID.String()}, e.userinfo(tok.AccessToken).body)

		// An OpenID token is no access token, and the reverse.
		gtExpectErr(t, e.do("GET", v3+"/account/whoami", tok.AccessToken, nil), 401, "M_UNKNOWN_TOKEN")
		gtExpectErr(t, e.do("GET", v3+"/sync", tok.AccessToken, nil), 401, "M_UNKNOWN_TOKEN")
		gtExpectErr(t, e.userinfo(alice.AccessToken), 401, "M_UNKNOWN_TOKEN")
		gtExpectErr(t, e.userinfo("nope"), 401, "M_UNKNOWN_TOKEN")
		gtExpectErr(t, e.do("GET", "/_matrix/federation/v1/openid/userinfo", "", nil), 401, "M_UNKNOWN_TOKEN")

		// Expiry: one hour.
		e.clock.Advance(59 * time.Minute)
		assert.Equal(t, map[string]any{"sub": alice.UserID.String()}, e.userinfo(tok.AccessToken).body)
		e.clock.Advance(time.Minute)
		gtExpectErr(t, e.userinfo(tok.AccessToken), 401, "M_UNKNOWN_TOKEN")
		gtExpectErr(t, e.userinfo(bobTok), 401, "M_UNKNOWN_TOKEN")

		// A deactivated user's token stops working.
		fresh, err := bob.RequestOpenIDToken(e.ctx)
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"sub": bob.UserID.String()}, e.userinfo(fresh.AccessToken).body)
		require.NoError(t, e.accounts.DeactivateUser(e.ctx, "bob"))
		gtExpectErr(t, e.userinfo(fresh.AccessToken), 401, "M_UNKNOWN_TOKEN")
	})
}

func TestOpenIDRequestErrors(t *testing.T) {
	forEachGTEnv(t, func(t *testing.T, e *gtEnv) {
		e.withFederation()
		alice, bob := e.user("alice"), e.user("bob")
		self := v3 + "/user/" + url.PathEscape(alice.UserID.String()) + "/openid/request_token"
		for _, tc := range []struct {
			name, path, token string
			body              any
			status            int
			errcode           string
		}{
			{"no token", self, "", map[string]any{}, 401, "M_MISSING_TOKEN"},
			{"unknown token", self, "nope", map[string]any{}, 401, "M_UNKNOWN_TOKEN"},
			{"other user", self, bob.AccessToken, map[string]any{}, 403, "M_FORBIDDEN"},
			{"remote user", v3 + "/user/" + url.PathEscape("@alice:elsewhere") + "/openid/request_token", alice.AccessToken, map[string]any{}, 403, "M_FORBIDDEN"},
			{"not JSON", self, alice.AccessToken, "{", 400, "M_NOT_JSON"},
			{"array", self, alice.AccessToken, "[]", 400, "M_BAD_JSON"},
			{"too large", self, alice.AccessToken, `{"x":"` + strings.Repeat("a", 2<<20) + `"}`, 413, "M_TOO_LARGE"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				gtExpectErr(t, e.sub(t).do("POST", tc.path, tc.token, tc.body), tc.status, tc.errcode)
			})
		}
		gtExpectErr(t, e.do("GET", self, alice.AccessToken, nil), 405, "M_UNRECOGNIZED")
		// No token was issued by the refused requests.
		var n int
		require.NoError(t, e.db.Read().QueryRow(`SELECT COUNT(*) FROM openid_tokens`).Scan(&n))
		assert.Zero(t, n)
		// r0 works too.
		r := e.do("POST", "/_matrix/client/r0/user/"+url.PathEscape(alice.UserID.String())+"/openid/request_token", alice.AccessToken, "{}")
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, map[string]any{"sub": alice.UserID.String()}, e.userinfo(r.str("access_token")).body)
	})
}
