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

// upgrade calls POST /rooms/{roomId}/upgrade.
func (e *dirEnv) upgrade(cli *mautrix.Client, room id.RoomID, body map[string]any) (id.RoomID, error) {
	var out struct {
		ReplacementRoom id.RoomID `json:"replacement_room"`
	}
	err := e.do(cli, http.MethodPost, mautrix.ClientURLPath{"v3", "rooms", room, "upgrade"}, nil, body, &out)
	return out.ReplacementRoom, err
}

// stateContent is the content of a current state event, read by a member.
func (e *dirEnv) stateContent(cli *mautrix.Client, room id.RoomID, typ event.Type, key string) map[string]any {
	e.t.Helper()
	ev, err := cli.FullStateEvent(e.ctx, room, typ, key)
	require.NoError(e.t, err, "%s %s", typ.Type, key)
	return ev.Content.Raw
}

func TestRoomUpgrade(t *testing.T) {
	for _, tc := range []struct{ from, to string }{{"10", "11"}, {"11", "12"}} {
		t.Run("v"+tc.from+"-v"+tc.to, func(t *testing.T) {
			forEachDirEnv(t, func(t *testing.T, e *dirEnv) { testRoomUpgrade(t, e, tc.from, tc.to) })
		})
	}
}

func testRoomUpgrade(t *testing.T, e *dirEnv, from, to string) {
	ctx := e.ctx
	alice, bob, carol, mallory, dave := e.user("alice"), e.user("bob"), e.user("carol"), e.user("mallory"), e.user("dave")
	space := e.createRoom(alice, &mautrix.ReqCreateRoom{Preset: "public_chat", CreationContent: map[string]any{"type": "m.space"}})
	acl := map[string]any{"allow": []any{"*"}, "deny": []any{"evil.example"}, "allow_ip_literals": false}
	old := e.createRoom(alice, &mautrix.ReqCreateRoom{Visibility: "public", Preset: "public_chat", RoomVersion: id.RoomVersion(from),
		Name: "Old name", Topic: "Old topic", RoomAliasName: "up",
		PowerLevelOverride: &event.PowerLevelsEventContent{Users: map[id.UserID]int{alice.UserID: 100, carol.UserID: 50}},
		InitialState: []*event.Event{
			{Type: event.StateRoomAvatar, Content: event.Content{Raw: map[string]any{"url": "mxc://hs/avatar"}}},
			{Type: event.StateEncryption, Content: event.Content{Raw: map[string]any{"algorithm": "m.megolm.v1.aes-sha2"}}},
			{Type: event.StateServerACL, Content: event.Content{Raw: acl}},
			{Type: event.StateGuestAccess, Content: event.Content{Raw: map[string]any{"guest_access": "can_join"}}},
			{Type: event.StateSpaceParent, StateKey: dirPtr(space.String()), Content: event.Content{Raw: map[string]any{"via": []any{testServerName}}}},
			{Type: event.NewEventType("org.example.custom"), Content: event.Content{Raw: map[string]any{"x": 1}}},
		}})
	for _, cli := range []*mautrix.Client{bob, carol, mallory} {
		_, err := cli.JoinRoomByID(ctx, old)
		require.NoError(t, err)
	}
	_, err := alice.BanUser(ctx, old, &mautrix.ReqBanUser{UserID: mallory.UserID, Reason: "spam"})
	require.NoError(t, err)
	_, err = alice.CreateAlias(ctx, id.RoomAlias("#up-alt:"+testServerName), old)
	require.NoError(t, err)
	_, err = alice.SendStateEvent(ctx, old, event.StateCanonicalAlias, "", map[string]any{"alias": "#up:" + testServerName,
		"alt_aliases": []any{"#up-alt:" + testServerName, "#remote:elsewhere.example"}})
	require.NoError(t, err)
	msg, err := bob.SendText(ctx, old, "pin me")
	require.NoError(t, err)
	pin, err := alice.SendStateEvent(ctx, old, event.StatePinnedEvents, "", map[string]any{"pinned": []any{msg.EventID.String()}})
	require.NoError(t, err)
	// Pinned events are ordinary state.
	assert.Equal(t, []any{msg.EventID.String()}, e.stateContent(bob, old, event.StatePinnedEvents, "")["pinned"])
	oldPL := e.stateContent(alice, old, event.StatePowerLevels, "")

	// Who may upgrade, and bad input.
	_, err = e.upgrade(bob, old, map[string]any{"new_version": to})
	requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")
	_, err = e.upgrade(dave, old, map[string]any{"new_version": to})
	requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")
	_, err = e.upgrade(alice, old, map[string]any{"new_version": "99"})
	requireMatrixErr(t, err, http.StatusBadRequest, "M_UNSUPPORTED_ROOM_VERSION")
	_, err = e.upgrade(alice, old, map[string]any{})
	requireMatrixErr(t, err, http.StatusBadRequest, "M_MISSING_PARAM")
	_, err = e.upgrade(alice, old, map[string]any{"new_version": 11})
	requireMatrixErr(t, err, http.StatusBadRequest, "M_BAD_JSON")
	_, err = e.upgrade(alice, "!unknown:"+testServerName, map[string]any{"new_version": to})
	requireMatrixErr(t, err, http.StatusNotFound, "M_NOT_FOUND")

	newRoom, err := e.upgrade(alice, old, map[string]any{"new_version": to})
	require.NoError(t, err)
	require.NotEqual(t, old, newRoom)

	// The create event: version, predecessor, the upgrader as creator.
	create, err := alice.FullStateEvent(ctx, newRoom, event.StateCreate, "")
	require.NoError(t, err)
	assert.Equal(t, alice.UserID, create.Sender)
	assert.Equal(t, to, create.Content.Raw["room_version"])
	pred := create.Content.Raw["predecessor"].(map[string]any)
	assert.Equal(t, old.String(), pred["room_id"])
	if to == "12" {
		assert.NotContains(t, pred, "event_id", "room version 12 leaves the event ID out")
	} else {
		assert.Equal(t, pin.EventID.String(), pred["event_id"], "the old room's last event")
	}
	assert.NotContains(t, create.Content.Raw, "type")
	assert.NotContains(t, create.Content.Raw, "additional_creators")

	// Copied state.
	for _, c := range []struct {
		typ event.Type
		key string
	}{{event.StateRoomName, ""}, {event.StateTopic, ""}, {event.StateRoomAvatar, ""}, {event.StateJoinRules, ""},
		{event.StateHistoryVisibility, ""}, {event.StateGuestAccess, ""}, {event.StateEncryption, ""}, {event.StateServerACL, ""},
		{event.StatePinnedEvents, ""}, {event.StateSpaceParent, space.String()}} {
		assert.Equal(t, e.stateContent(alice, old, c.typ, c.key), e.stateContent(alice, newRoom, c.typ, c.key), "%s", c.typ.Type)
	}
	_, err = alice.FullStateEvent(ctx, newRoom, event.NewEventType("org.example.custom"), "")
	requireMatrixErr(t, err, http.StatusNotFound, "M_NOT_FOUND")
	// Power levels: the same, except that a version 12 creator is above the users list.
	newPL := e.stateContent(alice, newRoom, event.StatePowerLevels, "")
	wantUsers := map[string]any{carol.UserID.String(): float64(50)}
	if to != "12" {
		wantUsers[alice.UserID.String()] = float64(100)
	}
	assert.Equal(t, wantUsers, newPL["users"])
	for _, k := range []string{"events", "events_default", "state_default", "ban", "kick", "redact", "invite", "users_default", "notifications"} {
		assert.Equal(t, oldPL[k], newPL[k], k)
	}
	assert.Equal(t, event.MembershipBan, e.membershipOf(alice, newRoom, mallory.UserID).Membership)
	assert.Equal(t, "spam", e.membershipOf(alice, newRoom, mallory.UserID).Reason)

	// The old room: tombstone, restricted power levels, aliases gone.
	tomb := e.stateContent(bob, old, event.StateTombstone, "")
	assert.Equal(t, newRoom.String(), tomb["replacement_room"])
	assert.NotEmpty(t, tomb["body"])
	restricted := e.stateContent(bob, old, event.StatePowerLevels, "")
	assert.Equal(t, float64(50), restricted["events_default"])
	assert.Equal(t, float64(50), restricted["invite"])
	assert.Equal(t, oldPL["users"], restricted["users"])
	assert.Equal(t, map[string]any{"alt_aliases": []any{"#remote:elsewhere.example"}}, e.stateContent(bob, old, event.StateCanonicalAlias, ""))
	assert.Equal(t, map[string]any{"alias": "#up:" + testServerName, "alt_aliases": []any{"#up-alt:" + testServerName}},
		e.stateContent(alice, newRoom, event.StateCanonicalAlias, ""))
	for _, alias := range []string{"#up:", "#up-alt:"} {
		res, err := dave.ResolveAlias(ctx, id.RoomAlias(alias+testServerName))
		require.NoError(t, err)
		assert.Equal(t, newRoom, res.RoomID, alias)
	}
	// The directory lists the new room instead.
	listing, err := dave.PublicRooms(ctx, &mautrix.ReqPublicRooms{})
	require.NoError(t, err)
	assert.Equal(t, []id.RoomID{newRoom}, roomIDs(listing.Chunk))
	assert.Equal(t, 1, listing.Chunk[0].NumJoinedMembers)

	// The new room is usable: members join and talk; the banned stay out;
	// the old room is closed to regular members.
	sent, err := alice.SendText(ctx, newRoom, "welcome to the new room")
	require.NoError(t, err)
	_, err = bob.JoinRoomByID(ctx, newRoom)
	require.NoError(t, err)
	_, err = carol.JoinRoom(ctx, "#up:"+testServerName, nil)
	require.NoError(t, err)
	_, err = bob.SendText(ctx, newRoom, "hello again")
	require.NoError(t, err)
	_, err = mallory.JoinRoomByID(ctx, newRoom)
	requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")
	_, err = bob.SendText(ctx, old, "still here?")
	requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")
	members, err := bob.JoinedMembers(ctx, newRoom)
	require.NoError(t, err)
	assert.Len(t, members.Joined, 3)
	// carol keeps her moderator level: she may kick bob.
	_, err = carol.KickUser(ctx, newRoom, &mautrix.ReqKickUser{UserID: bob.UserID})
	require.NoError(t, err)
	// Outsiders cannot read it (history visibility "shared" is copied).
	_, err = dave.GetEvent(ctx, newRoom, sent.EventID)
	require.Error(t, err)
	// The upgrader still runs the new room.
	_, err = alice.SendStateEvent(ctx, newRoom, event.StateRoomName, "", map[string]any{"name": "New name"})
	require.NoError(t, err)
}

