package push

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/concordchat/concord/storage"
)

// ThreadMain is the thread ID of the main timeline.
const ThreadMain = "main"

// Notification is one event that notified one user.
type Notification struct {
	UserID    string
	EventID   string
	RoomID    string
	ThreadID  string // thread root event ID, or ThreadMain
	Sender    string
	StreamPos int64
	Actions   json.RawMessage
	Highlight bool
	TS        int64 // when the notification was made, ms since the epoch
}

// OwnRead is the position of a user's own event in a room's thread.
type OwnRead struct {
	UserID    string
	RoomID    string
	ThreadID  string
	StreamPos int64
}

// Record stores what evaluating a batch of events produced, in one
// transaction: new notifications (a (user, event) pair already stored is
// kept, so a batch may be recorded twice), users' own-read positions (which
// only move forwards) and the removal of the notifications of redacted
// events.
func (s *Store) Record(ctx context.Context, ns []Notification, reads []OwnRead, redacted []string) error {
	if len(ns) == 0 && len(reads) == 0 && len(redacted) == 0 {
		return nil
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(ns); start += maxRowsPerInsert {
			if err := s.insertNotifications(ctx, tx, ns[start:min(start+maxRowsPerInsert, len(ns))]); err != nil {
				return err
			}
		}
		for _, r := range reads {
			if _, err := tx.ExecContext(ctx, s.q(`
				INSERT INTO push_own_reads (user_id, room_id, thread_id, stream_pos) VALUES ($1, $2, $3, $4)
				ON CONFLICT (user_id, room_id, thread_id) DO UPDATE SET stream_pos = excluded.stream_pos
				WHERE push_own_reads.stream_pos < excluded.stream_pos`),
				r.UserID, r.RoomID, r.ThreadID, r.StreamPos); err != nil {
				return err
			}
		}
		if len(redacted) > 0 {
			cond, args := storage.InList(s.db.Dialect(), "event_id", 1, redacted)
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM push_notifications WHERE `+cond), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("push: record notifications: %w", err)
	}
	return nil
}

func (s *Store) insertNotifications(ctx context.Context, tx *sql.Tx, ns []Notification) error {
	if len(ns) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO push_notifications
		(user_id, event_id, room_id, thread_id, sender, stream_pos, actions, highlight, ts) VALUES `)
	args := make([]any, 0, 9*len(ns))
	for i, n := range ns {
		if i > 0 {
			b.WriteString(", ")
		}
		p := len(args)
		fmt.Fprintf(&b, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", p+1, p+2, p+3, p+4, p+5, p+6, p+7, p+8, p+9)
		args = append(args, n.UserID, n.EventID, n.RoomID, n.ThreadID, n.Sender, n.StreamPos, string(n.Actions), n.Highlight, n.TS)
	}
	b.WriteString(` ON CONFLICT (user_id, event_id) DO NOTHING`)
	_, err := tx.ExecContext(ctx, s.q(b.String()), args...)
	return err
}

// ReadPositions says where a user has read up to in a room: a notification
// at stream position p in thread t is read when p <= Of(t).
type ReadPositions struct {
	// Unthreaded is the user's unthreaded receipt: it covers every thread.
	Unthreaded int64
	// Threads are threaded receipts, by thread ID (ThreadMain included).
	Threads map[string]int64
}

// Of returns the read position of a thread.
func (p ReadPositions) Of(thread string) int64 { return max(p.Unthreaded, p.Threads[thread]) }

// Counts are unread notification counts.
type Counts struct {
	Notifications int
	Highlights    int
}

// UnreadCounts returns, per thread (ThreadMain included), the user's
// notifications in the room after the read positions and after the user's
// own latest event in that thread, leaving out those from the ignored
// senders. Threads without unread notifications are absent.
func (s *Store) UnreadCounts(ctx context.Context, userID, roomID string, read ReadPositions, ignored []string) (map[string]Counts, error) {
	args := []any{userID, roomID}
	notIgnored := ""
	if len(ignored) > 0 {
		in, inArgs := storage.InList(s.db.Dialect(), "n.sender", len(args)+1, ignored)
		notIgnored = " AND NOT (" + in + ")"
		args = append(args, inArgs...)
	}
	var conds, listed []string
	for thread, pos := range read.Threads {
		if pos <= read.Unthreaded {
			continue
		}
		conds = append(conds, fmt.Sprintf("(n.thread_id = $%d AND n.stream_pos > $%d)", len(args)+1, len(args)+2))
		args = append(args, thread, pos)
		listed = append(listed, thread)
	}
	other := fmt.Sprintf("n.stream_pos > $%d", len(args)+1)
	args = append(args, read.Unthreaded)
	if len(listed) > 0 {
		in, inArgs := storage.InList(s.db.Dialect(), "n.thread_id", len(args)+1, listed)
		other = "NOT (" + in + ") AND " + other
		args = append(args, inArgs...)
	}
	conds = append(conds, "("+other+")")
	rows, err := s.db.Read().QueryContext(ctx, s.q(`
		SELECT n.thread_id, COUNT(*), SUM(CASE WHEN n.highlight THEN 1 ELSE 0 END)
		FROM push_notifications n
		LEFT JOIN push_own_reads o ON o.user_id = n.user_id AND o.room_id = n.room_id AND o.thread_id = n.thread_id
		WHERE n.user_id = $1 AND n.room_id = $2 AND n.stream_pos > COALESCE(o.stream_pos, 0)`+notIgnored+`
		AND (`+strings.Join(conds, " OR ")+`)
		GROUP BY n.thread_id`), args...)
	if err != nil {
		return nil, fmt.Errorf("push: unread counts: %w", err)
	}
	defer rows.Close()
	out := map[string]Counts{}
	for rows.Next() {
		var thread string
		var n, h int64
		if err := rows.Scan(&thread, &n, &h); err != nil {
			return nil, fmt.Errorf("push: unread counts: %w", err)
		}
		out[thread] = Counts{Notifications: int(n), Highlights: int(h)}
	}
	return out, rows.Err()
}

// OwnReads returns the stream positions of the user's latest own events in
// the room, by thread.
func (s *Store) OwnReads(ctx context.Context, userID, roomID string) (map[string]int64, error) {
	rows, err := s.db.Read().QueryContext(ctx, s.q(`
		SELECT thread_id, stream_pos FROM push_own_reads WHERE user_id = $1 AND room_id = $2`), userID, roomID)
	if err != nil {
		return nil, fmt.Errorf("push: own reads: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var thread string
		var pos int64
		if err := rows.Scan(&thread, &pos); err != nil {
			return nil, fmt.Errorf("push: own reads: %w", err)
		}
		out[thread] = pos
	}
	return out, rows.Err()
}

// ListRequest selects notifications of one user.
type ListRequest struct {
	UserID string
	// Before bounds the stream positions (exclusive); 0 means no bound.
	Before        int64
	Limit         int
	OnlyHighlight bool
	// Ignored senders are left out.
	Ignored []string
}

// List returns the user's notifications, newest first.
func (s *Store) List(ctx context.Context, req ListRequest) ([]Notification, error) {
	before := req.Before
	if before <= 0 {
		before = 1 << 62
	}
	query := `SELECT user_id, event_id, room_id, thread_id, sender, stream_pos, actions, highlight, ts
		FROM push_notifications WHERE user_id = $1 AND stream_pos < $2`
	args := []any{req.UserID, before, req.Limit}
	if req.OnlyHighlight {
		query += ` AND highlight`
	}
	if len(req.Ignored) > 0 {
		in, inArgs := storage.InList(s.db.Dialect(), "sender", len(args)+1, req.Ignored)
		query += ` AND NOT (` + in + `)`
		args = append(args, inArgs...)
	}
	query += ` ORDER BY stream_pos DESC LIMIT $3`
	rows, err := s.db.Read().QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("push: list notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var n Notification
		var actions string
		if err := rows.Scan(&n.UserID, &n.EventID, &n.RoomID, &n.ThreadID, &n.Sender, &n.StreamPos, &actions, &n.Highlight, &n.TS); err != nil {
			return nil, fmt.Errorf("push: list notifications: %w", err)
		}
		n.Actions = json.RawMessage(actions)
		out = append(out, n)
	}
	return out, rows.Err()
}
