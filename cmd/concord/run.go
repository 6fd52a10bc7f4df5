package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/concordchat/concord/clientapi"
	"github.com/concordchat/concord/config"
	"github.com/concordchat/concord/federationapi"
	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/pushserver"
	"github.com/concordchat/concord/relations"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/signing"
	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/accountdata"
	"github.com/concordchat/concord/storage/accounts"
	"github.com/concordchat/concord/storage/directory"
	"github.com/concordchat/concord/storage/filters"
	"github.com/concordchat/concord/storage/presence"
	"github.com/concordchat/concord/storage/push"
	"github.com/concordchat/concord/storage/receipts"
	relstore "github.com/concordchat/concord/storage/relations"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/storage/search"
	"github.com/concordchat/concord/syncapi"
)

type stores struct {
	db       *storage.DB
	accounts *accounts.Store
	rooms    *rooms.Store
	filters  *filters.Store
}

// openStores creates the data directory and opens the database.
func openStores(ctx context.Context, cfg config.Config, log *zap.Logger) (*stores, error) {
	if log == nil {
		log = zap.NewNop()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if err := os.MkdirAll(cfg.MediaPath(), 0o700); err != nil {
		return nil, fmt.Errorf("media directory: %w", err)
	}
	db, err := storage.Open(ctx, cfg.DatabaseURL(), log, storage.WithMaxOpenConns(cfg.Database.MaxOpenConns))
	if err != nil {
		return nil, err
	}
	acc, err := accounts.New(accounts.Deps{DB: db, Logger: log})
	if err != nil {
		db.Close()
		return nil, err
	}
	flt, err := filters.New(filters.Deps{DB: db})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &stores{db: db, accounts: acc, rooms: rooms.New(db), filters: flt}, nil
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (YAML); CONCORD_* environment variables override it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.Log)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	s, err := openStores(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.db.Close()
	key, err := loadOrCreateKey(cfg)
	if err != nil {
		return err
	}
	notifier := syncapi.NewNotifier(0)
	guests, err := clientapi.NewGuestEvictor(clientapi.GuestEvictorDeps{Accounts: s.accounts, ServerName: cfg.ServerName, Logger: log})
	if err != nil {
		return err
	}
	pushStore, err := push.New(push.Deps{DB: s.db})
	if err != nil {
		return err
	}
	pushRules, err := pushserver.NewRules(pushserver.RulesDeps{Store: pushStore, Logger: log})
	if err != nil {
		return err
	}
	pushWorker, err := pushserver.NewWorker(pushserver.WorkerDeps{Rules: pushRules, Store: pushStore, RoomStore: s.rooms,
		ServerName: cfg.ServerName, Waker: notifier, Logger: log})
	if err != nil {
		return err
	}
	// The push worker comes first: a /sync woken by an event then finds the
	// event queued and waits for its notification counts.
	rs, err := roomserver.New(ctx, roomserver.Deps{Store: s.rooms, Key: key, Logger: log,
		Notifier: roomserver.Notifiers{pushWorker, notifier, guests}})
	if err != nil {
		return err
	}
	if err := pushWorker.Start(ctx); err != nil {
		return err
	}
	defer pushWorker.Stop()
	if err := guests.Start(ctx, rs); err != nil {
		return err
	}
	defer guests.Stop()
	syncDeps := syncapi.Deps{Store: s.rooms, Notifier: notifier, Position: rs.StreamPosition, Logger: log,
		ServerName: cfg.ServerName, PresenceOptions: syncapi.PresenceOptions{Disabled: !cfg.Presence.Enabled}}
	if syncDeps.AccountData, err = accountdata.New(accountdata.Deps{DB: s.db}); err != nil {
		return err
	}
	if syncDeps.Receipts, err = receipts.New(receipts.Deps{DB: s.db}); err != nil {
		return err
	}
	if syncDeps.Presence, err = presence.New(presence.Deps{DB: s.db}); err != nil {
		return err
	}
	pushInbox, err := pushserver.NewInbox(pushserver.InboxDeps{Store: pushStore, RoomStore: s.rooms, Receipts: syncDeps.Receipts,
		Ignored: pushserver.AccountDataIgnores{Store: syncDeps.AccountData}, Worker: pushWorker, Position: rs.StreamPosition})
	if err != nil {
		return err
	}
	syncDeps.Unread = pushInbox
	relSvc, err := relations.New(relations.Deps{Store: relstore.New(s.db), RoomStore: s.rooms,
		AccountData: syncDeps.AccountData, Logger: log})
	if err != nil {
		return err
	}
	syncDeps.Annotator = relSvc
	syncAPI := syncapi.New(syncDeps)
	if err := syncAPI.Start(ctx); err != nil {
		return err
	}
	defer syncAPI.Stop()
	dirStore, err := directory.New(directory.Deps{DB: s.db})
	if err != nil {
		return err
	}
	api, err := clientapi.New(clientapi.Deps{Config: cfg, Accounts: s.accounts, Rooms: rs, RoomStore: s.rooms,
		Filters: s.filters, Sync: syncAPI, Directory: dirStore, PushRules: pushRules, PushInbox: pushInbox,
		Relations: relSvc, Search: search.New(s.db), Logger: log})
	if err != nil {
		return err
	}
	if err := bootstrapToken(ctx, cfg, s.accounts); err != nil {
		return err
	}
	metrics := newMetrics()
	engine := newEngine(log, metrics)
	api.Register(engine)
	fedAPI, err := federationapi.New(federationapi.Deps{ServerName: cfg.ServerName, Key: key, OpenID: s.accounts, Logger: log})
	if err != nil {
		return err
	}
	// Federation paths are also served on the client listener (they share a
	// port when both are configured alike, and OpenID userinfo is looked up
	// there by LiveKit token services).
	fedAPI.Register(engine)
	servers := []*http.Server{{Addr: cfg.Listen.Client, Handler: engine, ReadHeaderTimeout: 10 * time.Second}}
	if cfg.Federation.Enabled && cfg.Listen.Federation != "" && cfg.Listen.Federation != cfg.Listen.Client {
		cert, err := federationCert(cfg)
		if err != nil {
			return err
		}
		fedEngine := newEngine(log, metrics)
		fedAPI.Register(fedEngine)
		servers = append(servers, &http.Server{Addr: cfg.Listen.Federation, Handler: fedEngine, ReadHeaderTimeout: 10 * time.Second,
			TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}})
	}
	if cfg.Listen.Metrics != "" {
		servers = append(servers, &http.Server{Addr: cfg.Listen.Metrics, Handler: metrics.handler(), ReadHeaderTimeout: 10 * time.Second})
	}
	return serve(ctx, log, servers)
}

