package clientapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage/accounts"
)

// Guest access (client-server API, module "Guest Access"): guest accounts
// registered with /register?kind=guest, the endpoints they may call, the
// rooms they may join, and the upgrade of a guest to a full account.

const (
	typeGuestAccess = "m.room.guest_access"
	guestCanJoin    = "can_join"
)

// guestRule is one endpoint guests may call.
type guestRule struct {
	// lastParam, when set, is the only value the route's last path
	// parameter may have for a guest (PUT /profile/{userId}/displayname on
	// the /profile/{userId}/{field} route).
	lastParam string
}

// guestRoutes are the endpoints the spec lets guests call ("Guest Access",
// Client behaviour), keyed by method and route path with parameter names
// dropped (see routeKey), so routes added later by other areas match
// whatever they name their parameters. Every other route that requires an
// access token answers a guest with 403 M_GUEST_ACCESS_FORBIDDEN; routes
// with optional or no authentication are open to guests as to anyone.
//
// POST /join/{roomIdOrAlias} is not in the spec's list but is the same join
// as POST /rooms/{roomId}/join (and the one most clients call): like
// Synapse, Concord lets guests use it, under the same guest_access check.
var guestRoutes = map[string]guestRule{
	// Retrieving events and associated media.
	"GET /rooms/:/state":                          {},
	"GET /rooms/:/context/:":                      {},
	"GET /rooms/:/event/:":                        {},
	"GET /rooms/:/state/:":                        {},
	"GET /rooms/:/state/:/*":                      {},
	"GET /rooms/:/messages":                       {},
	"GET /rooms/:/members":                        {},
	"GET /rooms/:/initialSync":                    {},
	"GET /sync":                                   {},
	"GET /events":                                 {},
	"GET /_matrix/client/v1/media/download/:/:":   {},
	"GET /_matrix/client/v1/media/download/:/:/:": {},
	"GET /_matrix/client/v1/media/thumbnail/:/:":  {},
	// Sending events.
	"POST /rooms/:/join":     {},
	"POST /join/:":           {},
	"POST /rooms/:/leave":    {},
	"PUT /rooms/:/send/:/:":  {},
	"PUT /rooms/:/state/:":   {},
	"PUT /rooms/:/state/:/*": {},
	"PUT /sendToDevice/:/:":  {},
	// Their own account.
	"PUT /profile/:/:":    {lastParam: "displayname"},
	"DELETE /profile/:/:": {lastParam: "displayname"},
	"GET /devices":        {},
	"GET /devices/:":      {},
	"PUT /devices/:":      {},
	"GET /account/whoami": {},
	// End-to-end encryption.
	"POST /keys/upload": {},
	"POST /keys/query":  {},
	"POST /keys/claim":  {},
}

// routeKey is "METHOD path" with each :name and *name reduced to : and *.
func routeKey(method, path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if s != "" && (s[0] == ':' || s[0] == '*') {
			segs[i] = s[:1]
		}
	}
	return method + " " + strings.Join(segs, "/")
}

// guestGate returns the middleware that keeps guests off rt, or nil when rt
// needs none: routes without a required access token, and admin routes
// (authenticate refuses guests there, who are never admins).
func guestGate(rt route) gin.HandlerFunc {
	if rt.auth != authRequired {
		return nil
	}
	rule, allowed := guestRoutes[routeKey(rt.method, rt.path)]
	return func(c *gin.Context) {
		if !mustSession(c).IsGuest {
			return
		}
		if !allowed || (rule.lastParam != "" && (len(c.Params) == 0 || c.Params[len(c.Params)-1].Value != rule.lastParam)) {
			matrixhttp.Fail(c, matrixhttp.GuestAccessForbidden("Guest access is not allowed on this endpoint"))
		}
	}
}

// guestRegisterRequest is the body of /register?kind=guest: the spec has
// the server ignore every other field.
type guestRegisterRequest struct {
	InitialDeviceDisplayName string `json:"initial_device_display_name"`
}

// registerGuest answers POST /register?kind=guest: a guest account with a
// random localpart, no password and a device the server names, without
// user-interactive authentication. It depends on registration.allow_guests
// only, not on registration.enabled (as in Synapse).
func (a *API) registerGuest(c *gin.Context) {
	if !a.deps.Config.Registration.AllowGuests {
		matrixhttp.Fail(c, matrixhttp.Forbidden("Guest access is disabled"))
		return
	}
	var req guestRegisterRequest
	if err := matrixhttp.DecodeJSON(c, &req, 0, true); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if err := checkDeviceName(req.InitialDeviceDisplayName); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	localpart, err := a.createRandomUser(ctx, accounts.NewUser{IsGuest: true})
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	ds, err := a.startDeviceSession(ctx, localpart, "", req.InitialDeviceDisplayName, false)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, registerResponse{UserID: a.userID(localpart), HomeServer: a.deps.Config.ServerName,
		AccessToken: ds.accessToken, DeviceID: ds.deviceID})
}

// guestToUpgrade checks a registration that carries guest_access_token and
// returns the guest's localpart. The token must be a live guest's, and the
// username, when given, the guest's own localpart (the spec asks clients to
// send it; Concord fills it in when absent).
func (a *API) guestToUpgrade(ctx context.Context, token, username string) (string, error) {
	s, err := a.deps.Accounts.LookupAccessToken(ctx, token)
	switch {
	case errors.Is(err, accounts.ErrNotFound), errors.Is(err, accounts.ErrTokenExpired):
		return "", matrixhttp.UnknownToken("Unknown guest_access_token")
	case err != nil:
		return "", err
	case !s.IsGuest:
		return "", matrixhttp.Forbidden("guest_access_token does not belong to a guest account")
	case username != "" && strings.ToLower(username) != s.Localpart:
		return "", matrixhttp.Forbidden("A guest can only register its own user ID, %s", a.userID(s.Localpart))
	}
	return s.Localpart, nil
}

// upgradeGuest gives the guest a password and makes it a full account. The
// first full account of a server becomes its admin, as in createAccount.
func (a *API) upgradeGuest(ctx context.Context, localpart, password string) error {
	hash, err := a.passwords.hash(password)
	if err != nil {
		return err
	}
	admin, unlock, err := a.claimFirstAdmin(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	err = a.deps.Accounts.UpgradeGuest(ctx, localpart, hash, admin)
	if errors.Is(err, accounts.ErrNotFound) {
		return matrixhttp.Forbidden("The guest account cannot be upgraded (any more)")
	}
	if err != nil {
		return err
	}
	a.hasUsers.Store(true)
	return nil
}

// checkGuestJoin lets a guest join only a room whose m.room.guest_access is
// can_join (module "Guest Access", Server behaviour).
func (a *API) checkGuestJoin(ctx context.Context, roomID string) error {
	ev, err := a.deps.Rooms.StateEvent(ctx, roomID, event.StateKey{Type: typeGuestAccess})
	if err != nil {
		return err
	}
	if ev == nil || guestAccessOf(ev) != guestCanJoin {
		return matrixhttp.GuestAccessForbidden("Guests may not join this room")
	}
	return nil
}

// guestAccessOf is the guest_access value of an m.room.guest_access event.
func guestAccessOf(e *event.Event) string {
	return gjson.GetBytes(e.Content(), "guest_access").String()
}
