package clientapi

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/pushrules"
)

// groupRoom makes a public room of alice that the others join.
func (e *pushEnv) groupRoom(alice *mautrix.Client, others ...*mautrix.Client) id.RoomID {
	e.t.Helper()
	room, err := alice.CreateRoom(e.ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	require.NoError(e.t, err)
	for _, o := range others {
		_, err := o.JoinRoomByID(e.ctx, room.RoomID)
		require.NoError(e.t, err)
	}
	return room.RoomID
}

// TestUnreadCountsGroupRoom: in a room of three, bob's counts after each
// event are exact and arrive with the event; /notifications lists what
// notified, and receipts and bob's own message mark them read.
func TestUnreadCountsGroupRoom(t *testing.T) {
	forEachPushEnv(t, func(t *testing.T, e *pushEnv) {
		alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
		require.NoError(t, bob.SetDisplayName(e.ctx, "Bob Builder"))
		room := e.groupRoom(alice, bob, carol)
		initial, next := e.syncCounts(bob, "")
		assert.Equal(t, counts{0, 0}, initial[room], "joins do not notify")

		var ids = map[string]id.EventID{}
		steps := []struct {
			name string
			send func() id.EventID
			want counts
		}{
			{"hello", func() id.EventID { return e.send(alice, room, "m.room.message", text("hello everyone")) }, counts{1, 0}},
			{"notice", func() id.EventID {
				return e.send(alice, room, "m.room.message", map[string]any{"msgtype": "m.notice", "body": "bob: build passed"})
			}, counts{1, 0}},
			{"mention", func() id.EventID {
				c := text("Bob?")
				c["m.mentions"] = map[string]any{"user_ids": []string{bob.UserID.String()}}
				return e.send(alice, room, "m.room.message", c)
			}, counts{2, 1}},
			{"display name", func() id.EventID { return e.send(alice, room, "m.room.message", text("hey bob builder, ready?")) }, counts{3, 2}},
			{"room mention", func() id.EventID {
				c := text("@room standup")
				c["m.mentions"] = map[string]any{"room": true}
				return e.send(alice, room, "m.room.message", c)
			}, counts{4, 3}},
			{"reaction", func() id.EventID {
				return e.send(alice, room, "m.reaction", map[string]any{"m.relates_to": map[string]any{
					"rel_type": "m.annotation", "event_id": ids["hello"], "key": "👍"}})
			}, counts{4, 3}},
			{"edit", func() id.EventID {
				c := text("* hello all")
				c["m.new_content"] = text("hello all")
				c["m.relates_to"] = map[string]any{"rel_type": "m.replace", "event_id": ids["hello"]}
				return e.send(alice, room, "m.room.message", c)
			}, counts{4, 3}},
			{"topic", func() id.EventID {
				resp, err := alice.SendStateEvent(e.ctx, room, event.StateTopic, "", map[string]any{"topic": "bob's room"})
				require.NoError(t, err)
				return resp.EventID
			}, counts{4, 3}},
			{"carol", func() id.EventID { return e.send(carol, room, "m.room.message", text("hi all")) }, counts{5, 3}},
			{"carol's room mention without power", func() id.EventID {
				c := text("@room look")
				c["m.mentions"] = map[string]any{"room": true}
				return e.send(carol, room, "m.room.message", c)
			}, counts{6, 3}},
		}
		for _, s := range steps {
			ids[s.name] = s.send()
			got, n := e.syncRooms(bob, next)
			next = n
			require.Contains(t, got, room, s.name)
			assert.Contains(t, got[room].events, ids[s.name], "%s: the event is in the same sync", s.name)
			assert.Equal(t, s.want, got[room].counts, s.name)
		}
		aliceCounts, _ := e.syncCounts(alice, "")
		assert.Equal(t, counts{2, 0}, aliceCounts[room], "alice's own events read the room for her; carol's two count")

		// /notifications: newest first, only what notified.
		want := []id.EventID{ids["carol's room mention without power"], ids["carol"], ids["room mention"], ids["display name"], ids["mention"], ids["hello"]}
		page := e.notifications(bob, nil)
		assert.Equal(t, want, page.eventIDs())
		assert.Empty(t, page.NextToken)
		for _, n := range page.Notifications {
			assert.False(t, n.Read)
			assert.Equal(t, room.String(), n.RoomID)
			assert.Equal(t, room.String(), n.Event.RoomID)
			assert.Positive(t, n.TS)
		}
		mention := page.Notifications[4]
		assert.Equal(t, "Bob?", mention.Event.Content["body"])
		assert.Equal(t, alice.UserID.String(), mention.Event.Sender)
		require.Len(t, mention.Actions, 3)
		assert.JSONEq(t, `{"set_tweak":"highlight"}`, string(mention.Actions[2]))
		assert.JSONEq(t, `"notify"`, string(page.Notifications[5].Actions[0]))
		assert.Len(t, page.Notifications[5].Actions, 1, ".m.rule.message only notifies")

		highlights := e.notifications(bob, url.Values{"only": {"highlight"}})
		assert.Equal(t, []id.EventID{ids["room mention"], ids["display name"], ids["mention"]}, highlights.eventIDs())

		// Pagination.
		var paged []id.EventID
		var tokens int
		q := url.Values{"limit": {"4"}}
		for {
			p := e.notifications(bob, q)
			paged = append(paged, p.eventIDs()...)
			if p.NextToken == "" {
				break
			}
			tokens++
			q = url.Values{"limit": {"4"}, "from": {p.NextToken}}
		}
		assert.Equal(t, want, paged)
		assert.Equal(t, 1, tokens)

		// A redaction removes its event's notification.
		_, err := alice.RedactEvent(e.ctx, room, ids["display name"])
		require.NoError(t, err)
		got, next := e.syncCounts(bob, next)
		assert.Equal(t, counts{5, 2}, got[room], "after the redaction")

		// Receipts: m.read on the mention reads it and what came before.
		require.NoError(t, bob.SendReceipt(e.ctx, room, ids["mention"], event.ReceiptTypeRead, nil))
		got, next = e.syncCounts(bob, next)
		assert.Equal(t, counts{3, 1}, got[room], "room mention, carol, carol's @room are unread")
		page = e.notifications(bob, nil)
		read := map[id.EventID]bool{}
		for _, n := range page.Notifications {
			read[id.EventID(n.Event.EventID)] = n.Read
		}
		assert.Equal(t, map[id.EventID]bool{ids["hello"]: true, ids["mention"]: true, ids["room mention"]: false,
			ids["carol"]: false, ids["carol's room mention without power"]: false}, read)

		// m.read.private further on: the further receipt counts.
		require.NoError(t, bob.SendReceipt(e.ctx, room, ids["carol"], event.ReceiptTypeReadPrivate, nil))
		got, next = e.syncCounts(bob, next)
		assert.Equal(t, counts{1, 0}, got[room])
		require.NoError(t, bob.SendReceipt(e.ctx, room, ids["hello"], event.ReceiptTypeRead, nil))
		full, _ := e.syncCounts(bob, "")
		assert.Equal(t, counts{1, 0}, full[room], "an earlier receipt does not unread")

		// Sending an event reads everything before it.
		e.send(bob, room, "m.room.message", text("on my way"))
		got, _ = e.syncCounts(bob, next)
		assert.Equal(t, counts{0, 0}, got[room])
		for _, n := range e.notifications(bob, nil).Notifications {
			assert.True(t, n.Read, n.Event.EventID)
		}
	})
}

// TestUnreadCountsDirectChat: a room of two notifies every message through
// .m.rule.room_one_to_one (with a sound), and encrypted events through
// .m.rule.encrypted_room_one_to_one; an invite notifies its target.
func TestUnreadCountsDirectChat(t *testing.T) {
	forEachPushEnv(t, func(t *testing.T, e *pushEnv) {
		alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
		dm, err := alice.CreateRoom(e.ctx, &mautrix.ReqCreateRoom{Preset: "trusted_private_chat", IsDirect: true,
			Invite: []id.UserID{bob.UserID}})
		require.NoError(t, err)
		invite := e.notifications(bob, nil)
		require.Len(t, invite.Notifications, 1, "the invite notifies bob")
		assert.Equal(t, "m.room.member", invite.Notifications[0].Event.Type)
		assert.Equal(t, dm.RoomID.String(), invite.Notifications[0].RoomID)
		assert.JSONEq(t, `{"set_tweak":"sound","value":"default"}`, string(invite.Notifications[0].Actions[1]))

		_, err = bob.JoinRoomByID(e.ctx, dm.RoomID)
		require.NoError(t, err)
		group := e.groupRoom(alice, bob, carol)
		_, next := e.syncCounts(bob, "")

		hi := e.send(alice, dm.RoomID, "m.room.message", text("hello there"))
		got, next := e.syncCounts(bob, next)
		assert.Equal(t, counts{1, 0}, got[dm.RoomID])
		enc := e.send(alice, dm.RoomID, "m.room.encrypted", map[string]any{"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "x"})
		got, next = e.syncCounts(bob, next)
		assert.Equal(t, counts{2, 0}, got[dm.RoomID])
		grp := e.send(alice, group, "m.room.message", text("hi all"))
		grpEnc := e.send(alice, group, "m.room.encrypted", map[string]any{"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "y"})
		got, _ = e.syncCounts(bob, next)
		assert.Equal(t, counts{2, 0}, got[group])
		assert.NotContains(t, got, dm.RoomID, "nothing new in the DM")

		page := e.notifications(bob, nil)
		require.Equal(t, []id.EventID{grpEnc, grp, enc, hi}, page.eventIDs()[:4])
		sound := `{"set_tweak":"sound","value":"default"}`
		assert.Len(t, page.Notifications[0].Actions, 1, ".m.rule.encrypted: notify only")
		assert.Len(t, page.Notifications[1].Actions, 1, ".m.rule.message: notify only")
		require.Len(t, page.Notifications[2].Actions, 2)
		assert.JSONEq(t, sound, string(page.Notifications[2].Actions[1]), ".m.rule.encrypted_room_one_to_one")
		require.Len(t, page.Notifications[3].Actions, 2)
		assert.JSONEq(t, sound, string(page.Notifications[3].Actions[1]), ".m.rule.room_one_to_one")
	})
}

// TestMutedRoom: an override rule with no actions mutes a room entirely; a
// room rule with no actions leaves mentions (override rules) through.
func TestMutedRoom(t *testing.T) {
	forEachPushEnv(t, func(t *testing.T, e *pushEnv) {
		alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
		muted, other := e.groupRoom(alice, bob, carol), e.groupRoom(alice, bob, carol)
		require.NoError(t, bob.PutPushRule(e.ctx, "global", pushrules.OverrideRule, muted.String(), &mautrix.ReqPutPushRule{
			Actions:    []*pushrules.PushAction{},
			Conditions: []*pushrules.PushCondition{{Kind: pushrules.KindEventMatch, Key: "room_id", Pattern: muted.String()}}}))
		_, next := e.syncCounts(bob, "")
		mention := func(room id.RoomID) id.EventID {
			c := text("bob!")
			c["m.mentions"] = map[string]any{"user_ids": []string{bob.UserID.String()}}
			return e.send(alice, room, "m.room.message", c)
		}
		e.send(alice, muted, "m.room.message", text("anyone?"))
		mention(muted)
		e.send(alice, other, "m.room.message", text("anyone?"))
		got, next := e.syncCounts(bob, next)
		assert.Equal(t, counts{0, 0}, got[muted], "muted: nothing counts, not even mentions")
		assert.Equal(t, counts{1, 0}, got[other])

		// Unmuted: counting resumes.
		require.NoError(t, bob.DeletePushRule(e.ctx, "global", pushrules.OverrideRule, muted.String()))
		e.send(alice, muted, "m.room.message", text("now?"))
		got, next = e.syncCounts(bob, next)
		assert.Equal(t, counts{1, 0}, got[muted])

		// Mentions only: a room rule without actions.
		require.NoError(t, bob.PutPushRule(e.ctx, "global", pushrules.RoomRule, other.String(),
			&mautrix.ReqPutPushRule{Actions: []*pushrules.PushAction{}}))
		e.send(alice, other, "m.room.message", text("chatter"))
		got, next = e.syncCounts(bob, next)
		assert.Equal(t, counts{1, 0}, got[other], "chatter does not count")
		mention(other)
		got, _ = e.syncCounts(bob, next)
		assert.Equal(t, counts{2, 1}, got[other], "a mention does")

		// The master rule silences everything.
		r := e.do(bob, http.MethodPut, ruleURL("override", ".m.rule.master", "enabled"), nil, map[string]any{"enabled": true})
		require.Equal(t, http.StatusOK, r.status)
		before := len(e.notifications(bob, nil).Notifications)
		mention(muted)
		mention(other)
		assert.Len(t, e.notifications(bob, nil).Notifications, before)
	})
}

// TestThreadCounts: notifications in a thread are counted per thread;
// threaded receipts read one thread, "main" the main timeline, and an
// unthreaded receipt everything.
func TestThreadCounts(t *testing.T) {
	forEachPushEnv(t, func(t *testing.T, e *pushEnv) {
		alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
		room := e.groupRoom(alice, bob, carol)
		_, next := e.syncCounts(bob, "")
		root := e.send(alice, room, "m.room.message", text("thread root"))
		inThread := func(body string, mentionBob bool) id.EventID {
			c := text(body)
			c["m.relates_to"] = map[string]any{"rel_type": "m.thread", "event_id": root}
			if mentionBob {
				c["m.mentions"] = map[string]any{"user_ids": []string{bob.UserID.String()}}
			}
			return e.send(alice, room, "m.room.message", c)
		}
		reply := inThread("in the thread", false)
		e.send(alice, room, "m.reaction", map[string]any{"m.relates_to": map[string]any{
			"rel_type": "m.annotation", "event_id": reply, "key": "✅"}})
		last := inThread("bob, see thread", true)
		main2 := e.send(alice, room, "m.room.message", text("back in main"))

		got, next := e.syncCounts(bob, next)
		assert.Equal(t, counts{4, 1}, got[room], "sync totals cover the threads")
		uc, err := e.inbox.UnreadCounts(e.ctx, bob.UserID.String(), []string{room.String()})
		require.NoError(t, err)
		c := uc[room.String()]
		assert.Equal(t, 4, c.NotificationCount)
		assert.Equal(t, 1, c.HighlightCount)
		require.Len(t, c.Threads, 1)
		assert.Equal(t, 2, c.Threads[root.String()].NotificationCount)
		assert.Equal(t, 1, c.Threads[root.String()].HighlightCount)

		threaded := func(eventID id.EventID, thread string) {
			t.Helper()
			r := e.do(bob, http.MethodPost, "/rooms/"+url.PathEscape(room.String())+"/receipt/m.read/"+url.PathEscape(eventID.String()),
				nil, map[string]any{"thread_id": thread})
			require.Equal(t, http.StatusOK, r.status, string(r.raw))
		}
		threaded(last, root.String())
		uc, err = e.inbox.UnreadCounts(e.ctx, bob.UserID.String(), []string{room.String()})
		require.NoError(t, err)
		assert.Equal(t, 2, uc[room.String()].NotificationCount, "the thread is read; root and main2 are not")
		assert.Equal(t, 0, uc[room.String()].HighlightCount)
		assert.Empty(t, uc[room.String()].Threads)
		got, next = e.syncCounts(bob, next)
		assert.Equal(t, counts{2, 0}, got[room])

		// A new thread message counts again; a "main" receipt leaves it.
		inThread("more", false)
		threaded(main2, "main")
		got, next = e.syncCounts(bob, next)
		assert.Equal(t, counts{1, 0}, got[room], "main is read, the new thread message is not")

		// An unthreaded receipt reads every thread.
		latest := e.send(alice, room, "m.room.message", text("latest"))
		require.NoError(t, bob.SendReceipt(e.ctx, room, latest, event.ReceiptTypeRead, nil))
		got, _ = e.syncCounts(bob, next)
		assert.Equal(t, counts{0, 0}, got[room])
	})
}

// TestIgnoredSenderNotCounted: notifications from a user bob ignores are
// not counted nor listed.
func TestIgnoredSenderNotCounted(t *testing.T) {
	forEachPushEnv(t, func(t *testing.T, e *pushEnv) {
		alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
		room := e.groupRoom(alice, bob, carol)
		require.NoError(t, bob.SetAccountData(e.ctx, "m.ignored_user_list",
			map[string]any{"ignored_users": map[string]any{carol.UserID.String(): map[string]any{}}}))
		_, next := e.syncCounts(bob, "")
		fromAlice := e.send(alice, room, "m.room.message", text("from alice"))
		e.send(carol, room, "m.room.message", text("from carol"))
		got, _ := e.syncCounts(bob, next)
		assert.Equal(t, counts{1, 0}, got[room])
		assert.Equal(t, []id.EventID{fromAlice}, e.notifications(bob, nil).eventIDs())
		aliceCounts, _ := e.syncCounts(alice, "")
		assert.Equal(t, counts{1, 0}, aliceCounts[room], "alice does not ignore carol")
	})
}
