package search

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage"
)

// Writer writes index rows inside the roomserver's transaction.
type Writer struct {
	tx *sql.Tx
	d  storage.Dialect
	// buffered: on PostgreSQL, rows wait in pending and Flush writes them
	// all in one statement (a network round trip per row saved).
	buffered bool
	pending  []row
}

type row struct {
	eventNID, roomNID, streamPos, ts int64
	key, sender, typ, body           string
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

// Buffer makes the writer collect PostgreSQL rows until Flush (SQLite
// writes at once: its round trips are in-process).
func (w *Writer) Buffer() { w.buffered = w.d.Name() == storage.EnginePostgres }

// maxRowsPerInsert keeps one statement's parameters well under the limits.
const maxRowsPerInsert = 500

// Flush writes the buffered rows.
func (w *Writer) Flush(ctx context.Context) error {
	for len(w.pending) > 0 {
		n := min(len(w.pending), maxRowsPerInsert)
		part := w.pending[:n]
		var b strings.Builder
		args := make([]any, 0, 8*n)
		for i, r := range part {
			if i > 0 {
				b.WriteByte(',')
			}
			p := len(args)
			fmt.Fprintf(&b, "($%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,to_tsvector('english',$%d))", p+1, p+2, p+3, p+4, p+5, p+6, p+7, p+8, p+8)
			args = append(args, r.eventNID, r.key, r.roomNID, r.sender, r.typ, r.streamPos, r.ts, r.body)
		}
		if _, err := w.tx.ExecContext(ctx, `INSERT INTO event_search (event_nid, search_key, room_nid, sender, type,
			stream_pos, origin_server_ts, body, vector) VALUES `+b.String(), args...); err != nil {
			return fmt.Errorf("search: index %d events: %w", n, err)
		}
		w.pending = w.pending[n:]
	}
	return nil
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
		if w.buffered {
			w.pending = append(w.pending, row{eventNID: doc.EventNID, roomNID: doc.RoomNID, streamPos: doc.StreamPos,
				ts: e.OriginServerTS(), key: k, sender: e.Sender(), typ: e.Type(), body: texts[k]})
			continue
		}
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
	kept := w.pending[:0]
	for _, r := range w.pending {
		if r.eventNID != eventNID {
			kept = append(kept, r)
		}
	}
	w.pending = kept
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
