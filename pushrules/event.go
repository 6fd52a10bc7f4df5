package pushrules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// EventFields are the parts of an event that push rules can look at.
type EventFields struct {
	EventID        string
	RoomID         string
	Sender         string
	Type           string
	StateKey       *string // nil for message events
	Content        json.RawMessage
	OriginServerTS int64
	Redacts        string
}

// Event is an event prepared for rule evaluation: its properties decoded once
// and shared by every user the event is evaluated for.
type Event struct {
	obj         map[string]any
	sender      string
	roomID      string
	body        string
	hasBody     bool
	hasMentions bool
}

// NewEvent prepares an event. Its content must be a JSON object.
func NewEvent(f EventFields) (*Event, error) {
	content, err := decodeObject(f.Content)
	if err != nil {
		return nil, fmt.Errorf("pushrules: event %s content: %w", f.EventID, err)
	}
	obj := map[string]any{
		"event_id":         f.EventID,
		"room_id":          f.RoomID,
		"sender":           f.Sender,
		"type":             f.Type,
		"content":          content,
		"origin_server_ts": json.Number(fmt.Sprint(f.OriginServerTS)),
	}
	if f.StateKey != nil {
		obj["state_key"] = *f.StateKey
	}
	if f.Redacts != "" {
		obj["redacts"] = f.Redacts
	}
	e := &Event{obj: obj, sender: f.Sender, roomID: f.RoomID}
	e.body, e.hasBody = content["body"].(string)
	_, e.hasMentions = content["m.mentions"]
	return e, nil
}

// EventFromJSON prepares an event given in the client format (event_id,
// room_id, sender, type, state_key, content, ...).
func EventFromJSON(b []byte) (*Event, error) {
	var w struct {
		EventID        string          `json:"event_id"`
		RoomID         string          `json:"room_id"`
		Sender         string          `json:"sender"`
		Type           string          `json:"type"`
		StateKey       *string         `json:"state_key"`
		Content        json.RawMessage `json:"content"`
		OriginServerTS int64           `json:"origin_server_ts"`
		Redacts        string          `json:"redacts"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("pushrules: event: %w", err)
	}
	return NewEvent(EventFields(w))
}

// Sender returns the event's sender.
func (e *Event) Sender() string { return e.sender }

func decodeObject(raw []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]any{}, nil
	}
	v, err := decodeValue(raw)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	return m, nil
}

// decodeValue decodes JSON keeping numbers exact (json.Number).
func decodeValue(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
