package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// RegistrationToken is a token that allows registering an account, with the
// fields of the Synapse admin API.
type RegistrationToken struct {
	Token       string
	UsesAllowed *int64 // registrations it may complete; nil for unlimited
	Pending     int64  // uses reserved by registrations in progress
	Completed   int64  // registrations completed with it
	ExpiryTime  *int64 // ms since the Unix epoch after which it is invalid; nil for never
}

// Valid reports whether the token can still be used at nowMS: it has uses
// left (pending ones counted as used) and has not expired.
func (t RegistrationToken) Valid(nowMS int64) bool {
	if t.UsesAllowed != nil && t.Pending+t.Completed >= *t.UsesAllowed {
		return false
	}
	return t.ExpiryTime == nil || *t.ExpiryTime > nowMS
}

// RegistrationTokenUpdate changes the fields whose Set flag is true; a nil
// value sets the field to unlimited or never.
type RegistrationTokenUpdate struct {
	SetUsesAllowed bool
	UsesAllowed    *int64
	SetExpiryTime  bool
	ExpiryTime     *int64
}

// validCond is the SQL form of RegistrationToken.Valid, with placeholder
// $nowArg as the current time.
func validCond(nowArg int) string {
	return fmt.Sprintf(`(uses_allowed IS NULL OR pending + completed < uses_allowed)
		AND (expiry_time IS NULL OR expiry_time > $%d)`, nowArg)
}

const regTokenColumns = `token, uses_allowed, pending, completed, expiry_time`

func scanRegToken(row interface{ Scan(...any) error }) (RegistrationToken, error) {
	var (
		t             RegistrationToken
		uses, expires sql.NullInt64
	)
	if err := row.Scan(&t.Token, &uses, &t.Pending, &t.Completed, &expires); err != nil {
		return RegistrationToken{}, err
	}
	if uses.Valid {
		t.UsesAllowed = &uses.Int64
	}
	if expires.Valid {
		t.ExpiryTime = &expires.Int64
	}
	return t, nil
}

func ptrToNull(p *int64) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *p, Valid: true}
}

// CreateRegistrationToken stores a new token with no uses yet. It returns
// [ErrRegistrationTokenExists] when the token text is taken.
func (s *Store) CreateRegistrationToken(ctx context.Context, token string, usesAllowed, expiryTime *int64) (RegistrationToken, error) {
	if token == "" {
		return RegistrationToken{}, errors.New("accounts: create registration token: empty token")
	}
	if usesAllowed != nil && *usesAllowed < 0 {
		return RegistrationToken{}, errors.New("accounts: create registration token: negative uses_allowed")
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`
			INSERT INTO registration_tokens (token, uses_allowed, expiry_time) VALUES ($1, $2, $3)`),
			token, ptrToNull(usesAllowed), ptrToNull(expiryTime))
		if s.dialect.IsUniqueViolation(err) {
			return ErrRegistrationTokenExists
		}
		return err
	})
	if err != nil {
		return RegistrationToken{}, fmt.Errorf("accounts: create registration token: %w", err)
	}
	return RegistrationToken{Token: token, UsesAllowed: usesAllowed, ExpiryTime: expiryTime}, nil
}

// GetRegistrationToken returns one token.
func (s *Store) GetRegistrationToken(ctx context.Context, token string) (RegistrationToken, error) {
	t, err := scanRegToken(s.db.Read().QueryRowContext(ctx, s.q(`
		SELECT `+regTokenColumns+` FROM registration_tokens WHERE token = $1`), token))
	if errors.Is(err, sql.ErrNoRows) {
		return RegistrationToken{}, fmt.Errorf("accounts: registration token: %w", ErrNotFound)
	}
	if err != nil {
		return RegistrationToken{}, fmt.Errorf("accounts: get registration token: %w", err)
	}
	return t, nil
}

