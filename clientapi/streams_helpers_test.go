package clientapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/concordchat/concord/config"
	"github.com/concordchat/concord/internal/spectest"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/accountdata"
	"github.com/concordchat/concord/storage/presence"
	"github.com/concordchat/concord/storage/receipts"
	"github.com/concordchat/concord/storage/storagetest"
	"github.com/concordchat/concord/syncapi"
)

// Helpers of the sync stream tests (typing, receipts, account data,
// presence): the rooms harness with the stream stores wired in.

type stEnv struct {
	*roomsEnv
}

// user registers localpart and returns a logged-in mautrix client whose
// every response is checked against the spec's schemas.
func (e *stEnv) user(localpart string) *mautrix.Client {
	e.t.Helper()
	cli := e.roomsEnv.user(localpart)
	cli.Client = e.httpClient()
	return cli
}

// httpClient validates the responses it receives against the spec.
func (e *stEnv) httpClient() *http.Client {
	return &http.Client{Transport: spectest.Transport(e.t, spectest.Find(e.t), nil)}
}

// stOptions tune the stack of a stream test.
type stOptions struct {
	presence syncapi.PresenceOptions
	cfg      []func(*config.Config)
}

// stWire adds the account data, receipt and presence stores to the sync API.
func stWire(opts stOptions) func(e *roomsEnv, rsDeps *roomserver.Deps, syncDeps *syncapi.Deps, apiDeps *Deps) {
	return func(e *roomsEnv, _ *roomserver.Deps, syncDeps *syncapi.Deps, _ *Deps) {
		var err error
		syncDeps.AccountData, err = accountdata.New(accountdata.Deps{DB: e.db})
		require.NoError(e.t, err)
		syncDeps.Receipts, err = receipts.New(receipts.Deps{DB: e.db})
		require.NoError(e.t, err)
		syncDeps.Presence, err = presence.New(presence.Deps{DB: e.db})
		require.NoError(e.t, err)
		syncDeps.ServerName = e.cfg.ServerName
		syncDeps.PresenceOptions = opts.presence
	}
}

// newStEnv builds a stack on db.
func newStEnv(t *testing.T, db *storage.DB, opts stOptions) *stEnv {
	e := &stEnv{newRoomsEnv(t, db, stWire(opts), opts.cfg...)}
	require.NoError(t, e.sync.Start(e.ctx))
	t.Cleanup(e.sync.Stop)
	return e
}

// forEachStEnv runs fn on both backends. Presence is off unless opts turn
// it on, so other streams' tests see no presence traffic.
func forEachStEnv(t *testing.T, fn func(t *testing.T, e *stEnv), opts ...stOptions) {
	o := stOptions{presence: syncapi.PresenceOptions{Disabled: true}}
	if len(opts) > 0 {
		o = opts[0]
	}
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		fn(t, newStEnv(t, db, o))
	})
}

// stResp is a raw HTTP answer.
type stResp struct {
	status int
	body   map[string]any
	raw    []byte
}

func (r stResp) errcode() string { s, _ := r.body["errcode"].(string); return s }

