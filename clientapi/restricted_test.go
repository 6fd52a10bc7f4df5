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

// restrictedRoom makes a room of creator whose join rule (restricted or
// knock_restricted) allows the members of allowed, as a child of allowed;
// pl, when not nil, is its power levels content.
func (e *dirEnv) restrictedRoom(creator *mautrix.Client, rule event.JoinRule, version string, allowed id.RoomID, pl map[string]any) id.RoomID {
	e.t.Helper()
	initial := []*event.Event{
		{Type: event.StateJoinRules, Content: event.Content{Raw: map[string]any{"join_rule": string(rule),
			"allow": []any{map[string]any{"type": "m.room_membership", "room_id": allowed.String()}}}}},
		{Type: event.StateSpaceParent, StateKey: dirPtr(allowed.String()), Content: event.Content{Raw: map[string]any{"via": []string{testServerName}, "canonical": true}}},
	}
	if pl != nil {
		initial = append(initial, &event.Event{Type: event.StatePowerLevels, Content: event.Content{Raw: pl}})
	}
	room := e.createRoom(creator, &mautrix.ReqCreateRoom{Preset: "private_chat", RoomVersion: id.RoomVersion(version),
		InitialState: initial})
	_, err := creator.SendStateEvent(e.ctx, allowed, event.StateSpaceChild, room.String(), map[string]any{"via": []string{testServerName}})
	require.NoError(e.t, err)
	return room
}

func dirPtr[T any](v T) *T { return &v }

func TestRestrictedJoins(t *testing.T) {
	forEachDirEnv(t, func(t *testing.T, e *dirEnv) {
		ctx := e.ctx
		alice, bob, carol, dave, erin, frank, mod := e.user("alice"), e.user("bob"), e.user("carol"), e.user("dave"),
			e.user("erin"), e.user("frank"), e.user("mod")
		space := e.createRoom(alice, &mautrix.ReqCreateRoom{Preset: "private_chat", CreationContent: map[string]any{"type": "m.space"}})
		joinSpace := func(cli *mautrix.Client) {
			t.Helper()
			_, err := alice.InviteUser(ctx, space, &mautrix.ReqInviteUser{UserID: cli.UserID})
			require.NoError(t, err)
			_, err = cli.JoinRoomByID(ctx, space)
			require.NoError(t, err)
		}
		for _, u := range []*mautrix.Client{bob, dave, erin, frank, mod} {
			joinSpace(u)
		}
		room := e.restrictedRoom(alice, event.JoinRuleRestricted, "", space, nil)

		// The space links are plain state.
		var child event.SpaceChildEventContent
		require.NoError(t, alice.StateEvent(ctx, space, event.StateSpaceChild, room.String(), &child))
		assert.Equal(t, []string{testServerName}, child.Via)
		var parent event.SpaceParentEventContent
		require.NoError(t, alice.StateEvent(ctx, room, event.StateSpaceParent, space.String(), &parent))
		assert.True(t, parent.Canonical)

		// A space member joins; the server names alice as authorising it.
		_, err := bob.JoinRoomByID(ctx, room)
		require.NoError(t, err)
		m := e.membershipOf(alice, room, bob.UserID)
		assert.Equal(t, event.MembershipJoin, m.Membership)
		assert.Equal(t, alice.UserID, m.JoinAuthorisedViaUsersServer)
		assert.Equal(t, "bob", m.Displayname)

		// Someone outside the space may not; with an invite they may, and
		// no authorising user is named.
		_, err = carol.JoinRoomByID(ctx, room)
		requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")
		_, err = alice.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: carol.UserID})
		require.NoError(t, err)
		_, err = carol.JoinRoomByID(ctx, room)
		require.NoError(t, err)
		assert.Empty(t, e.membershipOf(alice, room, carol.UserID).JoinAuthorisedViaUsersServer)

		// Conditions are checked when joining: dave left the space.
		_, err = dave.LeaveRoom(ctx, space)
		require.NoError(t, err)
		_, err = dave.JoinRoomByID(ctx, room)
		requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")
		// Staying a member does not need the condition: bob leaves the space,
		// then updates his profile in the room (a join to a join).
		_, err = bob.LeaveRoom(ctx, space)
		require.NoError(t, err)
		_, err = bob.JoinRoomByID(ctx, room)
		require.NoError(t, err)

		// The authoriser is a joined local member who may invite: with alice
		// gone, mod (level 50, invite level 50).
		second := e.restrictedRoom(alice, event.JoinRuleRestricted, "", space,
			map[string]any{"invite": 50, "users": map[string]any{mod.UserID.String(): 50}})
		_, err = mod.JoinRoomByID(ctx, second)
		require.NoError(t, err)
		_, err = alice.LeaveRoom(ctx, second)
		require.NoError(t, err)
		_, err = erin.JoinRoomByID(ctx, second)
		require.NoError(t, err)
		assert.Equal(t, mod.UserID, e.membershipOf(mod, second, erin.UserID).JoinAuthorisedViaUsersServer)

		// Nobody left who may invite.
		third := e.restrictedRoom(alice, event.JoinRuleRestricted, "", space, map[string]any{"invite": 100})
		_, err = alice.LeaveRoom(ctx, third)
		require.NoError(t, err)
		_, err = frank.JoinRoomByID(ctx, third)
		requireMatrixErr(t, err, http.StatusBadRequest, "M_UNABLE_TO_AUTHORISE_JOIN")

		// knock_restricted: space members join, others may knock.
		kr := e.restrictedRoom(alice, event.JoinRuleKnockRestricted, "", space, nil)
		_, err = frank.JoinRoomByID(ctx, kr)
		require.NoError(t, err)
		assert.Equal(t, alice.UserID, e.membershipOf(alice, kr, frank.UserID).JoinAuthorisedViaUsersServer)
		_, err = carol.JoinRoomByID(ctx, kr)
		requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")
		_, err = carol.KnockRoom(ctx, kr.String(), nil)
		require.NoError(t, err)
		assert.Equal(t, event.MembershipKnock, e.membershipOf(alice, kr, carol.UserID).Membership)

		// Room version 7 has no restricted rooms: the rule lets nobody in.
		v7 := e.restrictedRoom(alice, event.JoinRuleRestricted, "7", space, nil)
		_, err = erin.JoinRoomByID(ctx, v7)
		requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")
		// Conditions naming rooms the server does not know are not met.
		nowhere := e.restrictedRoom(alice, event.JoinRuleRestricted, "", space, nil)
		_, err = alice.SendStateEvent(ctx, nowhere, event.StateJoinRules, "", map[string]any{"join_rule": "restricted",
			"allow": []any{map[string]any{"type": "m.room_membership", "room_id": "!gone:" + testServerName}}})
		require.NoError(t, err)
		_, err = erin.JoinRoomByID(ctx, nowhere)
		requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")
	})
}
