package clientapi

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/config"
)

const regTokensPath = "/_synapse/admin/v1/registration_tokens"

func requireToken(c *config.Config) { c.Registration.RequireToken = true }

// registerWithToken registers username through the UIA
// m.login.registration_token flow and returns the final response (or the
// stage's failure).
func (e *gtEnv) registerWithToken(username, token string) gtResp {
	e.t.Helper()
	body := map[string]any{"username": username, "password": "pw-" + username}
	first := e.do("POST", v3+"/register", "", body)
	require.Equal(e.t, 401, first.status, "%s", first.raw)
	require.Equal(e.t, []any{map[string]any{"stages": []any{stageRegToken}}}, first.body["flows"])
	body["auth"] = map[string]any{"type": stageRegToken, "token": token, "session": first.str("session")}
	return e.do("POST", v3+"/register", "", body)
}

// adminToken makes the server's first account, an admin, with a
// single-use bootstrap token (as cmd/concord does) and returns its token.
func (e *gtEnv) adminToken() string {
	e.t.Helper()
	one := int64(1)
	_, err := e.accounts.CreateRegistrationToken(e.ctx, "bootstrap", &one, nil)
	require.NoError(e.t, err)
	r := e.registerWithToken("admin", "bootstrap")
	require.Equal(e.t, 200, r.status, "%s", r.raw)
	u, err := e.accounts.GetUser(e.ctx, "admin")
	require.NoError(e.t, err)
	require.True(e.t, u.IsAdmin)
	return r.str("access_token")
}

// validity asks the client API whether a token is valid.
func (e *gtEnv) validity(token string) bool {
	e.t.Helper()
	r := e.do("GET", "/_matrix/client/v1/register/m.login.registration_token/validity?token="+url.QueryEscape(token), "", nil)
	require.Equal(e.t, 200, r.status, "%s", r.raw)
	v, ok := r.body["valid"].(bool)
	require.True(e.t, ok, "%s", r.raw)
	return v
}

// listTokens returns the token texts of the list endpoint, in order.
func (e *gtEnv) listTokens(admin, query string) []string {
	e.t.Helper()
	r := e.do("GET", regTokensPath+query, admin, nil)
	require.Equal(e.t, 200, r.status, "%s", r.raw)
	list, ok := r.body["registration_tokens"].([]any)
	require.True(e.t, ok, "%s", r.raw)
	out := []string{}
	for _, t := range list {
		out = append(out, t.(map[string]any)["token"].(string))
	}
	return out
}

func tokenObject(token string, uses any, pending, completed int, expiry any) map[string]any {
	return map[string]any{"token": token, "uses_allowed": uses, "pending": float64(pending),
		"completed": float64(completed), "expiry_time": expiry}
}

