package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/roomserver/signing"
)

// TestFederationListener: the server generates a self-signed TLS pair in its
// data directory, serves the federation API over HTTPS on its own port, and
// publishes its signing key there, signed by itself, valid into the future.
func TestFederationListener(t *testing.T) {
	s := newServer(t, "sqlite")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // the pair is self-signed
	resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/_matrix/key/v2/server", s.fedPort))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotNil(t, resp.TLS, "served over TLS")
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var doc struct {
		ServerName   string                       `json:"server_name"`
		ValidUntilTS int64                        `json:"valid_until_ts"`
		VerifyKeys   map[string]map[string]string `json:"verify_keys"`
	}
	require.NoError(t, json.Unmarshal(body, &doc))
	require.Equal(t, s.name, doc.ServerName)
	require.Greater(t, doc.ValidUntilTS, time.Now().UnixMilli())
	require.Len(t, doc.VerifyKeys, 1)
	// The published key is the one in the signing key file, and it signed the document.
	data, err := os.ReadFile(filepath.Join(filepath.Dir(s.logPath), "signing.key"))
	require.NoError(t, err)
	key, err := signing.ParseKeyFile(s.name, data)
	require.NoError(t, err)
	require.Equal(t, signing.EncodeBase64(key.Public()), doc.VerifyKeys[string(key.ID)]["key"])
	require.NoError(t, signing.VerifyJSON(body, s.name, key.ID, key.Public(), true))
	for _, f := range []string{"tls.crt", "tls.key", "media"} {
		_, err := os.Stat(filepath.Join(filepath.Dir(s.logPath), f))
		require.NoError(t, err, "%s created in the data directory", f)
	}
}
