package clientapi

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/storage/accounts"
)

// The registration tokens admin API, on Synapse's paths and with its shapes
// (Synapse docs, "Registration Tokens" admin API), so that existing admin
// tools work: list, get, create, update and delete the tokens that
// m.login.registration_token consumes. Validation failures are 400
// M_INVALID_PARAM as in Synapse; unknown tokens 404 M_NOT_FOUND.

const (
	// regTokenChars are the characters of a registration token (Synapse:
	// [A-Za-z0-9._~-]), used to check given tokens and to generate new ones.
	regTokenChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-"
	// regTokenMaxLen bounds given tokens and the length of generated ones.
	regTokenMaxLen = 64
	// regTokenDefaultLen is the length of a generated token by default.
	regTokenDefaultLen = 16
	// regTokenGenerateTrials bounds the attempts at a free random token.
	regTokenGenerateTrials = 10
)

// regTokenJSON is a registration token object of the admin API.
type regTokenJSON struct {
	Token       string `json:"token"`
	UsesAllowed *int64 `json:"uses_allowed"`
	Pending     int64  `json:"pending"`
	Completed   int64  `json:"completed"`
	ExpiryTime  *int64 `json:"expiry_time"`
}

func toRegTokenJSON(t accounts.RegistrationToken) regTokenJSON {
	return regTokenJSON{Token: t.Token, UsesAllowed: t.UsesAllowed, Pending: t.Pending,
		Completed: t.Completed, ExpiryTime: t.ExpiryTime}
}

type regTokenListResponse struct {
	RegistrationTokens []regTokenJSON `json:"registration_tokens"`
}

// regTokenFields are the fields of a create or update body. Set tells an
// absent field from an explicit null.
type regTokenFields struct {
	token              string
	length             int
	setUses, setExpiry bool
	uses, expiry       *int64
}

// listRegTokens answers GET /_synapse/admin/v1/registration_tokens[?valid=true|false].
func (a *API) listRegTokens(c *gin.Context) {
	var valid *bool
	switch v, given := c.GetQuery("valid"); {
	case !given:
	case v == "true" || v == "false":
		b := v == "true"
		valid = &b
	default:
		matrixhttp.Fail(c, matrixhttp.InvalidParam("Boolean query parameter 'valid' must be one of ['true', 'false']"))
		return
	}
	tokens, err := a.deps.Accounts.ListRegistrationTokens(c.Request.Context(), valid)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	resp := regTokenListResponse{RegistrationTokens: make([]regTokenJSON, 0, len(tokens))}
	for _, t := range tokens {
		resp.RegistrationTokens = append(resp.RegistrationTokens, toRegTokenJSON(t))
	}
	matrixhttp.Respond(c, http.StatusOK, resp)
}

// getRegToken answers GET /_synapse/admin/v1/registration_tokens/{token}.
func (a *API) getRegToken(c *gin.Context) {
	t, err := a.deps.Accounts.GetRegistrationToken(c.Request.Context(), c.Param("token"))
	if err != nil {
		matrixhttp.Fail(c, regTokenErr(c, err))
		return
	}
	matrixhttp.Respond(c, http.StatusOK, toRegTokenJSON(t))
}

// createRegToken answers POST /_synapse/admin/v1/registration_tokens/new.
func (a *API) createRegToken(c *gin.Context) {
	f, err := a.parseRegTokenFields(c, true)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if f.token != "" {
		t, err := a.deps.Accounts.CreateRegistrationToken(ctx, f.token, f.uses, f.expiry)
		if errors.Is(err, accounts.ErrRegistrationTokenExists) {
			err = matrixhttp.InvalidParam("Token already in use")
		}
		if err != nil {
			matrixhttp.Fail(c, err)
			return
		}
		matrixhttp.Respond(c, http.StatusOK, toRegTokenJSON(t))
		return
	}
	for range regTokenGenerateTrials {
		t, err := a.deps.Accounts.CreateRegistrationToken(ctx, randomRegToken(f.length), f.uses, f.expiry)
		if errors.Is(err, accounts.ErrRegistrationTokenExists) {
			continue
		}
		if err != nil {
			matrixhttp.Fail(c, err)
			return
		}
		matrixhttp.Respond(c, http.StatusOK, toRegTokenJSON(t))
		return
	}
	matrixhttp.Fail(c, matrixhttp.InvalidParam("No free token of length %d was found: ask for a longer one", f.length))
}

