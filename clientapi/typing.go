package clientapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/syncapi"
)

type typingReq struct {
	Typing  *bool  `json:"typing"`
	Timeout *int64 `json:"timeout"`
}

// typing implements PUT /rooms/{roomId}/typing/{userId}: a joined member
// starts typing for timeout milliseconds (default 30 s, at most 120 s) or
// stops.
func (a *API) typing(c *gin.Context) {
	roomID, ok := roomIDParam(c)
	if !ok {
		return
	}
	s, ok := ownUserParam(c, "Cannot set the typing state of other users")
	if !ok {
		return
	}
	var req typingReq
	if err := matrixhttp.DecodeJSON(c, &req, 0, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if req.Typing == nil {
		matrixhttp.Fail(c, matrixhttp.MissingParam("Missing typing"))
		return
	}
	timeout := syncapi.DefaultTypingTimeout
	if req.Timeout != nil {
		if *req.Timeout < 0 {
			matrixhttp.Fail(c, matrixhttp.InvalidParam("timeout must not be negative"))
			return
		}
		if *req.Timeout > 0 {
			timeout = time.Duration(min(*req.Timeout, syncapi.MaxTypingTimeout.Milliseconds())) * time.Millisecond
		}
	}
	if !a.requireJoined(c, roomID, s.UserID) {
		return
	}
	a.deps.Sync.SetTyping(roomID, s.UserID, *req.Typing, timeout)
	matrixhttp.Respond(c, http.StatusOK, gin.H{})
}
