package search

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage"
)

// Writer writes index rows inside the roomserver's transaction.
type Writer struct {
	tx *sql.Tx
	d  storage.Dialect
}

// NewWriter writes through tx.
func NewWriter(tx *sql.Tx, d storage.Dialect) *Writer { return &Writer{tx: tx, d: d} }

// Doc is one stored event to index.
type Doc struct {
	EventNID  int64
	RoomNID   int64
	StreamPos int64
	Event     *event.Event
}

// Index adds the searchable text of an event, if it has any.
func (w *Writer) Index(ctx context.Context, doc Doc) error {
	texts := Texts(doc.Event)
	keys := make([]string, 0, len(texts))
	for k := range texts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e := doc.Event
	for _, k := range keys {
		args := []any{doc.EventNID, k, doc.RoomNID, e.Sender(), e.Type(), doc.StreamPos, e.OriginServerTS(), texts[k]}
		if w.d.Name() == storage.EnginePostgres {
			if _, err := w.tx.ExecContext(ctx, `INSERT INTO event_search (event_nid, search_key, room_nid, sender, type,
				stream_pos, origin_server_ts, body, vector) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, to_tsvector('english', $8))`,
				args...); err != nil {
				return fmt.Errorf("search: index %s: %w", e.ID(), err)
			}
			continue
		}
		var nid int64
		if err := w.tx.QueryRowContext(ctx, `INSERT INTO event_search (event_nid, search_key, room_nid, sender, type,
			stream_pos, origin_server_ts, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING search_nid`,
			args...).Scan(&nid); err != nil {
			return fmt.Errorf("search: index %s: %w", e.ID(), err)
		}
		if _, err := w.tx.ExecContext(ctx, `INSERT INTO event_search_fts (rowid, body) VALUES ($1, $2)`, nid, texts[k]); err != nil {
			return fmt.Errorf("search: index %s: %w", e.ID(), err)
		}
	}
	return nil
}

// Delete removes an event from the index (it was redacted).
func (w *Writer) Delete(ctx context.Context, eventNID int64) error {
	if w.d.Name() != storage.EnginePostgres {
		if _, err := w.tx.ExecContext(ctx, `DELETE FROM event_search_fts WHERE rowid IN
			(SELECT search_nid FROM event_search WHERE event_nid = $1)`, eventNID); err != nil {
			return fmt.Errorf("search: unindex %d: %w", eventNID, err)
		}
	}
	if _, err := w.tx.ExecContext(ctx, `DELETE FROM event_search WHERE event_nid = $1`, eventNID); err != nil {
		return fmt.Errorf("search: unindex %d: %w", eventNID, err)
	}
	return nil
}
