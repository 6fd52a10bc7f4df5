package federationapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/federationapi"
	"github.com/concordchat/concord/roomserver/signing"
)

func testKey(t *testing.T) signing.Key {
	t.Helper()
	k, err := signing.GenerateKey("fed.test")
	require.NoError(t, err)
	return k
}

// TestServerKeys: the published key document names the server, lists its key,
// is valid for a while, and is signed by that key.
func TestServerKeys(t *testing.T) {
	key := testKey(t)
	now := time.UnixMilli(1_800_000_000_000)
	api, err := federationapi.New(federationapi.Deps{ServerName: "fed.test", Key: key, OpenID: failingTokens{},
		Now: func() time.Time { return now }})
	require.NoError(t, err)
	gin.SetMode(gin.TestMode)
	r := gin.New()
	api.Register(r)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/_matrix/key/v2/server", nil))
	require.Equal(t, http.StatusOK, w.Code)
	var doc struct {
		ServerName   string                       `json:"server_name"`
		ValidUntilTS int64                        `json:"valid_until_ts"`
		VerifyKeys   map[string]map[string]string `json:"verify_keys"`
		OldKeys      map[string]any               `json:"old_verify_keys"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
	require.Equal(t, "fed.test", doc.ServerName)
	require.Equal(t, now.Add(24*time.Hour).UnixMilli(), doc.ValidUntilTS)
	require.Equal(t, signing.EncodeBase64(key.Public()), doc.VerifyKeys[string(key.ID)]["key"])
	require.NotNil(t, doc.OldKeys)
	pub, err := signing.DecodeBase64(doc.VerifyKeys[string(key.ID)]["key"])
	require.NoError(t, err)
	require.NoError(t, signing.VerifyJSON(w.Body.Bytes(), "fed.test", key.ID, pub, true))
	other := testKey(t)
	require.Error(t, signing.VerifyJSON(w.Body.Bytes(), "fed.test", key.ID, other.Public(), true))
}
