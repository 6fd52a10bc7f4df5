package clientapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"maunium.net/go/mautrix"
	mevent "maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/concordchat/concord/config"
	"github.com/concordchat/concord/internal/spectest"
	"github.com/concordchat/concord/relations"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/accountdata"
	relstore "github.com/concordchat/concord/storage/relations"
	"github.com/concordchat/concord/storage/search"
	"github.com/concordchat/concord/storage/storagetest"
	"github.com/concordchat/concord/syncapi"
)

// The harness of the relations, context, redaction and search tests: the
// full stack with the relations service annotating /sync and the client
// API, the search index, and a clock the test moves.

// histClock is a settable clock shared by the roomserver (origin_server_ts)
// and the client API (the redaction window).
type histClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *histClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *histClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type historyEnv struct {
	*roomsEnv
	clock *histClock
	acct  *accountdata.Store
}

// forEachHistoryEnv runs fn on SQLite and PostgreSQL.
func forEachHistoryEnv(t *testing.T, fn func(t *testing.T, e *historyEnv), cfgFns ...func(*config.Config)) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		fn(t, newHistoryEnv(t, db, cfgFns...))
	})
}

func newHistoryEnv(t *testing.T, db *storage.DB, cfgFns ...func(*config.Config)) *historyEnv {
	h := &historyEnv{clock: &histClock{now: time.UnixMilli(1_700_000_000_000)}}
	var err error
	h.acct, err = accountdata.New(accountdata.Deps{DB: db})
	require.NoError(t, err)
	h.roomsEnv = newRoomsEnv(t, db, func(e *roomsEnv, rsDeps *roomserver.Deps, syncDeps *syncapi.Deps, apiDeps *Deps) {
		svc, err := relations.New(relations.Deps{Store: relstore.New(e.db), RoomStore: e.rooms, AccountData: h.acct,
			Now: h.clock.Now})
		require.NoError(t, err)
		rsDeps.Now = h.clock.Now
		syncDeps.Annotator, syncDeps.AccountData = svc, h.acct
		apiDeps.Relations, apiDeps.Search, apiDeps.Now = svc, search.New(e.db), h.clock.Now
	}, cfgFns...)
	return h
}

// user registers localpart and returns a logged-in mautrix client whose
// every JSON response is checked against the spec's schemas.
func (h *historyEnv) user(localpart string) *mautrix.Client {
	h.t.Helper()
	cli := h.roomsEnv.user(localpart)
	cli.Client = &http.Client{Transport: spectest.Transport(h.t, spectest.Find(h.t), cli.Client.Transport)}
	return cli
}

// ignore stores userID's m.ignored_user_list directly.
func (h *historyEnv) ignore(t *testing.T, user id.UserID, ignored ...id.UserID) {
	m := map[id.UserID]any{}
	for _, u := range ignored {
		m[u] = map[string]any{}
	}
	raw, err := json.Marshal(map[string]any{"ignored_users": m})
	require.NoError(t, err)
	require.NoError(t, h.acct.Put(h.ctx, user.String(), "", "m.ignored_user_list", raw, time.Now().UnixNano()))
}

