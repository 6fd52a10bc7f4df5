package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for the admin connection
	"go.uber.org/zap/zaptest"

	"github.com/concordchat/concord/storage"
)

// DefaultPostgresURL is the server used when CONCORD_TEST_POSTGRES is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Environment variables the harness reads.
const (
	EnvPostgresURL     = "CONCORD_TEST_POSTGRES"
	EnvRequirePostgres = "CONCORD_REQUIRE_POSTGRES"
)

// ForEachBackend runs fn as the subtests "sqlite" and "postgres", each with a
// fresh, migrated database that is closed (and for PostgreSQL dropped) when
// the subtest ends.
func ForEachBackend(t *testing.T, fn func(t *testing.T, db *storage.DB)) {
	t.Helper()
	t.Run(storage.EngineSQLite, func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run(storage.EnginePostgres, func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite opens a fresh SQLite database in a temporary directory.
func SQLite(t testing.TB) *storage.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "concord.db")
	db, err := storage.Open(context.Background(), path, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("storagetest: open SQLite: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("storagetest: close SQLite: %v", err)
		}
	})
	return db
}

// Postgres creates a uniquely named database on the test server, opens it,
// and drops it when the test ends. An unreachable server skips the test, or
// fails it under CI or CONCORD_REQUIRE_POSTGRES=1.
func Postgres(t testing.TB) *storage.DB {
	t.Helper()
	dbURL := PostgresDatabaseURL(t)
	db, err := storage.Open(context.Background(), dbURL, zaptest.NewLogger(t), storage.WithMaxOpenConns(10))
	if err != nil {
		t.Fatalf("storagetest: open PostgreSQL database %s: %v", redacted(dbURL), err)
	}
	// Registered after the drop, so it runs before it.
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("storagetest: close PostgreSQL: %v", err)
		}
	})
	return db
}

// PostgresDatabaseURL creates a uniquely named, empty database on the test
// server and returns its URL (for a server process under test); it is
// dropped when the test ends. Reachability is handled as in Postgres.
func PostgresDatabaseURL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	serverURL := PostgresURL()
	admin, err := adminPool(ctx, serverURL)
	if err != nil {
		if RequirePostgres() {
			t.Fatalf("storagetest: PostgreSQL required (CI or %s=1) but unreachable at %s: %v",
				EnvRequirePostgres, redacted(serverURL), err)
		}
		t.Skipf("storagetest: skipping PostgreSQL, unreachable at %s (set %s to point elsewhere): %v",
			redacted(serverURL), EnvPostgresURL, err)
	}
	name := "concord_test_" + randomHex(t, 8)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("storagetest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// FORCE ends connections a failed test may have left open.
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("storagetest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatalf("storagetest: parse %s: %v", EnvPostgresURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// PostgresURL returns the test server URL: CONCORD_TEST_POSTGRES or the default.
func PostgresURL() string {
	if u := os.Getenv(EnvPostgresURL); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// RequirePostgres reports whether an unreachable PostgreSQL fails tests
// instead of skipping them: when CI is set, or CONCORD_REQUIRE_POSTGRES=1.
func RequirePostgres() bool {
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		return true
	}
	return os.Getenv(EnvRequirePostgres) == "1"
}

var (
	adminMu    sync.Mutex
	adminPools = map[string]*sql.DB{}
)

// adminPool returns a small, reachable pool on the server's maintenance
// database, shared by the tests of this process.
func adminPool(ctx context.Context, serverURL string) (*sql.DB, error) {
	adminMu.Lock()
	defer adminMu.Unlock()
	if pool, ok := adminPools[serverURL]; ok {
		return pool, nil
	}
	pool, err := sql.Open("pgx", serverURL)
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(2)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.PingContext(ctx); err != nil {
		_ = pool.Close()
		return nil, err
	}
	adminPools[serverURL] = pool
	return pool, nil
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("storagetest: random name: %v", err)
	}
	return hex.EncodeToString(b)
}

func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
