package clientapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/concordchat/concord/storage"
	"github.com/concordchat/concord/storage/storagetest"
	"github.com/concordchat/concord/syncapi"
)

// presenceOn is presence with the default timeouts.
var presenceOn = stOptions{}

// getPresence reads GET /presence/{userId}/status as cli.
func (e *stEnv) getPresence(cli *mautrix.Client, user string) stResp {
	e.t.Helper()
	return e.do(cli, http.MethodGet, "/presence/"+esc(user)+"/status", nil)
}

func (e *stEnv) putPresence(cli *mautrix.Client, body any) stResp {
	e.t.Helper()
	return e.do(cli, http.MethodPut, "/presence/"+esc(cli.UserID.String())+"/status", body)
}

// TestPresenceStatus: PUT and GET, who may read whose presence, and the
// answers to bad requests.
func TestPresenceStatus(t *testing.T) {
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
		e.room(alice, bob)
		me := alice.UserID.String()

		r := e.getPresence(carol, carol.UserID.String())
		require.Equal(t, 200, r.status)
		assert.Equal(t, map[string]any{"presence": "offline"}, r.body, "never active: offline")
		r = e.getPresence(bob, me)
		assert.Equal(t, "online", r.body["presence"], "creating a room is activity")

		require.Equal(t, 200, e.putPresence(alice, map[string]any{"presence": "online", "status_msg": "lunch"}).status)
		r = e.getPresence(bob, me)
		require.Equal(t, 200, r.status, "%s", r.raw)
		assert.Equal(t, "online", r.body["presence"])
		assert.Equal(t, "lunch", r.body["status_msg"])
		assert.Equal(t, true, r.body["currently_active"])
		assert.Less(t, r.body["last_active_ago"].(float64), 5000.0)
		got, err := bob.GetPresence(e.ctx, alice.UserID)
		require.NoError(t, err)
		assert.Equal(t, event.PresenceOnline, got.Presence)

		// Without status_msg the message stays; null clears it.
		require.Equal(t, 200, e.putPresence(alice, map[string]any{"presence": "unavailable"}).status)
		r = e.getPresence(alice, me)
		assert.Equal(t, "unavailable", r.body["presence"])
		assert.Equal(t, "lunch", r.body["status_msg"])
		assert.NotContains(t, r.body, "currently_active", "only online users have currently_active")
		require.Equal(t, 200, e.putPresence(alice, map[string]any{"presence": "online", "status_msg": nil}).status)
		assert.NotContains(t, e.getPresence(alice, me).body, "status_msg")

		e.expectErr(e.getPresence(carol, me), 403, "M_FORBIDDEN")
		e.expectErr(e.getPresence(alice, "@nobody:"+testServerName), 404, "M_NOT_FOUND")
		e.expectErr(e.getPresence(alice, "@someone:elsewhere.example"), 404, "M_NOT_FOUND")
		e.expectErr(e.getPresence(alice, "nobody"), 400, "M_INVALID_PARAM")
		e.expectErr(e.do(alice, http.MethodPut, "/presence/"+esc(bob.UserID.String())+"/status",
			map[string]any{"presence": "online"}), 403, "M_FORBIDDEN")
		e.expectErr(e.putPresence(alice, map[string]any{"presence": "busy"}), 400, "M_INVALID_PARAM")
		e.expectErr(e.putPresence(alice, map[string]any{"status_msg": "x"}), 400, "M_MISSING_PARAM")
		e.expectErr(e.putPresence(alice, map[string]any{"presence": "online", "status_msg": 5}), 400, "M_BAD_JSON")
		e.expectErr(e.putPresence(alice, map[string]any{"presence": "online", "status_msg": strings.Repeat("x", 2000)}), 400, "M_INVALID_PARAM")
		e.expectErr(e.putPresence(alice, "{"), 400, "M_NOT_JSON")
		r = e.getPresence(alice, me)
		assert.Equal(t, "online", r.body["presence"], "refused requests changed nothing")
		assert.NotContains(t, r.body, "status_msg")
	}, presenceOn)
}

