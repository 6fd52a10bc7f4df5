package clientapi

import (
	"errors"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/storage/accounts"
)

const sessionKey = "concord.session"

// Session is the authenticated caller of a request.
type Session struct {
	UserID       string
	Localpart    string
	DeviceID     string
	IsGuest      bool
	IsAdmin      bool
	IsAppService bool
	AccessToken  string
}

// sessionOf returns the request's session, if it was authenticated.
func sessionOf(c *gin.Context) (Session, bool) {
	v, ok := c.Get(sessionKey)
	if !ok {
		return Session{}, false
	}
	s, ok := v.(Session)
	return s, ok
}

// mustSession returns the session of a route that requires authentication.
func mustSession(c *gin.Context) Session {
	s, _ := sessionOf(c)
	return s
}

// accessToken reads the token from the Authorization header or the
// deprecated access_token query parameter.
func accessToken(c *gin.Context) string {
	if h := c.GetHeader("Authorization"); h != "" {
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	return c.Query("access_token")
}

// authenticate checks the access token according to mode.
func (a *API) authenticate(mode authMode) gin.HandlerFunc {
	return func(c *gin.Context) {
		tok := accessToken(c)
		if tok == "" {
			if mode == authOptional {
				c.Next()
				return
			}
			matrixhttp.Fail(c, matrixhttp.MissingToken("Missing access token"))
			return
		}
		s, err := a.deps.Accounts.LookupAccessToken(c.Request.Context(), tok)
		switch {
		case errors.Is(err, accounts.ErrTokenExpired):
			e := matrixhttp.UnknownToken("Access token has expired")
			e.Extra = map[string]any{"soft_logout": true}
			matrixhttp.Fail(c, e)
			return
		case errors.Is(err, accounts.ErrNotFound):
			matrixhttp.Fail(c, matrixhttp.UnknownToken("Unknown access token"))
			return
		case err != nil:
			matrixhttp.Fail(c, err)
			return
		}
		// Deactivation deletes a user's tokens, so a token found is a live account's.
		if mode == authAdmin && !s.IsAdmin {
			matrixhttp.Fail(c, matrixhttp.Forbidden("You are not a server admin"))
			return
		}
		a.touchDevice(c, s.Localpart, s.DeviceID)
		c.Set(sessionKey, Session{UserID: a.userID(s.Localpart), Localpart: s.Localpart, DeviceID: s.DeviceID,
			IsGuest: s.IsGuest, IsAdmin: s.IsAdmin, AccessToken: tok})
		c.Next()
	}
}

// userID builds a local user ID from a localpart.
func (a *API) userID(localpart string) string {
	return "@" + localpart + ":" + a.deps.Config.ServerName
}
