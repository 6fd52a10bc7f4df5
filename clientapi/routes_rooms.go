package clientapi

import "net/http"

// roomRoutes are the rooms, membership, history, directory, profile and sync endpoints.
func (a *API) roomRoutes() []route {
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	)
	return []route{
		{method: post, path: "/createRoom", auth: authRequired, limited: true, handler: a.createRoom},
		{method: post, path: "/join/:roomIdOrAlias", auth: authRequired, limited: true, handler: a.joinRoomIDOrAlias},
		{method: post, path: "/rooms/:roomId/join", auth: authRequired, limited: true, handler: a.joinRoom},
		{method: post, path: "/rooms/:roomId/invite", auth: authRequired, limited: true, handler: a.invite},
		{method: post, path: "/rooms/:roomId/leave", auth: authRequired, handler: a.leave},
		{method: post, path: "/rooms/:roomId/forget", auth: authRequired, handler: a.forget},
		{method: post, path: "/rooms/:roomId/kick", auth: authRequired, handler: a.kick},
		{method: post, path: "/rooms/:roomId/ban", auth: authRequired, handler: a.ban},
		{method: post, path: "/rooms/:roomId/unban", auth: authRequired, handler: a.unban},
		{method: put, path: "/rooms/:roomId/send/:eventType/:txnId", auth: authRequired, limited: true, handler: a.sendEvent},
		{method: put, path: "/rooms/:roomId/redact/:eventId/:txnId", auth: authRequired, limited: true, handler: a.redact},
		{method: get, path: "/rooms/:roomId/state", auth: authRequired, handler: a.getState},
		{method: get, path: "/rooms/:roomId/state/:eventType", auth: authRequired, handler: a.getStateEvent},
		{method: get, path: "/rooms/:roomId/state/:eventType/*stateKey", auth: authRequired, handler: a.getStateEvent},
		{method: put, path: "/rooms/:roomId/state/:eventType", auth: authRequired, limited: true, handler: a.putStateEvent},
		{method: put, path: "/rooms/:roomId/state/:eventType/*stateKey", auth: authRequired, limited: true, handler: a.putStateEvent},
		{method: get, path: "/rooms/:roomId/event/:eventId", auth: authRequired, handler: a.getEvent},
		{method: get, path: "/rooms/:roomId/messages", auth: authRequired, handler: a.messages},
		{method: get, path: "/rooms/:roomId/members", auth: authRequired, handler: a.members},
		{method: get, path: "/rooms/:roomId/joined_members", auth: authRequired, handler: a.joinedMembers},
		{method: get, path: "/joined_rooms", auth: authRequired, handler: a.joinedRooms},
		{method: put, path: "/directory/room/:roomAlias", auth: authRequired, handler: a.putAlias},
		{method: get, path: "/directory/room/:roomAlias", auth: authNone, handler: a.getAlias},
		{method: del, path: "/directory/room/:roomAlias", auth: authRequired, handler: a.deleteAlias},
		{method: get, path: "/profile/:userId", auth: authOptional, handler: a.getProfile},
		{method: get, path: "/profile/:userId/:field", auth: authOptional, handler: a.getProfileField},
		{method: put, path: "/profile/:userId/:field", auth: authRequired, limited: true, handler: a.putProfileField},
		{method: get, path: "/sync", auth: authRequired, handler: a.sync},
	}
}
