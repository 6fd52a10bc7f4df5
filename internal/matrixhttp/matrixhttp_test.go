package matrixhttp

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
)

func init() { gin.SetMode(gin.TestMode) }

type body struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func testRouter(t *testing.T) *gin.Engine {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(RequestContext(zaptest.NewLogger(t)))
	r.NoRoute(NoRoute)
	r.NoMethod(NoMethod)
	r.POST("/echo", func(c *gin.Context) {
		var b body
		if err := DecodeJSON(c, &b, 64, false); err != nil {
			Fail(c, err)
			return
		}
		Respond(c, http.StatusOK, b)
	})
	r.GET("/panic", func(c *gin.Context) { panic("boom") })
	r.GET("/domain", func(c *gin.Context) { Fail(c, errDomain) })
	return r
}

var errDomain = errors.New("domain thing missing")

func init() {
	Register(Mapping{Target: errDomain, Make: func(err error) *Error { return NotFound("%v", err) }})
}

func do(t *testing.T, r http.Handler, method, path, payload string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(payload))
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	var out map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out), "body %q", w.Body.String())
	require.NotEmpty(t, w.Header().Get(RequestIDHeader))
	return w.Code, out
}

func TestErrorsAtTheEdge(t *testing.T) {
	r := testRouter(t)
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		errcode                  string
	}{
		{"not json", "POST", "/echo", "{nope", 400, "M_NOT_JSON"},
		{"not utf8", "POST", "/echo", "{\"name\":\"\xff\"}", 400, "M_NOT_JSON"},
		{"array", "POST", "/echo", "[1]", 400, "M_BAD_JSON"},
		{"wrong type", "POST", "/echo", `{"count":"x"}`, 400, "M_BAD_JSON"},
		{"empty", "POST", "/echo", ``, 400, "M_NOT_JSON"},
		{"too large", "POST", "/echo", `{"name":"` + strings.Repeat("a", 100) + `"}`, 413, "M_TOO_LARGE"},
		{"unknown path", "GET", "/nope", "", 404, "M_UNRECOGNIZED"},
		{"wrong method", "GET", "/echo", "", 405, "M_UNRECOGNIZED"},
		{"panic", "GET", "/panic", "", 500, "M_UNKNOWN"},
		{"mapped domain error", "GET", "/domain", "", 404, "M_NOT_FOUND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := do(t, r, tc.method, tc.path, tc.body)
			require.Equal(t, tc.status, status)
			require.Equal(t, tc.errcode, out["errcode"])
			require.NotEmpty(t, out["error"])
		})
	}
	status, out := do(t, r, "POST", "/echo", `{"name":"ok","count":3}`)
	require.Equal(t, 200, status)
	require.Equal(t, map[string]any{"name": "ok", "count": float64(3)}, out)
}

func TestRateLimiter(t *testing.T) {
	l := NewRateLimiter(2, 3)
	now := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		ok, _ := l.Allow("u", now)
		require.True(t, ok, "burst request %d", i)
	}
	ok, wait := l.Allow("u", now)
	require.False(t, ok)
	require.InDelta(t, 500, wait, 1)
	ok, _ = l.Allow("other", now)
	require.True(t, ok, "keys are independent")
	ok, _ = l.Allow("u", now.Add(600*time.Millisecond))
	require.True(t, ok, "refilled after the wait")

	r := gin.New()
	r.Use(l.Middleware(func(c *gin.Context) string { return "k" }))
	r.GET("/", func(c *gin.Context) { c.String(200, "{}") })
	var last *httptest.ResponseRecorder
	for i := 0; i < 5; i++ {
		last = httptest.NewRecorder()
		r.ServeHTTP(last, httptest.NewRequest("GET", "/", nil))
	}
	require.Equal(t, 429, last.Code)
	var out map[string]any
	require.NoError(t, json.Unmarshal(last.Body.Bytes(), &out))
	require.Equal(t, "M_LIMIT_EXCEEDED", out["errcode"])
	require.Greater(t, out["retry_after_ms"].(float64), 0.0)
}
