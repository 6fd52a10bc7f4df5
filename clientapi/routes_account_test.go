package clientapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
	"golang.org/x/crypto/bcrypt"

	"github.com/concordchat/concord/config"
	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/accounts"
	"github.com/concordchat/concord/storage/filters"
	"github.com/concordchat/concord/storage/storagetest"
)

// The account area's test harness: a real gin engine with the whole client
// API on a fresh database, on SQLite and PostgreSQL.

const testServerName = "test.local"

// acctClock is a settable clock shared by the API and the accounts store.
type acctClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *acctClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *acctClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type accountEnv struct {
	t       *testing.T
	ctx     context.Context
	api     *API
	engine  *gin.Engine
	store   *accounts.Store
	filters *filters.Store
	clock   *acctClock
}

// acctResp is a response: status, decoded JSON object and raw body.
type acctResp struct {
	status int
	body   map[string]any
	raw    []byte
}

func (r acctResp) errcode() string { s, _ := r.body["errcode"].(string); return s }
func (r acctResp) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

// forEachAccountEnv runs fn on both backends with registration open (no
// token), rate limiting off, and cfgFns applied to the configuration.
func forEachAccountEnv(t *testing.T, fn func(t *testing.T, e *accountEnv), cfgFns ...func(*config.Config)) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		fn(t, newAccountEnv(t, db, cfgFns...))
	})
}

func newAccountEnv(t *testing.T, db *storage.DB, cfgFns ...func(*config.Config)) *accountEnv {
	t.Helper()
	gin.SetMode(gin.TestMode)
	cfg := config.Defaults()
	cfg.ServerName = testServerName
	cfg.RateLimit.Enabled = false
	cfg.Registration.Enabled = true
	cfg.Registration.RequireToken = false
	for _, f := range cfgFns {
		f(&cfg)
	}
	log := zaptest.NewLogger(t)
	clock := &acctClock{now: time.UnixMilli(1_700_000_000_000)}
	store, err := accounts.New(accounts.Deps{DB: db, Logger: log, Now: clock.Now})
	require.NoError(t, err)
	fstore, err := filters.New(filters.Deps{DB: db})
	require.NoError(t, err)
	api, err := New(Deps{Config: cfg, Accounts: store, Filters: fstore, Logger: log, Now: clock.Now, BcryptCost: bcrypt.MinCost})
	require.NoError(t, err)
	engine := gin.New()
	engine.HandleMethodNotAllowed = true
	engine.Use(matrixhttp.RequestContext(log))
	api.Register(engine)
	engine.NoRoute(matrixhttp.NoRoute)
	engine.NoMethod(matrixhttp.NoMethod)
	return &accountEnv{t: t, ctx: context.Background(), api: api, engine: engine, store: store, filters: fstore, clock: clock}
}

// sub returns the env for a subtest: failures go to t.
func (e *accountEnv) sub(t *testing.T) *accountEnv {
	c := *e
	c.t = t
	return &c
}

// do sends a request. body is nil (no body), a string (sent as is) or a
// value to marshal. A non-empty token is sent as a Bearer token.
func (e *accountEnv) do(method, path string, body any, token string) acctResp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	e.engine.ServeHTTP(w, req)
	out := acctResp{status: w.Code, raw: w.Body.Bytes()}
	require.NoError(e.t, json.Unmarshal(out.raw, &out.body), "%s %s: body %q", method, path, w.Body.String())
	require.Equal(e.t, "application/json", w.Header().Get("Content-Type"))
	return out
}

const v3 = "/_matrix/client/v3"

// expectError checks a Matrix error response.
func (e *accountEnv) expectError(r acctResp, status int, errcode string) {
	e.t.Helper()
	require.Equal(e.t, status, r.status, "body %s", r.raw)
	require.Equal(e.t, errcode, r.errcode(), "body %s", r.raw)
	require.NotEmpty(e.t, r.str("error"), "body %s", r.raw)
}

// registered is an account made through /register.
type registered struct {
	userID, localpart, token, deviceID, password string
}