// do sends a request as cli (no token when cli is nil); body is JSON
// unless it is a string, sent as it is.
func (e *stEnv) do(cli *mautrix.Client, method, path string, body any) stResp {
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
	req, err := http.NewRequestWithContext(e.ctx, method, e.srv.URL+"/_matrix/client/v3"+path, rd)
	require.NoError(e.t, err)
	if cli != nil {
		req.Header.Set("Authorization", "Bearer "+cli.AccessToken)
	}
	res, err := e.httpClient().Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	out := stResp{status: res.StatusCode, raw: raw}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// expectErr checks a Matrix error answer.
func (e *stEnv) expectErr(r stResp, status int, errcode string) {
	e.t.Helper()
	require.Equal(e.t, status, r.status, "body %s", r.raw)
	require.Equal(e.t, errcode, r.errcode(), "body %s", r.raw)
}

// esc escapes one path segment.
func esc(s string) string { return url.PathEscape(s) }

// room creates a public room of owner that the others join.
func (e *stEnv) room(owner *mautrix.Client, others ...*mautrix.Client) id.RoomID {
	e.t.Helper()
	r, err := owner.CreateRoom(e.ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	require.NoError(e.t, err)
	for _, o := range others {
		_, err := o.JoinRoomByID(e.ctx, r.RoomID)
		require.NoError(e.t, err)
	}
	return r.RoomID
}

// send sends a text message and returns its event ID.
func (e *stEnv) send(cli *mautrix.Client, room id.RoomID, body string) id.EventID {
	e.t.Helper()
	r, err := cli.SendText(e.ctx, room, body)
	require.NoError(e.t, err)
	return r.EventID
}

// poll is one /sync of cli (no waiting unless timeout > 0), without
// changing presence unless setPresence says so.
func (e *stEnv) poll(cli *mautrix.Client, since string, timeout time.Duration, setPresence event.Presence) *mautrix.RespSync {
	e.t.Helper()
	if setPresence == "" {
		setPresence = event.PresenceOffline
	}
	resp, err := cli.SyncRequest(e.ctx, int(timeout.Milliseconds()), since, "", false, setPresence)
	require.NoError(e.t, err)
	return resp
}

// ephemeral returns the ephemeral events of a type in a joined room of a
// sync response.
func ephemeral(resp *mautrix.RespSync, room id.RoomID, typ string) []*event.Event {
	jr := resp.Rooms.Join[room]
	if jr == nil {
		return nil
	}
	var out []*event.Event
	for _, ev := range jr.Ephemeral.Events {
		if ev.Type.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// typingIn returns the user_ids of the one m.typing of a room, and whether
// there was one.
func typingIn(t *testing.T, resp *mautrix.RespSync, room id.RoomID) ([]string, bool) {
	t.Helper()
	evs := ephemeral(resp, room, "m.typing")
	if len(evs) == 0 {
		return nil, false
	}
	require.Len(t, evs, 1, "one m.typing per room")
	var c struct {
		UserIDs []string `json:"user_ids"`
	}
	require.NoError(t, json.Unmarshal(evs[0].Content.VeryRaw, &c))
	require.NotNil(t, c.UserIDs, "user_ids is always a list")
	return c.UserIDs, true
}

// receiptMap is the content of m.receipt: event → type → user → receipt.
type receiptMap map[string]map[string]map[string]struct {
	TS       int64   `json:"ts"`
	ThreadID *string `json:"thread_id"`
}

// receiptsIn returns the content of the one m.receipt of a room (nil when
// there is none).
func receiptsIn(t *testing.T, resp *mautrix.RespSync, room id.RoomID) receiptMap {
	t.Helper()
	evs := ephemeral(resp, room, "m.receipt")
	if len(evs) == 0 {
		return nil
	}
	require.Len(t, evs, 1, "receipts are batched into one event per room")
	var m receiptMap
	require.NoError(t, json.Unmarshal(evs[0].Content.VeryRaw, &m))
	return m
}

// accountDataIn returns the account data of a sync response by type:
// global when room is "", else that joined room's.
func accountDataIn(resp *mautrix.RespSync, room id.RoomID) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	list := resp.AccountData.Events
	if room != "" {
		jr := resp.Rooms.Join[room]
		if jr == nil {
			return out
		}
		list = jr.AccountData.Events
	}
	for _, ev := range list {
		out[ev.Type.Type] = ev.Content.VeryRaw
	}
	return out
}

// presenceIn returns the m.presence contents of a sync response by sender.
func presenceIn(t *testing.T, resp *mautrix.RespSync) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, ev := range resp.Presence.Events {
		require.Equal(t, "m.presence", ev.Type.Type)
		_, dup := out[ev.Sender.String()]
		require.False(t, dup, "one m.presence per user")
		out[ev.Sender.String()] = ev.Content.Raw
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			require.Fail(t, "timed out: "+msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
