package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

type server struct {
	cmd     *exec.Cmd
	base    string
	name    string
	dir     string
	cleanup func()
	client  *http.Client
	ops     string // base URL of the metrics/pprof listener
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startServer runs the binary on a scratch database and waits for /health.
func startServer(ctx context.Context, o options) (*server, error) {
	dir, err := os.MkdirTemp("", "concord-load-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, cleanup: func() { os.RemoveAll(dir) },
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: time.Minute}}
	dbURL := filepath.Join(dir, "concord.db")
	if o.backend == "postgres" {
		if dbURL, err = scratchPostgres(ctx, o.postgres, s); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	mport, err := freePort()
	if err != nil {
		return nil, err
	}
	fport, err := freePort()
	if err != nil {
		return nil, err
	}
	s.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	s.ops = fmt.Sprintf("http://127.0.0.1:%d", mport)
	s.name = fmt.Sprintf("localhost:%d", port)
	s.cmd = exec.Command(o.bin, "run")
	s.cmd.Env = append(os.Environ(), "CONCORD_SERVER_NAME="+s.name, fmt.Sprintf("CONCORD_LISTEN_CLIENT=127.0.0.1:%d", port),
		fmt.Sprintf("CONCORD_LISTEN_METRICS=127.0.0.1:%d", mport), fmt.Sprintf("CONCORD_LISTEN_FEDERATION=127.0.0.1:%d", fport), "CONCORD_DATA_DIR="+dir, "CONCORD_DATABASE_URL="+dbURL,
		"CONCORD_REGISTRATION_ENABLED=true", "CONCORD_REGISTRATION_REQUIRE_TOKEN=false",
		"CONCORD_RATELIMIT_ENABLED=false", "CONCORD_LOG_LEVEL=error")
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := s.client.Get(s.base + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("server did not start (log in %s)", dir)
}

// scratchPostgres creates a database for this run and drops it at stop.
func scratchPostgres(ctx context.Context, serverURL string, s *server) (string, error) {
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		return "", err
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "concord_load_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", fmt.Errorf("create scratch database: %w", err)
	}
	prev := s.cleanup
	s.cleanup = func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
		prev()
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
		}
	}
	s.cleanup()
}

// rssMiB reads the server's resident set size from /proc.
func (s *server) rssMiB() float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// cpuProfile saves the server's CPU profile over the next seconds.
func (s *server) cpuProfile(ctx context.Context, path string, seconds int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.ops, seconds), nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}
