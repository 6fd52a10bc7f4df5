package clientapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/concordchat/concord/config"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/accounts"
	"github.com/concordchat/concord/storage/storagetest"
	"github.com/concordchat/concord/syncapi"
)

// Helpers of the guest, registration token and OpenID tests (prefix gt).

// gtEnv is the full-stack rooms env with a settable clock on the client API
// and its accounts store, and the guest evictor in the notifier fan-out.
type gtEnv struct {
	*roomsEnv
	clock   *acctClock
	evictor *GuestEvictor
}

// forEachGTEnv runs fn on SQLite and PostgreSQL.
func forEachGTEnv(t *testing.T, fn func(t *testing.T, e *gtEnv), cfgFns ...func(*config.Config)) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		fn(t, newGTEnv(t, db, cfgFns...))
	})
}

func newGTEnv(t *testing.T, db *storage.DB, cfgFns ...func(*config.Config)) *gtEnv {
	t.Helper()
	g := &gtEnv{clock: &acctClock{now: time.Now()}}
	g.roomsEnv = newRoomsEnv(t, db, func(e *roomsEnv, rsDeps *roomserver.Deps, _ *syncapi.Deps, apiDeps *Deps) {
		acc, err := accounts.New(accounts.Deps{DB: e.db, Logger: zaptest.NewLogger(t), Now: g.clock.Now})
		require.NoError(t, err)
		e.accounts, apiDeps.Accounts, apiDeps.Now = acc, acc, g.clock.Now
		g.evictor, err = NewGuestEvictor(GuestEvictorDeps{Accounts: acc, ServerName: e.cfg.ServerName, Logger: zaptest.NewLogger(t)})
		require.NoError(t, err)
		ns, ok := rsDeps.Notifier.(roomserver.Notifiers)
		require.True(t, ok)
		rsDeps.Notifier = append(ns, g.evictor)
	}, cfgFns...)
	require.NoError(t, g.evictor.Start(g.ctx, g.rs))
	t.Cleanup(g.evictor.Stop)
	return g
}

// sub returns the env for a subtest: helper failures go to t.
func (e *gtEnv) sub(t *testing.T) *gtEnv {
	re := *e.roomsEnv
	re.t = t
	return &gtEnv{roomsEnv: &re, clock: e.clock, evictor: e.evictor}
}

func allowGuests(c *config.Config) { c.Registration.AllowGuests = true }

// guest registers a guest through mautrix and returns its logged-in client.
func (e *gtEnv) guest(deviceName string) *mautrix.Client {
	e.t.Helper()
	cli, err := mautrix.NewClient(e.srv.URL, "", "")
	require.NoError(e.t, err)
	resp, _, err := cli.RegisterGuest(e.ctx, &mautrix.ReqRegister[any]{InitialDeviceDisplayName: deviceName})
	require.NoError(e.t, err)
	cli.SetCredentials(resp.UserID, resp.AccessToken)
	cli.DeviceID = resp.DeviceID
	return cli
}

// room creates a room as creator with a preset, then sets guest_access and
// history_visibility when not empty. It returns the room ID.
func (e *gtEnv) room(creator *mautrix.Client, preset, alias, guestAccess, history string) id.RoomID {
	e.t.Helper()
	resp, err := creator.CreateRoom(e.ctx, &mautrix.ReqCreateRoom{Preset: preset, RoomAliasName: alias})
	require.NoError(e.t, err)
	if guestAccess != "" {
		_, err = creator.SendStateEvent(e.ctx, resp.RoomID, event.StateGuestAccess, "", map[string]any{"guest_access": guestAccess})
		require.NoError(e.t, err)
	}
	if history != "" {
		_, err = creator.SendStateEvent(e.ctx, resp.RoomID, event.StateHistoryVisibility, "", map[string]any{"history_visibility": history})
		require.NoError(e.t, err)
	}
	return resp.RoomID
}

// whoami is the raw whoami response of a client (mautrix drops is_guest).
func (e *gtEnv) whoami(cli *mautrix.Client) gtResp {
	e.t.Helper()
	r := e.do("GET", v3+"/account/whoami", cli.AccessToken, nil)
	require.Equal(e.t, 200, r.status, "%s", r.raw)
	return r
}

// gtResp is a raw HTTP response: status, JSON body (an object in body, an
// array in list) and raw body.
type gtResp struct {
	status int
	body   map[string]any
	list   []any
	raw    []byte
}

func (r gtResp) str(key string) string { s, _ := r.body[key].(string); return s }

// do sends a raw request to the loopback server. body is nil (none), a
// string (sent as is) or a value to marshal; token, when set, is sent as a
// Bearer token. The response must be JSON.
func (e *gtEnv) do(method, path, token string, body any) gtResp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.srv.URL+path, rd)
	require.NoError(e.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer func() { _ = res.Body.Close() }()
	out := gtResp{status: res.StatusCode}
	out.raw, err = io.ReadAll(res.Body)
	require.NoError(e.t, err)
	var v any
	require.NoError(e.t, json.Unmarshal(out.raw, &v), "%s %s: body %q", method, path, out.raw)
	out.body, _ = v.(map[string]any)
	out.list, _ = v.([]any)
	return out
}

// expectErr checks a Matrix error response.
func gtExpectErr(t *testing.T, r gtResp, status int, errcode string) {
	t.Helper()
	require.Equal(t, status, r.status, "body %s", r.raw)
	require.Equal(t, errcode, r.str("errcode"), "body %s", r.raw)
	require.NotEmpty(t, r.str("error"), "body %s", r.raw)
}

// gtMatrixErr checks that a mautrix call failed with a Matrix error.
func gtMatrixErr(t *testing.T, err error, status int, errcode string) {
	t.Helper()
	var he mautrix.HTTPError
	require.True(t, errors.As(err, &he), "error %v", err)
	require.Equal(t, status, he.Response.StatusCode, "error %v", err)
	require.NotNil(t, he.RespError, "error %v", err)
	require.Equal(t, errcode, he.RespError.ErrCode, "error %v", err)
}

// membership is a user's current membership, read from the roomserver.
func (e *gtEnv) membership(roomID id.RoomID, user id.UserID) string {
	e.t.Helper()
	m, err := e.rs.Membership(e.ctx, roomID.String(), user.String())
	require.NoError(e.t, err)
	return m
}

// bodies are the m.room.message bodies of events, in order.
func gtBodies(evs []*event.Event) []string {
	out := []string{}
	for _, ev := range evs {
		if ev.Type == event.EventMessage {
			if b, ok := ev.Content.Raw["body"].(string); ok {
				out = append(out, b)
			}
		}
	}
	return out
}
