package roomserver

import (
	"context"

	"github.com/concordchat/concord/storage/rooms"
)

// CreateAlias maps a local alias to a room the server knows.
func (rs *RoomServer) CreateAlias(ctx context.Context, alias, roomID, creator string) error {
	if _, err := rs.Room(ctx, roomID); err != nil {
		return err
	}
	return rs.deps.Store.CreateAlias(ctx, rooms.Alias{Alias: alias, RoomID: roomID, Creator: creator}, rs.now())
}

// ResolveAlias returns the room of a local alias.
func (rs *RoomServer) ResolveAlias(ctx context.Context, alias string) (rooms.Alias, error) {
	return rs.deps.Store.GetAlias(ctx, alias)
}

// DeleteAlias removes a local alias.
func (rs *RoomServer) DeleteAlias(ctx context.Context, alias string) error {
	return rs.deps.Store.DeleteAlias(ctx, alias)
}
