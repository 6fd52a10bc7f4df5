package clientapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/storage/accounts"
)

const (
	// refreshableTokenLifetime is the lifetime of access tokens given to
	// clients that support refresh tokens (as in Synapse: five minutes).
	// Other clients get access tokens that do not expire.
	refreshableTokenLifetime = 5 * time.Minute

	accessTokenPrefix  = "cat_"
	refreshTokenPrefix = "crt_"

	maxDeviceIDBytes       = 255
	maxDeviceNameRunes     = 100
	deviceIDLength         = 10
	deviceIDAllocateTrials = 5
)

// deviceSession is what login and registration hand to the client.
type deviceSession struct {
	deviceID     string
	accessToken  string
	refreshToken string // "" when the client did not ask for one
	expiresInMS  int64  // 0 when the access token does not expire
}

// startDeviceSession creates or reuses a device of the user and issues its
// access token (and a refresh token when withRefresh). An empty deviceID
// allocates a new one. Reusing a known device ID keeps the device and ends
// the tokens it had, as "Relationship between access tokens and devices"
// asks; displayName only names new devices.
func (a *API) startDeviceSession(ctx context.Context, localpart, deviceID, displayName string, withRefresh bool) (deviceSession, error) {
	deviceID, err := a.ensureDevice(ctx, localpart, deviceID, displayName)
	if err != nil {
		return deviceSession{}, err
	}
	access, refresh, expiresInMS := a.newTokenPair(withRefresh)
	if err := a.deps.Accounts.CreateTokens(ctx, localpart, deviceID, access, refresh); err != nil {
		return deviceSession{}, err
	}
	out := deviceSession{deviceID: deviceID, accessToken: access.Token, expiresInMS: expiresInMS}
	if refresh != nil {
		out.refreshToken = refresh.Token
	}
	return out, nil
}

// ensureDevice returns the ID of a device of the user: a new one when
// deviceID is empty, else deviceID, created if the user lacks it.
func (a *API) ensureDevice(ctx context.Context, localpart, deviceID, displayName string) (string, error) {
	if deviceID == "" {
		for range deviceIDAllocateTrials {
			id := newDeviceID()
			_, err := a.deps.Accounts.CreateDevice(ctx, localpart, id, displayName)
			if errors.Is(err, accounts.ErrDeviceExists) {
				continue
			}
			return id, err
		}
		return "", fmt.Errorf("clientapi: no free device ID for %q after %d trials", localpart, deviceIDAllocateTrials)
	}
	_, err := a.deps.Accounts.CreateDevice(ctx, localpart, deviceID, displayName)
	if !errors.Is(err, accounts.ErrDeviceExists) {
		return deviceID, err
	}
	d, err := a.deps.Accounts.GetDevice(ctx, localpart, deviceID)
	if err != nil {
		return "", err
	}
	return deviceID, a.revokeDeviceTokens(ctx, d)
}

// revokeDeviceTokens ends every token of a device and keeps the device.
func (a *API) revokeDeviceTokens(ctx context.Context, d accounts.Device) error {
	return a.deps.Accounts.DeleteDeviceTokens(ctx, d.Localpart, d.DeviceID)
}

// newTokenPair makes a new access token and, with withRefresh, a refresh
// token; the access token then expires and its lifetime in ms is returned.
func (a *API) newTokenPair(withRefresh bool) (accounts.NewToken, *accounts.NewToken, int64) {
	access := accounts.NewToken{Token: newSecret(accessTokenPrefix)}
	if !withRefresh {
		return access, nil, 0
	}
	access.ExpiresTS = a.deps.Now().Add(refreshableTokenLifetime).UnixMilli()
	refresh := &accounts.NewToken{Token: newSecret(refreshTokenPrefix)}
	return access, refresh, refreshableTokenLifetime.Milliseconds()
}

// checkDeviceFields checks a client-chosen device ID and display name.
func checkDeviceFields(deviceID, displayName string) error {
	if len(deviceID) > maxDeviceIDBytes {
		return matrixhttp.InvalidParam("device_id is longer than %d bytes", maxDeviceIDBytes)
	}
	return checkDeviceName(displayName)
}

func checkDeviceName(name string) error {
	if utf8.RuneCountInString(name) > maxDeviceNameRunes {
		return matrixhttp.InvalidParam("Device display name is too long (max %d characters)", maxDeviceNameRunes)
	}
	return nil
}

// newSecret returns a token with 256 random bits.
func newSecret(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// newDeviceID returns ten random characters of A-Z and 2-7, like
// the upper-case device IDs other servers hand out.
func newDeviceID() string { return rand.Text()[:deviceIDLength] }

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

type refreshResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresInMS  int64  `json:"expires_in_ms"`
}

// refresh answers POST /refresh: a refresh token works once and is replaced
// by a new pair; the access token issued with it ends too.
func (a *API) refresh(c *gin.Context) {
	var req refreshRequest
	if err := matrixhttp.DecodeJSON(c, &req, 0, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if req.RefreshToken == "" {
		matrixhttp.Fail(c, matrixhttp.MissingParam("Missing refresh_token"))
		return
	}
	access, refresh, expiresInMS := a.newTokenPair(true)
	_, err := a.deps.Accounts.RotateRefreshToken(c.Request.Context(), req.RefreshToken, access, *refresh)
	switch {
	case errors.Is(err, accounts.ErrNotFound):
		matrixhttp.Fail(c, matrixhttp.UnknownToken("Unknown or already used refresh token"))
		return
	case errors.Is(err, accounts.ErrTokenExpired):
		e := matrixhttp.UnknownToken("Refresh token has expired")
		e.Extra = map[string]any{"soft_logout": true}
		matrixhttp.Fail(c, e)
		return
	case err != nil:
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, refreshResponse{
		AccessToken: access.Token, RefreshToken: refresh.Token, ExpiresInMS: expiresInMS,
	})
}
