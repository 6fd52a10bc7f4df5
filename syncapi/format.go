package syncapi

import (
	"encoding/json"
	"time"

	"github.com/concordchat/concord/roomserver/event"
)

// ClientEvent is an event in the client-server API's format.
type ClientEvent struct {
	Content        json.RawMessage `json:"content"`
	EventID        string          `json:"event_id"`
	OriginServerTS int64           `json:"origin_server_ts"`
	RoomID         string          `json:"room_id,omitempty"`
	Sender         string          `json:"sender"`
	StateKey       *string         `json:"state_key,omitempty"`
	Type           string          `json:"type"`
	Redacts        string          `json:"redacts,omitempty"`
	Unsigned       map[string]any  `json:"unsigned,omitempty"`
}

// StrippedEvent is the stripped state format used for invites.
type StrippedEvent struct {
	Content  json.RawMessage `json:"content"`
	Sender   string          `json:"sender"`
	StateKey string          `json:"state_key"`
	Type     string          `json:"type"`
}

// FormatEvent renders e for clients; withRoomID adds room_id (omitted in /sync).
func FormatEvent(e *event.Event, withRoomID bool, now time.Time) ClientEvent {
	ce := ClientEvent{Content: e.Content(), EventID: e.ID(), OriginServerTS: e.OriginServerTS(), Sender: e.Sender(),
		StateKey: e.StateKey(), Type: e.Type(), Redacts: e.Redacts()}
	if withRoomID {
		ce.RoomID = e.RoomID()
	}
	if age := now.UnixMilli() - e.OriginServerTS(); age >= 0 {
		ce.Unsigned = map[string]any{"age": age}
	}
	return ce
}

// FormatEvents renders a list of events.
func FormatEvents(evs []*event.Event, withRoomID bool, now time.Time) []ClientEvent {
	out := make([]ClientEvent, 0, len(evs))
	for _, e := range evs {
		out = append(out, FormatEvent(e, withRoomID, now))
	}
	return out
}

// Strip renders e as stripped state.
func Strip(e *event.Event) StrippedEvent {
	sk := ""
	if e.StateKey() != nil {
		sk = *e.StateKey()
	}
	return StrippedEvent{Content: e.Content(), Sender: e.Sender(), StateKey: sk, Type: e.Type()}
}
