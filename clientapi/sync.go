package clientapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/syncapi"
)

// maxSyncTimeout bounds how long a /sync may wait.
const maxSyncTimeout = 5 * time.Minute

// sync implements GET /sync.
func (a *API) sync(c *gin.Context) {
	s := mustSession(c)
	req := syncapi.Request{UserID: s.UserID, DeviceID: s.DeviceID, Since: c.Query("since"),
		FullState: c.Query("full_state") == "true"}
	if t := c.Query("timeout"); t != "" {
		ms, err := strconv.ParseInt(t, 10, 64)
		if err != nil || ms < 0 {
			matrixhttp.Fail(c, matrixhttp.InvalidParam("Invalid timeout"))
			return
		}
		req.Timeout = min(time.Duration(ms)*time.Millisecond, maxSyncTimeout)
	}
	switch p := c.Query("set_presence"); p {
	case "", "online", "unavailable", "offline":
		req.SetPresence = p
	default:
		matrixhttp.Fail(c, matrixhttp.InvalidParam("set_presence must be online, unavailable or offline"))
		return
	}
	if f := c.Query("filter"); f != "" {
		raw := []byte(f)
		if !strings.HasPrefix(strings.TrimSpace(f), "{") {
			var err error
			if raw, err = a.storedFilter(c, s, f); err != nil {
				matrixhttp.Fail(c, err)
				return
			}
		}
		filter, err := syncapi.ParseFilter(raw)
		if err != nil {
			matrixhttp.Fail(c, matrixhttp.BadJSON("Invalid filter: %v", err))
			return
		}
		req.Filter = filter
	}
	resp, err := a.deps.Sync.Sync(c.Request.Context(), req)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, resp)
}
