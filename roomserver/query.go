package roomserver

import (
	"context"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// RoomInfo is what callers outside the roomserver may know of a room.
type RoomInfo struct {
	ID      string
	Version *roomversion.Version
	Create  *event.Event
}

// withRoom runs fn with the room loaded and its lock held.
func (rs *RoomServer) withRoom(ctx context.Context, roomID string, fn func(r *room) error) error {
	r := rs.roomFor(roomID)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := rs.load(ctx, r); err != nil {
		return err
	}
	return fn(r)
}

// Room returns a room's ID, version and create event.
func (rs *RoomServer) Room(ctx context.Context, roomID string) (RoomInfo, error) {
	var info RoomInfo
	err := rs.withRoom(ctx, roomID, func(r *room) error {
		info = RoomInfo{ID: r.id, Version: r.version, Create: r.create}
		return nil
	})
	return info, err
}

// StateEvent returns the current state event for key, or nil.
func (rs *RoomServer) StateEvent(ctx context.Context, roomID string, key event.StateKey) (*event.Event, error) {
	var ev *event.Event
	err := rs.withRoom(ctx, roomID, func(r *room) error {
		ev = r.get(key)
		return nil
	})
	return ev, err
}

// CurrentState returns every current state event of the room.
func (rs *RoomServer) CurrentState(ctx context.Context, roomID string) ([]*event.Event, error) {
	var out []*event.Event
	err := rs.withRoom(ctx, roomID, func(r *room) error {
		out = make([]*event.Event, 0, len(r.state))
		for _, e := range r.state {
			out = append(out, e.ev)
		}
		return nil
	})
	return out, err
}

// Membership returns a user's current membership in the room ("" if none).
func (rs *RoomServer) Membership(ctx context.Context, roomID, userID string) (string, error) {
	var m string
	err := rs.withRoom(ctx, roomID, func(r *room) error {
		if e := r.get(event.StateKey{Type: event.TypeMember, StateKey: userID}); e != nil {
			m = e.Membership()
		}
		return nil
	})
	return m, err
}
