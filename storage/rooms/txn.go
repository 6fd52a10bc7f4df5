package rooms

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// EventByTxn returns the event a device sent with a transaction ID, or ErrNotFound.
func (s *Store) EventByTxn(ctx context.Context, userID, deviceID, txnID string) (StoredEvent, error) {
	var nid int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT event_nid FROM room_events
		WHERE sender = $1 AND txn_device = $2 AND txn_id = $3`, userID, deviceID, txnID).Scan(&nid)
	if errors.Is(err, sql.ErrNoRows) {
		return StoredEvent{}, ErrNotFound
	}
	if err != nil {
		return StoredEvent{}, fmt.Errorf("rooms: transaction lookup: %w", err)
	}
	evs, err := s.EventsByNID(ctx, []int64{nid})
	if err != nil {
		return StoredEvent{}, err
	}
	if len(evs) == 0 {
		return StoredEvent{}, ErrNotFound
	}
	return evs[0], nil
}