// TestRegistrationTokenInviteCode is the invite-code story end to end: an
// admin creates a code with two uses and an expiry, two people register with
// it while registration requires a token, the third is refused, and the
// admin extends, inspects and deletes it.
func TestRegistrationTokenInviteCode(t *testing.T) {
	forEachGTEnv(t, func(t *testing.T, e *gtEnv) {
		admin := e.adminToken()
		expiry := float64(e.clock.Now().Add(7 * 24 * time.Hour).UnixMilli())
		r := e.do("POST", regTokensPath+"/new", admin, map[string]any{"token": "invite-2025", "uses_allowed": 2, "expiry_time": expiry})
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, tokenObject("invite-2025", float64(2), 0, 0, expiry), r.body)
		assert.True(t, e.validity("invite-2025"))

		// Open registration needs a token.
		gtExpectErr(t, e.do("POST", v3+"/register", "", map[string]any{"username": "x", "password": "y",
			"auth": map[string]any{"type": stageDummy}}), 401, "M_FORBIDDEN")

		for i, name := range []string{"carol", "dave"} {
			r := e.registerWithToken(name, "invite-2025")
			require.Equal(t, 200, r.status, "%s", r.raw)
			assert.Equal(t, "@"+name+":"+testServerName, r.str("user_id"))
			who := e.do("GET", v3+"/account/whoami", r.str("access_token"), nil)
			assert.Equal(t, "@"+name+":"+testServerName, who.str("user_id"))
			got := e.do("GET", regTokensPath+"/invite-2025", admin, nil)
			assert.Equal(t, tokenObject("invite-2025", float64(2), 0, i+1, expiry), got.body)
		}
		assert.False(t, e.validity("invite-2025"), "both uses are spent")
		assert.Equal(t, []string{"bootstrap", "invite-2025"}, e.listTokens(admin, "?valid=false"))
		assert.Equal(t, []string{}, e.listTokens(admin, "?valid=true"))

		// The third person is refused at the token stage, and no account
		// is made.
		r = e.registerWithToken("erin", "invite-2025")
		require.Equal(t, 401, r.status, "%s", r.raw)
		assert.Equal(t, "M_UNAUTHORIZED", r.str("errcode"))
		assert.NotContains(t, r.body, "completed")
		_, err := e.accounts.GetUser(e.ctx, "erin")
		require.Error(t, err)
		got := e.do("GET", regTokensPath+"/invite-2025", admin, nil)
		assert.Equal(t, tokenObject("invite-2025", float64(2), 0, 2, expiry), got.body, "the refusal reserved nothing")

		// One more use: erin gets in.
		r = e.do("PUT", regTokensPath+"/invite-2025", admin, map[string]any{"uses_allowed": 3})
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, tokenObject("invite-2025", float64(3), 0, 2, expiry), r.body)
		assert.True(t, e.validity("invite-2025"))
		r = e.registerWithToken("erin", "invite-2025")
		require.Equal(t, 200, r.status, "%s", r.raw)

		// Unlimited and never expiring, then expiring in an hour: an hour
		// later it is invalid, listed as such and refused.
		r = e.do("PUT", regTokensPath+"/invite-2025", admin, map[string]any{"uses_allowed": nil, "expiry_time": nil})
		assert.Equal(t, tokenObject("invite-2025", nil, 0, 3, nil), r.body)
		inAnHour := float64(e.clock.Now().Add(time.Hour).UnixMilli())
		r = e.do("PUT", regTokensPath+"/invite-2025", admin, map[string]any{"expiry_time": inAnHour})
		assert.Equal(t, tokenObject("invite-2025", nil, 0, 3, inAnHour), r.body, "uses_allowed kept: absent fields stay")
		r = e.do("PUT", regTokensPath+"/invite-2025", admin, map[string]any{})
		assert.Equal(t, tokenObject("invite-2025", nil, 0, 3, inAnHour), r.body, "an empty update changes nothing")
		assert.True(t, e.validity("invite-2025"))
		e.clock.Advance(time.Hour)
		assert.False(t, e.validity("invite-2025"))
		assert.Equal(t, []string{"bootstrap", "invite-2025"}, e.listTokens(admin, "?valid=false"))
		r = e.registerWithToken("frank", "invite-2025")
		assert.Equal(t, "M_UNAUTHORIZED", r.str("errcode"), "%s", r.raw)

		// Delete: gone from everywhere.
		r = e.do("DELETE", regTokensPath+"/invite-2025", admin, nil)
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, map[string]any{}, r.body)
		gtExpectErr(t, e.do("GET", regTokensPath+"/invite-2025", admin, nil), 404, "M_NOT_FOUND")
		gtExpectErr(t, e.do("DELETE", regTokensPath+"/invite-2025", admin, nil), 404, "M_NOT_FOUND")
		assert.Equal(t, []string{"bootstrap"}, e.listTokens(admin, ""))
		assert.False(t, e.validity("invite-2025"))
	}, requireToken)
}

