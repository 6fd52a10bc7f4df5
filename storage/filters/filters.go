package filters

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/concordchat/concord/storage"
)

// ErrNotFound: the user has no filter with this ID.
var ErrNotFound = errors.New("filters: not found")

// Deps are what [New] needs.
type Deps struct {
	DB *storage.DB
}

// Store reads and writes the filters table.
type Store struct {
	db      *storage.DB
	dialect storage.Dialect
}

// New returns a Store on deps.DB.
func New(deps Deps) (*Store, error) {
	if deps.DB == nil {
		return nil, errors.New("filters: Deps.DB is nil")
	}
	return &Store{db: deps.DB, dialect: deps.DB.Dialect()}, nil
}

func (s *Store) q(query string) string { return s.dialect.Rebind(query) }

// Put stores a filter of the user and returns its ID. filterJSON should be
// canonical JSON: when the user already has a byte-identical filter, its ID
// is returned and nothing is written.
func (s *Store) Put(ctx context.Context, localpart string, filterJSON []byte) (string, error) {
	if localpart == "" {
		return "", errors.New("filters: put: empty localpart")
	}
	if len(filterJSON) == 0 {
		return "", errors.New("filters: put: empty filter")
	}
	sum := sha256.Sum256(filterJSON)
	var id int64
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.q(`
			INSERT INTO filters (localpart, filter_hash, filter_json) VALUES ($1, $2, $3)
			ON CONFLICT (localpart, filter_hash) DO NOTHING RETURNING id`),
			localpart, sum[:], string(filterJSON)).Scan(&id)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		// The user already has this filter (possibly committed a moment ago
		// by a concurrent upload, which this statement now sees).
		return tx.QueryRowContext(ctx, s.q(`
			SELECT id FROM filters WHERE localpart = $1 AND filter_hash = $2`),
			localpart, sum[:]).Scan(&id)
	})
	if err != nil {
		return "", fmt.Errorf("filters: put filter of %q: %w", localpart, err)
	}
	return strconv.FormatInt(id, 10), nil
}

// Get returns the JSON of one of the user's filters. An unknown ID, an ID
// that is not a number and another user's filter all return [ErrNotFound].
func (s *Store) Get(ctx context.Context, localpart, filterID string) ([]byte, error) {
	id, err := strconv.ParseInt(filterID, 10, 64)
	if err != nil || id < 0 || strconv.FormatInt(id, 10) != filterID {
		return nil, fmt.Errorf("filters: filter %q of %q: %w", filterID, localpart, ErrNotFound)
	}
	var out string
	err = s.db.Read().QueryRowContext(ctx, s.q(`
		SELECT filter_json FROM filters WHERE id = $1 AND localpart = $2`), id, localpart).Scan(&out)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("filters: filter %q of %q: %w", filterID, localpart, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("filters: get filter %q of %q: %w", filterID, localpart, err)
	}
	return []byte(out), nil
}
