package federationapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver/signing"
	"github.com/concordchat/concord/storage/accounts"
)

// OpenIDTokens resolves OpenID tokens (*accounts.Store). It returns
// accounts.ErrNotFound or accounts.ErrTokenExpired for tokens that do not
// identify anyone.
type OpenIDTokens interface {
	LookupOpenIDToken(ctx context.Context, token string) (localpart string, err error)
}

// Deps are the federation API's collaborators.
type Deps struct {
	ServerName string
	// Key is the server's signing key, published at /_matrix/key/v2/server.
	Key    signing.Key
	OpenID OpenIDTokens
	Logger *zap.Logger
	Now    func() time.Time // optional
}

// API is the server-server API.
type API struct {
	deps Deps
	log  *zap.Logger
}

// New makes the federation API.
func New(deps Deps) (*API, error) {
	if deps.ServerName == "" || deps.OpenID == nil || deps.Key.Private == nil {
		return nil, errors.New("federationapi: Deps needs ServerName, Key and OpenID")
	}
	if deps.Logger == nil {
		deps.Logger = zap.NewNop()
	}
	return &API{deps: deps, log: deps.Logger.Named("federationapi")}, nil
}

// route is one entry of the routes table.
type route struct {
	method, path string
	handler      gin.HandlerFunc
}

func (a *API) routes() []route {
	return []route{
		{http.MethodGet, "/_matrix/federation/v1/openid/userinfo", a.openIDUserInfo},
		{http.MethodGet, "/_matrix/key/v2/server", a.serverKeysHandler},
	}
}

// Register mounts every route on r.
func (a *API) Register(r gin.IRoutes) {
	for _, rt := range a.routes() {
		r.Handle(rt.method, rt.path, rt.handler)
	}
}

// userInfoResponse is the answer of /openid/userinfo.
type userInfoResponse struct {
	Sub string `json:"sub"`
}

// openIDUserInfo answers GET /_matrix/federation/v1/openid/userinfo?access_token=
// with the user the OpenID token was issued to. Unknown, expired and
// missing tokens are 401 M_UNKNOWN_TOKEN (as in Synapse, which answers a
// missing token the same way).
func (a *API) openIDUserInfo(c *gin.Context) {
	token := c.Query("access_token")
	if token == "" {
		matrixhttp.Fail(c, matrixhttp.UnknownToken("Access token required"))
		return
	}
	localpart, err := a.deps.OpenID.LookupOpenIDToken(c.Request.Context(), token)
	switch {
	case errors.Is(err, accounts.ErrNotFound), errors.Is(err, accounts.ErrTokenExpired):
		matrixhttp.Fail(c, matrixhttp.UnknownToken("Access token unknown or expired"))
		return
	case err != nil:
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, userInfoResponse{Sub: "@" + localpart + ":" + a.deps.ServerName})
}
