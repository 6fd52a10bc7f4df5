package clientapi

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
	"golang.org/x/crypto/bcrypt"
	"maunium.net/go/mautrix"

	"github.com/concordchat/concord/config"
	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/signing"
	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/accounts"
	"github.com/concordchat/concord/storage/filters"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/storage/storagetest"
	"github.com/concordchat/concord/syncapi"
)

// The full-stack test harness shared by the room, sync and chat feature
// tests: accounts, roomserver, sync and the client API over one database,
// served on a loopback httptest server, driven with mautrix-go.

// roomsEnv is one running stack.
type roomsEnv struct {
	t        *testing.T
	ctx      context.Context
	cfg      config.Config
	db       *storage.DB
	accounts *accounts.Store
	rooms    *rooms.Store
	rs       *roomserver.RoomServer
	notifier *syncapi.Notifier
	sync     *syncapi.API
	api      *API
	engine   *gin.Engine
	srv      *httptest.Server
}

// forEachRoomsEnv runs fn on SQLite and PostgreSQL with open registration,
// no rate limits and cfgFns applied. Extra wiring (other components) can be
// added by the caller before the first request through e.api's Deps fields
// only if set in cfgFns-independent ways: prefer newRoomsEnvWith.
func forEachRoomsEnv(t *testing.T, fn func(t *testing.T, e *roomsEnv), cfgFns ...func(*config.Config)) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		fn(t, newRoomsEnv(t, db, nil, cfgFns...))
	})
}

// newRoomsEnv builds the stack; wire, when not nil, may change the Deps of
// the roomserver notifier fan-out, the sync API and the client API before
// they are made.
func newRoomsEnv(t *testing.T, db *storage.DB, wire func(e *roomsEnv, rsDeps *roomserver.Deps, syncDeps *syncapi.Deps, apiDeps *Deps), cfgFns ...func(*config.Config)) *roomsEnv {
	t.Helper()
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.ServerName = testServerName
	cfg.Registration.Enabled = true
	cfg.Registration.RequireToken = false
	cfg.RateLimit.Enabled = false
	for _, f := range cfgFns {
		f(&cfg)
	}
	log := zaptest.NewLogger(t)
	acc, err := accounts.New(accounts.Deps{DB: db, Logger: log})
	require.NoError(t, err)
	flt, err := filters.New(filters.Deps{DB: db})
	require.NoError(t, err)
	key, err := signing.GenerateKey(cfg.ServerName)
	require.NoError(t, err)
	e := &roomsEnv{t: t, ctx: ctx, cfg: cfg, db: db, accounts: acc, rooms: rooms.New(db), notifier: syncapi.NewNotifier(0)}
	rsDeps := roomserver.Deps{Store: e.rooms, Key: key, Logger: log, Notifier: roomserver.Notifiers{e.notifier}}
	syncDeps := syncapi.Deps{Store: e.rooms, Notifier: e.notifier, Logger: log}
	apiDeps := Deps{Config: cfg, Accounts: acc, RoomStore: e.rooms, Filters: flt, Logger: log, BcryptCost: bcrypt.MinCost}
	if wire != nil {
		wire(e, &rsDeps, &syncDeps, &apiDeps)
	}
	e.rs, err = roomserver.New(ctx, rsDeps)
	require.NoError(t, err)
	syncDeps.Position = e.rs.StreamPosition
	e.sync = syncapi.New(syncDeps)
	apiDeps.Rooms, apiDeps.Sync = e.rs, e.sync
	e.api, err = New(apiDeps)
	require.NoError(t, err)
	gin.SetMode(gin.TestMode)
	e.engine = gin.New()
	e.engine.UseRawPath = true
	e.engine.UnescapePathValues = true
	e.engine.HandleMethodNotAllowed = true
	e.engine.Use(matrixhttp.RequestContext(log))
	e.engine.NoRoute(matrixhttp.NoRoute)
	e.engine.NoMethod(matrixhttp.NoMethod)
	e.api.Register(e.engine)
	e.srv = httptest.NewServer(e.engine)
	t.Cleanup(e.srv.Close)
	return e
}

// user registers localpart and returns a logged-in mautrix client.
func (e *roomsEnv) user(localpart string) *mautrix.Client {
	e.t.Helper()
	cli, err := mautrix.NewClient(e.srv.URL, "", "")
	require.NoError(e.t, err)
	resp, err := cli.RegisterDummy(e.ctx, &mautrix.ReqRegister[any]{Username: localpart, Password: "pw-" + localpart})
	require.NoError(e.t, err)
	cli.SetCredentials(resp.UserID, resp.AccessToken)
	cli.DeviceID = resp.DeviceID
	return cli
}

// TestRoomsHarness checks the harness itself: two users chat and sync.
func TestRoomsHarness(t *testing.T) {
	forEachRoomsEnv(t, func(t *testing.T, e *roomsEnv) {
		alice, bob := e.user("alice"), e.user("bob")
		room, err := alice.CreateRoom(e.ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		require.NoError(t, err)
		_, err = bob.JoinRoomByID(e.ctx, room.RoomID)
		require.NoError(t, err)
		sent, err := alice.SendText(e.ctx, room.RoomID, "hello")
		require.NoError(t, err)
		resp, err := bob.SyncRequest(e.ctx, 0, "", "", false, "")
		require.NoError(t, err)
		jr := resp.Rooms.Join[room.RoomID]
		require.NotNil(t, jr)
		last := jr.Timeline.Events[len(jr.Timeline.Events)-1]
		require.Equal(t, sent.EventID, last.ID)
		require.Equal(t, "hello", last.Content.Raw["body"])
	})
}
