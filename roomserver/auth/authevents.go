package auth

import (
	"fmt"
	"slices"
	"strings"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
)

// CheckAuthEvents applies the checks on e's auth_events list itself (v12
// rules 2 and 3; v1–v11 rules 2.1–2.5), given the events it names:
//
//   - v12: the room ID must be "!" + the create event's ID hash, and that
//     create event must not be rejected (isRejected);
//   - no two entries with the same (type, state_key) (3.1);
//   - every entry a state event of a (type, state_key) the auth events
//     selection picks for e (3.2); in v12 that excludes m.room.create;
//   - no entry rejected (3.3);
//   - v1–v11: an m.room.create entry (3.4);
//   - every entry in e's room (3.5).
//
// authEvents holds the events e.AuthEvents() names, in any order (others are
// ignored); a named event missing from it gives an error wrapping
// ErrMissingAuthEvent, which is not a rejection. isRejected may be nil (nothing
// rejected). The create event has no auth events to check: rule 1 decides it.
func CheckAuthEvents(e *event.Event, authEvents []*event.Event, isRejected func(id string) bool) error {
	if e.Type() == event.TypeCreate {
		return nil
	}
	v := e.Version()
	rejected := func(id string) bool { return isRejected != nil && isRejected(id) }
	if v.RoomIDFromCreate {
		if !mxid.ValidRoomID(e.RoomID(), false) {
			return reject(RuleRoomIDIsCreate, "room ID %s is not a create event ID", e.RoomID())
		}
		if id := "$" + strings.TrimPrefix(e.RoomID(), "!"); rejected(id) {
			return reject(RuleRoomIDIsCreate, "the create event %s was rejected", id)
		}
	}
	allowed := event.AuthEventKeys(v, e.Type(), e.StateKey(), e.Sender(), e.Content())
	names := e.AuthEvents()
	seen := make([]event.StateKey, 0, len(names))
	hasCreate := false
	for _, id := range names {
		i := slices.IndexFunc(authEvents, func(a *event.Event) bool { return a != nil && a.ID() == id })
		if i < 0 {
			return fmt.Errorf("%w: %s", ErrMissingAuthEvent, id)
		}
		a := authEvents[i]
		if !a.IsState() {
			return reject(RuleAuthSelection, "auth event %s (%s) is not a state event", a.ID(), a.Type())
		}
		k := a.Key()
		if slices.Contains(seen, k) {
			return reject(RuleAuthDuplicate, "two auth events for (%s, %q)", k.Type, k.StateKey)
		}
		seen = append(seen, k)
		if !slices.Contains(allowed, k) {
			return reject(RuleAuthSelection, "auth event (%s, %q) is not selected for this event", k.Type, k.StateKey)
		}
		if rejected(a.ID()) {
			return reject(RuleAuthRejected, "auth event %s was rejected", a.ID())
		}
		if k == createKey {
			hasCreate = true
		}
		if a.RoomID() != e.RoomID() {
			return reject(RuleAuthRoomID, "auth event %s is in room %s, not %s", a.ID(), a.RoomID(), e.RoomID())
		}
	}
	if !v.RoomIDFromCreate && !hasCreate {
		return reject(RuleAuthNoCreate, "no m.room.create among the auth events")
	}
	return nil
}