// register creates an account through the m.login.dummy UIA round trip.
func (e *accountEnv) register(username, password string, extra map[string]any) registered {
	e.t.Helper()
	body := map[string]any{"username": username, "password": password}
	for k, v := range extra {
		body[k] = v
	}
	first := e.do("POST", v3+"/register", body, "")
	require.Equal(e.t, 401, first.status, "body %s", first.raw)
	body["auth"] = map[string]any{"type": stageDummy, "session": first.str("session")}
	r := e.do("POST", v3+"/register", body, "")
	require.Equal(e.t, 200, r.status, "body %s", r.raw)
	lp := strings.ToLower(username)
	require.Equal(e.t, "@"+lp+":"+testServerName, r.str("user_id"))
	return registered{userID: r.str("user_id"), localpart: lp, token: r.str("access_token"), deviceID: r.str("device_id"), password: password}
}

// login logs in with a password and returns the response.
func (e *accountEnv) login(user, password string, extra map[string]any) acctResp {
	e.t.Helper()
	body := map[string]any{"type": "m.login.password", "identifier": map[string]any{"type": "m.id.user", "user": user}, "password": password}
	for k, v := range extra {
		body[k] = v
	}
	return e.do("POST", v3+"/login", body, "")
}

// whoami returns the whoami response of a token.
func (e *accountEnv) whoami(token string) acctResp {
	e.t.Helper()
	return e.do("GET", v3+"/account/whoami", nil, token)
}

// deviceIDs lists the IDs of the devices a token's user has, from the store.
func (e *accountEnv) deviceIDs(localpart string) []string {
	e.t.Helper()
	list, err := e.store.ListDevices(e.ctx, localpart)
	require.NoError(e.t, err)
	ids := []string{}
	for _, d := range list {
		ids = append(ids, d.DeviceID)
	}
	return ids
}

// passwordAuth is an m.login.password auth object.
func passwordAuth(session, user, password string) map[string]any {
	return map[string]any{"type": stagePassword, "session": session, "password": password,
		"identifier": map[string]any{"type": "m.id.user", "user": user}}
}

// uiaRoundTrip posts body without auth, checks the 401 offers exactly the
// password flow, then posts it again with the password and returns that
// response.
func (e *accountEnv) uiaRoundTrip(method, path, token string, body map[string]any, user, password string) acctResp {
	e.t.Helper()
	first := e.do(method, path, body, token)
	require.Equal(e.t, 401, first.status, "body %s", first.raw)
	require.Equal(e.t, []any{map[string]any{"stages": []any{stagePassword}}}, first.body["flows"])
	require.Empty(e.t, first.errcode())
	body["auth"] = passwordAuth(first.str("session"), user, password)
	return e.do(method, path, body, token)
}

func TestAccountRoutesAreRegistered(t *testing.T) {
	e := newAccountEnv(t, storagetest.SQLite(t))
	for _, path := range []string{v3 + "/login", "/_matrix/client/r0/login"} {
		r := e.do("GET", path, nil, "")
		assert.Equal(t, 200, r.status, path)
	}
	// Only the v1 path exists for the registration token validity API.
	r := e.do("GET", "/_matrix/client/v1/register/m.login.registration_token/validity?token=x", nil, "")
	assert.Equal(t, 200, r.status)
	r = e.do("GET", v3+"/register/m.login.registration_token/validity?token=x", nil, "")
	e.expectError(r, 404, "M_UNRECOGNIZED")
	// Third-party identifier endpoints are not implemented.
	for _, path := range []string{"/account/3pid", "/account/3pid/add", "/account/3pid/delete", "/register/email/requestToken"} {
		r := e.do("POST", v3+path, `{}`, "")
		e.expectError(r, 404, "M_UNRECOGNIZED")
	}
	r = e.do("GET", v3+"/logout", nil, "")
	e.expectError(r, 405, "M_UNRECOGNIZED")
}

