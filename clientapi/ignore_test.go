package clientapi

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// timelineIDs returns the event IDs of a joined room's timeline.
func timelineIDs(resp *mautrix.RespSync, room id.RoomID) []id.EventID {
	var out []id.EventID
	if jr := resp.Rooms.Join[room]; jr != nil {
		for _, ev := range jr.Timeline.Events {
			out = append(out, ev.ID)
		}
	}
	return out
}

// TestIgnoredUsersInvisible: once alice ignores bob, nothing of bob's
// reaches her except state events: not his messages (sync, /messages,
// /event), invites, typing or receipts; un-ignoring resumes.
func TestIgnoredUsersInvisible(t *testing.T) {
	forEachStEnv(t, func(t *testing.T, e *stEnv) {
		alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
		room := e.room(alice, bob)
		before := e.send(bob, room, "before")
		since := e.poll(alice, "", 0, "").NextBatch

		ignore := func(users ...*mautrix.Client) {
			list := map[string]any{}
			for _, u := range users {
				list[u.UserID.String()] = map[string]any{}
			}
			require.NoError(t, alice.SetAccountData(e.ctx, "m.ignored_user_list", map[string]any{"ignored_users": list}))
		}
		ignore(bob, alice) // ignoring oneself has no effect
		resp := e.poll(alice, since, 0, "")
		assert.Contains(t, accountDataIn(resp, ""), "m.ignored_user_list")
		since = resp.NextBatch

		hidden := e.send(bob, room, "hidden")
		topic, err := bob.SendStateEvent(e.ctx, room, event.StateMember, bob.UserID.String(),
			map[string]any{"membership": "join", "displayname": "Bobby"})
		require.NoError(t, err)
		mine := e.send(alice, room, "mine")
		_, err = bob.UserTyping(e.ctx, room, true, 20*time.Second)
		require.NoError(t, err)
		require.NoError(t, bob.MarkRead(e.ctx, room, mine))
		invitedBy := func(inviter *mautrix.Client) id.RoomID {
			r, err := inviter.CreateRoom(e.ctx, &mautrix.ReqCreateRoom{Invite: []id.UserID{alice.UserID}})
			require.NoError(t, err)
			return r.RoomID
		}
		fromBob, fromCarol := invitedBy(bob), invitedBy(carol)

		check := func(resp *mautrix.RespSync, what string) {
			t.Helper()
			ids := timelineIDs(resp, room)
			assert.NotContains(t, ids, hidden, what)
			assert.Contains(t, ids, topic.EventID, "%s: state events of ignored users stay", what)
			assert.Contains(t, ids, mine, what)
			users, _ := typingIn(t, resp, room)
			assert.NotContains(t, users, bob.UserID.String(), what)
			assert.NotContains(t, receiptsIn(t, resp, room)[mine.String()]["m.read"], bob.UserID.String(), what)
			assert.NotContains(t, resp.Rooms.Invite, fromBob, what)
			assert.Contains(t, resp.Rooms.Invite, fromCarol, what)
		}
		resp = e.poll(alice, since, 0, "")
		check(resp, "incremental")
		since = resp.NextBatch
		initial := e.poll(alice, "", 0, "")
		check(initial, "initial")
		assert.NotContains(t, timelineIDs(initial, room), before, "earlier messages vanish on a fresh sync")

		// /messages and /event hide them too.
		msgs, err := alice.Messages(e.ctx, room, "", "", mautrix.DirectionBackward, nil, 50)
		require.NoError(t, err)
		for _, ev := range msgs.Chunk {
			if ev.Sender == bob.UserID {
				assert.NotNil(t, ev.StateKey, "only bob's state events in /messages")
			}
		}
		e.expectErr(e.do(alice, http.MethodGet, "/rooms/"+esc(room.String())+"/event/"+esc(hidden.String()), nil), 404, "M_NOT_FOUND")

		// Un-ignore: bob's new messages come through again.
		ignore()
		r := e.do(alice, http.MethodGet, "/rooms/"+esc(room.String())+"/event/"+esc(hidden.String()), nil)
		assert.Equal(t, 200, r.status, "the 404 above came from the ignore list: %s", r.raw)
		again := e.send(bob, room, "again")
		resp = e.poll(alice, since, 0, "")
		assert.Contains(t, timelineIDs(resp, room), again)
		assert.NotContains(t, timelineIDs(resp, room), hidden, "missed events are not sent again")
	})
}
