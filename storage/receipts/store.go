package receipts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/concordchat/concord/storage"
)

// Receipt types and the main-timeline thread ID.
const (
	TypeRead        = "m.read"
	TypeReadPrivate = "m.read.private"
	ThreadMain      = "main"
)

// Deps are what [New] needs.
type Deps struct {
	DB *storage.DB
}

// Store reads and writes the receipts table.
type Store struct {
	db *storage.DB
}

// New returns a Store on deps.DB.
func New(deps Deps) (*Store, error) {
	if deps.DB == nil {
		return nil, errors.New("receipts: Deps.DB is nil")
	}
	return &Store{db: deps.DB}, nil
}

func (s *Store) q(query string) string { return s.db.Dialect().Rebind(query) }

// Receipt is one user's receipt of one type in one thread of a room.
type Receipt struct {
	RoomID string
	UserID string
	Type   string
	// ThreadID is "" for an unthreaded receipt, "main" or a thread root's
	// event ID otherwise.
	ThreadID string
	EventID  string
	// EventStreamPos is the room stream position of the event.
	EventStreamPos int64
	TS             int64 // milliseconds since the epoch
	StreamPos      int64 // receipt stream position of the last change
}

// Put stores r at receipt stream position pos, unless the user's receipt of
// that type and thread is already at the same event or a later one. It
// reports whether the receipt changed.
func (s *Store) Put(ctx context.Context, r Receipt, pos int64) (bool, error) {
	if r.RoomID == "" || r.UserID == "" || r.Type == "" || r.EventID == "" {
		return false, errors.New("receipts: put: missing room, user, type or event")
	}
	var n int64
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO receipts (room_id, user_id, receipt_type, thread_id, event_id, event_stream_pos, ts, stream_pos)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (room_id, user_id, receipt_type, thread_id) DO UPDATE SET
				event_id = excluded.event_id, event_stream_pos = excluded.event_stream_pos,
				ts = excluded.ts, stream_pos = excluded.stream_pos
			WHERE receipts.event_stream_pos < excluded.event_stream_pos`),
			r.RoomID, r.UserID, r.Type, r.ThreadID, r.EventID, r.EventStreamPos, r.TS, pos)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("receipts: put %s of %s in %s: %w", r.Type, r.UserID, r.RoomID, err)
	}
	return n > 0, nil
}

// maxInList bounds the room IDs bound in one query.
const maxInList = 500

// Since returns the receipts of the given rooms changed at positions in
// (after, upTo], in stream order.
func (s *Store) Since(ctx context.Context, roomIDs []string, after, upTo int64) ([]Receipt, error) {
	var out []Receipt
	for len(roomIDs) > 0 {
		chunk := roomIDs[:min(len(roomIDs), maxInList)]
		roomIDs = roomIDs[len(chunk):]
		cond, args := storage.InList(s.db.Dialect(), "room_id", 3, chunk)
		rows, err := s.db.Read().QueryContext(ctx, s.q(`
			SELECT room_id, user_id, receipt_type, thread_id, event_id, event_stream_pos, ts, stream_pos
			FROM receipts WHERE stream_pos > $1 AND stream_pos <= $2 AND `+cond+` ORDER BY stream_pos`),
			append([]any{after, upTo}, args...)...)
		if err != nil {
			return nil, fmt.Errorf("receipts: since: %w", err)
		}
		got, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// OfUser returns the user's receipts in a room.
func (s *Store) OfUser(ctx context.Context, roomID, userID string) ([]Receipt, error) {
	rows, err := s.db.Read().QueryContext(ctx, s.q(`
		SELECT room_id, user_id, receipt_type, thread_id, event_id, event_stream_pos, ts, stream_pos
		FROM receipts WHERE room_id = $1 AND user_id = $2 ORDER BY receipt_type, thread_id`), roomID, userID)
	if err != nil {
		return nil, fmt.Errorf("receipts: of user: %w", err)
	}
	return scan(rows)
}

func scan(rows *sql.Rows) ([]Receipt, error) {
	defer rows.Close()
	var out []Receipt
	for rows.Next() {
		var r Receipt
		if err := rows.Scan(&r.RoomID, &r.UserID, &r.Type, &r.ThreadID, &r.EventID, &r.EventStreamPos, &r.TS, &r.StreamPos); err != nil {
			return nil, fmt.Errorf("receipts: scan: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReadUpTo returns the room stream position of the event of the user's
// furthest m.read or m.read.private receipt that covers the main timeline
// (unthreaded or thread "main"); 0 when there is none.
func (s *Store) ReadUpTo(ctx context.Context, userID, roomID string) (int64, error) {
	var pos sql.NullInt64
	err := s.db.Read().QueryRowContext(ctx, s.q(`
		SELECT MAX(event_stream_pos) FROM receipts
		WHERE room_id = $1 AND user_id = $2 AND receipt_type IN ($3, $4) AND thread_id IN ('', $5)`),
		roomID, userID, TypeRead, TypeReadPrivate, ThreadMain).Scan(&pos)
	if err != nil {
		return 0, fmt.Errorf("receipts: read up to: %w", err)
	}
	return pos.Int64, nil
}

// ThreadsReadUpTo returns, per thread root event ID, the room stream
// position of the event of the user's furthest m.read or m.read.private
// receipt in that thread (threads without one are absent).
func (s *Store) ThreadsReadUpTo(ctx context.Context, userID, roomID string) (map[string]int64, error) {
	rows, err := s.db.Read().QueryContext(ctx, s.q(`
		SELECT thread_id, MAX(event_stream_pos) FROM receipts
		WHERE room_id = $1 AND user_id = $2 AND receipt_type IN ($3, $4) AND thread_id NOT IN ('', $5)
		GROUP BY thread_id`), roomID, userID, TypeRead, TypeReadPrivate, ThreadMain)
	if err != nil {
		return nil, fmt.Errorf("receipts: threads read up to: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var thread string
		var pos int64
		if err := rows.Scan(&thread, &pos); err != nil {
			return nil, fmt.Errorf("receipts: scan: %w", err)
		}
		out[thread] = pos
	}
	return out, rows.Err()
}

// MaxStreamPos returns the highest stream position written (0 for none).
func (s *Store) MaxStreamPos(ctx context.Context) (int64, error) {
	var pos sql.NullInt64
	if err := s.db.Read().QueryRowContext(ctx, `SELECT MAX(stream_pos) FROM receipts`).Scan(&pos); err != nil {
		return 0, fmt.Errorf("receipts: max stream position: %w", err)
	}
	return pos.Int64, nil
}
