package clientapi

import "net/http"

// tokenRoutes are the tokens that are not access tokens: the registration
// tokens admin API on Synapse's paths (admin_regtokens.go) and OpenID tokens
// (openid.go). The federation side of OpenID, /openid/userinfo, is in
// federationapi. Guest registration and upgrade go through /register
// (register.go, guests.go).
func (a *API) tokenRoutes() []route {
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
		regTokens           = "/_synapse/admin/v1/registration_tokens"
	)
	return []route{
		{method: get, path: regTokens, auth: authAdmin, handler: a.listRegTokens},
		{method: post, path: regTokens + "/new", auth: authAdmin, handler: a.createRegToken},
		{method: get, path: regTokens + "/:token", auth: authAdmin, handler: a.getRegToken},
		{method: put, path: regTokens + "/:token", auth: authAdmin, handler: a.updateRegToken},
		{method: del, path: regTokens + "/:token", auth: authAdmin, handler: a.deleteRegToken},
		{method: post, path: "/user/:userId/openid/request_token", auth: authRequired, limited: true, handler: a.requestOpenIDToken},
	}
}
