package federationapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/concordchat/concord/federationapi"
	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/accounts"
	"github.com/concordchat/concord/storage/storagetest"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is the federation API on a loopback server over a real accounts store.
type env struct {
	t     *testing.T
	acc   *accounts.Store
	clock *clock
	srv   *httptest.Server
}

func newEnv(t *testing.T, db *storage.DB) *env {
	c := &clock{now: time.UnixMilli(1_700_000_000_000)}
	acc, err := accounts.New(accounts.Deps{DB: db, Logger: zaptest.NewLogger(t), Now: c.Now})
	require.NoError(t, err)
	api, err := federationapi.New(federationapi.Deps{ServerName: "fed.test", Key: testKey(t), OpenID: acc, Logger: zaptest.NewLogger(t)})
	require.NoError(t, err)
	gin.SetMode(gin.TestMode)
	engine := gin.New()
	engine.HandleMethodNotAllowed = true
	engine.Use(matrixhttp.RequestContext(zaptest.NewLogger(t)))
	engine.NoRoute(matrixhttp.NoRoute)
	engine.NoMethod(matrixhttp.NoMethod)
	api.Register(engine)
	srv := httptest.NewServer(engine)
	t.Cleanup(srv.Close)
	return &env{t: t, acc: acc, clock: c, srv: srv}
}

// get returns the status and JSON object body of a GET.
func (e *env) get(pathAndQuery string) (int, map[string]any) {
	e.t.Helper()
	res, err := http.Get(e.srv.URL + pathAndQuery)
	require.NoError(e.t, err)
	defer func() { _ = res.Body.Close() }()
	assert.Equal(e.t, "application/json", res.Header.Get("Content-Type"))
	var body map[string]any
	require.NoError(e.t, json.NewDecoder(res.Body).Decode(&body))
	return res.StatusCode, body
}

func (e *env) userinfo(token string) (int, map[string]any) {
	return e.get("/_matrix/federation/v1/openid/userinfo?access_token=" + url.QueryEscape(token))
}

func (e *env) user(localpart string) {
	e.t.Helper()
	_, err := e.acc.CreateUser(context.Background(), accounts.NewUser{Localpart: localpart, PasswordHash: "$2a$04$x"})
	require.NoError(e.t, err)
}

func TestOpenIDUserInfo(t *testing.T) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.user("alice")
		e.user("bob")
		hour := e.clock.Now().Add(time.Hour).UnixMilli()
		require.NoError(t, e.acc.CreateOpenIDToken(ctx, "alice", "alice-secret", hour))
		require.NoError(t, e.acc.CreateOpenIDToken(ctx, "bob", "bob-secret", hour+1000))

		status, body := e.userinfo("alice-secret")
		assert.Equal(t, 200, status)
		assert.Equal(t, map[string]any{"sub": "@alice:fed.test"}, body)
		status, body = e.userinfo("bob-secret")
		assert.Equal(t, 200, status)
		assert.Equal(t, map[string]any{"sub": "@bob:fed.test"}, body)

		unknown := func(pathAndQuery string) {
			t.Helper()
			status, body := e.get(pathAndQuery)
			assert.Equal(t, 401, status, "%v", body)
			assert.Equal(t, "M_UNKNOWN_TOKEN", body["errcode"])
			assert.NotEmpty(t, body["error"])
		}
		unknown("/_matrix/federation/v1/openid/userinfo?access_token=wrong")
		unknown("/_matrix/federation/v1/openid/userinfo?access_token=")
		unknown("/_matrix/federation/v1/openid/userinfo")
		unknown("/_matrix/federation/v1/openid/userinfo?access_token=ALICE-SECRET")

		// Expiry: alice's token ends at its expiry instant, bob's a second later.
		e.clock.Advance(time.Hour)
		unknown("/_matrix/federation/v1/openid/userinfo?access_token=alice-secret")
		status, body = e.userinfo("bob-secret")
		assert.Equal(t, 200, status)
		assert.Equal(t, "@bob:fed.test", body["sub"])
		e.clock.Advance(time.Second)
		unknown("/_matrix/federation/v1/openid/userinfo?access_token=bob-secret")

		status, body = e.get("/_matrix/federation/v1/openid/nothing")
		assert.Equal(t, 404, status)
		assert.Equal(t, "M_UNRECOGNIZED", body["errcode"])
	})
}

// failingTokens is a store that fails: the endpoint answers 500 M_UNKNOWN
// without leaking the cause.
type failingTokens struct{}

func (failingTokens) LookupOpenIDToken(context.Context, string) (string, error) {
	return "", errors.New("database on fire")
}

func TestOpenIDUserInfoStoreFailure(t *testing.T) {
	api, err := federationapi.New(federationapi.Deps{ServerName: "fed.test", Key: testKey(t), OpenID: failingTokens{}})
	require.NoError(t, err)
	gin.SetMode(gin.TestMode)
	engine := gin.New()
	engine.Use(matrixhttp.RequestContext(zaptest.NewLogger(t)))
	api.Register(engine)
	w := httptest.NewRecorder()
	engine.ServeHTTP(w, httptest.NewRequest("GET", "/_matrix/federation/v1/openid/userinfo?access_token=x", nil))
	assert.Equal(t, 500, w.Code)
	assert.JSONEq(t, `{"errcode":"M_UNKNOWN","error":"Internal server error"}`, w.Body.String())
}

func TestNewNeedsDeps(t *testing.T) {
	_, err := federationapi.New(federationapi.Deps{ServerName: "fed.test"})
	assert.Error(t, err)
	_, err = federationapi.New(federationapi.Deps{OpenID: failingTokens{}, Key: testKey(t)})
	assert.Error(t, err)
}