func TestRegistrationTokenGenerated(t *testing.T) {
	forEachGTEnv(t, func(t *testing.T, e *gtEnv) {
		admin := e.adminToken()
		seen := map[string]bool{}
		for _, tc := range []struct {
			body   map[string]any
			length int
		}{
			{map[string]any{}, 16},
			{map[string]any{"length": 64}, 64},
			{map[string]any{"length": 1, "uses_allowed": 0}, 1},
		} {
			r := e.do("POST", regTokensPath+"/new", admin, tc.body)
			require.Equal(t, 200, r.status, "%s", r.raw)
			tok := r.str("token")
			assert.Len(t, tok, tc.length)
			for _, ch := range tok {
				assert.Contains(t, regTokenChars, string(ch))
			}
			assert.False(t, seen[tok])
			seen[tok] = true
			uses := tc.body["uses_allowed"]
			if uses != nil {
				uses = float64(uses.(int))
			}
			assert.Equal(t, tokenObject(tok, uses, 0, 0, nil), r.body)
			got := e.do("GET", regTokensPath+"/"+url.PathEscape(tok), admin, nil)
			assert.Equal(t, r.body, got.body)
		}
		// uses_allowed 0: valid never (Synapse's way of disabling a token).
		for tok := range seen {
			if len(tok) == 1 {
				assert.False(t, e.validity(tok))
			}
		}
		// Every character of the alphabet is allowed in a given token.
		r := e.do("POST", regTokensPath+"/new", admin, map[string]any{"token": regTokenChars[:64]})
		require.Equal(t, 200, r.status, "%s", r.raw)
		r = e.do("POST", regTokensPath+"/new", admin, map[string]any{"token": "~._-", "length": 3})
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, "~._-", r.str("token"), "length is ignored when token is given")
		list := e.listTokens(admin, "")
		want := []string{"bootstrap", regTokenChars[:64], "~._-"}
		for tok := range seen {
			want = append(want, tok)
		}
		assert.ElementsMatch(t, want, list)
		// Random tokens are uniform over the alphabet: 65 characters, each
		// seen in 20,000 draws (a biased or short alphabet fails).
		counts := map[byte]int{}
		s := randomRegToken(20000)
		for i := range len(s) {
			counts[s[i]]++
		}
		assert.Len(t, counts, len(regTokenChars))
	}, requireToken)
}

