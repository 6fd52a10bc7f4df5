package clientapi

import (
	"context"

	"go.uber.org/zap"

	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
)

// leaveAllRooms makes a deactivated user leave every room they are joined
// to, invited to or knocking on, as Synapse does. A room that refuses the
// leave is logged and skipped: the account is already deactivated.
func (a *API) leaveAllRooms(ctx context.Context, userID string) {
	if a.deps.RoomStore == nil || a.deps.Rooms == nil {
		return
	}
	ms, err := a.deps.RoomStore.MembershipsOf(ctx, userID)
	if err != nil {
		a.log.Warn("deactivation: listing rooms failed", zap.String("user", userID), zap.Error(err))
		return
	}
	content := []byte(`{"membership":"leave"}`)
	for _, m := range ms {
		if m.Membership != event.Join && m.Membership != event.Invite && m.Membership != event.Knock {
			continue
		}
		uid := userID
		if _, err := a.deps.Rooms.Send(ctx, m.RoomID, roomserver.Proposal{Type: event.TypeMember, StateKey: &uid,
			Sender: userID, Content: content}); err != nil {
			a.log.Warn("deactivation: leaving a room failed", zap.String("user", userID),
				zap.String("room", m.RoomID), zap.Error(err))
		}
	}
}
