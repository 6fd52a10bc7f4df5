package clientapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
)

const (
	// openIDTokenLifetime is how long an OpenID token can be exchanged at
	// /_matrix/federation/v1/openid/userinfo (as in Synapse: one hour).
	openIDTokenLifetime = time.Hour
	openIDTokenPrefix   = "coi_"
)

// openIDTokenResponse is the spec's OpenIdCredentials object.
type openIDTokenResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	MatrixServerName string `json:"matrix_server_name"`
	ExpiresIn        int64  `json:"expires_in"` // seconds
}

// openIDTokenRequest is the request body: an empty object, reserved for
// future expansion. An empty body is accepted too (several clients send
// none).
type openIDTokenRequest struct{}

// requestOpenIDToken answers POST /user/{userId}/openid/request_token: a
// token that only proves the caller's identity to a third-party service
// (module "OpenID"); it is no access token. Only the hash is stored.
func (a *API) requestOpenIDToken(c *gin.Context) {
	var req openIDTokenRequest
	if err := matrixhttp.DecodeJSON(c, &req, 0, true); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	s := mustSession(c)
	if c.Param("userId") != s.UserID {
		matrixhttp.Fail(c, matrixhttp.Forbidden("Cannot request OpenID tokens for other users"))
		return
	}
	token := newSecret(openIDTokenPrefix)
	expires := a.deps.Now().Add(openIDTokenLifetime)
	if err := a.deps.Accounts.CreateOpenIDToken(c.Request.Context(), s.Localpart, token, expires.UnixMilli()); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, openIDTokenResponse{AccessToken: token, TokenType: "Bearer",
		MatrixServerName: a.deps.Config.ServerName, ExpiresIn: int64(openIDTokenLifetime / time.Second)})
}