func TestRegistrationTokenAdminErrors(t *testing.T) {
	forEachGTEnv(t, func(t *testing.T, e *gtEnv) {
		admin := e.adminToken()
		user := e.registerWithTokenUser(admin, "mallory")
		past := e.clock.Now().Add(-time.Second).UnixMilli()
		r := e.do("POST", regTokensPath+"/new", admin, map[string]any{"token": "existing"})
		require.Equal(t, 200, r.status, "%s", r.raw)

		for _, tc := range []struct {
			name, method, path, token string
			body                      any
			status                    int
			errcode                   string
		}{
			{"list, no token", "GET", regTokensPath, "", nil, 401, "M_MISSING_TOKEN"},
			{"list, bad token", "GET", regTokensPath, "nope", nil, 401, "M_UNKNOWN_TOKEN"},
			{"list, not admin", "GET", regTokensPath, user, nil, 403, "M_FORBIDDEN"},
			{"new, not admin", "POST", regTokensPath + "/new", user, map[string]any{"token": "mine"}, 403, "M_FORBIDDEN"},
			{"get, not admin", "GET", regTokensPath + "/existing", user, nil, 403, "M_FORBIDDEN"},
			{"put, not admin", "PUT", regTokensPath + "/existing", user, map[string]any{"uses_allowed": 0}, 403, "M_FORBIDDEN"},
			{"delete, not admin", "DELETE", regTokensPath + "/existing", user, nil, 403, "M_FORBIDDEN"},
			{"list, valid=yes", "GET", regTokensPath + "?valid=yes", admin, nil, 400, "M_INVALID_PARAM"},
			{"new, not JSON", "POST", regTokensPath + "/new", admin, "{", 400, "M_NOT_JSON"},
			{"new, array", "POST", regTokensPath + "/new", admin, "[]", 400, "M_BAD_JSON"},
			{"new, token too long", "POST", regTokensPath + "/new", admin, map[string]any{"token": strings.Repeat("a", 65)}, 400, "M_INVALID_PARAM"},
			{"new, token empty", "POST", regTokensPath + "/new", admin, map[string]any{"token": ""}, 400, "M_INVALID_PARAM"},
			{"new, token space", "POST", regTokensPath + "/new", admin, map[string]any{"token": "a b"}, 400, "M_INVALID_PARAM"},
			{"new, token slash", "POST", regTokensPath + "/new", admin, map[string]any{"token": "a/b"}, 400, "M_INVALID_PARAM"},
			{"new, token non-ascii", "POST", regTokensPath + "/new", admin, map[string]any{"token": "ålice"}, 400, "M_INVALID_PARAM"},
			{"new, token number", "POST", regTokensPath + "/new", admin, map[string]any{"token": 5}, 400, "M_INVALID_PARAM"},
			{"new, token null", "POST", regTokensPath + "/new", admin, map[string]any{"token": nil}, 400, "M_INVALID_PARAM"},
			{"new, token in use", "POST", regTokensPath + "/new", admin, map[string]any{"token": "existing"}, 400, "M_INVALID_PARAM"},
			{"new, uses negative", "POST", regTokensPath + "/new", admin, map[string]any{"uses_allowed": -1}, 400, "M_INVALID_PARAM"},
			{"new, uses fraction", "POST", regTokensPath + "/new", admin, map[string]any{"uses_allowed": 1.5}, 400, "M_INVALID_PARAM"},
			{"new, uses string", "POST", regTokensPath + "/new", admin, map[string]any{"uses_allowed": "2"}, 400, "M_INVALID_PARAM"},
			{"new, uses bool", "POST", regTokensPath + "/new", admin, map[string]any{"uses_allowed": true}, 400, "M_INVALID_PARAM"},
			{"new, uses huge", "POST", regTokensPath + "/new", admin, `{"uses_allowed": 99999999999999999999}`, 400, "M_INVALID_PARAM"},
			{"new, expiry past", "POST", regTokensPath + "/new", admin, map[string]any{"expiry_time": past}, 400, "M_INVALID_PARAM"},
			{"new, expiry string", "POST", regTokensPath + "/new", admin, map[string]any{"expiry_time": "tomorrow"}, 400, "M_INVALID_PARAM"},
			{"new, expiry exponent", "POST", regTokensPath + "/new", admin, `{"expiry_time": 1e15}`, 400, "M_INVALID_PARAM"},
			{"new, length 0", "POST", regTokensPath + "/new", admin, map[string]any{"length": 0}, 400, "M_INVALID_PARAM"},
			{"new, length 65", "POST", regTokensPath + "/new", admin, map[string]any{"length": 65}, 400, "M_INVALID_PARAM"},
			{"new, length string", "POST", regTokensPath + "/new", admin, map[string]any{"length": "16"}, 400, "M_INVALID_PARAM"},
			{"new, length null", "POST", regTokensPath + "/new", admin, map[string]any{"length": nil}, 400, "M_INVALID_PARAM"},
			{"get, unknown", "GET", regTokensPath + "/unknown", admin, nil, 404, "M_NOT_FOUND"},
			{"put, unknown", "PUT", regTokensPath + "/unknown", admin, map[string]any{"uses_allowed": 1}, 404, "M_NOT_FOUND"},
			{"put, empty body", "PUT", regTokensPath + "/existing", admin, nil, 400, "M_NOT_JSON"},
			{"put, uses negative", "PUT", regTokensPath + "/existing", admin, map[string]any{"uses_allowed": -5}, 400, "M_INVALID_PARAM"},
			{"put, expiry past", "PUT", regTokensPath + "/existing", admin, map[string]any{"expiry_time": past}, 400, "M_INVALID_PARAM"},
			{"put, expiry object", "PUT", regTokensPath + "/existing", admin, map[string]any{"expiry_time": map[string]any{}}, 400, "M_INVALID_PARAM"},
			{"delete, unknown", "DELETE", regTokensPath + "/unknown", admin, nil, 404, "M_NOT_FOUND"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				gtExpectErr(t, e.sub(t).do(tc.method, tc.path, tc.token, tc.body), tc.status, tc.errcode)
			})
		}
		// None of it changed anything.
		assert.Equal(t, []string{"bootstrap", "existing"}, e.listTokens(admin, ""))
		got := e.do("GET", regTokensPath+"/existing", admin, nil)
		assert.Equal(t, tokenObject("existing", nil, 0, 0, nil), got.body)
		// The 404 names the token, as Synapse's does.
		r = e.do("GET", regTokensPath+"/unknown", admin, nil)
		assert.Equal(t, fmt.Sprintf("No such registration token: %s", "unknown"), r.str("error"))
	}, requireToken)
}

// registerWithTokenUser registers a non-admin user through a fresh
// single-use token the admin creates, and returns its access token.
func (e *gtEnv) registerWithTokenUser(admin, username string) string {
	e.t.Helper()
	r := e.do("POST", regTokensPath+"/new", admin, map[string]any{"token": "for-" + username, "uses_allowed": 1})
	require.Equal(e.t, 200, r.status, "%s", r.raw)
	r = e.registerWithToken(username, "for-"+username)
	require.Equal(e.t, 200, r.status, "%s", r.raw)
	r2 := e.do("DELETE", regTokensPath+"/for-"+username, admin, nil)
	require.Equal(e.t, 200, r2.status, "%s", r2.raw)
	return r.str("access_token")
}
