package clientapi

import (
	"context"
	"errors"

	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage/rooms"
)

// worldReadable reports whether the room's current history visibility is
// world_readable (readable by anyone without joining), and the room's NID.
// An unknown room is simply not readable.
func (a *API) worldReadable(ctx context.Context, roomID string) (int64, bool, error) {
	hv, err := a.deps.Rooms.StateEvent(ctx, roomID, event.StateKey{Type: event.TypeHistoryVisibility})
	if errors.Is(err, roomserver.ErrRoomNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if hv == nil || gjson.GetBytes(hv.Content(), "history_visibility").Str != "world_readable" {
		return 0, false, nil
	}
	info, err := a.deps.RoomStore.Room(ctx, roomID)
	if errors.Is(err, rooms.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return info.NID, true, nil
}
