package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"go.uber.org/zap"
)

// User is one local account.
type User struct {
	Localpart    string
	PasswordHash string // "" when the user has no password
	CreatedTS    int64
	IsAdmin      bool
	IsGuest      bool
	Deactivated  bool
}

// NewUser is what [Store.CreateUser] stores.
type NewUser struct {
	Localpart    string
	PasswordHash string // already hashed by the caller; "" for no password
	DisplayName  string // initial profile displayname; "" for none
	IsAdmin      bool
	IsGuest      bool
}

// CreateUser stores a new user and its profile. A taken localpart returns
// [ErrUserExists].
func (s *Store) CreateUser(ctx context.Context, u NewUser) (User, error) {
	if u.Localpart == "" {
		return User{}, errors.New("accounts: create user: empty localpart")
	}
	created := User{
		Localpart:    u.Localpart,
		PasswordHash: u.PasswordHash,
		CreatedTS:    s.nowMS(),
		IsAdmin:      u.IsAdmin,
		IsGuest:      u.IsGuest,
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO users (localpart, password_hash, created_ts, is_admin, is_guest)
			VALUES ($1, $2, $3, $4, $5)`),
			u.Localpart, sql.NullString{String: u.PasswordHash, Valid: u.PasswordHash != ""},
			created.CreatedTS, u.IsAdmin, u.IsGuest)
		if s.dialect.IsUniqueViolation(err) {
			return ErrUserExists
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO profiles (localpart, displayname) VALUES ($1, $2)`),
			u.Localpart, u.DisplayName)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("accounts: create user %q: %w", u.Localpart, err)
	}
	s.log.Info("created user", zap.String("localpart", u.Localpart),
		zap.Bool("admin", u.IsAdmin), zap.Bool("guest", u.IsGuest))
	return created, nil
}

// GetUser returns the user with this localpart, deactivated or not.
func (s *Store) GetUser(ctx context.Context, localpart string) (User, error) {
	var (
		u    User
		hash sql.NullString
	)
	err := s.db.Read().QueryRowContext(ctx, s.q(`
		SELECT localpart, password_hash, created_ts, is_admin, is_guest, deactivated
		FROM users WHERE localpart = $1`), localpart).
		Scan(&u.Localpart, &hash, &u.CreatedTS, &u.IsAdmin, &u.IsGuest, &u.Deactivated)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("accounts: user %q: %w", localpart, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("accounts: get user %q: %w", localpart, err)
	}
	u.PasswordHash = hash.String
	return u, nil
}

// SetPasswordHash replaces the user's password hash; "" removes the password.
func (s *Store) SetPasswordHash(ctx context.Context, localpart, hash string) error {
	return s.updateUser(ctx, "set password", localpart,
		`UPDATE users SET password_hash = $2 WHERE localpart = $1`,
		sql.NullString{String: hash, Valid: hash != ""})
}

// SetAdmin grants or revokes server admin rights.
func (s *Store) SetAdmin(ctx context.Context, localpart string, admin bool) error {
	return s.updateUser(ctx, "set admin", localpart,
		`UPDATE users SET is_admin = $2 WHERE localpart = $1`, admin)
}

func (s *Store) updateUser(ctx context.Context, what, localpart, query string, value any) error {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		return expectOne(tx.ExecContext(ctx, s.q(query), localpart, value))
	})
	if err != nil {
		return fmt.Errorf("accounts: %s of %q: %w", what, localpart, err)
	}
	return nil
}

// DeactivateUser marks the user deactivated, removes its password, deletes
// all its devices with their tokens and clears its profile, in one
// transaction. The localpart stays taken. Deactivating twice is not an error.
func (s *Store) DeactivateUser(ctx context.Context, localpart string) error {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := expectOne(tx.ExecContext(ctx, s.q(`
			UPDATE users SET deactivated = TRUE, password_hash = NULL
			WHERE localpart = $1`), localpart)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM devices WHERE localpart = $1`), localpart); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`
			UPDATE profiles SET displayname = '', avatar_url = '' WHERE localpart = $1`), localpart)
		return err
	})
	if err != nil {
		return fmt.Errorf("accounts: deactivate %q: %w", localpart, err)
	}
	s.log.Info("deactivated user", zap.String("localpart", localpart))
	return nil
}

// CountUsers returns how many accounts exist (guests and deactivated included).
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("accounts: count users: %w", err)
	}
	return n, nil
}
