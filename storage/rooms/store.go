package rooms

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/storage"
)

// ErrNotFound is returned when a room, event or snapshot does not exist.
var ErrNotFound = errors.New("rooms: not found")

// Store reads and writes the room tables.
type Store struct {
	db *storage.DB
}

// New returns a Store over db (migrations already applied by storage.Open).
func New(db *storage.DB) *Store { return &Store{db: db} }

// Room is a room's row.
type Room struct {
	NID         int64
	ID          string
	Version     *roomversion.Version
	SnapshotNID int64
}

// StoredEvent is an event with what the server knows about it.
type StoredEvent struct {
	NID            int64
	RoomNID        int64
	Event          *event.Event
	Rejected       bool
	Outlier        bool
	StreamPos      int64 // 0 when the event has none
	StateBeforeNID int64
	StateAfterNID  int64
}

// Room returns the room with the given ID.
func (s *Store) Room(ctx context.Context, roomID string) (Room, error) {
	return s.scanRoom(s.db.Read().QueryRowContext(ctx,
		`SELECT room_nid, room_id, room_version, state_snapshot_nid FROM rooms WHERE room_id = $1`, roomID))
}

func (s *Store) scanRoom(row *sql.Row) (Room, error) {
	var r Room
	var ver string
	if err := row.Scan(&r.NID, &r.ID, &ver, &r.SnapshotNID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Room{}, ErrNotFound
		}
		return Room{}, fmt.Errorf("rooms: read room: %w", err)
	}
	v, err := roomversion.Get(ver)
	if err != nil {
		return Room{}, fmt.Errorf("rooms: room %s: %w", r.ID, err)
	}
	r.Version = v
	return r, nil
}

const eventColumns = `e.event_nid, e.room_nid, e.event_id, e.json, e.redacted, e.rejected, e.outlier,
	COALESCE(e.stream_pos, 0), e.state_before_nid, e.state_after_nid, r.room_version`

// EventsByID returns the stored events with the given IDs; unknown IDs are omitted.
func (s *Store) EventsByID(ctx context.Context, ids []string) ([]StoredEvent, error) {
	return s.eventsWhere(ctx, s.db.Read(), "e.event_id", ids)
}

// EventsByNID returns the stored events with the given NIDs; unknown NIDs are omitted.
func (s *Store) EventsByNID(ctx context.Context, nids []int64) ([]StoredEvent, error) {
	return s.eventsWhere(ctx, s.db.Read(), "e.event_nid", nids)
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) eventsWhere(ctx context.Context, q queryer, column string, values any) ([]StoredEvent, error) {
	var cond string
	var args []any
	switch v := values.(type) {
	case []string:
		cond, args = storage.InList(s.db.Dialect(), column, 1, v)
	case []int64:
		cond, args = storage.InList(s.db.Dialect(), column, 1, v)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+eventColumns+`
		FROM room_events e JOIN rooms r ON r.room_nid = e.room_nid WHERE `+cond, args...)
	if err != nil {
		return nil, fmt.Errorf("rooms: read events: %w", err)
	}
	defer rows.Close()
	var out []StoredEvent
	for rows.Next() {
		se, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, se)
	}
	return out, rows.Err()
}

func scanEvent(rows *sql.Rows) (StoredEvent, error) { return scanEventRow(rows) }

func scanEventRow(rows interface{ Scan(...any) error }) (StoredEvent, error) {
	var se StoredEvent
	var id, js, ver string
	var redacted bool
	if err := rows.Scan(&se.NID, &se.RoomNID, &id, &js, &redacted, &se.Rejected, &se.Outlier,
		&se.StreamPos, &se.StateBeforeNID, &se.StateAfterNID, &ver); err != nil {
		return se, fmt.Errorf("rooms: scan event: %w", err)
	}
	v, err := roomversion.Get(ver)
	if err != nil {
		return se, fmt.Errorf("rooms: event %s: %w", id, err)
	}
	if se.Event, err = event.FromTrusted([]byte(js), v, id, redacted); err != nil {
		return se, fmt.Errorf("rooms: event %s: %w", id, err)
	}
	return se, nil
}

// ForwardExtremities returns the NIDs of the room's forward extremities.
func (s *Store) ForwardExtremities(ctx context.Context, roomNID int64) ([]int64, error) {
	return queryInt64s(ctx, s.db.Read(), `SELECT event_nid FROM forward_extremities WHERE room_nid = $1 ORDER BY event_nid`, roomNID)
}

// MaxStreamPos returns the highest stream position used (0 when none).
func (s *Store) MaxStreamPos(ctx context.Context) (int64, error) {
	var pos int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT COALESCE(MAX(stream_pos), 0) FROM room_events`).Scan(&pos)
	if err != nil {
		return 0, fmt.Errorf("rooms: max stream position: %w", err)
	}
	return pos, nil
}

// CurrentState returns the room's current state as event NIDs.
func (s *Store) CurrentState(ctx context.Context, roomNID int64) (map[event.StateKey]int64, error) {
	rows, err := s.db.Read().QueryContext(ctx,
		`SELECT type, state_key, event_nid FROM current_state WHERE room_nid = $1`, roomNID)
	if err != nil {
		return nil, fmt.Errorf("rooms: current state: %w", err)
	}
	return scanStateRows(rows)
}

func scanStateRows(rows *sql.Rows) (map[event.StateKey]int64, error) {
	defer rows.Close()
	out := map[event.StateKey]int64{}
	for rows.Next() {
		var k event.StateKey
		var nid int64
		if err := rows.Scan(&k.Type, &k.StateKey, &nid); err != nil {
			return nil, fmt.Errorf("rooms: scan state: %w", err)
		}
		out[k] = nid
	}
	return out, rows.Err()
}

func queryInt64s(ctx context.Context, q queryer, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("rooms: query: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// valuesList renders "($1,$2,...),(...)" for n rows of width columns.
func valuesList(n, width, first int) string {
	var b strings.Builder
	p := first
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := 0; j < width; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "$%d", p)
			p++
		}
		b.WriteByte(')')
	}
	return b.String()
}
