package clientapi

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// TestReceiptsWhoSeesWhat: m.read reaches the room's members (not others,
// not a user ignoring the reader), m.read.private only its owner, and each
// receipt appears once in the stream, aggregated per event.
func TestReceiptsWhoSeesWhat(t *testing.T) {
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob, carol, dave := e.user("alice"), e.user("bob"), e.user("carol"), e.user("dave")
		room := e.room(alice, bob, dave)
		e.room(carol)
		require.NoError(t, dave.SetAccountData(e.ctx, "m.ignored_user_list",
			map[string]any{"ignored_users": map[string]any{bob.UserID.String(): map[string]any{}}}))
		m1, m2 := e.send(alice, room, "one"), e.send(alice, room, "two")
		since := map[*mautrix.Client]string{}
		for _, c := range []*mautrix.Client{alice, bob, carol, dave} {
			since[c] = e.poll(c, "", 0, "").NextBatch
		}

		require.NoError(t, bob.MarkRead(e.ctx, room, m1))
		require.NoError(t, dave.MarkRead(e.ctx, room, m1))
		for _, c := range []*mautrix.Client{alice, bob} {
			resp := e.poll(c, since[c], 0, "")
			got := receiptsIn(t, resp, room)
			require.Contains(t, got, m1.String(), "%s", c.UserID)
			reads := got[m1.String()]["m.read"]
			assert.Len(t, reads, 2, "bob's and dave's receipts of m1 in one event")
			assert.Contains(t, reads, bob.UserID.String())
			assert.Positive(t, reads[bob.UserID.String()].TS)
			assert.Nil(t, reads[bob.UserID.String()].ThreadID, "unthreaded")
			since[c] = resp.NextBatch
		}
		resp := e.poll(dave, since[dave], 0, "")
		got := receiptsIn(t, resp, room)
		assert.Equal(t, []string{dave.UserID.String()}, keys(got[m1.String()]["m.read"]), "dave ignores bob")
		since[dave] = resp.NextBatch
		resp = e.poll(carol, since[carol], 0, "")
		assert.Empty(t, resp.Rooms.Join, "carol shares no room")
		since[carol] = resp.NextBatch

		// A private receipt: only bob sees it.
		require.NoError(t, bob.SendReceipt(e.ctx, room, m2, event.ReceiptTypeReadPrivate, nil))
		resp = e.poll(bob, since[bob], 0, "")
		got = receiptsIn(t, resp, room)
		require.Contains(t, got, m2.String())
		assert.Equal(t, []string{bob.UserID.String()}, keys(got[m2.String()]["m.read.private"]))
		assert.NotContains(t, got[m2.String()], "m.read")
		since[bob] = resp.NextBatch
		resp = e.poll(alice, since[alice], 0, "")
		assert.Nil(t, receiptsIn(t, resp, room), "alice never sees bob's private receipt")
		assert.Nil(t, receiptsIn(t, e.poll(alice, "", 0, ""), room)[m2.String()], "not in an initial sync either")

		// Each receipt comes once.
		resp = e.poll(bob, since[bob], 0, "")
		assert.Nil(t, receiptsIn(t, resp, room))

		// A receipt behind the current one is ignored (no stream change).
		require.NoError(t, bob.MarkRead(e.ctx, room, m2))
		resp = e.poll(alice, since[alice], 0, "")
		assert.Equal(t, []string{m2.String()}, keys(receiptsIn(t, resp, room)))
		since[alice] = resp.NextBatch
		require.NoError(t, bob.MarkRead(e.ctx, room, m1))
		resp = e.poll(alice, since[alice], 0, "")
		assert.Nil(t, receiptsIn(t, resp, room))

		// The initial sync has the current receipts of everyone (less
		// others' private ones).
		got = receiptsIn(t, e.poll(alice, "", 0, ""), room)
		assert.Equal(t, []string{dave.UserID.String()}, keys(got[m1.String()]["m.read"]))
		assert.Equal(t, []string{bob.UserID.String()}, keys(got[m2.String()]["m.read"]))

		// Unread counts start after the furthest main-timeline receipt.
		pos, err := e.sync.ReadUpTo(e.ctx, bob.UserID.String(), room.String())
		require.NoError(t, err)
		assert.Equal(t, e.streamPos(m2), pos)
		pos, err = e.sync.ReadUpTo(e.ctx, carol.UserID.String(), room.String())
		require.NoError(t, err)
		assert.Zero(t, pos)
	})
}

