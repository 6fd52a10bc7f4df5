package rooms

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage"
)

// Writer performs the writes of one input inside one transaction.
type Writer struct {
	tx           *sql.Tx
	d            storage.Dialect
	memo         map[string]any
	beforeCommit []func(ctx context.Context) error
}

// Write runs fn in one write transaction (retried as a whole on busy or
// serialization errors, so fn must not have effects outside w).
func (s *Store) Write(ctx context.Context, fn func(w *Writer) error) error {
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		w := &Writer{tx: tx, d: s.db.Dialect()}
		if err := fn(w); err != nil {
			return err
		}
		for _, hook := range w.beforeCommit {
			if err := hook(ctx); err != nil {
				return err
			}
		}
		return nil
	})
}

// InsertRoom adds a room and returns its NID.
func (w *Writer) InsertRoom(ctx context.Context, roomID, version string, ts int64) (int64, error) {
	var nid int64
	err := w.tx.QueryRowContext(ctx, `INSERT INTO rooms (room_id, room_version, created_ts) VALUES ($1, $2, $3)
		RETURNING room_nid`, roomID, version, ts).Scan(&nid)
	if err != nil {
		return 0, fmt.Errorf("rooms: insert room %s: %w", roomID, err)
	}
	return nid, nil
}

// NewEvent is an event to insert.
type NewEvent struct {
	RoomNID        int64
	Event          *event.Event
	AuthEventNIDs  []int64
	Rejected       bool
	Outlier        bool
	StreamPos      int64 // 0 = none
	StateBeforeNID int64
	StateAfterNID  int64
	// TxnDevice and TxnID record the client transaction of a local event.
	TxnDevice, TxnID string
}

// InsertEvent stores an event with its auth edges and returns its NID.
func (w *Writer) InsertEvent(ctx context.Context, ne NewEvent) (int64, error) {
	e := ne.Event
	var stream any
	if ne.StreamPos != 0 {
		stream = ne.StreamPos
	}
	var txnDevice, txnID any
	if ne.TxnID != "" {
		txnDevice, txnID = ne.TxnDevice, ne.TxnID
	}
	var nid int64
	err := w.tx.QueryRowContext(ctx, `INSERT INTO room_events
		(event_id, room_nid, type, state_key, sender, depth, origin_server_ts, json, redacted, rejected, outlier,
		 stream_pos, state_before_nid, state_after_nid, txn_device, txn_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING event_nid`,
		e.ID(), ne.RoomNID, e.Type(), e.StateKey(), e.Sender(), e.Depth(), e.OriginServerTS(), string(e.JSON()),
		e.Redacted(), ne.Rejected, ne.Outlier, stream, ne.StateBeforeNID, ne.StateAfterNID, txnDevice, txnID).Scan(&nid)
	if err != nil {
		return 0, fmt.Errorf("rooms: insert event %s: %w", e.ID(), err)
	}
	if len(ne.AuthEventNIDs) > 0 {
		args := make([]any, 0, 2*len(ne.AuthEventNIDs))
		for _, a := range ne.AuthEventNIDs {
			args = append(args, nid, a)
		}
		if _, err := w.tx.ExecContext(ctx, `INSERT INTO event_auth (event_nid, auth_event_nid) VALUES `+
			valuesList(len(ne.AuthEventNIDs), 2, 1), args...); err != nil {
			return 0, fmt.Errorf("rooms: insert auth edges of %s: %w", e.ID(), err)
		}
	}
	return nid, nil
}

// SetStateAfter records the snapshot after a state event.
func (w *Writer) SetStateAfter(ctx context.Context, eventNID, snapshotNID int64) error {
	_, err := w.tx.ExecContext(ctx, `UPDATE room_events SET state_after_nid = $1 WHERE event_nid = $2`, snapshotNID, eventNID)
	if err != nil {
		return fmt.Errorf("rooms: set state after %d: %w", eventNID, err)
	}
	return nil
}

// InsertSnapshot stores a snapshot: a base (parentNID 0, entries = the whole
// state) or a delta on parentNID with chainLen = parent's + 1.
func (w *Writer) InsertSnapshot(ctx context.Context, roomNID, parentNID int64, chainLen int, entries map[event.StateKey]int64) (int64, error) {
	var nid int64
	err := w.tx.QueryRowContext(ctx, `INSERT INTO state_snapshots (room_nid, parent_nid, chain_len)
		VALUES ($1, $2, $3) RETURNING snapshot_nid`, roomNID, parentNID, chainLen).Scan(&nid)
	if err != nil {
		return 0, fmt.Errorf("rooms: insert snapshot: %w", err)
	}
	keys := make([]event.StateKey, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Type != keys[j].Type {
			return keys[i].Type < keys[j].Type
		}
		return keys[i].StateKey < keys[j].StateKey
	})
	const chunk = 500 // 4 parameters a row, well under SQLite's limit
	for start := 0; start < len(keys); start += chunk {
		part := keys[start:min(start+chunk, len(keys))]
		args := make([]any, 0, 4*len(part))
		for _, k := range part {
			args = append(args, nid, k.Type, k.StateKey, entries[k])
		}
		if _, err := w.tx.ExecContext(ctx, `INSERT INTO state_snapshot_entries (snapshot_nid, type, state_key, event_nid)
			VALUES `+valuesList(len(part), 4, 1), args...); err != nil {
			return 0, fmt.Errorf("rooms: insert snapshot entries: %w", err)
		}
	}
	return nid, nil
}

