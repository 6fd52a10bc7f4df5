package auth

import "github.com/concordchat/concord/roomserver/event"

// StateProvider returns the state event for key, or nil when there is none.
type StateProvider func(k event.StateKey) *event.Event

var createKey = event.StateKey{Type: event.TypeCreate}

// FromAuthEvents builds a StateProvider over an event list (keyed by
// (type, state_key); a later duplicate wins, as CheckAuthEvents rejects lists
// with duplicates anyway). Non-state events are ignored.
//
// In room version 12 the create event is not among the auth events: use
// FromAuthEventsWithCreate there.
func FromAuthEvents(events []*event.Event) StateProvider {
	list := make([]*event.Event, 0, len(events))
	for _, e := range events {
		if e != nil && e.IsState() {
			list = append(list, e)
		}
	}
	return func(k event.StateKey) *event.Event {
		for i := len(list) - 1; i >= 0; i-- {
			e := list[i]
			if e.Type() == k.Type && *e.StateKey() == k.StateKey {
				return e
			}
		}
		return nil
	}
}

// FromAuthEventsWithCreate is FromAuthEvents whose m.room.create lookup
// returns create (the event the v12 room ID names), whatever the list holds.
func FromAuthEventsWithCreate(events []*event.Event, create *event.Event) StateProvider {
	p := FromAuthEvents(events)
	return func(k event.StateKey) *event.Event {
		if k == createKey {
			return create
		}
		return p(k)
	}
}

// FromMap builds a StateProvider over a state map.
func FromMap(m map[event.StateKey]*event.Event) StateProvider {
	return func(k event.StateKey) *event.Event { return m[k] }
}
