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

// membershipOf reads a user's current membership as a member of the room sees it.
func (e *dirEnv) membershipOf(viewer *mautrix.Client, room id.RoomID, user id.UserID) *event.MemberEventContent {
	e.t.Helper()
	var content event.MemberEventContent
	require.NoError(e.t, viewer.StateEvent(e.ctx, room, event.StateMember, user.String(), &content))
	return &content
}

// knockRoom makes a room of creator whose join rule is rule.
func (e *dirEnv) knockRoom(creator *mautrix.Client, rule event.JoinRule, version string, alias string) id.RoomID {
	return e.createRoom(creator, &mautrix.ReqCreateRoom{Preset: "private_chat", RoomVersion: id.RoomVersion(version), RoomAliasName: alias,
		InitialState: []*event.Event{{Type: event.StateJoinRules, Content: event.Content{Raw: map[string]any{"join_rule": string(rule)}}}}})
}

func TestKnocking(t *testing.T) {
	forEachDirEnv(t, func(t *testing.T, e *dirEnv) {
		ctx := e.ctx
		alice, bob, carol, dave, erin, frank := e.user("alice"), e.user("bob"), e.user("carol"), e.user("dave"), e.user("erin"), e.user("frank")
		room := e.knockRoom(alice, event.JoinRuleKnock, "", "knockers")
		aliceSince := ""
		sync0, err := alice.SyncRequest(ctx, 0, "", "", false, "")
		require.NoError(t, err)
		aliceSince = sync0.NextBatch

		// bob knocks by alias, with a reason; his profile goes with it.
		resp, err := bob.KnockRoom(ctx, "#knockers:"+testServerName, &mautrix.ReqKnockRoom{Reason: "let me in"})
		require.NoError(t, err)
		assert.Equal(t, room, resp.RoomID)
		knock := e.membershipOf(alice, room, bob.UserID)
		assert.Equal(t, event.MembershipKnock, knock.Membership)
		assert.Equal(t, "let me in", knock.Reason)
		assert.Equal(t, "bob", knock.Displayname)

		// The members see the knock in their sync.
		next, err := alice.SyncRequest(ctx, 0, aliceSince, "", false, "")
		require.NoError(t, err)
		jr := next.Rooms.Join[room]
		require.NotNil(t, jr)
		var seen []string
		for _, ev := range jr.Timeline.Events {
			if ev.Type == event.StateMember && ev.GetStateKey() == bob.UserID.String() {
				seen = append(seen, ev.Content.Raw["membership"].(string))
			}
		}
		assert.Equal(t, []string{"knock"}, seen)

		// bob's sync has the room under rooms.knock with the stripped state.
		var raw struct {
			Rooms struct {
				Knock map[id.RoomID]map[string]struct {
					Events []struct {
						Type     string         `json:"type"`
						StateKey string         `json:"state_key"`
						Content  map[string]any `json:"content"`
					} `json:"events"`
				} `json:"knock"`
				Join map[id.RoomID]any `json:"join"`
			} `json:"rooms"`
		}
		require.NoError(t, e.do(bob, http.MethodGet, mautrix.ClientURLPath{"v3", "sync"}, nil, nil, &raw))
		require.Contains(t, raw.Rooms.Knock, room)
		assert.NotContains(t, raw.Rooms.Join, room)
		// The spec names the section knock_state.
		section := raw.Rooms.Knock[room]["knock_state"]
		assert.NotContains(t, raw.Rooms.Knock[room], "invite_state")
		stripped := map[string]map[string]any{}
		for _, ev := range section.Events {
			stripped[ev.Type+"|"+ev.StateKey] = ev.Content
		}
		assert.Equal(t, "knock", stripped["m.room.join_rules|"]["join_rule"])
		assert.Equal(t, "knock", stripped["m.room.member|"+bob.UserID.String()]["membership"])
		assert.Contains(t, stripped, "m.room.create|")

		// Knocking does not let bob in; alice accepts by inviting him.
		_, err = bob.JoinRoomByID(ctx, room)
		requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")
		_, err = alice.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: bob.UserID})
		require.NoError(t, err)
		bobSync, err := bob.SyncRequest(ctx, 0, "", "", false, "")
		require.NoError(t, err)
		assert.Contains(t, bobSync.Rooms.Invite, room)
		assert.NotContains(t, bobSync.Rooms.Knock, room)
		_, err = bob.JoinRoomByID(ctx, room)
		require.NoError(t, err)
		members, err := alice.JoinedMembers(ctx, room)
		require.NoError(t, err)
		assert.Contains(t, members.Joined, bob.UserID)

		// Members, invitees and banned users cannot knock; nor anyone on
		// rooms whose rule is not knock.
		_, err = bob.KnockRoom(ctx, room.String(), nil)
		requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")
		public := e.createRoom(alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		_, err = carol.KnockRoom(ctx, public.String(), nil)
		requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")
		inviteOnly := e.knockRoom(alice, event.JoinRuleInvite, "", "")
		_, err = carol.KnockRoom(ctx, inviteOnly.String(), nil)
		requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")
		// Room version 6 has no knocking.
		old := e.knockRoom(alice, event.JoinRuleKnock, "6", "")
		_, err = carol.KnockRoom(ctx, old.String(), nil)
		requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")

		// Denying a knock needs the kick level: bob (level 0) may not, alice may.
		_, err = dave.KnockRoom(ctx, room.String(), &mautrix.ReqKnockRoom{})
		require.NoError(t, err)
		_, err = bob.KickUser(ctx, room, &mautrix.ReqKickUser{UserID: dave.UserID})
		requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")
		_, err = alice.KickUser(ctx, room, &mautrix.ReqKickUser{UserID: dave.UserID, Reason: "no"})
		require.NoError(t, err)
		assert.Equal(t, event.MembershipLeave, e.membershipOf(alice, room, dave.UserID).Membership)
		daveSync, err := dave.SyncRequest(ctx, 0, "", "", false, "")
		require.NoError(t, err)
		assert.NotContains(t, daveSync.Rooms.Knock, room)

		// Accepting needs the invite level: raise it, and bob may not.
		_, err = erin.KnockRoom(ctx, room.String(), nil)
		require.NoError(t, err)
		_, err = alice.SendStateEvent(ctx, room, event.StatePowerLevels, "", map[string]any{"invite": 50})
		require.NoError(t, err)
		_, err = bob.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: erin.UserID})
		requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")
		// erin takes the knock back.
		_, err = erin.LeaveRoom(ctx, room)
		require.NoError(t, err)
		assert.Equal(t, event.MembershipLeave, e.membershipOf(alice, room, erin.UserID).Membership)

		// A banned knocker cannot knock again.
		_, err = frank.KnockRoom(ctx, room.String(), nil)
		require.NoError(t, err)
		_, err = alice.BanUser(ctx, room, &mautrix.ReqBanUser{UserID: frank.UserID})
		require.NoError(t, err)
		_, err = frank.KnockRoom(ctx, room.String(), nil)
		requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")

		// Unknown rooms and bad input.
		_, err = carol.KnockRoom(ctx, "!unknown:"+testServerName, nil)
		requireMatrixErr(t, err, http.StatusNotFound, "M_NOT_FOUND")
		_, err = carol.KnockRoom(ctx, "#unknown:"+testServerName, nil)
		requireMatrixErr(t, err, http.StatusNotFound, "M_NOT_FOUND")
		_, err = carol.KnockRoom(ctx, "garbage", nil)
		requireMatrixErr(t, err, http.StatusBadRequest, "M_INVALID_PARAM")
		requireMatrixErr(t, e.do(carol, http.MethodPost, mautrix.ClientURLPath{"v3", "knock", room}, nil, map[string]any{"reason": 5}, nil),
			http.StatusBadRequest, "M_BAD_JSON")
	})
}