// publicRoom makes a public room of alice that the others join.
func (h *historyEnv) publicRoom(t *testing.T, alice *mautrix.Client, others ...*mautrix.Client) id.RoomID {
	room, err := alice.CreateRoom(h.ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	require.NoError(t, err)
	for _, o := range others {
		_, err := o.JoinRoomByID(h.ctx, room.RoomID)
		require.NoError(t, err)
	}
	return room.RoomID
}

// send sends content of type typ and returns the event ID.
func (h *historyEnv) send(t *testing.T, cli *mautrix.Client, room id.RoomID, typ string, content any) id.EventID {
	t.Helper()
	h.clock.Advance(time.Second)
	resp, err := cli.SendMessageEvent(h.ctx, room, mevent.Type{Type: typ, Class: mevent.MessageEventType}, content)
	require.NoError(t, err)
	return resp.EventID
}

// text sends an m.text message.
func (h *historyEnv) text(t *testing.T, cli *mautrix.Client, room id.RoomID, body string) id.EventID {
	t.Helper()
	return h.send(t, cli, room, "m.room.message", map[string]any{"msgtype": "m.text", "body": body})
}

// relate sends an m.room.message relating to parent.
func (h *historyEnv) relate(t *testing.T, cli *mautrix.Client, room id.RoomID, relType string, parent id.EventID, body string) id.EventID {
	t.Helper()
	return h.send(t, cli, room, "m.room.message", relContent(relType, parent, body))
}

func relContent(relType string, parent id.EventID, body string) map[string]any {
	c := map[string]any{"msgtype": "m.text", "body": body,
		"m.relates_to": map[string]any{"rel_type": relType, "event_id": parent}}
	if relType == "m.replace" {
		c["body"] = "* " + body
		c["m.new_content"] = map[string]any{"msgtype": "m.text", "body": body}
	}
	return c
}

// get sends a GET to path segments under /_matrix/client and returns the
// JSON body.
func (h *historyEnv) get(t *testing.T, cli *mautrix.Client, query map[string]string, path ...any) gjson.Result {
	t.Helper()
	raw, err := h.rawGet(cli, query, path...)
	require.NoError(t, err)
	return gjson.ParseBytes(raw)
}

func (h *historyEnv) rawGet(cli *mautrix.Client, query map[string]string, path ...any) ([]byte, error) {
	var out json.RawMessage
	_, err := cli.MakeRequest(h.ctx, http.MethodGet, cli.BuildURLWithQuery(mautrix.ClientURLPath(path), query), nil, &out)
	return out, err
}

// post sends a POST with body and returns the JSON answer.
func (h *historyEnv) post(cli *mautrix.Client, body any, query map[string]string, path ...any) (gjson.Result, error) {
	var out json.RawMessage
	_, err := cli.MakeRequest(h.ctx, http.MethodPost, cli.BuildURLWithQuery(mautrix.ClientURLPath(path), query), body, &out)
	return gjson.ParseBytes(out), err
}

// event fetches an event as the user sees it.
func (h *historyEnv) event(t *testing.T, cli *mautrix.Client, room id.RoomID, ev id.EventID) gjson.Result {
	t.Helper()
	return h.get(t, cli, nil, "v3", "rooms", room, "event", ev)
}

// requireMatrixError checks a failed request's status and errcode.
func requireMatrixError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var he mautrix.HTTPError
	require.True(t, errors.As(err, &he), "want a Matrix error, got %v", err)
	require.NotNil(t, he.Response)
	require.Equal(t, status, he.Response.StatusCode, he.ResponseBody)
	require.NotNil(t, he.RespError, he.ResponseBody)
	require.Equal(t, code, he.RespError.ErrCode, he.ResponseBody)
}

// histIDs lists the event_id of each element of a JSON array.
func histIDs(arr gjson.Result) []string {
	out := []string{}
	for _, v := range arr.Array() {
		out = append(out, v.Get("event_id").Str)
	}
	return out
}

// histStrs turns event IDs into strings.
func histStrs(evs ...id.EventID) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.String()
	}
	return out
}

// relPath is the gjson path of unsigned["m.relations"][relType].
func relPath(relType string) string {
	return `unsigned.m\.relations.` + strings.ReplaceAll(relType, ".", `\.`)
}

var (
	eventTypeMessage  = mevent.Type{Type: "m.room.message", Class: mevent.MessageEventType}
	eventTypeReaction = mevent.Type{Type: "m.reaction", Class: mevent.MessageEventType}
)

// key is the member of a JSON object with this key (object keys such as
// room and user IDs are not gjson path safe).
func key(obj gjson.Result, k string) gjson.Result { return obj.Map()[k] }

// mautrixJSON is a parsed JSON answer.
type mautrixJSON = gjson.Result