// updateRegToken answers PUT /_synapse/admin/v1/registration_tokens/{token}:
// the fields given change (null meaning unlimited or never), the others stay.
func (a *API) updateRegToken(c *gin.Context) {
	f, err := a.parseRegTokenFields(c, false)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	t, err := a.deps.Accounts.UpdateRegistrationToken(c.Request.Context(), c.Param("token"), accounts.RegistrationTokenUpdate{
		SetUsesAllowed: f.setUses, UsesAllowed: f.uses, SetExpiryTime: f.setExpiry, ExpiryTime: f.expiry,
	})
	if err != nil {
		matrixhttp.Fail(c, regTokenErr(c, err))
		return
	}
	matrixhttp.Respond(c, http.StatusOK, toRegTokenJSON(t))
}

// deleteRegToken answers DELETE /_synapse/admin/v1/registration_tokens/{token}.
func (a *API) deleteRegToken(c *gin.Context) {
	if err := a.deps.Accounts.DeleteRegistrationToken(c.Request.Context(), c.Param("token")); err != nil {
		matrixhttp.Fail(c, regTokenErr(c, err))
		return
	}
	matrixhttp.Respond(c, http.StatusOK, gin.H{})
}

// regTokenErr turns the store's ErrNotFound into Synapse's 404.
func regTokenErr(c *gin.Context, err error) error {
	if errors.Is(err, accounts.ErrNotFound) {
		return matrixhttp.NotFound("No such registration token: %s", c.Param("token"))
	}
	return err
}

// parseRegTokenFields reads a create (token and length allowed) or update
// body, with Synapse's checks: uses_allowed a non-negative integer or null,
// expiry_time an integer not in the past or null, token 1 to 64 characters
// of [A-Za-z0-9._~-], length an integer from 1 to 64. Unknown fields are
// ignored.
func (a *API) parseRegTokenFields(c *gin.Context, create bool) (regTokenFields, error) {
	var body map[string]json.RawMessage
	if err := matrixhttp.DecodeJSON(c, &body, 0, create); err != nil {
		return regTokenFields{}, err
	}
	f := regTokenFields{length: regTokenDefaultLen}
	var ok bool
	if raw, given := body["uses_allowed"]; given {
		f.setUses = true
		if f.uses, ok = nullableInt(raw); !ok || (f.uses != nil && *f.uses < 0) {
			return f, matrixhttp.InvalidParam("uses_allowed must be a non-negative integer or null")
		}
	}
	if raw, given := body["expiry_time"]; given {
		f.setExpiry = true
		if f.expiry, ok = nullableInt(raw); !ok {
			return f, matrixhttp.InvalidParam("expiry_time must be an integer or null")
		}
		if f.expiry != nil && *f.expiry < a.deps.Now().UnixMilli() {
			return f, matrixhttp.InvalidParam("expiry_time must not be in the past")
		}
	}
	if !create {
		return f, nil
	}
	if raw, given := body["token"]; given {
		if err := json.Unmarshal(raw, &f.token); err != nil || !validRegToken(f.token) {
			return f, matrixhttp.InvalidParam("token must be a string of 1 to %d characters of [A-Za-z0-9._~-]", regTokenMaxLen)
		}
		return f, nil
	}
	if raw, given := body["length"]; given {
		n, ok := nullableInt(raw)
		if !ok || n == nil || *n < 1 || *n > regTokenMaxLen {
			return f, matrixhttp.InvalidParam("length must be an integer from 1 to %d", regTokenMaxLen)
		}
		f.length = int(*n)
	}
	return f, nil
}

// nullableInt parses a JSON integer or null. Booleans, strings, fractions
// and exponents are refused, as are integers outside int64.
func nullableInt(raw json.RawMessage) (*int64, bool) {
	if string(raw) == "null" {
		return nil, true
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return nil, false
	}
	return &n, true
}

func validRegToken(t string) bool {
	if t == "" || len(t) > regTokenMaxLen {
		return false
	}
	for i := range len(t) {
		if !isRegTokenChar(t[i]) {
			return false
		}
	}
	return true
}

func isRegTokenChar(b byte) bool {
	return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') ||
		b == '.' || b == '_' || b == '~' || b == '-'
}

// randomRegToken returns n characters of regTokenChars, each uniformly
// chosen with crypto/rand (bytes past the largest multiple of the alphabet
// size are dropped, so no character is favoured).
func randomRegToken(n int) string {
	const size = len(regTokenChars)
	const limit = 256 - 256%size
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		_, _ = rand.Read(buf) // crypto/rand.Read never fails (Go 1.24+)
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, regTokenChars[int(b)%size])
			}
		}
	}
	return string(out)
}
