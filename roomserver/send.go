package roomserver

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/storage/rooms"
)

// Proposal is an event a local user asks to send.
type Proposal struct {
	Type     string
	StateKey *string
	Sender   string
	Content  json.RawMessage
	Redacts  string
	// DeviceID and TxnID make a client send idempotent: a proposal whose
	// (sender, device, txn) was stored before returns that event instead.
	DeviceID string
	TxnID    string
}

// maxPrevEvents bounds the prev_events of a local event (the spec allows 20).
const maxPrevEvents = 20

// Send builds, authorises and stores one local event. With a TxnID, a
// repeated proposal returns the stored event (Output.Duplicate).
func (rs *RoomServer) Send(ctx context.Context, roomID string, p Proposal) (Output, error) {
	outs, err := rs.SendBatch(ctx, roomID, []Proposal{p})
	if err != nil {
		return Output{}, err
	}
	return outs[0], nil
}

// SendBatch builds, authorises and stores local events in order, all in one
// transaction: either every event is stored or none is.
func (rs *RoomServer) SendBatch(ctx context.Context, roomID string, ps []Proposal) ([]Output, error) {
	r := rs.roomFor(roomID)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := rs.load(ctx, r); err != nil {
		return nil, err
	}
	if len(ps) == 1 && ps[0].TxnID != "" {
		se, err := rs.deps.Store.EventByTxn(ctx, ps[0].Sender, ps[0].DeviceID, ps[0].TxnID)
		if err == nil {
			return []Output{{RoomID: roomID, Event: se.Event, StreamPos: se.StreamPos, Duplicate: true}}, nil
		}
		if !errors.Is(err, rooms.ErrNotFound) {
			return nil, err
		}
	}
	b := newBatch(r)
	for _, p := range ps {
		if err := rs.buildInto(b, p); err != nil {
			return nil, err
		}
	}
	return rs.commit(ctx, r, b, false)
}

// CreateRoom makes a room of version v: the create event (with createContent
// plus room_version, and creator where the version wants it) followed by
// initial, all stored in one transaction. It returns the room ID.
func (rs *RoomServer) CreateRoom(ctx context.Context, v *roomversion.Version, creator string, createContent map[string]any, initial []Proposal) (string, []Output, error) {
	content := map[string]any{}
	for k, val := range createContent {
		content[k] = val
	}
	content["room_version"] = v.ID
	if !v.CreatorIsSender {
		content["creator"] = creator
	}
	raw, err := json.Marshal(content)
	if err != nil {
		return "", nil, fmt.Errorf("%w: create content: %v", ErrBadEvent, err)
	}
	empty := ""
	ts := rs.now()
	var create *event.Event
	var r *room
	// A v12 room ID is the create event's hash: two identical creates in the
	// same millisecond would collide, so the timestamp moves on until unused.
	for attempt := 0; ; attempt++ {
		roomID := ""
		if !v.RoomIDFromCreate {
			roomID = "!" + randomString(18) + ":" + rs.ServerName()
		}
		create, err = event.Builder{Version: v, RoomID: roomID, Type: event.TypeCreate, StateKey: &empty,
			Sender: creator, Content: json.RawMessage(raw), OriginServerTS: ts + int64(attempt)}.Build(rs.deps.Key)
		if err != nil {
			return "", nil, fmt.Errorf("%w: %v", ErrBadEvent, err)
		}
		r = rs.roomFor(create.RoomID())
		r.mu.Lock()
		_, dbErr := rs.deps.Store.Room(ctx, create.RoomID())
		if !r.loaded && errors.Is(dbErr, rooms.ErrNotFound) {
			break
		}
		r.mu.Unlock()
		if dbErr != nil && !errors.Is(dbErr, rooms.ErrNotFound) {
			return "", nil, dbErr
		}
		if attempt == 100 {
			return "", nil, fmt.Errorf("roomserver: no free room ID for %s", creator)
		}
	}
	defer r.mu.Unlock()
	if err := auth.Check(create, func(event.StateKey) *event.Event { return nil }); err != nil {
		rs.forget(r.id, r)
		return "", nil, fmt.Errorf("%w: %v", ErrNotAllowed, err)
	}
	roomID := create.RoomID()
	r.version = v
	r.state = map[event.StateKey]stateEntry{}
	b := newBatch(r)
	b.add(create)
	b.txns = append(b.txns, Proposal{})
	for _, p := range initial {
		if err := rs.buildInto(b, p); err != nil {
			rs.forget(roomID, r)
			return "", nil, err
		}
	}
	outs, err := rs.commit(ctx, r, b, true)
	if err != nil {
		rs.forget(roomID, r)
		return "", nil, err
	}
	return roomID, outs, nil
}

// forget drops a room handle that never made it to storage.
func (rs *RoomServer) forget(roomID string, r *room) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.rooms[roomID] == r && !r.loaded {
		delete(rs.rooms, roomID)
	}
}

// buildInto builds one proposal on top of the batch's state and checks it
// against the authorisation rules.
func (rs *RoomServer) buildInto(b *batch, p Proposal) error {
	content := p.Content
	if len(content) == 0 {
		content = json.RawMessage("{}")
	}
	authEvents := event.SelectAuthEvents(b.r.version, p.Type, p.StateKey, p.Sender, content, b.get)
	ev, err := event.Builder{Version: b.r.version, RoomID: b.r.id, Type: p.Type, StateKey: p.StateKey,
		Sender: p.Sender, Content: content, Redacts: p.Redacts, PrevEvents: b.prev(),
		AuthEvents: authEvents, OriginServerTS: rs.now()}.Build(rs.deps.Key)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadEvent, err)
	}
	if err := auth.Check(ev, b.get); err != nil {
		return fmt.Errorf("%w: %v", ErrNotAllowed, err)
	}
	b.add(ev)
	b.txns = append(b.txns, p)
	return nil
}

// batch is a run of new events on top of a room's current state, with the
// state changes they make kept aside until they commit.
type batch struct {
	r       *room
	events  []*event.Event
	txns    []Proposal // per event built from a proposal (txn IDs)
	overlay map[event.StateKey]*event.Event
}

func newBatch(r *room) *batch { return &batch{r: r, overlay: map[event.StateKey]*event.Event{}} }

func (b *batch) get(k event.StateKey) *event.Event {
	if e, ok := b.overlay[k]; ok {
		return e
	}
	return b.r.get(k)
}

// prev is the last event of the batch, or the room's forward extremities.
func (b *batch) prev() []*event.Event {
	if n := len(b.events); n > 0 {
		return []*event.Event{b.events[n-1]}
	}
	out := make([]*event.Event, 0, len(b.r.extremities))
	for _, x := range b.r.extremities {
		if len(out) == maxPrevEvents {
			break
		}
		out = append(out, x.ev)
	}
	return out
}

func (b *batch) add(e *event.Event) {
	b.events = append(b.events, e)
	if e.IsState() {
		b.overlay[e.Key()] = e
	}
}

func randomString(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	for i := range buf {
		buf[i] = letters[int(buf[i])%len(letters)]
	}
	return string(buf)
}
