package relations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/concordchat/concord/storage"
)

// Writer writes relation and redaction rows inside the roomserver's
// transaction.
type Writer struct {
	tx *sql.Tx
	d  storage.Dialect
}

// NewWriter writes through tx.
func NewWriter(tx *sql.Tx, d storage.Dialect) *Writer { return &Writer{tx: tx, d: d} }

// Child is one indexed relation: a child event and the parent it points at.
type Child struct {
	EventNID       int64
	EventID        string
	RoomNID        int64
	ParentID       string
	RelType        string
	Type           string
	Sender         string
	Key            *string // annotation key
	OriginServerTS int64
	StreamPos      int64
}

// InsertChild indexes a relation.
func (w *Writer) InsertChild(ctx context.Context, c Child) error {
	_, err := w.tx.ExecContext(ctx, `INSERT INTO event_relations (event_nid, event_id, room_nid, parent_id, rel_type,
		type, sender, aggregation_key, origin_server_ts, stream_pos) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		c.EventNID, c.EventID, c.RoomNID, c.ParentID, c.RelType, c.Type, c.Sender, c.Key, c.OriginServerTS, c.StreamPos)
	if err != nil {
		return fmt.Errorf("relations: index %s: %w", c.EventID, err)
	}
	return nil
}

// DeleteChild removes the relation of a redacted event.
func (w *Writer) DeleteChild(ctx context.Context, eventNID int64) error {
	if _, err := w.tx.ExecContext(ctx, `DELETE FROM event_relations WHERE event_nid = $1`, eventNID); err != nil {
		return fmt.Errorf("relations: unindex %d: %w", eventNID, err)
	}
	return nil
}

// HasAnnotation reports whether sender already annotated parent with an
// event of type typ and this key (redacted annotations have no row).
func (w *Writer) HasAnnotation(ctx context.Context, parentID, typ, sender, key string) (bool, error) {
	var one int
	err := w.tx.QueryRowContext(ctx, `SELECT 1 FROM event_relations WHERE parent_id = $1 AND rel_type = $2
		AND type = $3 AND sender = $4 AND aggregation_key = $5 LIMIT 1`, parentID, RelAnnotation, typ, sender, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("relations: annotation lookup: %w", err)
	}
	return true, nil
}

// IsParent reports whether some indexed event relates to eventID.
func (w *Writer) IsParent(ctx context.Context, eventID string) (bool, error) {
	var one int
	err := w.tx.QueryRowContext(ctx, `SELECT 1 FROM event_relations WHERE parent_id = $1 LIMIT 1`, eventID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("relations: parent lookup: %w", err)
	}
	return true, nil
}

// Redaction is one m.room.redaction and the event it redacts.
type Redaction struct {
	RedactionNID int64
	RedactionID  string
	RedactsID    string
	RoomNID      int64
	Applied      bool
}

// InsertRedaction records a redaction event.
func (w *Writer) InsertRedaction(ctx context.Context, r Redaction) error {
	_, err := w.tx.ExecContext(ctx, `INSERT INTO event_redactions (redaction_nid, redaction_id, redacts_id, room_nid, applied)
		VALUES ($1, $2, $3, $4, $5)`, r.RedactionNID, r.RedactionID, r.RedactsID, r.RoomNID, r.Applied)
	if err != nil {
		return fmt.Errorf("relations: record redaction %s: %w", r.RedactionID, err)
	}
	return nil
}

// MarkApplied records that a waiting redaction has been applied.
func (w *Writer) MarkApplied(ctx context.Context, redactionNID int64) error {
	if _, err := w.tx.ExecContext(ctx, `UPDATE event_redactions SET applied = TRUE WHERE redaction_nid = $1`, redactionNID); err != nil {
		return fmt.Errorf("relations: mark redaction %d: %w", redactionNID, err)
	}
	return nil
}

// PendingRedactions returns the redactions not yet applied that target one
// of the given events, oldest first.
func (w *Writer) PendingRedactions(ctx context.Context, targetIDs []string) ([]Redaction, error) {
	if len(targetIDs) == 0 {
		return nil, nil
	}
	cond, args := storage.InList(w.d, "redacts_id", 1, targetIDs)
	rows, err := w.tx.QueryContext(ctx, `SELECT redaction_nid, redaction_id, redacts_id, room_nid, applied
		FROM event_redactions WHERE NOT applied AND `+cond+` ORDER BY redaction_nid`, args...)
	if err != nil {
		return nil, fmt.Errorf("relations: pending redactions: %w", err)
	}
	defer rows.Close()
	var out []Redaction
	for rows.Next() {
		var r Redaction
		if err := rows.Scan(&r.RedactionNID, &r.RedactionID, &r.RedactsID, &r.RoomNID, &r.Applied); err != nil {
			return nil, fmt.Errorf("relations: scan redaction: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
