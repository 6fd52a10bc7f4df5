package clientapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/storage/accounts"
)

type emptyResponse struct{}

// logout answers POST /logout: it deletes the caller's device, which ends
// its access and refresh tokens.
func (a *API) logout(c *gin.Context) {
	s := mustSession(c)
	err := a.deps.Accounts.DeleteDevice(c.Request.Context(), s.Localpart, s.DeviceID)
	if err != nil && !errors.Is(err, accounts.ErrNotFound) { // gone already: a concurrent logout
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, emptyResponse{})
}

// logoutAll answers POST /logout/all: it deletes every device of the caller,
// the current one included, with their tokens.
func (a *API) logoutAll(c *gin.Context) {
	s := mustSession(c)
	if _, err := a.deps.Accounts.DeleteOtherDevices(c.Request.Context(), s.Localpart, ""); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, emptyResponse{})
}