// streamPos returns the room stream position of an event.
func (e *stEnv) streamPos(ev id.EventID) int64 {
	e.t.Helper()
	evs, err := e.rooms.EventsByID(e.ctx, []string{ev.String()})
	require.NoError(e.t, err)
	require.Len(e.t, evs, 1)
	return evs[0].StreamPos
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestThreadedReceipts: thread_id "main" and thread roots, kept apart per
// thread, checked against the event's thread.
func TestThreadedReceipts(t *testing.T) {
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob := e.user("alice"), e.user("bob")
		room := e.room(alice, bob)
		root := e.send(alice, room, "root")
		reply, err := alice.SendMessageEvent(e.ctx, room, event.EventMessage, map[string]any{"msgtype": "m.text", "body": "in thread",
			"m.relates_to": map[string]any{"rel_type": "m.thread", "event_id": root.String()}})
		require.NoError(t, err)
		later := e.send(alice, room, "main again")
		since := e.poll(alice, "", 0, "").NextBatch

		receipt := func(ev id.EventID, body any) stResp {
			return e.do(bob, http.MethodPost, "/rooms/"+esc(room.String())+"/receipt/m.read/"+esc(ev.String()), body)
		}
		require.Equal(t, 200, receipt(reply.EventID, map[string]any{"thread_id": root.String()}).status)
		require.Equal(t, 200, receipt(root, map[string]any{"thread_id": "main"}).status)
		require.Equal(t, 200, receipt(later, map[string]any{}).status)

		got := receiptsIn(t, e.poll(alice, since, 0, ""), room)
		require.Len(t, got, 3, "three tuples: thread, main, unthreaded")
		r := got[reply.EventID.String()]["m.read"][bob.UserID.String()]
		require.NotNil(t, r.ThreadID)
		assert.Equal(t, root.String(), *r.ThreadID)
		r = got[root.String()]["m.read"][bob.UserID.String()]
		require.NotNil(t, r.ThreadID)
		assert.Equal(t, "main", *r.ThreadID)
		assert.Nil(t, got[later.String()]["m.read"][bob.UserID.String()].ThreadID)

		// main/unthreaded decide the read-up-to; the thread has its own.
		pos, err := e.sync.ReadUpTo(e.ctx, bob.UserID.String(), room.String())
		require.NoError(t, err)
		assert.Equal(t, e.streamPos(later), pos)
		threads, err := e.sync.ThreadsReadUpTo(e.ctx, bob.UserID.String(), room.String())
		require.NoError(t, err)
		assert.Equal(t, map[string]int64{root.String(): e.streamPos(reply.EventID)}, threads)

		// Threads that do not fit the event.
		e.expectErr(receipt(reply.EventID, map[string]any{"thread_id": "main"}), 400, "M_INVALID_PARAM")
		e.expectErr(receipt(later, map[string]any{"thread_id": root.String()}), 400, "M_INVALID_PARAM")
		e.expectErr(receipt(later, map[string]any{"thread_id": ""}), 400, "M_INVALID_PARAM")
		e.expectErr(receipt(later, map[string]any{"thread_id": 5}), 400, "M_INVALID_PARAM")
		e.expectErr(receipt(later, map[string]any{"thread_id": "nonsense"}), 400, "M_INVALID_PARAM")
		e.expectErr(e.do(bob, http.MethodPost, "/rooms/"+esc(room.String())+"/receipt/m.fully_read/"+esc(later.String()),
			map[string]any{"thread_id": "main"}), 400, "M_INVALID_PARAM")
	})
}

