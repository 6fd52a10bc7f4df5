package syncapi

import (
	"encoding/json"
	"path"

	"github.com/concordchat/concord/roomserver/event"
)

// Filter is the part of a Matrix filter that /sync and /messages apply
// (client-server API, "Filtering").
type Filter struct {
	Room        RoomFilter  `json:"room"`
	Presence    EventFilter `json:"presence"`
	AccountData EventFilter `json:"account_data"`
}

// RoomFilter filters rooms and their sections.
type RoomFilter struct {
	Rooms        *[]string   `json:"rooms,omitempty"`
	NotRooms     []string    `json:"not_rooms,omitempty"`
	IncludeLeave bool        `json:"include_leave,omitempty"`
	Timeline     EventFilter `json:"timeline"`
	State        EventFilter `json:"state"`
	Ephemeral    EventFilter `json:"ephemeral"`
	AccountData  EventFilter `json:"account_data"`
}

// EventFilter filters one list of events. Rooms and NotRooms apply to the
// room sections (a RoomEventFilter: timeline, state, ephemeral, account data).
type EventFilter struct {
	Limit                   *int      `json:"limit,omitempty"`
	Rooms                   *[]string `json:"rooms,omitempty"`
	NotRooms                []string  `json:"not_rooms,omitempty"`
	Types                   *[]string `json:"types,omitempty"`
	NotTypes                []string  `json:"not_types,omitempty"`
	Senders                 *[]string `json:"senders,omitempty"`
	NotSenders              []string  `json:"not_senders,omitempty"`
	LazyLoadMembers         bool      `json:"lazy_load_members,omitempty"`
	IncludeRedundantMembers bool      `json:"include_redundant_members,omitempty"`
	// UnreadThreadNotifications (room.timeline) asks /sync for per-thread
	// notification counts.
	UnreadThreadNotifications bool `json:"unread_thread_notifications,omitempty"`
}

// AllowsRoom applies a room section's rooms / not_rooms.
func (ef EventFilter) AllowsRoom(roomID string) bool {
	return RoomFilter{Rooms: ef.Rooms, NotRooms: ef.NotRooms}.RoomAllowed(roomID)
}

// DefaultTimelineLimit is the timeline length when a filter sets none.
const DefaultTimelineLimit = 10

// MaxLimit bounds any limit a client asks for.
const MaxLimit = 1000

// ParseFilter decodes filter JSON ("" or "{}" for none).
func ParseFilter(raw []byte) (Filter, error) {
	var f Filter
	if len(raw) == 0 {
		return f, nil
	}
	err := json.Unmarshal(raw, &f)
	return f, err
}

// TimelineLimit returns the effective timeline limit.
func (f Filter) TimelineLimit() int { return f.Room.Timeline.limit(DefaultTimelineLimit) }

func (ef EventFilter) limit(def int) int {
	if ef.Limit == nil || *ef.Limit <= 0 {
		return def
	}
	return min(*ef.Limit, MaxLimit)
}

// RoomAllowed applies rooms / not_rooms.
func (rf RoomFilter) RoomAllowed(roomID string) bool {
	for _, r := range rf.NotRooms {
		if r == roomID {
			return false
		}
	}
	if rf.Rooms == nil {
		return true
	}
	for _, r := range *rf.Rooms {
		if r == roomID {
			return true
		}
	}
	return false
}

// Allows applies types, not_types, senders and not_senders to one event.
// Types may end in '*' as a wildcard.
func (ef EventFilter) Allows(e *event.Event) bool { return ef.AllowsTypeSender(e.Type(), e.Sender()) }

// AllowsTypeSender applies the filter to an event of type typ sent by
// sender; sender "" skips the sender checks (events without a sender, such
// as account data and ephemeral room events).
func (ef EventFilter) AllowsTypeSender(typ, sender string) bool {
	for _, t := range ef.NotTypes {
		if typeMatch(t, typ) {
			return false
		}
	}
	if ef.Types != nil {
		ok := false
		for _, t := range *ef.Types {
			if typeMatch(t, typ) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if sender == "" {
		return true
	}
	for _, s := range ef.NotSenders {
		if s == sender {
			return false
		}
	}
	if ef.Senders != nil {
		for _, s := range *ef.Senders {
			if s == sender {
				return true
			}
		}
		return false
	}
	return true
}

func typeMatch(pattern, typ string) bool {
	if pattern == typ {
		return true
	}
	ok, err := path.Match(pattern, typ)
	return err == nil && ok
}
