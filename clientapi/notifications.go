package clientapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/pushserver"
	"github.com/concordchat/concord/syncapi"
)

// notificationsResponse is the body of GET /notifications.
type notificationsResponse struct {
	NextToken     string                 `json:"next_token,omitempty"`
	Notifications []notificationResponse `json:"notifications"`
}

type notificationResponse struct {
	Actions json.RawMessage     `json:"actions"`
	Event   syncapi.ClientEvent `json:"event"`
	Read    bool                `json:"read"`
	RoomID  string              `json:"room_id"`
	TS      int64               `json:"ts"`
}

// notifications implements GET /notifications: the events that notified the
// caller, newest first (from, limit, only=highlight), annotated like every
// served event (bundled aggregations).
func (a *API) notifications(c *gin.Context) {
	req := pushserver.ListRequest{UserID: mustSession(c).UserID, From: c.Query("from"),
		OnlyHighlight: c.Query("only") == "highlight"}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			matrixhttp.Fail(c, matrixhttp.InvalidParam("limit must be a positive integer"))
			return
		}
		req.Limit = min(n, pushserver.MaxListLimit)
	}
	page, err := a.deps.PushInbox.List(c.Request.Context(), req)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	now := a.deps.Now()
	events := make([]syncapi.ClientEvent, 0, len(page.Notifications))
	for _, n := range page.Notifications {
		events = append(events, syncapi.FormatEvent(n.Event, true, now))
	}
	if err := a.annotate(c.Request.Context(), req.UserID, events); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	resp := notificationsResponse{NextToken: page.NextToken, Notifications: make([]notificationResponse, 0, len(page.Notifications))}
	for i, n := range page.Notifications {
		resp.Notifications = append(resp.Notifications, notificationResponse{Actions: n.Actions,
			Event: events[i], Read: n.Read, RoomID: n.RoomID, TS: n.TS})
	}
	matrixhttp.Respond(c, http.StatusOK, resp)
}
