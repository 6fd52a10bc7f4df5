package syncapi

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/storage/rooms"
)

var testEventN int

// testOutput makes a trusted event for notifier tests: a message, or a
// member event when membership is set.
func testOutput(t *testing.T, roomID, sender, target, membership string, pos int64) roomserver.Output {
	t.Helper()
	v, err := roomversion.Get("10")
	require.NoError(t, err)
	testEventN++
	ev := map[string]any{"type": "m.room.message", "room_id": roomID, "sender": sender, "origin_server_ts": 1,
		"depth": testEventN, "prev_events": []string{}, "auth_events": []string{}, "content": map[string]any{"body": "x"},
		"hashes": map[string]string{"sha256": "x"}, "signatures": map[string]any{}}
	if membership != "" {
		ev["type"], ev["state_key"], ev["content"] = event.TypeMember, target, map[string]any{"membership": membership}
	}
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	e, err := event.FromTrusted(raw, v, "$e"+string(rune('a'+testEventN%26)), false)
	require.NoError(t, err)
	return roomserver.Output{RoomID: roomID, Event: e, StreamPos: pos}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestNotifierRoomEvents(t *testing.T) {
	n := NewNotifier(0)
	n.attach("@a:t")
	n.attach("@b:t")
	n.setRooms("@a:t", []rooms.Membership{{RoomID: "!r:t", Membership: event.Join}})
	n.setRooms("@b:t", []rooms.Membership{{RoomID: "!q:t", Membership: event.Join}})
	a, b := n.listen("@a:t"), n.listen("@b:t")

	n.OnRoomEvents([]roomserver.Output{testOutput(t, "!r:t", "@x:t", "", "", 1)}, 1)
	assert.True(t, closed(a), "a member of !r")
	assert.False(t, closed(b), "not in !r")

	// An invite wakes its target and starts tracking the room.
	b = n.listen("@b:t")
	n.OnRoomEvents([]roomserver.Output{testOutput(t, "!r:t", "@a:t", "@b:t", event.Invite, 2)}, 2)
	assert.True(t, closed(b))
	b = n.listen("@b:t")
	n.OnRoomEvents([]roomserver.Output{testOutput(t, "!r:t", "@a:t", "", "", 3)}, 3)
	assert.True(t, closed(b), "now tracked in !r")
	assert.Equal(t, int64(3), n.Position())
}

func TestNotifierHoldsWakeUpsUntilPositionCovers(t *testing.T) {
	n := NewNotifier(10)
	n.attach("@a:t")
	n.attach("@b:t")
	n.setRooms("@a:t", []rooms.Membership{{RoomID: "!r:t", Membership: event.Join}})
	n.setRooms("@b:t", []rooms.Membership{{RoomID: "!q:t", Membership: event.Join}})
	a, b := n.listen("@a:t"), n.listen("@b:t")
	// 12 commits before 11: the position stays at 10 and @b, woken now,
	// would read 10 and miss event 12.
	n.OnRoomEvents([]roomserver.Output{testOutput(t, "!q:t", "@x:t", "", "", 12)}, 10)
	assert.False(t, closed(b), "held until the position reaches 12")
	n.OnRoomEvents([]roomserver.Output{testOutput(t, "!r:t", "@x:t", "", "", 11)}, 12)
	assert.True(t, closed(a))
	assert.True(t, closed(b), "released once the position covers it")
}

func TestNotifierStreamWakeUps(t *testing.T) {
	n := NewNotifier(0)
	for _, u := range []string{"@a:t", "@b:t", "@c:t"} {
		n.attach(u)
	}
	n.setRooms("@a:t", []rooms.Membership{{RoomID: "!r:t", Membership: event.Join}})
	n.setRooms("@b:t", []rooms.Membership{{RoomID: "!r:t", Membership: event.Invite}})
	n.setRooms("@c:t", []rooms.Membership{{RoomID: "!q:t", Membership: event.Join}})
	a, b, c := n.listen("@a:t"), n.listen("@b:t"), n.listen("@c:t")

	n.wakeJoined("!r:t")
	assert.True(t, closed(a))
	assert.False(t, closed(b), "invited members get no typing or receipts")
	assert.False(t, closed(c))

	a = n.listen("@a:t")
	n.wakeUser("@c:t")
	assert.True(t, closed(c))
	assert.False(t, closed(a))

	c = n.listen("@c:t")
	n.wakeSharing("@z:t", []string{"!q:t"})
	assert.True(t, closed(c))
	assert.False(t, closed(a))
	assert.False(t, closed(b))
}

func TestNotifierDetachForgetsUsers(t *testing.T) {
	n := NewNotifier(0)
	n.attach("@a:t")
	n.attach("@a:t") // two devices syncing
	n.setRooms("@a:t", []rooms.Membership{{RoomID: "!r:t", Membership: event.Join}, {RoomID: "!q:t", Membership: event.Join}})
	n.setRooms("@a:t", []rooms.Membership{{RoomID: "!r:t", Membership: event.Join}})
	n.mu.Lock()
	assert.NotContains(t, n.rooms, "!q:t", "rooms left are untracked")
	n.mu.Unlock()
	n.detach("@a:t")
	n.mu.Lock()
	assert.Contains(t, n.users, "@a:t", "one sync still running")
	n.mu.Unlock()
	n.detach("@a:t")
	n.mu.Lock()
	assert.Empty(t, n.users)
	assert.Empty(t, n.rooms)
	n.mu.Unlock()
	n.detach("@nobody")
}
