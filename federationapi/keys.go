package federationapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver/signing"
)

// keyValidity is how long published keys may be cached by other servers
// (valid_until_ts). Servers refetch after it; a day is what Synapse uses.
const keyValidity = 24 * time.Hour

// verifyKey is one published public key.
type verifyKey struct {
	Key string `json:"key"`
}

// serverKeys is the body of GET /_matrix/key/v2/server before signing.
type serverKeys struct {
	ServerName    string               `json:"server_name"`
	ValidUntilTS  int64                `json:"valid_until_ts"`
	VerifyKeys    map[string]verifyKey `json:"verify_keys"`
	OldVerifyKeys map[string]any       `json:"old_verify_keys"`
}

// serverKeysHandler publishes this server's signing key, signed by itself
// (server-server API, "Publishing Keys").
func (a *API) serverKeysHandler(c *gin.Context) {
	key := a.deps.Key
	body := serverKeys{
		ServerName:    a.deps.ServerName,
		ValidUntilTS:  a.now().Add(keyValidity).UnixMilli(),
		VerifyKeys:    map[string]verifyKey{string(key.ID): {Key: signing.EncodeBase64(key.Public())}},
		OldVerifyKeys: map[string]any{},
	}
	raw, err := json.Marshal(body)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	signed, err := signing.SignJSON(raw, key, true)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json", signed)
}

func (a *API) now() time.Time {
	if a.deps.Now != nil {
		return a.deps.Now()
	}
	return time.Now()
}
