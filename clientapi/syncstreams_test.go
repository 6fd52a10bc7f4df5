package clientapi

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
)

// TestSyncWokenByEachStream: a /sync waiting with a long timeout returns
// within a second of a typing notification, a receipt, an account data
// change or a presence change that concerns the user.
func TestSyncWokenByEachStream(t *testing.T) {
	opts := stOptions{} // presence on
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob := e.user("alice"), e.user("bob")
		room := e.room(alice, bob)
		msg := e.send(alice, room, "hi")
		// Settle the presence changes of the set-up (activity of both,
		// stored in the background): read bob's stream until it has both.
		since, seen := "", map[string]bool{}
		waitFor(t, 5*time.Second, func() bool {
			resp := e.poll(bob, since, 0, "")
			since = resp.NextBatch
			for u := range presenceIn(t, resp) {
				seen[u] = true
			}
			return seen[alice.UserID.String()] && seen[bob.UserID.String()]
		}, "set-up presence")

		cases := []struct {
			name    string
			trigger func()
			check   func(resp *mautrix.RespSync) bool
		}{
			{"typing", func() {
				_, err := alice.UserTyping(e.ctx, room, true, 20*time.Second)
				require.NoError(t, err)
			}, func(resp *mautrix.RespSync) bool { users, _ := typingIn(t, resp, room); return len(users) == 1 }},
			{"receipt", func() { require.NoError(t, alice.MarkRead(e.ctx, room, msg)) },
				func(resp *mautrix.RespSync) bool { return receiptsIn(t, resp, room) != nil }},
			{"account data", func() {
				require.NoError(t, e.sync.PutAccountData(e.ctx, bob.UserID.String(), "", "org.example.woken", []byte(`{"x":1}`)))
			}, func(resp *mautrix.RespSync) bool { return accountDataIn(resp, "")["org.example.woken"] != nil }},
			{"presence", func() {
				require.Equal(t, 200, e.putPresence(alice, map[string]any{"presence": "unavailable"}).status)
			}, func(resp *mautrix.RespSync) bool { return presenceIn(t, resp)[alice.UserID.String()] != nil }},
		}
		for _, c := range cases {
			got := make(chan *mautrix.RespSync, 1)
			go func() {
				resp, err := bob.SyncRequest(e.ctx, 10000, since, "", false, event.PresenceOffline)
				assert.NoError(t, err)
				got <- resp
			}()
			time.Sleep(150 * time.Millisecond) // let the sync start waiting
			start := time.Now()
			c.trigger()
			select {
			case resp := <-got:
				require.NotNil(t, resp, c.name)
				assert.Less(t, time.Since(start), time.Second, c.name)
				assert.True(t, c.check(resp), "%s: the response carries the update", c.name)
				since = resp.NextBatch
			case <-time.After(5 * time.Second):
				require.Fail(t, c.name+": the waiting sync was not woken")
			}
		}
	}, opts)
}

// TestSyncNotWokenForOthers: updates that do not concern a user leave their
// waiting /sync alone.
func TestSyncNotWokenForOthers(t *testing.T) {
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
		room := e.room(alice, bob)
		msg := e.send(alice, room, "hi")
		since := e.poll(carol, "", 0, "").NextBatch
		got := make(chan time.Duration, 1)
		go func() {
			start := time.Now()
			_, err := carol.SyncRequest(e.ctx, 1200, since, "", false, event.PresenceOffline)
			assert.NoError(t, err)
			got <- time.Since(start)
		}()
		time.Sleep(100 * time.Millisecond)
		_, err := alice.UserTyping(e.ctx, room, true, 20*time.Second)
		require.NoError(t, err)
		require.NoError(t, bob.MarkRead(e.ctx, room, msg))
		require.NoError(t, alice.SetAccountData(e.ctx, "org.example.x", map[string]any{}))
		assert.GreaterOrEqual(t, <-got, time.Second, "carol's sync ran to its timeout")
	})
}

// TestIncrementalSyncCarriesEachUpdateOnce: interleaving updates of every
// stream with incremental syncs, each update arrives in exactly one
// response, and an old room-only token still works.
func TestIncrementalSyncCarriesEachUpdateOnce(t *testing.T) {
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob := e.user("alice"), e.user("bob")
		room := e.room(alice, bob)
		m := e.send(alice, room, "hi")
		since := e.poll(bob, "", 0, "").NextBatch

		counts := map[string]int{}
		count := func(resp *mautrix.RespSync) {
			if users, ok := typingIn(t, resp, room); ok {
				counts["typing:"+join(users)]++
			}
			for ev, types := range receiptsIn(t, resp, room) {
				for typ, users := range types {
					for u := range users {
						counts["receipt:"+ev+":"+typ+":"+u]++
					}
				}
			}
			for typ := range accountDataIn(resp, "") {
				counts["global:"+typ]++
			}
			for typ := range accountDataIn(resp, room) {
				counts["room:"+typ]++
			}
			for _, ev := range timelineIDs(resp, room) {
				counts["event:"+ev.String()]++
			}
		}
		steps := []func(){
			func() { _, _ = alice.UserTyping(e.ctx, room, true, 20*time.Second) },
			func() { require.NoError(t, alice.MarkRead(e.ctx, room, m)) },
			func() { require.NoError(t, bob.SetAccountData(e.ctx, "org.example.a", map[string]any{"v": 1})) },
			func() {
				require.NoError(t, bob.SetRoomAccountData(e.ctx, room, "org.example.r", map[string]any{"v": 1}))
			},
			func() { require.NoError(t, bob.SendReceipt(e.ctx, room, m, event.ReceiptTypeReadPrivate, nil)) },
			func() { _, _ = alice.UserTyping(e.ctx, room, false, 0) },
			func() { e.send(alice, room, "two") },
		}
		for i, step := range steps {
			step()
			if i%2 == 1 {
				continue // two updates between some syncs
			}
			resp := e.poll(bob, since, 0, "")
			count(resp)
			since = resp.NextBatch
		}
		for range 2 {
			resp := e.poll(bob, since, 0, "")
			count(resp)
			since = resp.NextBatch
		}
		for k, n := range counts {
			assert.Equal(t, 1, n, "%s arrived %d times", k, n)
		}
		for _, k := range []string{"typing:" + alice.UserID.String(), "typing:", "receipt:" + m.String() + ":m.read:" + alice.UserID.String(),
			"receipt:" + m.String() + ":m.read.private:" + bob.UserID.String(), "global:org.example.a", "room:org.example.r"} {
			assert.Contains(t, counts, k)
		}

		// A room-only token from before the streams existed is valid: the
		// other streams start from the beginning.
		r := e.do(bob, http.MethodGet, "/sync?timeout=0&set_presence=offline&since=s1", nil)
		require.Equal(t, 200, r.status, "%s", r.raw)
		var types []string
		for _, ev := range r.body["account_data"].(map[string]any)["events"].([]any) {
			types = append(types, ev.(map[string]any)["type"].(string))
		}
		assert.Contains(t, types, "org.example.a", "account data from the start of its stream")
		e.expectErr(e.do(bob, http.MethodGet, "/sync?since=garbage", nil), 400, "M_INVALID_PARAM")
		e.expectErr(e.do(bob, http.MethodGet, "/sync?set_presence=busy", nil), 400, "M_INVALID_PARAM")
	})
}

func join(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}
