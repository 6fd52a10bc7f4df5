package clientapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
)

const (
	uiaOpPassword   = "account.password"
	uiaOpDeactivate = "account.deactivate"
)

// passwordFlows are the UIA flows of the endpoints that re-check the
// caller's password.
func passwordFlows() [][]string { return [][]string{{stagePassword}} }

type whoamiResponse struct {
	UserID   string `json:"user_id"`
	DeviceID string `json:"device_id,omitempty"`
	IsGuest  bool   `json:"is_guest"`
}

// whoami answers GET /account/whoami.
func (a *API) whoami(c *gin.Context) {
	s := mustSession(c)
	matrixhttp.Respond(c, http.StatusOK, whoamiResponse{UserID: s.UserID, DeviceID: s.DeviceID, IsGuest: s.IsGuest})
}

type changePasswordRequest struct {
	NewPassword   string   `json:"new_password"`
	LogoutDevices *bool    `json:"logout_devices"` // default true
	Auth          *uiaAuth `json:"auth"`
}

// changePassword answers POST /account/password, authenticated by the
// current password (UIA m.login.password). Unless logout_devices is false,
// every other device of the caller is deleted, ending its tokens; the
// calling device stays logged in.
func (a *API) changePassword(c *gin.Context) {
	s := mustSession(c)
	var req changePasswordRequest
	if err := matrixhttp.DecodeJSON(c, &req, 0, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if req.NewPassword == "" {
		matrixhttp.Fail(c, matrixhttp.MissingParam("Missing new_password"))
		return
	}
	ctx := c.Request.Context()
	sess, err := a.uiaAuthenticate(ctx, uiaSpec{op: uiaOpPassword, localpart: s.Localpart, flows: passwordFlows()}, req.Auth)
	if err != nil {
		failAuth(c, err)
		return
	}
	err = a.setPassword(c, s, req.NewPassword, req.LogoutDevices == nil || *req.LogoutDevices)
	if err != nil {
		a.uiaAbort(ctx, sess, false)
		matrixhttp.Fail(c, err)
		return
	}
	a.uiaFinish(sess)
	matrixhttp.Respond(c, http.StatusOK, emptyResponse{})
}

func (a *API) setPassword(c *gin.Context, s Session, password string, logoutOthers bool) error {
	hash, err := a.passwords.hash(password)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	if err := a.deps.Accounts.SetPasswordHash(ctx, s.Localpart, hash); err != nil {
		return err
	}
	if logoutOthers {
		if _, err := a.deps.Accounts.DeleteOtherDevices(ctx, s.Localpart, s.DeviceID); err != nil {
			return err
		}
	}
	return nil
}

type deactivateRequest struct {
	Auth     *uiaAuth `json:"auth"`
	IDServer string   `json:"id_server"`
	Erase    bool     `json:"erase"`
}

type deactivateResponse struct {
	IDServerUnbindResult string `json:"id_server_unbind_result"`
}

// deactivate answers POST /account/deactivate, authenticated by the
// password (UIA m.login.password). The account keeps its user ID but loses
// its password, devices, tokens and profile. Concord binds no third-party
// identifiers, so there is nothing to unbind: the spec then requires
// id_server_unbind_result "success".
func (a *API) deactivate(c *gin.Context) {
	s := mustSession(c)
	var req deactivateRequest
	if err := matrixhttp.DecodeJSON(c, &req, 0, true); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	sess, err := a.uiaAuthenticate(ctx, uiaSpec{op: uiaOpDeactivate, localpart: s.Localpart, flows: passwordFlows()}, req.Auth)
	if err != nil {
		failAuth(c, err)
		return
	}
	if err := a.deps.Accounts.DeactivateUser(ctx, s.Localpart); err != nil {
		a.uiaAbort(ctx, sess, false)
		matrixhttp.Fail(c, err)
		return
	}
	a.uiaFinish(sess)
	a.leaveAllRooms(ctx, s.UserID)
	matrixhttp.Respond(c, http.StatusOK, deactivateResponse{IDServerUnbindResult: "success"})
}
