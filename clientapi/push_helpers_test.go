package clientapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/concordchat/concord/internal/spectest"
	"github.com/concordchat/concord/pushserver"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/accountdata"
	"github.com/concordchat/concord/storage/push"
	"github.com/concordchat/concord/storage/receipts"
	"github.com/concordchat/concord/storage/storagetest"
	"github.com/concordchat/concord/syncapi"
)

// pushEnv is the full stack with the push components wired as in
// cmd/concord: the worker first in the roomserver fan-out, the inbox as the
// sync API's unread counter, the real account data and receipts stores.
type pushEnv struct {
	*roomsEnv
	rules  *pushserver.Rules
	worker *pushserver.Worker
	inbox  *pushserver.Inbox
	// http checks every response against the spec's schemas (when the spec
	// folder is there).
	http *http.Client
}

func forEachPushEnv(t *testing.T, fn func(t *testing.T, e *pushEnv)) {
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		fn(t, newPushEnv(t, db))
	})
}

func newPushEnv(t *testing.T, db *storage.DB) *pushEnv {
	t.Helper()
	p := &pushEnv{}
	store, err := push.New(push.Deps{DB: db})
	require.NoError(t, err)
	acct, err := accountdata.New(accountdata.Deps{DB: db})
	require.NoError(t, err)
	rcpt, err := receipts.New(receipts.Deps{DB: db})
	require.NoError(t, err)
	p.rules, err = pushserver.NewRules(pushserver.RulesDeps{Store: store})
	require.NoError(t, err)
	p.roomsEnv = newRoomsEnv(t, db, func(e *roomsEnv, rsDeps *roomserver.Deps, syncDeps *syncapi.Deps, apiDeps *Deps) {
		p.worker, err = pushserver.NewWorker(pushserver.WorkerDeps{Rules: p.rules, Store: store, RoomStore: e.rooms,
			ServerName: e.cfg.ServerName, Waker: e.notifier})
		require.NoError(t, err)
		rsDeps.Notifier = roomserver.Notifiers{p.worker, e.notifier}
		p.inbox, err = pushserver.NewInbox(pushserver.InboxDeps{Store: store, RoomStore: e.rooms, Receipts: rcpt,
			Ignored: pushserver.AccountDataIgnores{Store: acct}, Worker: p.worker,
			Position: func() int64 { return e.rs.StreamPosition() }})
		require.NoError(t, err)
		syncDeps.Unread, syncDeps.AccountData, syncDeps.Receipts = p.inbox, acct, rcpt
		apiDeps.PushRules, apiDeps.PushInbox = p.rules, p.inbox
	})
	require.NoError(t, p.worker.Start(p.ctx))
	t.Cleanup(p.worker.Stop)
	p.http = &http.Client{Transport: spectest.Transport(t, spectest.Find(t), nil)}
	return p
}

// user registers localpart and returns a logged-in client whose responses
// are checked against the spec.
func (e *pushEnv) user(localpart string) *mautrix.Client {
	e.t.Helper()
	cli := e.roomsEnv.user(localpart)
	cli.Client = e.http
	return cli
}

// pushResp is a raw response: status and JSON body.
type pushResp struct {
	status int
	body   map[string]any
	raw    []byte
}

func (r pushResp) errcode() string { s, _ := r.body["errcode"].(string); return s }

// do sends a raw request as cli (no token when cli is nil); path is
// relative to /_matrix/client/v3, query may be nil, body is JSON-encoded
// unless it is a string (sent as is).
func (e *pushEnv) do(cli *mautrix.Client, method, path string, query url.Values, body any) pushResp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		js, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(js)
	}
	u := e.srv.URL + "/_matrix/client/v3" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(e.ctx, method, u, rd)
	require.NoError(e.t, err)
	if cli != nil {
		req.Header.Set("Authorization", "Bearer "+cli.AccessToken)
	}
	res, err := e.http.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	out := pushResp{status: res.StatusCode, raw: raw}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// ruleURL is the path of a rule (the rule ID escaped).
func ruleURL(kind, ruleID string, suffix ...string) string {
	p := "/pushrules/global/" + kind + "/" + url.PathEscape(ruleID)
	for _, s := range suffix {
		p += "/" + s
	}
	return p
}

// counts are a room's unread counts in a sync response.
type counts struct{ notify, highlight int }

// roomSync is what a sync response says of one joined room.
type roomSync struct {
	counts
	events []id.EventID // the timeline
}

// syncRooms syncs cli from since and returns the joined rooms of the
// response and the next batch token.
func (e *pushEnv) syncRooms(cli *mautrix.Client, since string) (map[id.RoomID]roomSync, string) {
	e.t.Helper()
	resp, err := cli.SyncRequest(e.ctx, 0, since, "", false, "")
	require.NoError(e.t, err)
	out := map[id.RoomID]roomSync{}
	for roomID, jr := range resp.Rooms.Join {
		require.NotNil(e.t, jr.UnreadNotifications, "room %s has unread_notifications", roomID)
		rs := roomSync{counts: counts{jr.UnreadNotifications.NotificationCount, jr.UnreadNotifications.HighlightCount}}
		for _, ev := range jr.Timeline.Events {
			rs.events = append(rs.events, ev.ID)
		}
		out[roomID] = rs
	}
	return out, resp.NextBatch
}

// syncCounts is syncRooms without the timelines.
func (e *pushEnv) syncCounts(cli *mautrix.Client, since string) (map[id.RoomID]counts, string) {
	e.t.Helper()
	rooms, next := e.syncRooms(cli, since)
	out := make(map[id.RoomID]counts, len(rooms))
	for id, r := range rooms {
		out[id] = r.counts
	}
	return out, next
}

// send sends an event of type typ with content as cli and returns its ID.
func (e *pushEnv) send(cli *mautrix.Client, roomID id.RoomID, typ string, content map[string]any) id.EventID {
	e.t.Helper()
	resp, err := cli.SendMessageEvent(e.ctx, roomID, event.Type{Type: typ, Class: event.MessageEventType}, content)
	require.NoError(e.t, err)
	return resp.EventID
}

// text is an m.text message content.
func text(body string) map[string]any { return map[string]any{"msgtype": "m.text", "body": body} }

// notificationsPage is the body of GET /notifications.
type notificationsPage struct {
	NextToken     string `json:"next_token"`
	Notifications []struct {
		Actions []json.RawMessage `json:"actions"`
		Event   struct {
			EventID string         `json:"event_id"`
			Sender  string         `json:"sender"`
			Type    string         `json:"type"`
			Content map[string]any `json:"content"`
			RoomID  string         `json:"room_id"`
		} `json:"event"`
		Read   bool   `json:"read"`
		RoomID string `json:"room_id"`
		TS     int64  `json:"ts"`
	} `json:"notifications"`
}

// notifications fetches GET /notifications as cli.
func (e *pushEnv) notifications(cli *mautrix.Client, query url.Values) notificationsPage {
	e.t.Helper()
	r := e.do(cli, http.MethodGet, "/notifications", query, nil)
	require.Equal(e.t, http.StatusOK, r.status, string(r.raw))
	var page notificationsPage
	require.NoError(e.t, json.Unmarshal(r.raw, &page))
	return page
}

// eventIDs lists the event IDs of a page, in order.
func (p notificationsPage) eventIDs() []id.EventID {
	out := []id.EventID{}
	for _, n := range p.Notifications {
		out = append(out, id.EventID(n.Event.EventID))
	}
	return out
}