// newEngine is the gin engine with the shared middleware and the edge handlers.
func newEngine(log *zap.Logger, m *metrics) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	engine.UseRawPath = true
	engine.UnescapePathValues = true
	engine.RemoveExtraSlash = false
	engine.RedirectTrailingSlash = false
	engine.HandleMethodNotAllowed = true
	engine.Use(matrixhttp.RequestContext(log.Named("http")), m.middleware(), matrixhttp.CORS())
	engine.NoRoute(matrixhttp.NoRoute)
	engine.NoMethod(matrixhttp.NoMethod)
	engine.GET("/health", func(c *gin.Context) { c.String(http.StatusOK, "OK") })
	return engine
}

// serve runs the servers until ctx ends, then shuts them down.
func serve(ctx context.Context, log *zap.Logger, servers []*http.Server) error {
	errs := make(chan error, len(servers))
	for _, srv := range servers {
		ln, err := net.Listen("tcp", srv.Addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", srv.Addr, err)
		}
		log.Info("listening", zap.String("addr", ln.Addr().String()))
		if srv.TLSConfig != nil {
			ln = tls.NewListener(ln, srv.TLSConfig)
		}
		go func(srv *http.Server, ln net.Listener) {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- err
			}
		}(srv, ln)
	}
	select {
	case <-ctx.Done():
	case err := <-errs:
		return err
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range servers {
		_ = srv.Shutdown(shutdown)
	}
	return nil
}

func newLogger(lc config.LogConfig) (*zap.Logger, error) {
	zc := zap.NewProductionConfig()
	if lc.Format == "console" {
		zc = zap.NewDevelopmentConfig()
	}
	level, err := zap.ParseAtomicLevel(lc.Level)
	if err != nil {
		return nil, err
	}
	zc.Level = level
	return zc.Build()
}

// loadOrCreateKey reads the signing key file, writing a new key on first start.
func loadOrCreateKey(cfg config.Config) (signing.Key, error) {
	path := cfg.SigningKeyPath()
	data, err := os.ReadFile(path)
	if err == nil {
		return signing.ParseKeyFile(cfg.ServerName, data)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return signing.Key{}, err
	}
	key, err := signing.GenerateKey(cfg.ServerName)
	if err != nil {
		return signing.Key{}, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return signing.Key{}, err
	}
	if err := os.WriteFile(path, key.MarshalKeyFile(), 0o600); err != nil {
		return signing.Key{}, fmt.Errorf("write signing key: %w", err)
	}
	return key, nil
}

// bootstrapToken prints a single-use registration token for the first
// (admin) user when the server has no users yet (guests do not count).
func bootstrapToken(ctx context.Context, cfg config.Config, acc *accounts.Store) error {
	n, err := acc.CountFullUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	buf := make([]byte, 12)
	if _, err := rand.Read(buf); err != nil {
		return err
	}
	token := signing.EncodeBase64URL(buf)
	one := int64(1)
	if _, err := acc.CreateRegistrationToken(ctx, token, &one, nil); err != nil {
		return err
	}
	base := "http://" + cfg.Listen.Client
	fmt.Printf(`
Concord has no users yet. Register the first user (who becomes a server admin)
with this single-use registration token:

    %s

from any Matrix client pointed at %s, or with:

    curl -sS -X POST %s/_matrix/client/v3/register \
      -H 'Content-Type: application/json' \
      -d '{"username":"admin","password":"CHANGE-ME","auth":{"type":"m.login.registration_token","token":"%s"}}'

`, token, base, base, token)
	return nil
}
