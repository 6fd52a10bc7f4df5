package clientapi

import (
	"testing"

	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// TestSectionRoomFilters: rooms / not_rooms of the timeline and state
// sections apply per room: an excluded room's timeline and state are empty
// while another room's are delivered.
func TestSectionRoomFilters(t *testing.T) {
	forEachRoomsEnv(t, func(t *testing.T, e *roomsEnv) {
		alice := e.user("alice")
		a, err := alice.CreateRoom(e.ctx, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "A"})
		require.NoError(t, err)
		b, err := alice.CreateRoom(e.ctx, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "B"})
		require.NoError(t, err)
		for _, room := range []id.RoomID{a.RoomID, b.RoomID} {
			_, err := alice.SendText(e.ctx, room, "hi")
			require.NoError(t, err)
		}
		filter := `{"room":{"timeline":{"limit":1,"not_rooms":["` + a.RoomID.String() + `"]},"state":{"rooms":["` + b.RoomID.String() + `"]}}}`
		var resp struct {
			Rooms struct {
				Join map[id.RoomID]struct {
					Timeline struct {
						Events []map[string]any `json:"events"`
					} `json:"timeline"`
					State struct {
						Events []map[string]any `json:"events"`
					} `json:"state"`
				} `json:"join"`
			} `json:"rooms"`
		}
		_, err = alice.MakeRequest(e.ctx, "GET", alice.BuildURLWithQuery(mautrix.ClientURLPath{"v3", "sync"},
			map[string]string{"filter": filter}), nil, &resp)
		require.NoError(t, err)
		require.Empty(t, resp.Rooms.Join[a.RoomID].Timeline.Events, "room A's timeline is filtered out")
		require.Empty(t, resp.Rooms.Join[a.RoomID].State.Events, "room A is not in the state filter's rooms")
		require.NotEmpty(t, resp.Rooms.Join[b.RoomID].Timeline.Events)
		require.NotEmpty(t, resp.Rooms.Join[b.RoomID].State.Events)
	})
}
