package accountdata

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/concordchat/concord/storage"
)

// ErrNotFound: the user has no account data of this type (in this room).
var ErrNotFound = errors.New("accountdata: not found")

// Deps are what [New] needs.
type Deps struct {
	DB *storage.DB
}

// Store reads and writes the account_data table.
type Store struct {
	db *storage.DB
}

// New returns a Store on deps.DB.
func New(deps Deps) (*Store, error) {
	if deps.DB == nil {
		return nil, errors.New("accountdata: Deps.DB is nil")
	}
	return &Store{db: deps.DB}, nil
}

func (s *Store) q(query string) string { return s.db.Dialect().Rebind(query) }

// Entry is one piece of account data.
type Entry struct {
	RoomID    string // "" for global account data
	Type      string
	Content   json.RawMessage
	StreamPos int64
}

// Put stores content as the user's account data of type typ (global when
// roomID is ""), at stream position pos. A row already written at a higher
// position is kept.
func (s *Store) Put(ctx context.Context, userID, roomID, typ string, content json.RawMessage, pos int64) error {
	if userID == "" || typ == "" {
		return errors.New("accountdata: put: empty user or type")
	}
	if !json.Valid(content) {
		return errors.New("accountdata: put: content is not JSON")
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO account_data (user_id, room_id, type, content, stream_pos) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (user_id, room_id, type) DO UPDATE SET content = excluded.content, stream_pos = excluded.stream_pos
			WHERE account_data.stream_pos < excluded.stream_pos`),
			userID, roomID, typ, string(content), pos)
		return err
	})
	if err != nil {
		return fmt.Errorf("accountdata: put %s of %s: %w", typ, userID, err)
	}
	return nil
}

// Get returns the content of the user's account data of type typ (global
// when roomID is ""), or [ErrNotFound].
func (s *Store) Get(ctx context.Context, userID, roomID, typ string) (json.RawMessage, error) {
	var content string
	err := s.db.Read().QueryRowContext(ctx, s.q(`
		SELECT content FROM account_data WHERE user_id = $1 AND room_id = $2 AND type = $3`),
		userID, roomID, typ).Scan(&content)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("accountdata: %s of %s: %w", typ, userID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("accountdata: get %s of %s: %w", typ, userID, err)
	}
	return json.RawMessage(content), nil
}

// Since returns the user's account data changed at positions in (after,
// upTo], oldest change first.
func (s *Store) Since(ctx context.Context, userID string, after, upTo int64) ([]Entry, error) {
	rows, err := s.db.Read().QueryContext(ctx, s.q(`
		SELECT room_id, type, content, stream_pos FROM account_data
		WHERE user_id = $1 AND stream_pos > $2 AND stream_pos <= $3 ORDER BY stream_pos`),
		userID, after, upTo)
	if err != nil {
		return nil, fmt.Errorf("accountdata: since: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var content string
		if err := rows.Scan(&e.RoomID, &e.Type, &content, &e.StreamPos); err != nil {
			return nil, fmt.Errorf("accountdata: scan: %w", err)
		}
		e.Content = json.RawMessage(content)
		out = append(out, e)
	}
	return out, rows.Err()
}

// MaxStreamPos returns the highest stream position written (0 for none).
func (s *Store) MaxStreamPos(ctx context.Context) (int64, error) {
	var pos sql.NullInt64
	if err := s.db.Read().QueryRowContext(ctx, `SELECT MAX(stream_pos) FROM account_data`).Scan(&pos); err != nil {
		return 0, fmt.Errorf("accountdata: max stream position: %w", err)
	}
	return pos.Int64, nil
}
