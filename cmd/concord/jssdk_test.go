package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMatrixJSSDK runs testdata/jssdk/scenario.test.mjs: two matrix-js-sdk
// clients chat, react, edit, redact and read each other's receipts against
// the real server. Node and the pinned packages are required: the packages
// are installed with npm ci from the lockfile when missing.
func TestMatrixJSSDK(t *testing.T) {
	node, err := exec.LookPath("node")
	require.NoError(t, err, "node is required (scripts/test-services.sh installs it)")
	dir, err := filepath.Abs(filepath.Join("testdata", "jssdk"))
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "matrix-js-sdk")); err != nil {
		npm := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		npm.Dir = dir
		out, err := npm.CombinedOutput()
		require.NoError(t, err, "npm ci: %s", out)
	}
	backends(t, func(t *testing.T, backend string) {
		s := newServer(t, backend)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "--test", "--test-force-exit", "--test-reporter=spec", "scenario.test.mjs")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HS_URL="+s.url)
		out, err := cmd.CombinedOutput()
		if err != nil {
			log, _ := os.ReadFile(s.logPath)
			t.Fatalf("matrix-js-sdk scenario failed: %v\n%s\nserver log:\n%s", err, out, log)
		}
		t.Logf("%s", out)
	})
}
