package clientapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/storage/accounts"
)

type presenceReq struct {
	Presence  *string         `json:"presence"`
	StatusMsg json.RawMessage `json:"status_msg"`
}

// putPresence implements PUT /presence/{userId}/status. A status_msg that
// is absent keeps the current message; null or "" clears it.
func (a *API) putPresence(c *gin.Context) {
	s, ok := ownUserParam(c, "Cannot set the presence of other users")
	if !ok {
		return
	}
	var req presenceReq
	if err := matrixhttp.DecodeJSON(c, &req, 0, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if req.Presence == nil {
		matrixhttp.Fail(c, matrixhttp.MissingParam("Missing presence"))
		return
	}
	var msg *string
	if len(req.StatusMsg) > 0 {
		var m *string
		if json.Unmarshal(req.StatusMsg, &m) != nil {
			matrixhttp.Fail(c, matrixhttp.BadJSON("status_msg must be a string"))
			return
		}
		if m == nil {
			m = new(string)
		}
		msg = m
	}
	if err := a.deps.Sync.SetPresence(c.Request.Context(), s.UserID, *req.Presence, msg); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{})
}

// getPresence implements GET /presence/{userId}/status: the caller's own
// presence or that of a local user sharing a room with them.
func (a *API) getPresence(c *gin.Context) {
	s := mustSession(c)
	ctx := c.Request.Context()
	userID := c.Param("userId")
	u, err := mxid.ParseUserID(userID)
	if err != nil {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("Invalid user ID"))
		return
	}
	if !a.deps.Sync.PresenceEnabled() {
		matrixhttp.Fail(c, matrixhttp.Forbidden("Presence is disabled"))
		return
	}
	if u.Domain != a.deps.Config.ServerName {
		matrixhttp.Fail(c, matrixhttp.NotFound("Presence of users of other servers needs federation"))
		return
	}
	user, err := a.deps.Accounts.GetUser(ctx, u.Localpart)
	if errors.Is(err, accounts.ErrNotFound) || (err == nil && user.Deactivated) {
		err = matrixhttp.NotFound("Unknown user")
	}
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	p, err := a.deps.Sync.GetPresence(ctx, s.UserID, userID)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, p)
}
