package rooms

import (
	"context"
	"database/sql"
	"fmt"
)

// Forget records that user forgot the room at their membership event.
func (s *Store) Forget(ctx context.Context, userID string, roomNID, membershipEventNID int64) error {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO forgotten_rooms (user_id, room_nid, membership_event_nid) VALUES ($1, $2, $3)
			ON CONFLICT (user_id, room_nid) DO UPDATE SET membership_event_nid = excluded.membership_event_nid`,
			userID, roomNID, membershipEventNID)
		return err
	})
	if err != nil {
		return fmt.Errorf("rooms: forget: %w", err)
	}
	return nil
}

// Forgotten returns, per room NID, the membership event at which user forgot it.
func (s *Store) Forgotten(ctx context.Context, userID string) (map[int64]int64, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT room_nid, membership_event_nid FROM forgotten_rooms WHERE user_id = $1`, userID)
	if err != nil {
		return nil, fmt.Errorf("rooms: forgotten rooms: %w", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var room, ev int64
		if err := rows.Scan(&room, &ev); err != nil {
			return nil, err
		}
		out[room] = ev
	}
	return out, rows.Err()
}
