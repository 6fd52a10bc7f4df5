package clientapi

import (
	"net/http"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/storage/accounts"
	"github.com/concordchat/concord/storage/filters"
)

// accountRoutes are registration, login and logout, tokens, the account,
// devices, capabilities, filters and shared-secret registration. Handlers
// live in register.go, login.go, logout.go, refresh.go, account.go,
// devices.go, capabilities.go, filter.go and admin_register.go.
// Third-party identifier endpoints (/account/3pid...) are deliberately
// absent: they answer M_UNRECOGNIZED.
func (a *API) accountRoutes() []route {
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	)
	return []route{
		{method: post, path: "/register", auth: authNone, limited: true, handler: a.register},
		{method: get, path: "/register/available", auth: authNone, limited: true, handler: a.registerAvailable},
		{method: get, path: "/_matrix/client/v1/register/m.login.registration_token/validity", auth: authNone, limited: true, handler: a.registrationTokenValidity},
		{method: get, path: "/login", auth: authNone, handler: a.loginFlows},
		{method: post, path: "/login", auth: authNone, limited: true, handler: a.login},
		{method: post, path: "/logout", auth: authRequired, handler: a.logout},
		{method: post, path: "/logout/all", auth: authRequired, handler: a.logoutAll},
		{method: post, path: "/refresh", auth: authNone, handler: a.refresh},
		{method: get, path: "/account/whoami", auth: authRequired, handler: a.whoami},
		{method: post, path: "/account/password", auth: authRequired, handler: a.changePassword},
		{method: post, path: "/account/deactivate", auth: authRequired, handler: a.deactivate},
		{method: get, path: "/devices", auth: authRequired, handler: a.listDevices},
		{method: get, path: "/devices/:deviceId", auth: authRequired, handler: a.getDevice},
		{method: put, path: "/devices/:deviceId", auth: authRequired, handler: a.updateDevice},
		{method: del, path: "/devices/:deviceId", auth: authRequired, handler: a.deleteDevice},
		{method: post, path: "/delete_devices", auth: authRequired, handler: a.deleteDevices},
		{method: get, path: "/capabilities", auth: authRequired, handler: a.capabilities},
		{method: post, path: "/user/:userId/filter", auth: authRequired, limited: true, handler: a.createFilter},
		{method: get, path: "/user/:userId/filter/:filterId", auth: authRequired, handler: a.getFilter},
		{method: get, path: "/_synapse/admin/v1/register", auth: authNone, limited: true, handler: a.adminRegisterNonce},
		{method: post, path: "/_synapse/admin/v1/register", auth: authNone, limited: true, handler: a.adminRegister},
	}
}

// The account area's domain errors at the edge. Handlers map the errors
// whose meaning depends on the endpoint (an unknown user at login is 403,
// an unknown device is 404) themselves.
func init() {
	matrixhttp.Register(
		matrixhttp.Mapping{Target: accounts.ErrUserDeactivated, Make: func(error) *matrixhttp.Error {
			return matrixhttp.UserDeactivated("This account has been deactivated")
		}},
		matrixhttp.Mapping{Target: accounts.ErrUserExists, Make: func(error) *matrixhttp.Error {
			return matrixhttp.UserInUse("User ID already taken")
		}},
		matrixhttp.Mapping{Target: filters.ErrNotFound, Make: func(error) *matrixhttp.Error {
			return matrixhttp.NotFound("Unknown filter")
		}},
	)
}
