package rooms

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/concordchat/concord/storage"
)

// Tx returns the writer's transaction, so that repositories indexing events
// (relations, search) write their rows in the same transaction as the events.
func (w *Writer) Tx() *sql.Tx { return w.tx }

// Dialect returns the engine's dialect.
func (w *Writer) Dialect() storage.Dialect { return w.d }

// EventByID reads a stored event inside the transaction (so it sees events
// written earlier in it), or returns ErrNotFound.
func (w *Writer) EventByID(ctx context.Context, eventID string) (StoredEvent, error) {
	rows, err := w.tx.QueryContext(ctx, `SELECT `+eventColumns+`
		FROM room_events e JOIN rooms r ON r.room_nid = e.room_nid WHERE e.event_id = $1`, eventID)
	if err != nil {
		return StoredEvent{}, fmt.Errorf("rooms: read event %s: %w", eventID, err)
	}
	evs, err := collectEvents(rows)
	if err != nil {
		return StoredEvent{}, err
	}
	if len(evs) == 0 {
		return StoredEvent{}, ErrNotFound
	}
	return evs[0], nil
}

// ReplaceRedacted stores the redacted form of an event in place of its JSON
// and marks it redacted. The original content is gone for good.
func (w *Writer) ReplaceRedacted(ctx context.Context, eventNID int64, redactedJSON []byte) error {
	_, err := w.tx.ExecContext(ctx, `UPDATE room_events SET json = $1, redacted = TRUE WHERE event_nid = $2`,
		string(redactedJSON), eventNID)
	if err != nil {
		return fmt.Errorf("rooms: redact event %d: %w", eventNID, err)
	}
	return nil
}
