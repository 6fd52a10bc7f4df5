package main

import (
	"context"
	"crypto/rand"
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
	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/signing"
	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/accounts"
	"github.com/concordchat/concord/storage/filters"
	"github.com/concordchat/concord/storage/rooms"
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
	rs, err := roomserver.New(ctx, roomserver.Deps{Store: s.rooms, Key: key, Logger: log,
		Notifier: roomserver.Notifiers{notifier}})
	if err != nil {
		return err
	}
	syncAPI := syncapi.New(syncapi.Deps{Store: s.rooms, Notifier: notifier, Position: rs.StreamPosition, Logger: log})
	api, err := clientapi.New(clientapi.Deps{Config: cfg, Accounts: s.accounts, Rooms: rs, RoomStore: s.rooms,
		Filters: s.filters, Sync: syncAPI, Logger: log})
	if err != nil {
		return err
	}
	if err := bootstrapToken(ctx, cfg, s.accounts); err != nil {
		return err
	}
	metrics := newMetrics()
	engine := newEngine(log, metrics)
	api.Register(engine)
	servers := []*http.Server{{Addr: cfg.Listen.Client, Handler: engine, ReadHeaderTimeout: 10 * time.Second}}
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
// (admin) user when the server has no users yet.
func bootstrapToken(ctx context.Context, cfg config.Config, acc *accounts.Store) error {
	n, err := acc.CountUsers(ctx)
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
