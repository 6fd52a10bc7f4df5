package push

import (
	"errors"

	"github.com/concordchat/concord/storage"
)

var (
	// ErrNotFound: the user has no such rule.
	ErrNotFound = errors.New("push: rule not found")
	// ErrRelativeNotFound: the rule named by before or after does not exist.
	ErrRelativeNotFound = errors.New("push: before/after rule not found")
)

// Deps are what [New] needs.
type Deps struct {
	DB *storage.DB
}

// Store reads and writes the push tables.
type Store struct {
	db *storage.DB
}

// New returns a Store on deps.DB.
func New(deps Deps) (*Store, error) {
	if deps.DB == nil {
		return nil, errors.New("push: Deps.DB is nil")
	}
	return &Store{db: deps.DB}, nil
}

func (s *Store) q(query string) string { return s.db.Dialect().Rebind(query) }

// maxRowsPerInsert bounds the rows of one multi-row INSERT (8 parameters a
// row stays far below both engines' parameter limits).
const maxRowsPerInsert = 500
