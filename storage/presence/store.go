package presence

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/concordchat/concord/storage"
)

// Presence states.
const (
	Online      = "online"
	Unavailable = "unavailable"
	Offline     = "offline"
)

// Deps are what [New] needs.
type Deps struct {
	DB *storage.DB
}

// Store reads and writes the presence table.
type Store struct {
	db *storage.DB
}

// New returns a Store on deps.DB.
func New(deps Deps) (*Store, error) {
	if deps.DB == nil {
		return nil, errors.New("presence: Deps.DB is nil")
	}
	return &Store{db: deps.DB}, nil
}

func (s *Store) q(query string) string { return s.db.Dialect().Rebind(query) }

// Row is one user's stored presence.
type Row struct {
	UserID          string
	State           string
	StatusMsg       string // "" for none
	LastActiveTS    int64  // milliseconds since the epoch; 0 = never
	CurrentlyActive bool
	StreamPos       int64
}

const columns = `user_id, state, status_msg, last_active_ts, currently_active, stream_pos`

// Put stores r at presence stream position pos; a row already written at a
// higher position is kept.
func (s *Store) Put(ctx context.Context, r Row, pos int64) error {
	switch r.State {
	case Online, Unavailable, Offline:
	default:
		return fmt.Errorf("presence: put: bad state %q", r.State)
	}
	if r.UserID == "" {
		return errors.New("presence: put: empty user")
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO presence (`+columns+`) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, status_msg = excluded.status_msg,
				last_active_ts = excluded.last_active_ts, currently_active = excluded.currently_active,
				stream_pos = excluded.stream_pos
			WHERE presence.stream_pos < excluded.stream_pos`),
			r.UserID, r.State, r.StatusMsg, r.LastActiveTS, r.CurrentlyActive, pos)
		return err
	})
	if err != nil {
		return fmt.Errorf("presence: put %s: %w", r.UserID, err)
	}
	return nil
}

// maxInList bounds the user IDs bound in one query.
const maxInList = 500

// Get returns the stored presence of the given users; users without a row
// are absent.
func (s *Store) Get(ctx context.Context, userIDs []string) (map[string]Row, error) {
	out := make(map[string]Row, len(userIDs))
	for len(userIDs) > 0 {
		chunk := userIDs[:min(len(userIDs), maxInList)]
		userIDs = userIDs[len(chunk):]
		cond, args := storage.InList(s.db.Dialect(), "user_id", 1, chunk)
		rows, err := s.db.Read().QueryContext(ctx, s.q(`SELECT `+columns+` FROM presence WHERE `+cond), args...)
		if err != nil {
			return nil, fmt.Errorf("presence: get: %w", err)
		}
		got, err := scan(rows)
		if err != nil {
			return nil, err
		}
		for _, r := range got {
			out[r.UserID] = r
		}
	}
	return out, nil
}

// Since returns up to limit rows changed at positions in (after, upTo],
// oldest change first.
func (s *Store) Since(ctx context.Context, after, upTo int64, limit int) ([]Row, error) {
	rows, err := s.db.Read().QueryContext(ctx, s.q(`SELECT `+columns+` FROM presence
		WHERE stream_pos > $1 AND stream_pos <= $2 ORDER BY stream_pos LIMIT $3`), after, upTo, limit)
	if err != nil {
		return nil, fmt.Errorf("presence: since: %w", err)
	}
	return scan(rows)
}

// NotOffline returns the rows of users whose stored state is not offline
// (to resume their timeouts after a restart).
func (s *Store) NotOffline(ctx context.Context) ([]Row, error) {
	rows, err := s.db.Read().QueryContext(ctx, s.q(`SELECT `+columns+` FROM presence WHERE state <> $1`), Offline)
	if err != nil {
		return nil, fmt.Errorf("presence: not offline: %w", err)
	}
	return scan(rows)
}

func scan(rows *sql.Rows) ([]Row, error) {
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		if err := rows.Scan(&r.UserID, &r.State, &r.StatusMsg, &r.LastActiveTS, &r.CurrentlyActive, &r.StreamPos); err != nil {
			return nil, fmt.Errorf("presence: scan: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// MaxStreamPos returns the highest stream position written (0 for none).
func (s *Store) MaxStreamPos(ctx context.Context) (int64, error) {
	var pos sql.NullInt64
	if err := s.db.Read().QueryRowContext(ctx, `SELECT MAX(stream_pos) FROM presence`).Scan(&pos); err != nil {
		return 0, fmt.Errorf("presence: max stream position: %w", err)
	}
	return pos.Int64, nil
}
