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
	err := s.db.Read().QueryRowContext(ctx, `SELECT event_nid FROM event_transactions
		WHERE user_id = $1 AND device_id = $2 AND txn_id = $3`, userID, deviceID, txnID).Scan(&nid)
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

// TxnIDs returns the transaction IDs a device used for the given events.
func (s *Store) TxnIDs(ctx context.Context, userID, deviceID string, eventNIDs []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(eventNIDs) == 0 {
		return out, nil
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT event_nid, txn_id FROM event_transactions
		WHERE user_id = $1 AND device_id = $2 AND event_nid >= $3 AND event_nid <= $4`,
		userID, deviceID, minOf(eventNIDs), maxOf(eventNIDs))
	if err != nil {
		return nil, fmt.Errorf("rooms: transaction IDs: %w", err)
	}
	defer rows.Close()
	want := map[int64]bool{}
	for _, n := range eventNIDs {
		want[n] = true
	}
	for rows.Next() {
		var nid int64
		var txn string
		if err := rows.Scan(&nid, &txn); err != nil {
			return nil, err
		}
		if want[nid] {
			out[nid] = txn
		}
	}
	return out, rows.Err()
}

func minOf(xs []int64) int64 {
	m := xs[0]
	for _, x := range xs[1:] {
		m = min(m, x)
	}
	return m
}

func maxOf(xs []int64) int64 {
	m := xs[0]
	for _, x := range xs[1:] {
		m = max(m, x)
	}
	return m
}

// InsertTxn records the transaction ID of a local event.
func (w *Writer) InsertTxn(ctx context.Context, userID, deviceID, txnID string, eventNID int64) error {
	_, err := w.tx.ExecContext(ctx, `INSERT INTO event_transactions (user_id, device_id, txn_id, event_nid)
		VALUES ($1, $2, $3, $4)`, userID, deviceID, txnID, eventNID)
	if err != nil {
		return fmt.Errorf("rooms: insert transaction: %w", err)
	}
	return nil
}
