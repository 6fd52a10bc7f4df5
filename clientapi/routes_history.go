package clientapi

import "net/http"

// historyRoutes are relations, threads, event context and search. The
// relations and threads endpoints need Deps.Relations and search needs
// Deps.Search; without them those routes are not mounted.
func (a *API) historyRoutes() []route {
	const get, post = http.MethodGet, http.MethodPost
	const v1 = "/_matrix/client/v1"
	rs := []route{
		{method: get, path: "/rooms/:roomId/context/:eventId", auth: authRequired, handler: a.eventContext},
	}
	if a.deps.Relations != nil {
		rs = append(rs,
			route{method: get, path: v1 + "/rooms/:roomId/relations/:eventId", auth: authRequired, handler: a.relations},
			route{method: get, path: v1 + "/rooms/:roomId/relations/:eventId/:relType", auth: authRequired, handler: a.relations},
			route{method: get, path: v1 + "/rooms/:roomId/relations/:eventId/:relType/:eventType", auth: authRequired, handler: a.relations},
			route{method: get, path: v1 + "/rooms/:roomId/threads", auth: authRequired, handler: a.threads},
		)
	}
	if a.deps.Search != nil {
		rs = append(rs, route{method: post, path: "/search", auth: authRequired, limited: true, handler: a.search})
	}
	return rs
}
