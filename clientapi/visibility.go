package clientapi

import (
	"context"

	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/syncapi"
)

// visibility returns a history visibility checker for the caller, which
// also hides the non-state events of the users the caller ignores.
func (a *API) visibility(ctx context.Context, userID string) (*syncapi.Visibility, map[string]rooms.Membership, error) {
	ms, err := a.deps.RoomStore.MembershipsOf(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	current := make(map[string]string, len(ms))
	byRoom := make(map[string]rooms.Membership, len(ms))
	for _, m := range ms {
		current[m.RoomID] = m.Membership
		byRoom[m.RoomID] = m
	}
	vis := syncapi.NewVisibility(a.deps.RoomStore, userID, current)
	ignored, err := a.deps.Sync.IgnoredUsers(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	vis.SetIgnored(ignored)
	return vis, byRoom, nil
}