// TestPresenceInSync: m.presence goes to the user and to users sharing a
// room, never to others or to a user ignoring the subject; each change
// comes once; a user who newly shares a room gets the current presence.
func TestPresenceInSync(t *testing.T) {
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob, carol, dave := e.user("alice"), e.user("bob"), e.user("carol"), e.user("dave")
		room := e.room(alice, bob, dave)
		lonely := e.room(carol)
		require.NoError(t, dave.SetAccountData(e.ctx, "m.ignored_user_list",
			map[string]any{"ignored_users": map[string]any{alice.UserID.String(): map[string]any{}}}))
		since := map[*mautrix.Client]string{}
		for _, c := range []*mautrix.Client{alice, bob, carol, dave} {
			since[c] = e.poll(c, "", 0, "").NextBatch
		}
		require.Equal(t, 200, e.putPresence(alice, map[string]any{"presence": "online", "status_msg": "hi"}).status)

		for _, c := range []*mautrix.Client{alice, bob} {
			resp := e.poll(c, since[c], 0, "")
			p := presenceIn(t, resp)
			require.Contains(t, p, alice.UserID.String(), "%s", c.UserID)
			assert.Equal(t, "online", p[alice.UserID.String()]["presence"])
			assert.Equal(t, "hi", p[alice.UserID.String()]["status_msg"])
			assert.Equal(t, true, p[alice.UserID.String()]["currently_active"])
			assert.Contains(t, p[alice.UserID.String()], "last_active_ago")
			since[c] = resp.NextBatch
			assert.NotContains(t, presenceIn(t, e.poll(c, since[c], 0, "")), alice.UserID.String(), "each change once")
		}
		for _, c := range []*mautrix.Client{carol, dave} {
			resp := e.poll(c, since[c], 0, "")
			assert.NotContains(t, presenceIn(t, resp), alice.UserID.String(), "%s", c.UserID)
			since[c] = resp.NextBatch
		}
		assert.NotContains(t, presenceIn(t, e.poll(carol, "", 0, "")), alice.UserID.String(), "nor in an initial sync")
		assert.Contains(t, presenceIn(t, e.poll(bob, "", 0, "")), alice.UserID.String())

		// Carol joins alice's room: she now gets alice's presence, and bob
		// gets carol's (joining was activity) but not alice's again.
		_, err := carol.JoinRoomByID(e.ctx, room)
		require.NoError(t, err)
		resp := e.poll(carol, since[carol], 0, "")
		assert.Equal(t, "online", presenceIn(t, resp)[alice.UserID.String()]["presence"])
		waitFor(t, 5*time.Second, func() bool {
			resp = e.poll(bob, since[bob], 0, "")
			return len(resp.Presence.Events) > 0
		}, "carol's presence reaches bob")
		assert.Equal(t, []string{carol.UserID.String()}, keys(presenceIn(t, resp)))
		assert.Equal(t, "online", presenceIn(t, resp)[carol.UserID.String()]["presence"])
		_ = lonely

		// Presence filters.
		filtered, err := bob.SyncRequest(e.ctx, 0, "", `{"presence":{"not_senders":["`+alice.UserID.String()+`"]}}`, false, event.PresenceOffline)
		require.NoError(t, err)
		assert.NotContains(t, presenceIn(t, filtered), alice.UserID.String())
		filtered, err = bob.SyncRequest(e.ctx, 0, "", `{"presence":{"types":["m.nothing"]}}`, false, event.PresenceOffline)
		require.NoError(t, err)
		assert.Empty(t, filtered.Presence.Events)
	}, presenceOn)
}

// TestPresenceTransitions: set_presence on /sync, activity, and the idle,
// currently_active and offline timeouts.
func TestPresenceTransitions(t *testing.T) {
	// Real time, with windows wide enough for a loaded machine: every step
	// between two checks must fit in ActiveWindow.
	opts := stOptions{presence: syncapi.PresenceOptions{ActiveWindow: time.Second,
		IdleAfter: 2500 * time.Millisecond, OfflineAfter: 4 * time.Second}}
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob := e.user("alice"), e.user("bob")
		room := e.room(alice, bob)
		me := alice.UserID.String()
		state := func() map[string]any { return e.getPresence(bob, me).body }

		// Creating the room was activity: online and currently active.
		// Without more: not currently active, then unavailable, then (no
		// sync running) offline.
		p := state()
		assert.Equal(t, "online", p["presence"])
		assert.Equal(t, true, p["currently_active"])
		waitFor(t, 15*time.Second, func() bool { p := state(); return p["presence"] == "online" && p["currently_active"] == false },
			"currently_active turns false")
		waitFor(t, 15*time.Second, func() bool { return state()["presence"] == "unavailable" }, "idle: unavailable")
		waitFor(t, 15*time.Second, func() bool { return state()["presence"] == "offline" }, "no sync: offline")

		// set_presence=offline leaves an offline user offline; the default
		// (online) brings her online.
		e.poll(alice, "", 0, event.PresenceOffline)
		assert.Equal(t, "offline", state()["presence"])
		_, err := alice.SyncRequest(e.ctx, 0, "", "", false, "")
		require.NoError(t, err)
		p = state()
		assert.Equal(t, "online", p["presence"])
		assert.Equal(t, true, p["currently_active"])
		waitFor(t, 15*time.Second, func() bool { return state()["presence"] == "offline" }, "offline again")

		// Sending a message is activity: online, currently active.
		e.send(alice, room, "back")
		waitFor(t, 15*time.Second, func() bool { p := state(); return p["presence"] == "online" && p["currently_active"] == true },
			"activity: online")
		assert.Less(t, state()["last_active_ago"].(float64), 2500.0)

		// set_presence=unavailable.
		e.poll(alice, "", 0, event.PresenceUnavailable)
		assert.Equal(t, "unavailable", state()["presence"])

		// Bob's stream: the current state in an initial sync, nothing while
		// it stays, then the next transition (offline: no sync running).
		resp := e.poll(bob, "", 0, "")
		assert.Equal(t, "unavailable", presenceIn(t, resp)[me]["presence"])
		since := resp.NextBatch
		var next map[string]any
		waitFor(t, 15*time.Second, func() bool {
			resp := e.poll(bob, since, 0, "")
			since = resp.NextBatch
			next = presenceIn(t, resp)[me]
			return next != nil
		}, "the next transition reaches bob")
		assert.Equal(t, "offline", next["presence"])
	}, opts)
}

