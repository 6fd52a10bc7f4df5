package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// CreateOpenIDToken stores the hash of an OpenID token of the user, valid
// until expiresTS (ms since the Unix epoch). It deletes expired tokens in
// the same transaction, so the table holds only live ones. It returns
// [ErrNotFound] for an unknown user and [ErrTokenExists] when the token's
// hash is already stored.
func (s *Store) CreateOpenIDToken(ctx context.Context, localpart, token string, expiresTS int64) error {
	if token == "" {
		return errors.New("accounts: create openid token: empty token")
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM openid_tokens WHERE expires_ts <= $1`), s.nowMS()); err != nil {
			return fmt.Errorf("delete expired: %w", err)
		}
		var n int
		err := tx.QueryRowContext(ctx, s.q(`
			SELECT COUNT(*) FROM users WHERE localpart = $1 AND NOT deactivated`), localpart).Scan(&n)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		_, err = tx.ExecContext(ctx, s.q(`
			INSERT INTO openid_tokens (token_hash, localpart, expires_ts) VALUES ($1, $2, $3)`),
			HashToken(token), localpart, expiresTS)
		if s.dialect.IsUniqueViolation(err) {
			return ErrTokenExists
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("accounts: create openid token for %q: %w", localpart, err)
	}
	return nil
}

// LookupOpenIDToken returns the localpart of the user an OpenID token was
// issued to. An unknown token, and the token of a user deactivated since,
// return [ErrNotFound]; an expired one [ErrTokenExpired].
func (s *Store) LookupOpenIDToken(ctx context.Context, token string) (string, error) {
	var (
		localpart string
		expires   int64
	)
	err := s.db.Read().QueryRowContext(ctx, s.q(`
		SELECT t.localpart, t.expires_ts
		FROM openid_tokens t JOIN users u ON u.localpart = t.localpart
		WHERE t.token_hash = $1 AND NOT u.deactivated`), HashToken(token)).Scan(&localpart, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("accounts: openid token: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("accounts: look up openid token: %w", err)
	}
	if expires <= s.nowMS() {
		return "", fmt.Errorf("accounts: openid token of %q: %w", localpart, ErrTokenExpired)
	}
	return localpart, nil
}