func TestRoomUpgradeCreatorsAndSpaces(t *testing.T) {
	forEachDirEnv(t, func(t *testing.T, e *dirEnv) {
		ctx := e.ctx
		alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
		child := e.createRoom(alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		removed := e.createRoom(alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		space := e.createRoom(alice, &mautrix.ReqCreateRoom{Preset: "public_chat", RoomVersion: "11",
			CreationContent: map[string]any{"type": "m.space"},
			PowerLevelOverride: &event.PowerLevelsEventContent{Users: map[id.UserID]int{alice.UserID: 100, bob.UserID: 100},
				Events: map[string]int{"m.room.power_levels": 100, "m.space.child": 50}}})
		_, err := bob.JoinRoomByID(ctx, space)
		require.NoError(t, err)
		_, err = carol.JoinRoomByID(ctx, space)
		require.NoError(t, err)
		for _, r := range []id.RoomID{child, removed} {
			_, err = alice.SendStateEvent(ctx, space, event.StateSpaceChild, r.String(), map[string]any{"via": []any{testServerName}, "order": "a"})
			require.NoError(t, err)
		}
		_, err = alice.SendStateEvent(ctx, space, event.StateSpaceChild, removed.String(), map[string]any{})
		require.NoError(t, err)

		// Upgrading to version 12 with bob as an additional creator: both
		// leave the users list.
		_, err = e.upgrade(alice, space, map[string]any{"new_version": "12", "additional_creators": []any{"not a user"}})
		requireMatrixErr(t, err, http.StatusBadRequest, "M_INVALID_PARAM")
		newSpace, err := e.upgrade(alice, space, map[string]any{"new_version": "12", "additional_creators": []any{bob.UserID.String()}})
		require.NoError(t, err)
		create := e.stateContent(alice, newSpace, event.StateCreate, "")
		assert.Equal(t, "m.space", create["type"])
		assert.Equal(t, []any{bob.UserID.String()}, create["additional_creators"])
		pl := e.stateContent(alice, newSpace, event.StatePowerLevels, "")
		assert.Equal(t, map[string]any{}, pl["users"])
		assert.Equal(t, map[string]any{"m.room.power_levels": float64(100), "m.space.child": float64(50)}, pl["events"])
		// The live child is copied, the removed one is not.
		assert.Equal(t, map[string]any{"via": []any{testServerName}, "order": "a"}, e.stateContent(alice, newSpace, event.StateSpaceChild, child.String()))
		_, err = alice.FullStateEvent(ctx, newSpace, event.StateSpaceChild, removed.String())
		requireMatrixErr(t, err, http.StatusNotFound, "M_NOT_FOUND")

		// bob, a creator of the new space, has every power there.
		_, err = bob.JoinRoomByID(ctx, newSpace)
		require.NoError(t, err)
		_, err = bob.SendStateEvent(ctx, newSpace, event.StatePowerLevels, "", map[string]any{"users": map[string]any{carol.UserID.String(): 100}})
		require.NoError(t, err)

		// Upgrading the version 12 space again: the old creators who are not
		// creators of the new room keep level 100.
		newer, err := e.upgrade(bob, newSpace, map[string]any{"new_version": "12"})
		require.NoError(t, err)
		pl = e.stateContent(bob, newer, event.StatePowerLevels, "")
		assert.Equal(t, map[string]any{carol.UserID.String(): float64(100), alice.UserID.String(): float64(100)}, pl["users"])
		newerCreate := e.stateContent(bob, newer, event.StateCreate, "")
		assert.Equal(t, newSpace.String(), newerCreate["predecessor"].(map[string]any)["room_id"])
		assert.NotContains(t, newerCreate, "additional_creators", "creators are not carried over")
	})
}

func TestRoomUpgradeByModerator(t *testing.T) {
	forEachDirEnv(t, func(t *testing.T, e *dirEnv) {
		ctx := e.ctx
		alice, mod, bob := e.user("alice"), e.user("mod"), e.user("bob")
		acl := map[string]any{"allow": []any{"*"}, "deny": []any{}, "allow_ip_literals": true}
		old := e.createRoom(alice, &mautrix.ReqCreateRoom{Preset: "public_chat", RoomVersion: "10",
			PowerLevelOverride: &event.PowerLevelsEventContent{Users: map[id.UserID]int{alice.UserID: 100, mod.UserID: 50},
				Events: map[string]int{"m.room.tombstone": 50, "m.room.power_levels": 100, "m.room.server_acl": 100}},
			InitialState: []*event.Event{{Type: event.StateServerACL, Content: event.Content{Raw: acl}}}})
		for _, cli := range []*mautrix.Client{mod, bob} {
			_, err := cli.JoinRoomByID(ctx, old)
			require.NoError(t, err)
		}
		oldPL := e.stateContent(alice, old, event.StatePowerLevels, "")

		// mod (level 50) may send the tombstone but not the ACL: the new room
		// raises them while copying the state, then puts the levels back.
		newRoom, err := e.upgrade(mod, old, map[string]any{"new_version": "11"})
		require.NoError(t, err)
		assert.Equal(t, acl, e.stateContent(mod, newRoom, event.StateServerACL, ""))
		newPL := e.stateContent(mod, newRoom, event.StatePowerLevels, "")
		assert.Equal(t, oldPL["users"], newPL["users"])
		assert.Equal(t, oldPL["events"], newPL["events"])
		_, err = mod.SendStateEvent(ctx, newRoom, event.StateServerACL, "", map[string]any{"allow": []any{"*"}})
		requireMatrixErr(t, err, http.StatusForbidden, "M_FORBIDDEN")
		_, err = mod.SendText(ctx, newRoom, "still a moderator")
		require.NoError(t, err)
		// alice keeps her level in the new room.
		_, err = alice.JoinRoomByID(ctx, newRoom)
		require.NoError(t, err)
		_, err = alice.SendStateEvent(ctx, newRoom, event.StateServerACL, "", map[string]any{"allow": []any{"*"}})
		require.NoError(t, err)

		// mod may not change the old room's power levels (level 100): the
		// tombstone stands, the old levels stay.
		assert.Equal(t, newRoom.String(), e.stateContent(bob, old, event.StateTombstone, "")["replacement_room"])
		assert.Equal(t, oldPL, e.stateContent(bob, old, event.StatePowerLevels, ""))
		_, err = bob.SendText(ctx, old, "the old room is not closed")
		require.NoError(t, err)
	})
}
