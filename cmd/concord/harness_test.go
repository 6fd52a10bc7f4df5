package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/concordchat/concord/internal/spectest"
	"github.com/concordchat/concord/storage/storagetest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the concord binary once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "concord-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "concord")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// testServer is a concord process listening on a loopback port.
type testServer struct {
	t       *testing.T
	url     string
	name    string
	env     []string
	cmd     *exec.Cmd
	logPath string
	dbURL   string
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// newServer prepares (and starts) a server on the given backend ("sqlite" or
// "postgres") with open registration and no rate limits.
func newServer(t *testing.T, backend string) *testServer {
	t.Helper()
	dataDir := t.TempDir()
	dbURL := filepath.Join(dataDir, "concord.db")
	if backend == "postgres" {
		dbURL = storagetest.PostgresDatabaseURL(t)
	}
	port := freePort(t)
	s := &testServer{t: t, url: fmt.Sprintf("http://127.0.0.1:%d", port), name: fmt.Sprintf("localhost:%d", port),
		logPath: filepath.Join(dataDir, "server.log"), dbURL: dbURL}
	s.env = append(os.Environ(),
		"CONCORD_SERVER_NAME="+s.name,
		fmt.Sprintf("CONCORD_LISTEN_CLIENT=127.0.0.1:%d", port),
		fmt.Sprintf("CONCORD_LISTEN_METRICS=127.0.0.1:%d", freePort(t)),
		"CONCORD_DATA_DIR="+dataDir,
		"CONCORD_DATABASE_URL="+dbURL,
		"CONCORD_REGISTRATION_ENABLED=true",
		"CONCORD_REGISTRATION_REQUIRE_TOKEN=false",
		"CONCORD_RATELIMIT_ENABLED=false",
		"CONCORD_LOG_LEVEL=warn",
	)
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *testServer) start() {
	s.t.Helper()
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(s.t, err)
	s.cmd = exec.Command(binary(s.t), "run")
	s.cmd.Env = s.env
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	require.NoError(s.t, s.cmd.Start())
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.url + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(s.logPath)
	s.t.Fatalf("server did not start:\n%s", log)
}

// stop ends the process gracefully.
func (s *testServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// kill ends the process with SIGKILL, as a crash.
func (s *testServer) kill() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// register makes a user and returns a logged-in mautrix client.
func (s *testServer) register(t *testing.T, localpart string) *mautrix.Client {
	t.Helper()
	cli, err := mautrix.NewClient(s.url, "", "")
	require.NoError(t, err)
	// Every response this client receives is checked against the spec's schemas.
	cli.Client = &http.Client{Transport: spectest.Transport(t, spectest.Find(t), nil)}
	resp, err := cli.RegisterDummy(context.Background(), &mautrix.ReqRegister[any]{Username: localpart, Password: "pw-" + localpart})
	require.NoError(t, err)
	require.Equal(t, id.UserID("@"+localpart+":"+s.name), resp.UserID)
	cli.SetCredentials(resp.UserID, resp.AccessToken)
	cli.DeviceID = resp.DeviceID
	return cli
}

func backends(t *testing.T, fn func(t *testing.T, backend string)) {
	for _, b := range []string{"sqlite", "postgres"} {
		t.Run(b, func(t *testing.T) { fn(t, b) })
	}
}

func userIDs(ids ...id.UserID) []string {
	out := make([]string, len(ids))
	for i, u := range ids {
		out[i] = strings.TrimSpace(u.String())
	}
	return out
}
