package clientapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/storage/accounts"
)

const (
	uiaOpRegister = "register"

	loginTypeAppService = "m.login.application_service"

	generatedUsernameLength = 12
	generatedUsernameTrials = 5
)

type registerRequest struct {
	Auth                     *uiaAuth `json:"auth"`
	Username                 string   `json:"username"`
	Password                 string   `json:"password"`
	DeviceID                 string   `json:"device_id"`
	InitialDeviceDisplayName string   `json:"initial_device_display_name"`
	InhibitLogin             bool     `json:"inhibit_login"`
	RefreshToken             bool     `json:"refresh_token"`
	Type                     string   `json:"type"` // m.login.application_service
	// GuestAccessToken upgrades that guest to a full account (module
	// "Guest Access"); see guests.go.
	GuestAccessToken string `json:"guest_access_token"`
}

type registerResponse struct {
	UserID       string `json:"user_id"`
	HomeServer   string `json:"home_server"`
	AccessToken  string `json:"access_token,omitempty"`
	DeviceID     string `json:"device_id,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresInMS  int64  `json:"expires_in_ms,omitempty"`
}

// register answers POST /register: kind=guest in registerGuest, kind=user
// here (also a guest's upgrade to a full account). The checks that do not
// need authentication (registration open, username free and valid, device
// fields) come before user-interactive authentication, as the spec asks.
func (a *API) register(c *gin.Context) {
	switch kind := c.DefaultQuery("kind", "user"); kind {
	case "user":
	case "guest":
		a.registerGuest(c)
		return
	default:
		matrixhttp.Fail(c, matrixhttp.InvalidParam("Unknown kind %q", kind))
		return
	}
	var req registerRequest
	if err := matrixhttp.DecodeJSON(c, &req, 0, true); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if req.Type == loginTypeAppService {
		matrixhttp.Fail(c, matrixhttp.Unrecognized(http.StatusBadRequest, "Application service registration is not supported"))
		return
	}
	ctx := c.Request.Context()
	flows, err := a.registrationFlows(ctx, req.Auth)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	var localpart, guest string // guest: the localpart of a guest to upgrade
	if req.GuestAccessToken != "" {
		if guest, err = a.guestToUpgrade(ctx, req.GuestAccessToken, req.Username); err != nil {
			matrixhttp.Fail(c, err)
			return
		}
	} else if req.Username != "" {
		if localpart, err = a.checkNewUsername(ctx, req.Username); err != nil {
			matrixhttp.Fail(c, err)
			return
		}
	}
	if err := checkDeviceFields(req.DeviceID, req.InitialDeviceDisplayName); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	// A bare request (no auth) only asks for the flows; one that
	// authenticates must carry the password.
	if req.Auth != nil && req.Password == "" {
		matrixhttp.Fail(c, matrixhttp.MissingParam("Missing password"))
		return
	}

	sess, err := a.uiaAuthenticate(ctx, uiaSpec{op: uiaOpRegister, flows: flows}, req.Auth)
	if err != nil {
		failAuth(c, err)
		return
	}
	if guest != "" {
		localpart, err = guest, a.upgradeGuest(ctx, guest, req.Password)
	} else {
		localpart, err = a.createAccount(ctx, localpart, req.Password)
	}
	if err != nil {
		a.uiaAbort(ctx, sess, true)
		matrixhttp.Fail(c, err)
		return
	}
	a.uiaFinish(sess)
	if sess.regToken != "" {
		if err := a.deps.Accounts.CompleteRegistrationToken(context.WithoutCancel(ctx), sess.regToken); err != nil {
			a.log.Error("could not complete registration token use", zap.String("localpart", localpart), zap.Error(err))
		}
	}

	resp := registerResponse{UserID: a.userID(localpart), HomeServer: a.deps.Config.ServerName}
	if !req.InhibitLogin {
		ds, err := a.startDeviceSession(ctx, localpart, req.DeviceID, req.InitialDeviceDisplayName, req.RefreshToken)
		if err != nil {
			matrixhttp.Fail(c, err)
			return
		}
		resp.AccessToken, resp.DeviceID = ds.accessToken, ds.deviceID
		resp.RefreshToken, resp.ExpiresInMS = ds.refreshToken, ds.expiresInMS
	}
	matrixhttp.Respond(c, http.StatusOK, resp)
}

// registrationFlows are the UIA flows of /register:
//
//   - registration open without token: m.login.dummy;
//   - registration open with registration.require_token: m.login.registration_token;
//   - registration closed: m.login.registration_token while a valid token
//     exists (or this session already holds one), so that an admin can still
//     hand out invitations and the first admin can use the token the server
//     creates on first start; otherwise 403 "Registration is disabled".
func (a *API) registrationFlows(ctx context.Context, auth *uiaAuth) ([][]string, error) {
	cfg := a.deps.Config.Registration
	switch {
	case cfg.Enabled && !cfg.RequireToken:
		return [][]string{{stageDummy}}, nil
	case cfg.Enabled:
		return [][]string{{stageRegToken}}, nil
	}
	if auth != nil && auth.Session != "" {
		if sess, ok := a.uia.get(auth.Session, a.deps.Now()); ok && sess.op == uiaOpRegister && sess.regToken != "" {
			return [][]string{{stageRegToken}}, nil
		}
	}
	valid := true
	tokens, err := a.deps.Accounts.ListRegistrationTokens(ctx, &valid)
	if err != nil {
		return nil, err
	}
	if len(tokens) == 0 {
		return nil, matrixhttp.Forbidden("Registration is disabled")
	}
	return [][]string{{stageRegToken}}, nil
}

// checkNewUsername lowercases a requested username and checks that it makes
// a valid user ID of at most 255 bytes that nobody has (deactivated accounts
// keep theirs). It returns the localpart.
func (a *API) checkNewUsername(ctx context.Context, username string) (string, error) {
	localpart := strings.ToLower(username)
	if !mxid.ValidLocalpart(localpart) {
		return "", matrixhttp.InvalidUsername("User ID can only contain characters a-z, 0-9, or '=_-./+'")
	}
	if len(a.userID(localpart)) > mxid.MaxIDLength {
		return "", matrixhttp.InvalidUsername("User ID is longer than %d bytes", mxid.MaxIDLength)
	}
	_, err := a.deps.Accounts.GetUser(ctx, localpart)
	switch {
	case err == nil:
		return "", matrixhttp.UserInUse("User ID already taken")
	case errors.Is(err, accounts.ErrNotFound):
		return localpart, nil
	default:
		return "", err
	}
}

// createAccount creates a user with password; an empty localpart gets a
// random one. It returns the localpart.
//
// Concord's bootstrap rule: the first account registered through /register
// on a server without any full (non-guest) account becomes a server admin. A
// new server refuses open registration but creates a single-use registration
// token on first start, so its operator registers the first account, the
// admin, with any client. The check and the creation are serialised within
// this process; servers sharing one database must not race their first
// registrations.
func (a *API) createAccount(ctx context.Context, localpart, password string) (string, error) {
	hash, err := a.passwords.hash(password)
	if err != nil {
		return "", err
	}
	admin, unlock, err := a.claimFirstAdmin(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	if localpart != "" {
		// As in Synapse, the displayname starts as the localpart.
		_, err = a.deps.Accounts.CreateUser(ctx, accounts.NewUser{
			Localpart: localpart, PasswordHash: hash, DisplayName: localpart, IsAdmin: admin,
		})
		if errors.Is(err, accounts.ErrUserExists) {
			return "", matrixhttp.UserInUse("User ID already taken")
		}
	} else {
		localpart, err = a.createRandomUser(ctx, accounts.NewUser{PasswordHash: hash, IsAdmin: admin})
	}
	if err != nil {
		return "", err
	}
	a.hasUsers.Store(true)
	if admin {
		a.log.Info("first account of the server registered: it is a server admin", zap.String("localpart", localpart))
	}
	return localpart, nil
}

// claimFirstAdmin reports whether the full account about to be made is the
// server's first (guests do not count), and so its admin. unlock must be
// called once that account exists: until then other registrations wait.
func (a *API) claimFirstAdmin(ctx context.Context) (admin bool, unlock func(), err error) {
	if a.hasUsers.Load() {
		return false, func() {}, nil
	}
	a.firstUser.Lock()
	n, err := a.deps.Accounts.CountFullUsers(ctx)
	if err != nil {
		a.firstUser.Unlock()
		return false, nil, err
	}
	return n == 0, a.firstUser.Unlock, nil
}

// createRandomUser creates u under a random localpart of a-z and 2-7.
func (a *API) createRandomUser(ctx context.Context, u accounts.NewUser) (string, error) {
	for range generatedUsernameTrials {
		u.Localpart = strings.ToLower(rand.Text()[:generatedUsernameLength])
		u.DisplayName = u.Localpart
		_, err := a.deps.Accounts.CreateUser(ctx, u)
		if !errors.Is(err, accounts.ErrUserExists) {
			return u.Localpart, err
		}
	}
	return "", fmt.Errorf("clientapi: no free random localpart after %d trials", generatedUsernameTrials)
}

// regTokenStage is the m.login.registration_token UIA stage: it reserves
// one use of the token until the registration completes or fails.
func (a *API) regTokenStage(ctx context.Context, token string) (string, error) {
	if token == "" {
		return "", &stageFailure{"M_MISSING_PARAM", "Missing registration token"}
	}
	err := a.deps.Accounts.ReserveRegistrationToken(ctx, token)
	if errors.Is(err, accounts.ErrNotFound) || errors.Is(err, accounts.ErrRegistrationTokenInvalid) {
		return "", &stageFailure{"M_UNAUTHORIZED", "Invalid registration token"}
	}
	if err != nil {
		return "", err
	}
	return token, nil
}

type availableResponse struct {
	Available bool `json:"available"`
}

// registerAvailable answers GET /register/available?username=.
func (a *API) registerAvailable(c *gin.Context) {
	username := c.Query("username")
	if username == "" {
		matrixhttp.Fail(c, matrixhttp.MissingParam("Missing username"))
		return
	}
	ctx := c.Request.Context()
	if _, err := a.registrationFlows(ctx, nil); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if _, err := a.checkNewUsername(ctx, username); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, availableResponse{Available: true})
}

type tokenValidityResponse struct {
	Valid bool `json:"valid"`
}

// registrationTokenValidity answers GET
// /_matrix/client/v1/register/m.login.registration_token/validity?token=.
// Tokens work even while open registration is off, so this never answers
// 403.
func (a *API) registrationTokenValidity(c *gin.Context) {
	token := c.Query("token")
	if token == "" {
		matrixhttp.Fail(c, matrixhttp.MissingParam("Missing token"))
		return
	}
	valid, err := a.deps.Accounts.RegistrationTokenValid(c.Request.Context(), token)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, tokenValidityResponse{Valid: valid})
}