func TestRateLimitedRoutes(t *testing.T) {
	e := newAccountEnv(t, storagetest.SQLite(t), func(c *config.Config) {
		c.RateLimit = config.RateLimitConfig{Enabled: true, PerSecond: 0.001, Burst: 2}
	})
	for range 2 {
		r := e.do("POST", v3+"/login", `{}`, "")
		e.expectError(r, 400, "M_MISSING_PARAM")
	}
	// The bucket is per client IP, shared by the limited routes.
	for _, path := range []string{"/login", "/register"} {
		r := e.do("POST", v3+path, `{}`, "")
		e.expectError(r, 429, "M_LIMIT_EXCEEDED")
		assert.Greater(t, r.body["retry_after_ms"], 0.0)
	}
	// GET /login is not limited.
	for range 5 {
		assert.Equal(t, 200, e.do("GET", v3+"/login", nil, "").status)
	}
}

func TestMalformedAccountRequests(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		alice := e.register("alice", "pw", map[string]any{"device_id": "DEV"})
		huge := `{"username":"` + strings.Repeat("a", matrixhttp.DefaultMaxBodyBytes) + `"}`
		for _, tc := range []struct {
			name, method, path string
			body               any
			token              string
			status             int
			errcode            string
		}{
			{"register array", "POST", "/register", `[1]`, "", 400, "M_BAD_JSON"},
			{"register null", "POST", "/register", `null`, "", 400, "M_BAD_JSON"},
			{"register not utf-8", "POST", "/register", "{\"username\":\"\xff\"}", "", 400, "M_NOT_JSON"},
			{"register username list", "POST", "/register", `{"username":["a"]}`, "", 400, "M_BAD_JSON"},
			{"register inhibit_login string", "POST", "/register", `{"inhibit_login":"true"}`, "", 400, "M_BAD_JSON"},
			{"register auth type number", "POST", "/register", `{"auth":{"type":1}}`, "", 400, "M_BAD_JSON"},
			{"register auth session list", "POST", "/register", `{"auth":{"session":[]}}`, "", 400, "M_BAD_JSON"},
			{"register huge", "POST", "/register", huge, "", 413, "M_TOO_LARGE"},
			{"login huge", "POST", "/login", huge, "", 413, "M_TOO_LARGE"},
			{"login trailing garbage", "POST", "/login", `{"type":"m.login.password"} x`, "", 400, "M_NOT_JSON"},
			{"login identifier number", "POST", "/login", `{"type":"m.login.password","identifier":{"type":"m.id.user","user":5}}`, "", 400, "M_BAD_JSON"},
			{"login long user ID", "POST", "/login", `{"type":"m.login.password","user":"@` + strings.Repeat("a", 300) + `:test.local","password":"pw"}`, "", 403, "M_FORBIDDEN"},
			{"refresh not json", "POST", "/refresh", `refresh`, "", 400, "M_NOT_JSON"},
			{"refresh huge", "POST", "/refresh", huge, "", 413, "M_TOO_LARGE"},
			{"whoami unknown token", "GET", "/account/whoami", nil, "cat_forged", 401, "M_UNKNOWN_TOKEN"},
			{"password no token", "POST", "/account/password", `{"new_password":"x"}`, "", 401, "M_MISSING_TOKEN"},
			{"password unknown token", "POST", "/account/password", `{"new_password":"x"}`, "crt_not_an_access_token", 401, "M_UNKNOWN_TOKEN"},
			{"password auth list", "POST", "/account/password", `{"new_password":"x","auth":[]}`, alice.token, 400, "M_BAD_JSON"},
			{"password empty body", "POST", "/account/password", ``, alice.token, 400, "M_NOT_JSON"},
			{"deactivate auth string", "POST", "/account/deactivate", `{"auth":"pw"}`, alice.token, 400, "M_BAD_JSON"},
			{"deactivate huge", "POST", "/account/deactivate", huge, alice.token, 413, "M_TOO_LARGE"},
			{"logout no token", "POST", "/logout", nil, "", 401, "M_MISSING_TOKEN"},
			{"logout all unknown token", "POST", "/logout/all", nil, "nope", 401, "M_UNKNOWN_TOKEN"},
			{"devices no token", "GET", "/devices", nil, "", 401, "M_MISSING_TOKEN"},
			{"device with a space", "GET", "/devices/a%20b", nil, alice.token, 404, "M_NOT_FOUND"},
			{"put device not json", "PUT", "/devices/DEV", `name=x`, alice.token, 400, "M_NOT_JSON"},
			{"delete device array", "DELETE", "/devices/DEV", `[]`, alice.token, 400, "M_BAD_JSON"},
			{"delete devices null list", "POST", "/delete_devices", `{"devices":null}`, alice.token, 400, "M_MISSING_PARAM"},
			{"delete devices no token", "POST", "/delete_devices", `{"devices":[]}`, "", 401, "M_MISSING_TOKEN"},
			{"filter user without domain", "POST", "/user/alice/filter", `{}`, alice.token, 400, "M_INVALID_PARAM"},
			{"filter bare sigil", "POST", "/user/@/filter", `{}`, alice.token, 400, "M_INVALID_PARAM"},
			{"filter empty domain", "GET", "/user/@alice:/filter/0", nil, alice.token, 400, "M_INVALID_PARAM"},
			{"filter long user ID", "GET", "/user/@" + strings.Repeat("a", 300) + ":test.local/filter/0", nil, alice.token, 400, "M_INVALID_PARAM"},
			{"capabilities unknown token", "GET", "/capabilities", nil, "x", 401, "M_UNKNOWN_TOKEN"},
			{"available no username", "GET", "/register/available?username=", nil, "", 400, "M_MISSING_PARAM"},
			{"shared secret huge", "POST", "/_synapse/admin/v1/register", huge, "", 400, "M_FORBIDDEN"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := e.sub(t)
				path := tc.path
				if !strings.HasPrefix(path, "/_") {
					path = v3 + path
				}
				e.expectError(e.do(tc.method, path, tc.body, tc.token), tc.status, tc.errcode)
			})
		}
		// An Authorization header that is not a Bearer token is no token.
		req := httptest.NewRequest("GET", v3+"/account/whoami", nil)
		req.Header.Set("Authorization", "Basic "+alice.token)
		w := httptest.NewRecorder()
		e.engine.ServeHTTP(w, req)
		assert.Equal(t, 401, w.Code)
		assert.Contains(t, w.Body.String(), "M_MISSING_TOKEN")
	})
}

