package clientapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/storage/accounts"
)

const (
	loginTypePassword = "m.login.password"
	identifierUser    = "m.id.user"
)

// userIdentifier is a user identifier object ("Identifier types").
type userIdentifier struct {
	Type    string `json:"type"`
	User    string `json:"user"`    // m.id.user
	Medium  string `json:"medium"`  // m.id.thirdparty
	Address string `json:"address"` // m.id.thirdparty
	Country string `json:"country"` // m.id.phone
	Phone   string `json:"phone"`   // m.id.phone
}

type loginFlow struct {
	Type string `json:"type"`
}

type loginFlowsResponse struct {
	Flows []loginFlow `json:"flows"`
}

// loginFlows answers GET /login: password login only (m.login.token and SSO
// are not implemented, so they are not offered).
func (a *API) loginFlows(c *gin.Context) {
	matrixhttp.Respond(c, http.StatusOK, loginFlowsResponse{Flows: []loginFlow{{Type: loginTypePassword}}})
}

type loginRequest struct {
	Type                     string          `json:"type"`
	Identifier               *userIdentifier `json:"identifier"`
	User                     string          `json:"user"`    // deprecated form of identifier
	Medium                   string          `json:"medium"`  // deprecated 3PID form
	Address                  string          `json:"address"` // deprecated 3PID form
	Password                 string          `json:"password"`
	DeviceID                 string          `json:"device_id"`
	InitialDeviceDisplayName string          `json:"initial_device_display_name"`
	RefreshToken             bool            `json:"refresh_token"`
}

type loginResponse struct {
	UserID       string `json:"user_id"`
	AccessToken  string `json:"access_token"`
	DeviceID     string `json:"device_id"`
	HomeServer   string `json:"home_server"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresInMS  int64  `json:"expires_in_ms,omitempty"`
}

// errBadLogin is the one answer for an unknown user and a wrong password,
// so that logins do not reveal which accounts exist.
func errBadLogin() *matrixhttp.Error { return matrixhttp.Forbidden("Invalid username or password") }

// login answers POST /login with m.login.password.
func (a *API) login(c *gin.Context) {
	var req loginRequest
	if err := matrixhttp.DecodeJSON(c, &req, 0, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	switch {
	case req.Type == "":
		matrixhttp.Fail(c, matrixhttp.MissingParam("Missing login type"))
		return
	case req.Type != loginTypePassword:
		matrixhttp.Fail(c, &matrixhttp.Error{Status: http.StatusBadRequest, ErrCode: "M_UNKNOWN", Message: "Bad login type"})
		return
	}
	user, err := loginUser(req)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if err := checkDeviceFields(req.DeviceID, req.InitialDeviceDisplayName); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	localpart, ok := a.localUser(user)
	if !ok {
		a.passwords.check("", req.Password) // same time as a real check
		matrixhttp.Fail(c, errBadLogin())
		return
	}
	u, err := a.deps.Accounts.GetUser(ctx, localpart)
	switch {
	case errors.Is(err, accounts.ErrNotFound):
		a.passwords.check("", req.Password)
		matrixhttp.Fail(c, errBadLogin())
		return
	case err != nil:
		matrixhttp.Fail(c, err)
		return
	case u.Deactivated:
		// Deactivation wipes the password, so this cannot check it; like
		// Synapse, say why the login fails.
		matrixhttp.Fail(c, matrixhttp.UserDeactivated("This account has been deactivated"))
		return
	}
	if !a.passwords.check(u.PasswordHash, req.Password) {
		matrixhttp.Fail(c, errBadLogin())
		return
	}
	tokens, err := a.startDeviceSession(ctx, localpart, req.DeviceID, req.InitialDeviceDisplayName, req.RefreshToken)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, loginResponse{
		UserID: a.userID(localpart), AccessToken: tokens.accessToken, DeviceID: tokens.deviceID,
		HomeServer: a.deps.Config.ServerName, RefreshToken: tokens.refreshToken, ExpiresInMS: tokens.expiresInMS,
	})
}

// loginUser returns the user a password login names: identifier.user, or
// the deprecated top-level user.
func loginUser(req loginRequest) (string, error) {
	if id := req.Identifier; id != nil {
		switch id.Type {
		case identifierUser:
			if id.User == "" {
				return "", matrixhttp.MissingParam("Missing identifier.user")
			}
			return id.User, nil
		case "m.id.thirdparty", "m.id.phone":
			// Concord stores no third-party identifiers, so none is known.
			return "", matrixhttp.Forbidden("Unknown third-party identifier")
		default:
			return "", &matrixhttp.Error{Status: http.StatusBadRequest, ErrCode: "M_UNKNOWN", Message: "Unknown login identifier type"}
		}
	}
	if req.User != "" {
		return req.User, nil
	}
	if req.Medium != "" || req.Address != "" {
		return "", matrixhttp.Forbidden("Unknown third-party identifier")
	}
	return "", matrixhttp.MissingParam("Missing identifier")
}

// localUser maps a user ID of this server or a bare localpart to a
// lowercased localpart. It reports false for other servers' users and
// for strings that are not user IDs.
func (a *API) localUser(user string) (string, bool) {
	localpart := user
	if strings.HasPrefix(user, "@") {
		id, err := mxid.ParseUserID(user)
		if err != nil || id.Domain != a.deps.Config.ServerName {
			return "", false
		}
		localpart = id.Localpart
	}
	localpart = strings.ToLower(localpart)
	if !mxid.ValidLocalpart(localpart) {
		return "", false
	}
	return localpart, true
}

// checkPassword reports whether password is the password of the active
// local user localpart. Unknown and deactivated users have none.
func (a *API) checkPassword(ctx context.Context, localpart, password string) (bool, error) {
	u, err := a.deps.Accounts.GetUser(ctx, localpart)
	if errors.Is(err, accounts.ErrNotFound) {
		a.passwords.check("", password)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if u.Deactivated {
		a.passwords.check("", password)
		return false, nil
	}
	return a.passwords.check(u.PasswordHash, password), nil
}

// passwordStage is the m.login.password UIA stage: it checks the caller's
// password. The identifier, when given, must name the caller.
func (a *API) passwordStage(ctx context.Context, localpart string, auth *uiaAuth) error {
	user := auth.User
	if auth.Identifier != nil {
		if auth.Identifier.Type != identifierUser {
			return &stageFailure{"M_FORBIDDEN", "Only m.id.user identifiers are supported"}
		}
		user = auth.Identifier.User
	}
	if user != "" {
		if lp, ok := a.localUser(user); !ok || lp != localpart {
			a.passwords.check("", auth.Password)
			return &stageFailure{"M_FORBIDDEN", "Invalid username or password"}
		}
	}
	ok, err := a.checkPassword(ctx, localpart, auth.Password)
	if err != nil {
		return err
	}
	if !ok {
		return &stageFailure{"M_FORBIDDEN", "Invalid username or password"}
	}
	return nil
}
