package clientapi

import "net/http"

// pushRoutes are the push rules API and the notifications list (push
// module). They are mounted only when the push components are wired.
func (a *API) pushRoutes() []route {
	if a.deps.PushRules == nil || a.deps.PushInbox == nil {
		return nil
	}
	const get, put, del = http.MethodGet, http.MethodPut, http.MethodDelete
	const rule = "/pushrules/global/:kind/:ruleId"
	return []route{
		{method: get, path: "/pushrules/", auth: authRequired, handler: a.getPushRules},
		{method: get, path: "/pushrules/global/", auth: authRequired, handler: a.getGlobalPushRules},
		{method: get, path: rule, auth: authRequired, handler: a.getPushRule},
		{method: put, path: rule, auth: authRequired, limited: true, handler: a.putPushRule},
		{method: del, path: rule, auth: authRequired, handler: a.deletePushRule},
		{method: get, path: rule + "/enabled", auth: authRequired, handler: a.getPushRuleEnabled},
		{method: put, path: rule + "/enabled", auth: authRequired, limited: true, handler: a.putPushRuleEnabled},
		{method: get, path: rule + "/actions", auth: authRequired, handler: a.getPushRuleActions},
		{method: put, path: rule + "/actions", auth: authRequired, limited: true, handler: a.putPushRuleActions},
		{method: get, path: "/notifications", auth: authRequired, handler: a.notifications},
	}
}
