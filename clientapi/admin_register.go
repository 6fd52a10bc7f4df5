package clientapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 is what the Synapse API specifies
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/storage/accounts"
)

// Shared-secret registration, compatible with Synapse's admin API
// (GET/POST /_synapse/admin/v1/register) and its register_new_matrix_user
// tool: the caller fetches a single-use nonce, then posts the account with
// mac = hex(HMAC-SHA1(shared secret, nonce NUL username NUL password NUL
// "admin"|"notadmin")).

const (
	nonceTTL = 60 * time.Second // as in Synapse
	// maxNonces bounds the nonces held: anyone may ask for one.
	maxNonces = 10_000
	// maxSharedSecretField bounds username and password, as in Synapse.
	maxSharedSecretField = 512
)

// nonceStore holds the nonces handed out, each usable once within nonceTTL.
type nonceStore struct {
	mu     sync.Mutex
	issued map[string]time.Time
}

func newNonceStore() *nonceStore { return &nonceStore{issued: map[string]time.Time{}} }

// issue returns a new nonce. When the store is full the oldest nonce goes.
func (s *nonceStore) issue(now time.Time) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	nonce := hex.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	for n, t := range s.issued {
		if now.Sub(t) > nonceTTL {
			delete(s.issued, n)
		}
	}
	if len(s.issued) >= maxNonces {
		oldest, oldestT := "", now
		for n, t := range s.issued {
			if !t.After(oldestT) {
				oldest, oldestT = n, t
			}
		}
		delete(s.issued, oldest)
	}
	s.issued[nonce] = now
	return nonce
}

// take uses up a nonce: it reports whether the nonce was issued and is
// still fresh, and forgets it either way.
func (s *nonceStore) take(nonce string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.issued[nonce]
	delete(s.issued, nonce)
	return ok && now.Sub(t) <= nonceTTL
}

// sharedSecretMAC is the MAC a request must carry.
func sharedSecretMAC(secret, nonce, username, password string, admin bool) string {
	m := hmac.New(sha1.New, []byte(secret))
	role := "notadmin"
	if admin {
		role = "admin"
	}
	m.Write([]byte(nonce + "\x00" + username + "\x00" + password + "\x00" + role))
	return hex.EncodeToString(m.Sum(nil))
}

// errSharedSecretDisabled answers both endpoints when no shared secret is
// configured (Synapse answers 400 "Shared secret registration is not
// enabled").
func errSharedSecretDisabled() *matrixhttp.Error {
	return &matrixhttp.Error{Status: http.StatusBadRequest, ErrCode: "M_FORBIDDEN", Message: "Shared secret registration is not enabled"}
}

type adminNonceResponse struct {
	Nonce string `json:"nonce"`
}

// adminRegisterNonce answers GET /_synapse/admin/v1/register.
func (a *API) adminRegisterNonce(c *gin.Context) {
	if a.deps.Config.Registration.SharedSecret == "" {
		matrixhttp.Fail(c, errSharedSecretDisabled())
		return
	}
	matrixhttp.Respond(c, http.StatusOK, adminNonceResponse{Nonce: a.nonces.issue(a.deps.Now())})
}

type adminRegisterRequest struct {
	Nonce                    *string `json:"nonce"`
	Username                 *string `json:"username"`
	Password                 *string `json:"password"`
	Admin                    bool    `json:"admin"`
	DisplayName              string  `json:"displayname"`
	UserType                 *string `json:"user_type"`
	MAC                      *string `json:"mac"`
	DeviceID                 string  `json:"device_id"`
	InitialDeviceDisplayName string  `json:"initial_device_display_name"`
	InhibitLogin             bool    `json:"inhibit_login"`
}

// adminRegister answers POST /_synapse/admin/v1/register, checking the
// fields in Synapse's order: the nonce is used up by any request naming it,
// even one that then fails.
func (a *API) adminRegister(c *gin.Context) {
	secret := a.deps.Config.Registration.SharedSecret
	if secret == "" {
		matrixhttp.Fail(c, errSharedSecretDisabled())
		return
	}
	var req adminRegisterRequest
	if err := matrixhttp.DecodeJSON(c, &req, 0, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if err := a.checkSharedSecretRequest(&req, secret); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	localpart, err := a.checkNewUsername(ctx, *req.Username)
	if err == nil {
		err = checkDeviceFields(req.DeviceID, req.InitialDeviceDisplayName)
	}
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	hash, err := a.passwords.hash(*req.Password)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	displayName := req.DisplayName
	if displayName == "" {
		displayName = localpart
	}
	_, err = a.deps.Accounts.CreateUser(ctx, accounts.NewUser{
		Localpart: localpart, PasswordHash: hash, DisplayName: displayName, IsAdmin: req.Admin,
	})
	if errors.Is(err, accounts.ErrUserExists) {
		err = matrixhttp.UserInUse("User ID already taken")
	}
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	a.hasUsers.Store(true)
	resp := registerResponse{UserID: a.userID(localpart), HomeServer: a.deps.Config.ServerName}
	if !req.InhibitLogin {
		ds, err := a.startDeviceSession(ctx, localpart, req.DeviceID, req.InitialDeviceDisplayName, false)
		if err != nil {
			matrixhttp.Fail(c, err)
			return
		}
		resp.AccessToken, resp.DeviceID = ds.accessToken, ds.deviceID
	}
	matrixhttp.Respond(c, http.StatusOK, resp)
}

// checkSharedSecretRequest checks the nonce, the fields and the MAC.
func (a *API) checkSharedSecretRequest(req *adminRegisterRequest, secret string) error {
	if req.Nonce == nil {
		return matrixhttp.BadJSON("nonce must be specified")
	}
	if !a.nonces.take(*req.Nonce, a.deps.Now()) {
		return &matrixhttp.Error{Status: http.StatusBadRequest, ErrCode: "M_UNKNOWN", Message: "Unrecognised nonce"}
	}
	switch {
	case req.Username == nil:
		return matrixhttp.BadJSON("username must be specified")
	case len(*req.Username) > maxSharedSecretField || strings.ContainsRune(*req.Username, 0):
		return matrixhttp.InvalidUsername("Invalid username")
	case req.Password == nil:
		return matrixhttp.BadJSON("password must be specified")
	case *req.Password == "" || len(*req.Password) > maxSharedSecretField || strings.ContainsRune(*req.Password, 0):
		return matrixhttp.InvalidParam("Invalid password")
	case req.UserType != nil:
		return matrixhttp.InvalidParam("user_type is not supported")
	case req.MAC == nil:
		return matrixhttp.BadJSON("mac must be specified")
	}
	want := sharedSecretMAC(secret, *req.Nonce, *req.Username, *req.Password, req.Admin)
	if !hmac.Equal([]byte(want), []byte(*req.MAC)) {
		return matrixhttp.Forbidden("HMAC incorrect")
	}
	return nil
}
