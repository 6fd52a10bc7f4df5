package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/concordchat/concord/storage"
)

// SetPublished publishes the room in the room directory (public) or removes
// it (private). Publishing a published room keeps its first publisher.
func (s *Store) SetPublished(ctx context.Context, roomID string, public bool, by string, tsMS int64) error {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if !public {
			_, err := tx.ExecContext(ctx, s.q(`DELETE FROM room_directory WHERE room_id = $1`), roomID)
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO room_directory (room_id, published_by, published_ts)
			VALUES ($1, $2, $3) ON CONFLICT (room_id) DO NOTHING`), roomID, by, tsMS)
		return err
	})
	if err != nil {
		return fmt.Errorf("directory: set visibility of %s: %w", roomID, err)
	}
	return nil
}

// IsPublished reports whether the room is published in the room directory.
func (s *Store) IsPublished(ctx context.Context, roomID string) (bool, error) {
	var one int
	err := s.db.Read().QueryRowContext(ctx, s.q(`SELECT 1 FROM room_directory WHERE room_id = $1`), roomID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("directory: visibility of %s: %w", roomID, err)
	}
	return true, nil
}

// PublishedRoom is a published room the server knows, with what its
// directory entry is made of.
type PublishedRoom struct {
	RoomID        string
	RoomNID       int64
	JoinedMembers int
	// State maps the event types asked for (state key "") to the NIDs of the
	// room's current events of those types.
	State map[string]int64
}

// PublishedRooms lists the published rooms the server has, with their joined
// member counts and the current state events (state key "") of the given
// types. Published rooms the server no longer knows are left out.
func (s *Store) PublishedRooms(ctx context.Context, stateTypes []string) ([]PublishedRoom, error) {
	rows, err := s.db.Read().QueryContext(ctx, s.q(`SELECT d.room_id, r.room_nid,
			(SELECT COUNT(*) FROM current_state j WHERE j.room_nid = r.room_nid
				AND j.type = 'm.room.member' AND j.membership = 'join')
		FROM room_directory d JOIN rooms r ON r.room_id = d.room_id
		ORDER BY d.room_id`))
	if err != nil {
		return nil, fmt.Errorf("directory: published rooms: %w", err)
	}
	var out []PublishedRoom
	byNID := map[int64]int{}
	for rows.Next() {
		var p PublishedRoom
		if err := rows.Scan(&p.RoomID, &p.RoomNID, &p.JoinedMembers); err != nil {
			rows.Close()
			return nil, fmt.Errorf("directory: scan published room: %w", err)
		}
		p.State = map[string]int64{}
		byNID[p.RoomNID] = len(out)
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("directory: published rooms: %w", err)
	}
	if len(out) == 0 || len(stateTypes) == 0 {
		return out, nil
	}
	cond, args := storage.InList(s.dialect, "c.type", 1, stateTypes)
	rows, err = s.db.Read().QueryContext(ctx, s.q(`SELECT c.room_nid, c.type, c.event_nid
		FROM room_directory d JOIN rooms r ON r.room_id = d.room_id
		JOIN current_state c ON c.room_nid = r.room_nid AND c.state_key = ''
		WHERE `+cond), args...)
	if err != nil {
		return nil, fmt.Errorf("directory: published rooms' state: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var roomNID, eventNID int64
		var typ string
		if err := rows.Scan(&roomNID, &typ, &eventNID); err != nil {
			return nil, fmt.Errorf("directory: scan published room state: %w", err)
		}
		if i, ok := byNID[roomNID]; ok {
			out[i].State[typ] = eventNID
		}
	}
	return out, rows.Err()
}