// TestPresenceWhileSyncing: a long-poll keeps the user online; offline
// comes only after it ends.
func TestPresenceWhileSyncing(t *testing.T) {
	// Wide enough that the gap between two long-polls on a loaded machine
	// never reaches it.
	opts := stOptions{presence: syncapi.PresenceOptions{OfflineAfter: time.Second}}
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob := e.user("alice"), e.user("bob")
		e.room(alice, bob)
		first, err := alice.SyncRequest(e.ctx, 0, "", "", false, event.PresenceOnline)
		require.NoError(t, err)
		done := make(chan struct{})
		go func() {
			// A client's sync loop: long-polls back to back for 3 s.
			defer close(done)
			since, end := first.NextBatch, time.Now().Add(3*time.Second)
			for left := time.Until(end); left > 0; left = time.Until(end) {
				resp, err := alice.SyncRequest(e.ctx, int(left.Milliseconds()), since, "", false, event.PresenceOnline)
				if err != nil {
					return
				}
				since = resp.NextBatch
			}
		}()
		time.Sleep(2 * time.Second) // twice OfflineAfter, while syncing
		assert.Equal(t, "online", e.getPresence(bob, alice.UserID.String()).body["presence"], "syncing: still online")
		<-done
		waitFor(t, 15*time.Second, func() bool { return e.getPresence(bob, alice.UserID.String()).body["presence"] == "offline" },
			"offline after the sync ended")
	}, opts)
}

// TestPresenceDisabled: presence.enabled false.
func TestPresenceDisabled(t *testing.T) {
	opts := stOptions{presence: syncapi.PresenceOptions{Disabled: true}}
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob := e.user("alice"), e.user("bob")
		e.room(alice, bob)
		r := e.putPresence(alice, map[string]any{"presence": "online"})
		e.expectErr(r, 403, "M_FORBIDDEN")
		assert.Equal(t, "Presence is disabled", r.body["error"])
		e.expectErr(e.getPresence(bob, alice.UserID.String()), 403, "M_FORBIDDEN")
		_, err := alice.SyncRequest(e.ctx, 0, "", "", false, event.PresenceOnline)
		require.NoError(t, err)
		e.send(alice, e.room(alice, bob), "activity")
		assert.Empty(t, e.poll(bob, "", 0, "").Presence.Events)
		assert.Empty(t, e.poll(alice, "", 0, "").Presence.Events)
	}, opts)
}

// TestPresenceSurvivesRestart: a new server on the same database resumes
// presence, then times the user out.
func TestPresenceSurvivesRestart(t *testing.T) {
	// Wide enough for the second stack to be built within it on a loaded machine.
	opts := stOptions{presence: syncapi.PresenceOptions{OfflineAfter: 2 * time.Second}}
	storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
		e1 := newStEnv(t, db, opts)
		alice := e1.user("alice")
		require.Equal(t, 200, e1.putPresence(alice, map[string]any{"presence": "online", "status_msg": "here"}).status)
		e1.sync.Stop()

		e2 := newStEnv(t, db, opts)
		alice2, err := mautrix.NewClient(e2.srv.URL, alice.UserID, alice.AccessToken)
		require.NoError(t, err)
		r := e2.getPresence(alice2, alice.UserID.String())
		assert.Equal(t, "online", r.body["presence"])
		assert.Equal(t, "here", r.body["status_msg"])
		waitFor(t, 15*time.Second, func() bool { return e2.getPresence(alice2, alice.UserID.String()).body["presence"] == "offline" },
			"resumed timeout")
		assert.Equal(t, "here", e2.getPresence(alice2, alice.UserID.String()).body["status_msg"], "the message stays")
	})
}