// SetForwardExtremities replaces the room's forward extremities.
func (w *Writer) SetForwardExtremities(ctx context.Context, roomNID int64, removed, added []int64) error {
	if len(removed) == 1 && len(added) == 1 {
		// The common case, a linear room: one row moves on.
		res, err := w.tx.ExecContext(ctx, `UPDATE forward_extremities SET event_nid = $1 WHERE room_nid = $2 AND event_nid = $3`,
			added[0], roomNID, removed[0])
		if err != nil {
			return fmt.Errorf("rooms: move extremity: %w", err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			return nil
		}
	}
	if len(removed) > 0 {
		cond, args := storage.InList(w.d, "event_nid", 2, removed)
		if _, err := w.tx.ExecContext(ctx, `DELETE FROM forward_extremities WHERE room_nid = $1 AND `+cond,
			append([]any{roomNID}, args...)...); err != nil {
			return fmt.Errorf("rooms: remove extremities: %w", err)
		}
	}
	if len(added) > 0 {
		args := make([]any, 0, 2*len(added))
		for _, a := range added {
			args = append(args, roomNID, a)
		}
		if _, err := w.tx.ExecContext(ctx, `INSERT INTO forward_extremities (room_nid, event_nid) VALUES `+
			valuesList(len(added), 2, 1), args...); err != nil {
			return fmt.Errorf("rooms: add extremities: %w", err)
		}
	}
	return nil
}

// StateChange sets (EventNID != 0) or removes one key of the current state.
type StateChange struct {
	Key        event.StateKey
	EventNID   int64
	Membership string
}

// UpdateCurrentState applies changes to current state and points the room at snapshotNID.
func (w *Writer) UpdateCurrentState(ctx context.Context, roomNID, snapshotNID int64, changes []StateChange) error {
	for _, c := range changes {
		var err error
		if c.EventNID == 0 {
			_, err = w.tx.ExecContext(ctx, `DELETE FROM current_state WHERE room_nid = $1 AND type = $2 AND state_key = $3`,
				roomNID, c.Key.Type, c.Key.StateKey)
		} else {
			_, err = w.tx.ExecContext(ctx, `INSERT INTO current_state (room_nid, type, state_key, event_nid, membership)
				VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (room_nid, type, state_key) DO UPDATE SET event_nid = excluded.event_nid, membership = excluded.membership`,
				roomNID, c.Key.Type, c.Key.StateKey, c.EventNID, c.Membership)
		}
		if err != nil {
			return fmt.Errorf("rooms: update current state: %w", err)
		}
	}
	if _, err := w.tx.ExecContext(ctx, `UPDATE rooms SET state_snapshot_nid = $1 WHERE room_nid = $2`, snapshotNID, roomNID); err != nil {
		return fmt.Errorf("rooms: set room snapshot: %w", err)
	}
	return nil
}

// EnqueueOutbox queues an event for each destination server.
func (w *Writer) EnqueueOutbox(ctx context.Context, eventNID int64, destinations []string, ts int64) error {
	if len(destinations) == 0 {
		return nil
	}
	args := make([]any, 0, 3*len(destinations))
	for _, d := range destinations {
		args = append(args, d, eventNID, ts)
	}
	if _, err := w.tx.ExecContext(ctx, `INSERT INTO federation_outbox (destination, event_nid, created_ts) VALUES `+
		valuesList(len(destinations), 3, 1), args...); err != nil {
		return fmt.Errorf("rooms: enqueue outbox: %w", err)
	}
	return nil
}

// Memo returns the value create makes for key, once per transaction: other
// repositories' writers that want one instance for a whole (group)
// transaction keep it here.
func (w *Writer) Memo(key string, create func() any) any {
	if w.memo == nil {
		w.memo = map[string]any{}
	}
	v, ok := w.memo[key]
	if !ok {
		v = create()
		w.memo[key] = v
	}
	return v
}

// BeforeCommit registers fn to run after the transaction's writes and before
// its commit (buffered writes flush here); an error rolls everything back.
func (w *Writer) BeforeCommit(fn func(ctx context.Context) error) {
	w.beforeCommit = append(w.beforeCommit, fn)
}
