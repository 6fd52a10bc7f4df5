package clientapi

import (
	"net/http"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/storage/directory"
)

// directoryRoutes are the room and user directories, room upgrades,
// knocking and content reports, with the Synapse admin API for reading
// reports. The routes that need the directory store are left out when
// Deps.Directory is nil.
func (a *API) directoryRoutes() []route {
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	)
	rs := []route{
		{method: post, path: "/rooms/:roomId/upgrade", auth: authRequired, limited: true, handler: a.upgradeRoom},
		{method: post, path: "/knock/:roomIdOrAlias", auth: authRequired, limited: true, handler: a.knock},
	}
	if a.deps.Directory == nil {
		return rs
	}
	return append(rs,
		route{method: post, path: "/user_directory/search", auth: authRequired, limited: true, handler: a.searchUserDirectory},
		route{method: get, path: "/publicRooms", auth: authOptional, handler: a.getPublicRooms},
		route{method: post, path: "/publicRooms", auth: authRequired, handler: a.postPublicRooms},
		route{method: get, path: "/directory/list/room/:roomId", auth: authNone, handler: a.getRoomVisibility},
		route{method: put, path: "/directory/list/room/:roomId", auth: authRequired, handler: a.putRoomVisibility},
		route{method: post, path: "/rooms/:roomId/report/:eventId", auth: authRequired, limited: true, handler: a.reportEvent},
		route{method: post, path: "/rooms/:roomId/report", auth: authRequired, limited: true, handler: a.reportRoom},
		route{method: get, path: "/_synapse/admin/v1/event_reports", auth: authAdmin, handler: a.adminListEventReports},
		route{method: get, path: "/_synapse/admin/v1/event_reports/:reportId", auth: authAdmin, handler: a.adminGetEventReport},
		route{method: del, path: "/_synapse/admin/v1/event_reports/:reportId", auth: authAdmin, handler: a.adminDeleteEventReport},
		route{method: get, path: "/_synapse/admin/v1/room_reports", auth: authAdmin, handler: a.adminListRoomReports},
	)
}

func init() {
	matrixhttp.Register(matrixhttp.Mapping{Target: directory.ErrNotFound, Make: func(error) *matrixhttp.Error {
		return matrixhttp.NotFound("Report not found")
	}})
}
