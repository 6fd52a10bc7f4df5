package rooms

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrAliasExists is returned when creating an alias that is taken.
var ErrAliasExists = errors.New("rooms: alias exists")

// Alias is a local room alias.
type Alias struct {
	Alias   string
	RoomID  string
	Creator string
}

// CreateAlias maps alias to roomID.
func (s *Store) CreateAlias(ctx context.Context, a Alias, ts int64) error {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO room_aliases (alias, room_id, creator, created_ts) VALUES ($1, $2, $3, $4)`,
			a.Alias, a.RoomID, a.Creator, ts)
		return err
	})
	if s.db.Dialect().IsUniqueViolation(err) {
		return ErrAliasExists
	}
	if err != nil {
		return fmt.Errorf("rooms: create alias: %w", err)
	}
	return nil
}

// GetAlias resolves a local alias.
func (s *Store) GetAlias(ctx context.Context, alias string) (Alias, error) {
	a := Alias{Alias: alias}
	err := s.db.Read().QueryRowContext(ctx, `SELECT room_id, creator FROM room_aliases WHERE alias = $1`, alias).
		Scan(&a.RoomID, &a.Creator)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("rooms: get alias: %w", err)
	}
	return a, nil
}

// DeleteAlias removes a local alias.
func (s *Store) DeleteAlias(ctx context.Context, alias string) error {
	var n int64
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM room_aliases WHERE alias = $1`, alias)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("rooms: delete alias: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// AliasesOf lists a room's local aliases.
func (s *Store) AliasesOf(ctx context.Context, roomID string) ([]string, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT alias FROM room_aliases WHERE room_id = $1 ORDER BY alias`, roomID)
	if err != nil {
		return nil, fmt.Errorf("rooms: aliases of room: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