// TestAccountRoutesNeverFail500 sends odd bodies to every account route,
// authenticated and not, and checks each answer is a Matrix response below 500.
func TestAccountRoutesNeverFail500(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		alice := e.register("alice", "pw", map[string]any{"device_id": "DEV"})
		bodies := []string{
			``, `{}`, `[]`, `null`, `"x"`, `{"a":`, "\x00", `{"auth":{}}`, `{"auth":{"type":"m.login.password"}}`,
			`{"auth":{"type":"m.login.password","identifier":{"type":"m.id.user","user":"@alice:test.local"},"password":"wrong"}}`,
			`{"auth":{"type":"m.login.registration_token","token":""}}`, `{"auth":{"type":"m.login.dummy","session":"x"}}`,
			`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"@:"}}`, `{"devices":["DEV",""]}`,
			`{"username":"","password":"","device_id":""}`, `{"nonce":"","username":"","password":"","mac":""}`,
			`{"room":{"timeline":{"limit":9007199254740993}}}`, `{"refresh_token":""}`, `{"display_name":null}`,
			`{"new_password":"` + strings.Repeat("\u00e9", 200) + `"}`,
		}
		params := strings.NewReplacer(":deviceId", "DEV", ":userId", "@alice:test.local", ":filterId", "0")
		for _, rt := range e.api.accountRoutes() {
			path := params.Replace(rt.path)
			if !strings.HasPrefix(path, "/_") {
				path = v3 + path
			}
			for _, token := range []string{"", alice.token} {
				for _, body := range bodies {
					r := e.do(rt.method, path, body, token)
					require.Less(t, r.status, 500, "%s %s %q: %s", rt.method, path, body, r.raw)
					if r.status >= 400 && r.status != 401 {
						require.NotEmpty(t, r.errcode(), "%s %s %q: %s", rt.method, path, body, r.raw)
					}
				}
			}
		}
	}, withSharedSecret)
}
