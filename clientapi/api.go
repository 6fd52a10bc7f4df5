package clientapi

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/concordchat/concord/config"
	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/pushserver"
	"github.com/concordchat/concord/relations"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/storage/accounts"
	"github.com/concordchat/concord/storage/directory"
	"github.com/concordchat/concord/storage/filters"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/storage/search"
	"github.com/concordchat/concord/syncapi"
)

// Deps are the client API's collaborators.
type Deps struct {
	Config   config.Config
	Accounts *accounts.Store
	Filters  *filters.Store // sync filters (POST /user/{userId}/filter)
	Rooms    *roomserver.RoomServer
	// RoomStore is read-only access to room history for /messages, /members.
	RoomStore *rooms.Store
	// Directory holds the published room directory and content reports.
	Directory *directory.Store
	Sync      *syncapi.API
	// Relations serves /relations and /threads and annotates served events
	// (bundled aggregations, redacted_because); Search is the full-text
	// index behind /search. Without them those endpoints are not mounted.
	Relations *relations.Service
	Search    *search.Store
	// PushRules and PushInbox serve /pushrules and /notifications; without
	// them those endpoints are not mounted.
	PushRules *pushserver.Rules
	PushInbox *pushserver.Inbox
	Logger    *zap.Logger
	Now       func() time.Time
	// BcryptCost is the cost of new password hashes; 0 means
	// DefaultBcryptCost. Tests use bcrypt.MinCost.
	BcryptCost int
}

// API is the client-server API.
type API struct {
	deps    Deps
	log     *zap.Logger
	limiter *matrixhttp.RateLimiter
	uia     *uiaSessions
	seen    lastSeen

	passwords *passwordHasher
	nonces    *nonceStore // shared-secret registration
	firstUser sync.Mutex  // serialises the first-admin check of registration
	hasUsers  atomic.Bool // set once the server is known to have an account
}

// New makes the client API.
func New(deps Deps) (*API, error) {
	if deps.Logger == nil {
		deps.Logger = zap.NewNop()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	passwords, err := newPasswordHasher(deps.BcryptCost)
	if err != nil {
		return nil, err
	}
	a := &API{deps: deps, log: deps.Logger.Named("clientapi"), uia: newUIASessions(),
		passwords: passwords, nonces: newNonceStore()}
	if deps.Config.RateLimit.Enabled {
		a.limiter = matrixhttp.NewRateLimiter(deps.Config.RateLimit.PerSecond, deps.Config.RateLimit.Burst)
	}
	return a, nil
}

// authMode says what a route requires of the caller.
type authMode int

const (
	authNone     authMode = iota // no access token
	authOptional                 // a token is used when given
	authRequired                 // a valid access token
	authAdmin                    // a valid access token of a server admin
)

// route is one entry of the routes table.
type route struct {
	method  string
	path    string // relative to /_matrix/client/{v3,r0}, or absolute when it starts with /_
	auth    authMode
	limited bool // rate limited
	handler gin.HandlerFunc
}

// routes is the whole client API, area by area.
func (a *API) routes() []route {
	var rs []route
	rs = append(rs, a.discoveryRoutes()...)
	rs = append(rs, a.accountRoutes()...)
	rs = append(rs, a.roomRoutes()...)
	rs = append(rs, a.historyRoutes()...)
	rs = append(rs, a.ephemeralRoutes()...)
	rs = append(rs, a.directoryRoutes()...)
	rs = append(rs, a.tokenRoutes()...)
	rs = append(rs, a.pushRoutes()...)
	return rs
}

// Register mounts every route on r.
func (a *API) Register(r *gin.Engine) {
	for _, rt := range a.routes() {
		handlers := []gin.HandlerFunc{}
		if rt.auth != authNone {
			handlers = append(handlers, a.authenticate(rt.auth))
		}
		if gate := guestGate(rt); gate != nil {
			handlers = append(handlers, gate)
		}
		if rt.limited && a.limiter != nil {
			handlers = append(handlers, a.limiter.Middleware(rateKey))
		}
		handlers = append(handlers, rt.handler)
		if strings.HasPrefix(rt.path, "/_") || strings.HasPrefix(rt.path, "/.well-known/") {
			r.Handle(rt.method, rt.path, handlers...)
			continue
		}
		for _, prefix := range []string{"/_matrix/client/v3", "/_matrix/client/r0"} {
			r.Handle(rt.method, prefix+rt.path, handlers...)
		}
	}
}

// rateKey limits by user when authenticated, otherwise by client IP.
func rateKey(c *gin.Context) string {
	if s, ok := sessionOf(c); ok {
		if s.IsAppService {
			return ""
		}
		return s.UserID
	}
	return "ip:" + c.ClientIP()
}

func (a *API) discoveryRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/_matrix/client/versions", handler: a.versions},
		{method: http.MethodGet, path: "/.well-known/matrix/client", handler: a.wellKnown},
	}
}

// versions advertises the spec versions whose endpoints Concord implements.
func (a *API) versions(c *gin.Context) {
	matrixhttp.Respond(c, http.StatusOK, gin.H{
		"versions":          []string{"r0.6.1", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6"},
		"unstable_features": gin.H{},
	})
}

// wellKnown points clients at this server's client API.
func (a *API) wellKnown(c *gin.Context) {
	base := "http://" + a.deps.Config.ServerName
	matrixhttp.Respond(c, http.StatusOK, gin.H{"m.homeserver": gin.H{"base_url": base}})
}