// TestReadMarkers: /read_markers and /receipt/m.fully_read move the read
// marker (room account data, sent to its owner only), and m.read /
// m.read.private in the same call are receipts.
func TestReadMarkers(t *testing.T) {
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob := e.user("alice"), e.user("bob")
		room := e.room(alice, bob)
		m1, m2, m3 := e.send(alice, room, "1"), e.send(alice, room, "2"), e.send(alice, room, "3")
		sinceA, sinceB := e.poll(alice, "", 0, "").NextBatch, e.poll(bob, "", 0, "").NextBatch

		require.NoError(t, bob.SetReadMarkers(e.ctx, room, map[string]any{"m.fully_read": m2.String(),
			"m.read": m1.String(), "m.read.private": m2.String()}))
		resp := e.poll(bob, sinceB, 0, "")
		assert.JSONEq(t, `{"event_id":"`+m2.String()+`"}`, string(accountDataIn(resp, room)["m.fully_read"]))
		got := receiptsIn(t, resp, room)
		assert.Contains(t, got[m1.String()]["m.read"], bob.UserID.String())
		assert.Contains(t, got[m2.String()]["m.read.private"], bob.UserID.String())
		sinceB = resp.NextBatch
		resp = e.poll(alice, sinceA, 0, "")
		assert.Empty(t, accountDataIn(resp, room), "the read marker is bob's alone")
		assert.Equal(t, []string{m1.String()}, keys(receiptsIn(t, resp, room)))

		var marker struct {
			EventID string `json:"event_id"`
		}
		require.NoError(t, bob.GetRoomAccountData(e.ctx, room, "m.fully_read", &marker))
		assert.Equal(t, m2.String(), marker.EventID)

		// Backwards is ignored; forwards through /receipt works.
		require.NoError(t, bob.SetReadMarkers(e.ctx, room, map[string]any{"m.fully_read": m1.String()}))
		require.NoError(t, bob.GetRoomAccountData(e.ctx, room, "m.fully_read", &marker))
		assert.Equal(t, m2.String(), marker.EventID)
		require.NoError(t, bob.SendReceipt(e.ctx, room, m3, event.ReceiptType("m.fully_read"), nil))
		require.NoError(t, bob.GetRoomAccountData(e.ctx, room, "m.fully_read", &marker))
		assert.Equal(t, m3.String(), marker.EventID)
		resp = e.poll(bob, sinceB, 0, "")
		assert.JSONEq(t, `{"event_id":"`+m3.String()+`"}`, string(accountDataIn(resp, room)["m.fully_read"]))
		assert.Nil(t, receiptsIn(t, resp, room), "m.fully_read is no receipt")

		// Clients may not write m.fully_read as account data.
		e.expectErr(e.do(bob, http.MethodPut, "/user/"+esc(bob.UserID.String())+"/rooms/"+esc(room.String())+"/account_data/m.fully_read",
			map[string]any{"event_id": m1.String()}), 405, "M_BAD_JSON")

		path := "/rooms/" + esc(room.String()) + "/read_markers"
		e.expectErr(e.do(bob, http.MethodPost, path, map[string]any{"m.fully_read": "$nope"}), 404, "M_NOT_FOUND")
		e.expectErr(e.do(bob, http.MethodPost, path, map[string]any{"m.read": m3.String(), "m.fully_read": "$nope"}), 404, "M_NOT_FOUND")
		e.expectErr(e.do(bob, http.MethodPost, path, map[string]any{"m.fully_read": "not-an-event"}), 400, "M_INVALID_PARAM")
		e.expectErr(e.do(bob, http.MethodPost, path, map[string]any{"m.read": 7}), 400, "M_BAD_JSON")
		e.expectErr(e.do(bob, http.MethodPost, path, "nope"), 400, "M_NOT_JSON")
		carol := e.user("carol")
		e.expectErr(e.do(carol, http.MethodPost, path, map[string]any{"m.read": m3.String()}), 403, "M_FORBIDDEN")
		// The failed calls stored nothing: m3 was not read by bob.
		pos, err := e.sync.ReadUpTo(e.ctx, bob.UserID.String(), room.String())
		require.NoError(t, err)
		assert.Equal(t, e.streamPos(m2), pos, "m.read.private at m2 is the furthest")
		require.Equal(t, 200, e.do(bob, http.MethodPost, path, map[string]any{}).status, "an empty body sets nothing")
	})
}

func TestReceiptBadRequests(t *testing.T) {
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
		room := e.room(alice, bob)
		elsewhere := e.room(carol)
		m := e.send(alice, room, "hi")
		foreign := e.send(carol, elsewhere, "there")
		path := func(room id.RoomID, typ string, ev string) string {
			return "/rooms/" + esc(room.String()) + "/receipt/" + esc(typ) + "/" + esc(ev)
		}
		e.expectErr(e.do(bob, http.MethodPost, path(room, "m.unknown", m.String()), map[string]any{}), 400, "M_INVALID_PARAM")
		e.expectErr(e.do(bob, http.MethodPost, path(room, "m.read", "nope"), map[string]any{}), 400, "M_INVALID_PARAM")
		e.expectErr(e.do(bob, http.MethodPost, path(room, "m.read", "$missing"), map[string]any{}), 404, "M_NOT_FOUND")
		e.expectErr(e.do(bob, http.MethodPost, path(room, "m.read", foreign.String()), map[string]any{}), 404, "M_NOT_FOUND")
		e.expectErr(e.do(carol, http.MethodPost, path(room, "m.read", m.String()), map[string]any{}), 403, "M_FORBIDDEN")
		e.expectErr(e.do(bob, http.MethodPost, path(room, "m.read", m.String()), "[1]"), 400, "M_BAD_JSON")
		e.expectErr(e.do(bob, http.MethodPost, "/rooms/bad/receipt/m.read/"+esc(m.String()), map[string]any{}), 400, "M_INVALID_PARAM")
		assert.Nil(t, receiptsIn(t, e.poll(alice, "", 0, ""), room), "nothing was stored")
		// An empty body is an unthreaded receipt.
		require.Equal(t, 200, e.do(bob, http.MethodPost, path(room, "m.read", m.String()), nil).status)
		assert.Contains(t, receiptsIn(t, e.poll(alice, "", 0, ""), room)[m.String()]["m.read"], bob.UserID.String())
	})
}