// ListRegistrationTokens returns the tokens ordered by token text: all of
// them when valid is nil, else only the valid or only the invalid ones.
func (s *Store) ListRegistrationTokens(ctx context.Context, valid *bool) ([]RegistrationToken, error) {
	query := `SELECT ` + regTokenColumns + ` FROM registration_tokens`
	var args []any
	if valid != nil {
		cond := validCond(1)
		if !*valid {
			cond = "NOT (" + cond + ")"
		}
		query += ` WHERE ` + cond
		args = []any{s.nowMS()}
	}
	rows, err := s.db.Read().QueryContext(ctx, s.q(query+` ORDER BY token`), args...)
	if err != nil {
		return nil, fmt.Errorf("accounts: list registration tokens: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []RegistrationToken
	for rows.Next() {
		t, err := scanRegToken(rows)
		if err != nil {
			return nil, fmt.Errorf("accounts: list registration tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accounts: list registration tokens: %w", err)
	}
	return out, nil
}

// UpdateRegistrationToken changes uses_allowed and/or expiry_time and returns
// the token as stored afterwards.
func (s *Store) UpdateRegistrationToken(ctx context.Context, token string, upd RegistrationTokenUpdate) (RegistrationToken, error) {
	if upd.SetUsesAllowed && upd.UsesAllowed != nil && *upd.UsesAllowed < 0 {
		return RegistrationToken{}, errors.New("accounts: update registration token: negative uses_allowed")
	}
	var t RegistrationToken
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = scanRegToken(tx.QueryRowContext(ctx, s.q(`
			UPDATE registration_tokens SET
				uses_allowed = CASE WHEN $2 THEN $3 ELSE uses_allowed END,
				expiry_time = CASE WHEN $4 THEN $5 ELSE expiry_time END
			WHERE token = $1 RETURNING `+regTokenColumns),
			token, upd.SetUsesAllowed, ptrToNull(upd.UsesAllowed), upd.SetExpiryTime, ptrToNull(upd.ExpiryTime)))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return RegistrationToken{}, fmt.Errorf("accounts: update registration token: %w", err)
	}
	return t, nil
}

// DeleteRegistrationToken deletes a token.
func (s *Store) DeleteRegistrationToken(ctx context.Context, token string) error {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		return expectOne(tx.ExecContext(ctx, s.q(`DELETE FROM registration_tokens WHERE token = $1`), token))
	})
	if err != nil {
		return fmt.Errorf("accounts: delete registration token: %w", err)
	}
	return nil
}

// RegistrationTokenValid reports whether the token exists and is valid now,
// for GET /register/m.login.registration_token/validity. It reserves nothing.
func (s *Store) RegistrationTokenValid(ctx context.Context, token string) (bool, error) {
	t, err := s.GetRegistrationToken(ctx, token)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return t.Valid(s.nowMS()), nil
}

// ReserveRegistrationToken takes one use of a valid token for a registration
// in progress (pending + 1). The check and the increment are one statement,
// so concurrent reservations never exceed uses_allowed. It returns
// [ErrNotFound] for an unknown token and [ErrRegistrationTokenInvalid] for
// one used up or expired.
func (s *Store) ReserveRegistrationToken(ctx context.Context, token string) error {
	return s.changeRegToken(ctx, "reserve", token,
		`UPDATE registration_tokens SET pending = pending + 1 WHERE token = $1 AND `+validCond(2), true)
}

// CompleteRegistrationToken turns a reserved use into a completed one
// (pending - 1, completed + 1) once the registration succeeded. It returns
// [ErrNotFound] when the token has no pending use.
func (s *Store) CompleteRegistrationToken(ctx context.Context, token string) error {
	return s.changeRegToken(ctx, "complete", token, `
		UPDATE registration_tokens SET pending = pending - 1, completed = completed + 1
		WHERE token = $1 AND pending > 0`, false)
}

// ReleaseRegistrationToken gives back a reserved use (pending - 1) of a
// registration that was abandoned. It returns [ErrNotFound] when the token has
// no pending use.
func (s *Store) ReleaseRegistrationToken(ctx context.Context, token string) error {
	return s.changeRegToken(ctx, "release", token, `
		UPDATE registration_tokens SET pending = pending - 1 WHERE token = $1 AND pending > 0`, false)
}

// changeRegToken runs a one-row UPDATE. When no row changes it tells an
// unknown token (ErrNotFound) from a refused change: ErrRegistrationTokenInvalid
// when withNow, else ErrNotFound.
func (s *Store) changeRegToken(ctx context.Context, what, token, query string, withNow bool) error {
	args := []any{token}
	if withNow {
		args = append(args, s.nowMS())
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		err := expectOne(tx.ExecContext(ctx, s.q(query), args...))
		if !errors.Is(err, ErrNotFound) || !withNow {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM registration_tokens WHERE token = $1`), token).
			Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrRegistrationTokenInvalid
		}
		return ErrNotFound
	})
	if err != nil {
		return fmt.Errorf("accounts: %s registration token: %w", what, err)
	}
	return nil
}
