package spectest

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// EnvSpecDir names the spec checkout explicitly.
const EnvSpecDir = "CONCORD_SPEC_DIR"

var (
	once     sync.Once
	shared   *Validator
	loadErr  error
	foundDir string
)

// Dir returns the spec checkout: CONCORD_SPEC_DIR, or ../shared/matrix-spec
// beside the repository (found by walking up to go.mod), or "".
func Dir() string {
	if d := os.Getenv(EnvSpecDir); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			spec := filepath.Join(d, "..", "shared", "matrix-spec")
			if _, err := os.Stat(filepath.Join(spec, "data", "api")); err == nil {
				return spec
			}
			return ""
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// Find returns the client-server validator, or nil (after logging why) when
// the spec folder is not there.
func Find(t testing.TB) *Validator {
	t.Helper()
	once.Do(func() {
		foundDir = Dir()
		if foundDir == "" {
			loadErr = errors.New("spec folder not found")
			return
		}
		shared, loadErr = LoadClientServer(foundDir)
	})
	if loadErr != nil {
		t.Logf("spectest: responses not validated against the spec: %v", loadErr)
		return nil
	}
	return shared
}

// Transport validates every response that passes through it and reports
// mismatches with t.Errorf; a nil validator passes everything through.
func Transport(t testing.TB, v *Validator, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if v == nil {
		return base
	}
	return roundTripper{t: t, v: v, base: base}
}

type roundTripper struct {
	t    testing.TB
	v    *Validator
	base http.RoundTripper
}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rt.base.RoundTrip(req)
	if err != nil || resp.Header.Get("Content-Type") != "application/json" {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if verr := rt.v.Validate(req.Method, req.URL.RequestURI(), resp.StatusCode, body); verr != nil && !errors.Is(verr, ErrNoSchema) {
		rt.t.Errorf("%v\nbody: %.2000s", verr, body)
	}
	return resp, nil
}
