package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Report kinds.
const (
	KindEvent = "event"
	KindRoom  = "room"
)

// Report is a user's report of an event or a room.
type Report struct {
	ID          int64
	Kind        string // KindEvent or KindRoom
	RoomID      string
	EventID     string // "" for room reports
	EventSender string // the reported event's sender; "" for room reports
	Reporter    string
	Reason      *string
	Score       *int64
	ReceivedTS  int64
}

// AddReport stores a report and returns its ID.
func (s *Store) AddReport(ctx context.Context, r Report) (int64, error) {
	if r.Kind != KindEvent && r.Kind != KindRoom {
		return 0, fmt.Errorf("directory: unknown report kind %q", r.Kind)
	}
	var reason, score any
	if r.Reason != nil {
		reason = *r.Reason
	}
	if r.Score != nil {
		score = *r.Score
	}
	var id int64
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, s.q(`INSERT INTO content_reports
			(kind, room_id, event_id, event_sender, reporter, reason, score, received_ts)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`),
			r.Kind, r.RoomID, r.EventID, r.EventSender, r.Reporter, reason, score, r.ReceivedTS).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("directory: add report: %w", err)
	}
	return id, nil
}

// ReportQuery selects a page of reports of one kind.
type ReportQuery struct {
	Kind string
	// From is the number of reports to skip; Limit bounds the page.
	From, Limit int64
	// Forwards lists the oldest first; otherwise the newest come first.
	Forwards bool
	// Optional filters: the room, the reporter, the reported event's sender.
	RoomID, Reporter, EventSender string
}

const reportColumns = `id, kind, room_id, event_id, event_sender, reporter, reason, score, received_ts`

// ListReports returns a page of reports and the number of reports matching
// the filters.
func (s *Store) ListReports(ctx context.Context, q ReportQuery) ([]Report, int64, error) {
	conds := []string{"kind = $1"}
	args := []any{q.Kind}
	for _, f := range []struct{ col, val string }{{"room_id", q.RoomID}, {"reporter", q.Reporter}, {"event_sender", q.EventSender}} {
		if f.val != "" {
			args = append(args, f.val)
			conds = append(conds, fmt.Sprintf("%s = $%d", f.col, len(args)))
		}
	}
	where := strings.Join(conds, " AND ")
	var total int64
	if err := s.db.Read().QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM content_reports WHERE `+where), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("directory: count reports: %w", err)
	}
	order := "DESC"
	if q.Forwards {
		order = "ASC"
	}
	n := len(args)
	rows, err := s.db.Read().QueryContext(ctx, s.q(fmt.Sprintf(`SELECT `+reportColumns+` FROM content_reports
		WHERE %s ORDER BY received_ts %s, id %s LIMIT $%d OFFSET $%d`, where, order, order, n+1, n+2)),
		append(args, q.Limit, q.From)...)
	if err != nil {
		return nil, 0, fmt.Errorf("directory: list reports: %w", err)
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// GetReport returns one report of the kind, or ErrNotFound.
func (s *Store) GetReport(ctx context.Context, kind string, id int64) (Report, error) {
	r, err := scanReport(s.db.Read().QueryRowContext(ctx, s.q(`SELECT `+reportColumns+`
		FROM content_reports WHERE id = $1 AND kind = $2`), id, kind))
	if errors.Is(err, sql.ErrNoRows) {
		return Report{}, fmt.Errorf("directory: report %d: %w", id, ErrNotFound)
	}
	return r, err
}

// DeleteReport deletes one report of the kind, or returns ErrNotFound.
func (s *Store) DeleteReport(ctx context.Context, kind string, id int64) error {
	var n int64
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM content_reports WHERE id = $1 AND kind = $2`), id, kind)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("directory: delete report %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("directory: report %d: %w", id, ErrNotFound)
	}
	return nil
}

func scanReport(row interface{ Scan(...any) error }) (Report, error) {
	var r Report
	var reason sql.NullString
	var score sql.NullInt64
	if err := row.Scan(&r.ID, &r.Kind, &r.RoomID, &r.EventID, &r.EventSender, &r.Reporter, &reason, &score, &r.ReceivedTS); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return r, err
		}
		return r, fmt.Errorf("directory: scan report: %w", err)
	}
	if reason.Valid {
		r.Reason = &reason.String
	}
	if score.Valid {
		r.Score = &score.Int64
	}
	return r, nil
}
