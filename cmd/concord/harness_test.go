package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
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
	fedPort int           // the federation (HTTPS) listener's port
	started bool          // started once: restarts keep the ports
	exited  chan struct{} // closed when the running process has exited
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
	s := &testServer{t: t, logPath: filepath.Join(dataDir, "server.log"), dbURL: dbURL}
	s.env = append(os.Environ(),
		"CONCORD_DATA_DIR="+dataDir,
		"CONCORD_DATABASE_URL="+dbURL,
		"CONCORD_REGISTRATION_ENABLED=true",
		"CONCORD_REGISTRATION_REQUIRE_TOKEN=false",
		"CONCORD_RATELIMIT_ENABLED=false",
		"CONCORD_LOG_LEVEL=warn",
	)
	s.pickPorts()
	s.start()
	t.Cleanup(s.stop)
	return s
}

// pickPorts chooses free loopback ports and a server name unique to this
// server (so a health check can tell it from another test's server).
func (s *testServer) pickPorts() {
	port := freePort(s.t)
	label := make([]byte, 4)
	_, _ = rand.Read(label)
	s.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	s.name = fmt.Sprintf("t%x.localhost:%d", label, port)
	s.setEnv("CONCORD_SERVER_NAME", s.name)
	s.setEnv("CONCORD_LISTEN_CLIENT", fmt.Sprintf("127.0.0.1:%d", port))
	s.setEnv("CONCORD_LISTEN_METRICS", fmt.Sprintf("127.0.0.1:%d", freePort(s.t)))
	s.fedPort = freePort(s.t)
	s.setEnv("CONCORD_LISTEN_FEDERATION", fmt.Sprintf("127.0.0.1:%d", s.fedPort))
}

// setEnv sets or replaces one variable of the server's environment.
func (s *testServer) setEnv(key, value string) {
	for i, kv := range s.env {
		if strings.HasPrefix(kv, key+"=") {
			s.env[i] = key + "=" + value
			return
		}
	}
	s.env = append(s.env, key+"="+value)
}

// start runs the server and waits until it answers as itself. A port taken
// between choosing and binding it is retried: with new ports on the first
// start, with the same ones (which clients already know) on a restart.
func (s *testServer) start() {
	s.t.Helper()
	for attempt := 1; ; attempt++ {
		ok, busy := s.launch()
		if ok {
			s.started = true
			return
		}
		if !busy || attempt == 10 {
			log, _ := os.ReadFile(s.logPath)
			s.t.Fatalf("server did not start:\n%s", log)
		}
		if !s.started {
			s.pickPorts()
		} else {
			time.Sleep(500 * time.Millisecond)
		}
	}
}

// launch starts the process once; busy reports a port already in use.
func (s *testServer) launch() (ok, busy bool) {
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(s.t, err)
	defer logFile.Close()
	s.cmd = exec.Command(binary(s.t), "run")
	s.cmd.Env = s.env
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	require.NoError(s.t, s.cmd.Start())
	exited := make(chan struct{})
	go func(cmd *exec.Cmd) { _ = cmd.Wait(); close(exited) }(s.cmd)
	want := "http://" + s.name
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			s.cmd = nil
			log, _ := os.ReadFile(s.logPath)
			return false, strings.Contains(string(log), "address already in use")
		default:
		}
		if resp, err := http.Get(s.url + "/.well-known/matrix/client"); err == nil {
			var wk struct {
				HS struct {
					BaseURL string `json:"base_url"`
				} `json:"m.homeserver"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&wk)
			resp.Body.Close()
			if wk.HS.BaseURL == want {
				s.exited = exited
				return true, false
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = s.cmd.Process.Kill()
	<-exited
	s.cmd = nil
	return false, false
}

// stop ends the process gracefully.
func (s *testServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// kill ends the process with SIGKILL, as a crash.
func (s *testServer) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
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
