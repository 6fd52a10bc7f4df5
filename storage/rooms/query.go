package rooms

import (
	"context"
	"fmt"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage"
)

// RoomEvents returns up to limit accepted events of a room with stream
// positions in (after, before), newest first when backwards, oldest first
// otherwise. before <= 0 means no upper bound.
func (s *Store) RoomEvents(ctx context.Context, roomNID, after, before int64, limit int, backwards bool) ([]StoredEvent, error) {
	order := "ASC"
	if backwards {
		order = "DESC"
	}
	if before <= 0 {
		before = 1 << 62
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+eventColumns+`
		FROM room_events e JOIN rooms r ON r.room_nid = e.room_nid
		WHERE e.room_nid = $1 AND e.stream_pos > $2 AND e.stream_pos < $3
		ORDER BY e.stream_pos `+order+` LIMIT $4`, roomNID, after, before, limit)
	if err != nil {
		return nil, fmt.Errorf("rooms: room events: %w", err)
	}
	return collectEvents(rows)
}

// StreamEvents returns accepted events of the given rooms with stream
// positions in (after, upTo], oldest first, at most limit.
func (s *Store) StreamEvents(ctx context.Context, roomNIDs []int64, after, upTo int64, limit int) ([]StoredEvent, error) {
	if len(roomNIDs) == 0 {
		return nil, nil
	}
	cond, args := storage.InList(s.db.Dialect(), "e.room_nid", 4, roomNIDs)
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+eventColumns+`
		FROM room_events e JOIN rooms r ON r.room_nid = e.room_nid
		WHERE e.stream_pos > $1 AND e.stream_pos <= $2 AND `+cond+`
		ORDER BY e.stream_pos ASC LIMIT $3`, append([]any{after, upTo, limit}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("rooms: stream events: %w", err)
	}
	return collectEvents(rows)
}

func collectEvents(rows interface {
	Next() bool
	Err() error
	Close() error
	Scan(...any) error
}) ([]StoredEvent, error) {
	defer rows.Close()
	var out []StoredEvent
	for rows.Next() {
		se, err := scanEventRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, se)
	}
	return out, rows.Err()
}

// Membership is a user's current membership of a room.
type Membership struct {
	RoomNID    int64
	RoomID     string
	Membership string
	EventNID   int64
}

// MembershipsOf returns every room in which the user has a current member event.
func (s *Store) MembershipsOf(ctx context.Context, userID string) ([]Membership, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT c.room_nid, r.room_id, c.membership, c.event_nid
		FROM current_state c JOIN rooms r ON r.room_nid = c.room_nid
		WHERE c.type = 'm.room.member' AND c.state_key = $1`, userID)
	if err != nil {
		return nil, fmt.Errorf("rooms: memberships: %w", err)
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		if err := rows.Scan(&m.RoomNID, &m.RoomID, &m.Membership, &m.EventNID); err != nil {
			return nil, fmt.Errorf("rooms: scan membership: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// RoomIDs returns the room IDs of room NIDs.
func (s *Store) RoomIDs(ctx context.Context, nids []int64) (map[int64]string, error) {
	cond, args := storage.InList(s.db.Dialect(), "room_nid", 1, nids)
	rows, err := s.db.Read().QueryContext(ctx, `SELECT room_nid, room_id FROM rooms WHERE `+cond, args...)
	if err != nil {
		return nil, fmt.Errorf("rooms: room IDs: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]string, len(nids))
	for rows.Next() {
		var nid int64
		var id string
		if err := rows.Scan(&nid, &id); err != nil {
			return nil, err
		}
		out[nid] = id
	}
	return out, rows.Err()
}

// StateEvents returns the events of a state map (NIDs) keyed by state key.
func (s *Store) StateEvents(ctx context.Context, state map[event.StateKey]int64) (map[event.StateKey]StoredEvent, error) {
	nids := make([]int64, 0, len(state))
	for _, n := range state {
		nids = append(nids, n)
	}
	evs, err := s.EventsByNID(ctx, nids)
	if err != nil {
		return nil, err
	}
	byNID := make(map[int64]StoredEvent, len(evs))
	for _, e := range evs {
		byNID[e.NID] = e
	}
	out := make(map[event.StateKey]StoredEvent, len(state))
	for k, n := range state {
		if e, ok := byNID[n]; ok {
			out[k] = e
		}
	}
	return out, nil
}

// Member is one m.room.member entry of a room's current state.
type Member struct {
	UserID     string
	Membership string
	EventNID   int64
}

// Members returns the room's current member entries, ordered by user ID.
func (s *Store) Members(ctx context.Context, roomNID int64) ([]Member, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT state_key, membership, event_nid FROM current_state
		WHERE room_nid = $1 AND type = 'm.room.member' ORDER BY state_key`, roomNID)
	if err != nil {
		return nil, fmt.Errorf("rooms: members: %w", err)
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.UserID, &m.Membership, &m.EventNID); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// AllStreamEvents returns accepted events of every room with stream
// positions in (after, upTo], oldest first, at most limit.
func (s *Store) AllStreamEvents(ctx context.Context, after, upTo int64, limit int) ([]StoredEvent, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+eventColumns+`
		FROM room_events e JOIN rooms r ON r.room_nid = e.room_nid
		WHERE e.stream_pos > $1 AND e.stream_pos <= $2
		ORDER BY e.stream_pos ASC LIMIT $3`, after, upTo, limit)
	if err != nil {
		return nil, fmt.Errorf("rooms: all stream events: %w", err)
	}
	return collectEvents(rows)
}
