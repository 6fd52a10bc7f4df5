package clientapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/syncapi"
)

// ephemeralRoutes are typing, receipts, read markers, account data, tags and
// presence: the sync streams besides room events.
func (a *API) ephemeralRoutes() []route {
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	)
	return []route{
		{method: put, path: "/rooms/:roomId/typing/:userId", auth: authRequired, limited: true, handler: a.typing},
		{method: post, path: "/rooms/:roomId/receipt/:receiptType/:eventId", auth: authRequired, limited: true, handler: a.receipt},
		{method: post, path: "/rooms/:roomId/read_markers", auth: authRequired, limited: true, handler: a.readMarkers},
		{method: get, path: "/user/:userId/account_data/:type", auth: authRequired, handler: a.getAccountData},
		{method: put, path: "/user/:userId/account_data/:type", auth: authRequired, limited: true, handler: a.putAccountData},
		{method: get, path: "/user/:userId/rooms/:roomId/account_data/:type", auth: authRequired, handler: a.getRoomAccountData},
		{method: put, path: "/user/:userId/rooms/:roomId/account_data/:type", auth: authRequired, limited: true, handler: a.putRoomAccountData},
		{method: get, path: "/user/:userId/rooms/:roomId/tags", auth: authRequired, handler: a.getTags},
		{method: put, path: "/user/:userId/rooms/:roomId/tags/:tag", auth: authRequired, limited: true, handler: a.putTag},
		{method: del, path: "/user/:userId/rooms/:roomId/tags/:tag", auth: authRequired, limited: true, handler: a.deleteTag},
		{method: get, path: "/presence/:userId/status", auth: authRequired, handler: a.getPresence},
		{method: put, path: "/presence/:userId/status", auth: authRequired, limited: true, handler: a.putPresence},
	}
}

// The Matrix errors of the sync streams' domain errors.
func init() {
	matrixhttp.Register(
		matrixhttp.Mapping{Target: syncapi.ErrAccountDataNotFound, Make: func(error) *matrixhttp.Error {
			return matrixhttp.NotFound("Account data not found")
		}},
		matrixhttp.Mapping{Target: syncapi.ErrUnknownEvent, Make: func(error) *matrixhttp.Error {
			return matrixhttp.NotFound("Event not found in this room")
		}},
		matrixhttp.Mapping{Target: syncapi.ErrBadThread, Make: func(error) *matrixhttp.Error {
			return matrixhttp.InvalidParam("thread_id does not fit this receipt type or event")
		}},
		matrixhttp.Mapping{Target: syncapi.ErrBadReceiptType, Make: func(error) *matrixhttp.Error {
			return matrixhttp.InvalidParam("Receipt type must be m.read, m.read.private or m.fully_read")
		}},
		matrixhttp.Mapping{Target: syncapi.ErrPresenceDisabled, Make: func(error) *matrixhttp.Error {
			return matrixhttp.Forbidden("Presence is disabled")
		}},
		matrixhttp.Mapping{Target: syncapi.ErrBadPresence, Make: func(error) *matrixhttp.Error {
			return matrixhttp.InvalidParam("presence must be online, unavailable or offline, with a status_msg of at most %d bytes", syncapi.MaxStatusMsgBytes)
		}},
		matrixhttp.Mapping{Target: syncapi.ErrPresenceNotVisible, Make: func(error) *matrixhttp.Error {
			return matrixhttp.Forbidden("You are not allowed to see their presence")
		}},
	)
}

// ownUserParam checks that the {userId} of the path is a user ID and the
// caller's own: M_INVALID_PARAM, else M_FORBIDDEN with forbidden.
func ownUserParam(c *gin.Context, forbidden string) (Session, bool) {
	s := mustSession(c)
	userID := c.Param("userId")
	if _, err := mxid.ParseUserID(userID); err != nil {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("Invalid user ID"))
		return s, false
	}
	if userID != s.UserID {
		matrixhttp.Fail(c, matrixhttp.Forbidden("%s", forbidden))
		return s, false
	}
	return s, true
}

// requireJoined fails with M_FORBIDDEN unless user is joined to roomID (an
// unknown room is just a room the user is not in).
func (a *API) requireJoined(c *gin.Context, roomID, user string) bool {
	m, err := a.deps.Rooms.Membership(c.Request.Context(), roomID, user)
	if err != nil && !errors.Is(err, roomserver.ErrRoomNotFound) {
		matrixhttp.Fail(c, err)
		return false
	}
	if m != event.Join {
		matrixhttp.Fail(c, matrixhttp.Forbidden("You are not in this room"))
		return false
	}
	return true
}
