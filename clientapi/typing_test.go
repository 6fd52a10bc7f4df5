package clientapi

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
)

// TestTypingWhoSeesWhat: members see the full typing list of a room, a
// non-member sees nothing, and a user who ignores a typer never sees them.
func TestTypingWhoSeesWhat(t *testing.T) {
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob, carol, dave := e.user("alice"), e.user("bob"), e.user("carol"), e.user("dave")
		room := e.room(alice, bob, dave)
		other := e.room(carol)
		require.NoError(t, dave.SetAccountData(e.ctx, "m.ignored_user_list",
			map[string]any{"ignored_users": map[string]any{alice.UserID.String(): map[string]any{}}}))
		since := map[*mautrix.Client]string{}
		for _, c := range []*mautrix.Client{alice, bob, carol, dave} {
			since[c] = e.poll(c, "", 0, "").NextBatch
		}

		_, err := alice.UserTyping(e.ctx, room, true, 20*time.Second)
		require.NoError(t, err)
		_, err = bob.UserTyping(e.ctx, room, true, 20*time.Second)
		require.NoError(t, err)

		for _, c := range []*mautrix.Client{alice, bob} {
			resp := e.poll(c, since[c], 0, "")
			users, ok := typingIn(t, resp, room)
			require.True(t, ok, "%s sees typing", c.UserID)
			assert.Equal(t, []string{alice.UserID.String(), bob.UserID.String()}, users)
			since[c] = resp.NextBatch
		}
		resp := e.poll(dave, since[dave], 0, "")
		users, _ := typingIn(t, resp, room)
		assert.Equal(t, []string{bob.UserID.String()}, users, "dave ignores alice")
		since[dave] = resp.NextBatch
		resp = e.poll(carol, since[carol], 0, "")
		assert.Nil(t, resp.Rooms.Join[room], "carol is not in the room")
		_, ok := typingIn(t, resp, other)
		assert.False(t, ok)

		// An initial sync shows who is typing now.
		users, ok = typingIn(t, e.poll(bob, "", 0, ""), room)
		require.True(t, ok)
		assert.Len(t, users, 2)

		// Stopping replaces the list; the stream sends each change once.
		_, err = alice.UserTyping(e.ctx, room, false, 0)
		require.NoError(t, err)
		resp = e.poll(bob, since[bob], 0, "")
		users, ok = typingIn(t, resp, room)
		require.True(t, ok)
		assert.Equal(t, []string{bob.UserID.String()}, users)
		resp = e.poll(bob, resp.NextBatch, 0, "")
		_, ok = typingIn(t, resp, room)
		assert.False(t, ok, "sent once")

		// Leaving the room stops typing there.
		_, err = bob.LeaveRoom(e.ctx, room)
		require.NoError(t, err)
		resp = e.poll(alice, since[alice], 0, "")
		users, ok = typingIn(t, resp, room)
		require.True(t, ok)
		assert.Empty(t, users)
	})
}

// TestTypingTimeoutWakesSync: a typing notification expires on its own and
// the expiry reaches a waiting /sync.
func TestTypingTimeoutWakesSync(t *testing.T) {
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob := e.user("alice"), e.user("bob")
		room := e.room(alice, bob)
		_, err := alice.UserTyping(e.ctx, room, true, 400*time.Millisecond)
		require.NoError(t, err)
		resp := e.poll(bob, "", 0, "")
		users, ok := typingIn(t, resp, room)
		require.True(t, ok)
		assert.Equal(t, []string{alice.UserID.String()}, users)

		start := time.Now()
		resp = e.poll(bob, resp.NextBatch, 10*time.Second, "")
		took := time.Since(start)
		users, ok = typingIn(t, resp, room)
		require.True(t, ok, "the expiry woke the sync")
		assert.Empty(t, users)
		assert.Less(t, took, 3*time.Second)
	})
}

func TestTypingBadRequests(t *testing.T) {
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
		room := e.room(alice, bob)
		path := func(user string) string { return "/rooms/" + esc(room.String()) + "/typing/" + esc(user) }
		me := alice.UserID.String()
		e.expectErr(e.do(alice, http.MethodPut, path(bob.UserID.String()), map[string]any{"typing": true}), 403, "M_FORBIDDEN")
		e.expectErr(e.do(carol, http.MethodPut, path(carol.UserID.String()), map[string]any{"typing": true}), 403, "M_FORBIDDEN")
		e.expectErr(e.do(alice, http.MethodPut, path(me), map[string]any{"timeout": 100}), 400, "M_MISSING_PARAM")
		e.expectErr(e.do(alice, http.MethodPut, path(me), map[string]any{"typing": "yes"}), 400, "M_BAD_JSON")
		e.expectErr(e.do(alice, http.MethodPut, path(me), map[string]any{"typing": true, "timeout": -5}), 400, "M_INVALID_PARAM")
		e.expectErr(e.do(alice, http.MethodPut, path(me), "{not json"), 400, "M_NOT_JSON")
		e.expectErr(e.do(alice, http.MethodPut, path(me), "[]"), 400, "M_BAD_JSON")
		e.expectErr(e.do(alice, http.MethodPut, path("not-a-user"), map[string]any{"typing": true}), 400, "M_INVALID_PARAM")
		e.expectErr(e.do(alice, http.MethodPut, "/rooms/nope/typing/"+esc(me), map[string]any{"typing": true}), 400, "M_INVALID_PARAM")
		e.expectErr(e.do(alice, http.MethodPut, "/rooms/"+esc("!unknown:"+testServerName)+"/typing/"+esc(me),
			map[string]any{"typing": true}), 403, "M_FORBIDDEN")
		e.expectErr(e.do(nil, http.MethodPut, path(me), map[string]any{"typing": true}), 401, "M_MISSING_TOKEN")

		// A huge timeout is capped, not an overflow that expires at once.
		r := e.do(alice, http.MethodPut, path(me), map[string]any{"typing": true, "timeout": int64(1) << 62})
		require.Equal(t, 200, r.status, "%s", r.raw)
		users, ok := typingIn(t, e.poll(bob, "", 0, ""), room)
		require.True(t, ok)
		assert.Equal(t, []string{me}, users)
		// Nothing was stored for the refused requests.
		assert.NotContains(t, users, bob.UserID.String())
	})
}
