package accounts

import (
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/concordchat/concord/storage"
)

// Errors callers act on. Returned errors wrap them: use errors.Is.
var (
	// ErrNotFound: no such user, device, token or registration token.
	ErrNotFound = errors.New("accounts: not found")
	// ErrUserExists: the localpart is taken.
	ErrUserExists = errors.New("accounts: user already exists")
	// ErrUserDeactivated: the user is deactivated and cannot get new devices.
	ErrUserDeactivated = errors.New("accounts: user is deactivated")
	// ErrDeviceExists: the user already has a device with this ID.
	ErrDeviceExists = errors.New("accounts: device already exists")
	// ErrTokenExists: an access or refresh token with the same hash exists.
	ErrTokenExists = errors.New("accounts: token already exists")
	// ErrTokenExpired: the access or refresh token has expired.
	ErrTokenExpired = errors.New("accounts: token expired")
	// ErrRegistrationTokenExists: a registration token with this text exists.
	ErrRegistrationTokenExists = errors.New("accounts: registration token already exists")
	// ErrRegistrationTokenInvalid: the registration token is used up or expired.
	ErrRegistrationTokenInvalid = errors.New("accounts: registration token is used up or expired")
)

// Deps are what [New] needs.
type Deps struct {
	DB     *storage.DB
	Logger *zap.Logger      // optional; defaults to the DB's logger
	Now    func() time.Time // optional; defaults to time.Now
}

// Store reads and writes the accounts tables.
type Store struct {
	db      *storage.DB
	dialect storage.Dialect
	log     *zap.Logger
	now     func() time.Time
}

// New returns a Store on deps.DB.
func New(deps Deps) (*Store, error) {
	if deps.DB == nil {
		return nil, errors.New("accounts: Deps.DB is nil")
	}
	log := deps.Logger
	if log == nil {
		log = deps.DB.Logger()
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	return &Store{db: deps.DB, dialect: deps.DB.Dialect(), log: log.Named("accounts"), now: now}, nil
}

// HashToken returns the SHA-256 hash under which a token is stored.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// nowMS is the current time in milliseconds since the Unix epoch.
func (s *Store) nowMS() int64 { return s.now().UnixMilli() }

// q rebinds a query written with $N placeholders for the engine.
func (s *Store) q(query string) string { return s.dialect.Rebind(query) }

// nullable turns 0 into SQL NULL, for optional timestamps.
func nullable(ms int64) sql.NullInt64 {
	return sql.NullInt64{Int64: ms, Valid: ms != 0}
}

// orZero turns SQL NULL into 0.
func orZero(n sql.NullInt64) int64 {
	if !n.Valid {
		return 0
	}
	return n.Int64
}

// expectOne takes what ExecContext returned and turns "no row changed" into
// [ErrNotFound].
func expectOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
