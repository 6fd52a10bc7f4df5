package directory

import (
	"errors"
	"fmt"

	"github.com/concordchat/concord/storage"
)

// ErrNotFound: no such report.
var ErrNotFound = errors.New("directory: not found")

// Deps are what [New] needs.
type Deps struct {
	DB *storage.DB
}

// Store reads and writes the directory tables.
type Store struct {
	db      *storage.DB
	dialect storage.Dialect
}

// New returns a Store on deps.DB.
func New(deps Deps) (*Store, error) {
	if deps.DB == nil {
		return nil, errors.New("directory: Deps.DB is nil")
	}
	return &Store{db: deps.DB, dialect: deps.DB.Dialect()}, nil
}

func (s *Store) q(query string) string { return s.dialect.Rebind(query) }

// contentField renders an SQL expression for the string content.<field> of
// the event JSON in column col (NULL when absent). field must be a constant.
func (s *Store) contentField(col, field string) string {
	if s.dialect.Name() == storage.EnginePostgres {
		return fmt.Sprintf("(%s::jsonb #>> '{content,%s}')", col, field)
	}
	return fmt.Sprintf("json_extract(%s, '$.content.%s')", col, field)
}
