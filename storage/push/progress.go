package push

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Progress returns the stream position up to which every event has been
// evaluated; found is false before the first SetProgress.
func (s *Store) Progress(ctx context.Context) (pos int64, found bool, err error) {
	err = s.db.Read().QueryRowContext(ctx, s.q(`SELECT stream_pos FROM push_progress WHERE id = 1`)).Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("push: read progress: %w", err)
	}
	return pos, true, nil
}

// SetProgress records that every event up to pos has been evaluated; the
// position never moves backwards.
func (s *Store) SetProgress(ctx context.Context, pos int64) error {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO push_progress (id, stream_pos) VALUES (1, $1)
			ON CONFLICT (id) DO UPDATE SET stream_pos = excluded.stream_pos
			WHERE push_progress.stream_pos < excluded.stream_pos`), pos)
		return err
	})
	if err != nil {
		return fmt.Errorf("push: set progress: %w", err)
	}
	return nil
}
