package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// NewToken is an access or refresh token to store. Only the SHA-256 hash of
// Token is written.
type NewToken struct {
	Token     string // the secret the client holds, made by the caller
	ExpiresTS int64  // ms since the Unix epoch; 0 for never
}

// Session is who an access or refresh token belongs to.
type Session struct {
	Localpart string
	DeviceID  string
	ExpiresTS int64 // of the token looked up; 0 for never
	IsAdmin   bool
	IsGuest   bool
}

// CreateTokens stores an access token for an existing device, and with it a
// refresh token when refresh is not nil. Using or deleting that refresh token
// ends the access token too. It returns [ErrNotFound] for an unknown device
// and [ErrTokenExists] when a token's hash is already stored.
func (s *Store) CreateTokens(ctx context.Context, localpart, deviceID string, access NewToken, refresh *NewToken) error {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, s.q(`
			SELECT COUNT(*) FROM devices WHERE localpart = $1 AND device_id = $2`),
			localpart, deviceID).Scan(&n)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		return s.insertTokens(ctx, tx, localpart, deviceID, access, refresh)
	})
	if err != nil {
		return fmt.Errorf("accounts: create tokens for device %q of %q: %w", deviceID, localpart, err)
	}
	return nil
}

// insertTokens inserts the refresh token (if any), then the access token
// pointing at it.
func (s *Store) insertTokens(ctx context.Context, tx *sql.Tx, localpart, deviceID string, access NewToken, refresh *NewToken) error {
	now := s.nowMS()
	var refreshID sql.NullInt64
	if refresh != nil {
		err := tx.QueryRowContext(ctx, s.q(`
			INSERT INTO refresh_tokens (token_hash, localpart, device_id, created_ts, expires_ts)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`),
			HashToken(refresh.Token), localpart, deviceID, now, nullable(refresh.ExpiresTS)).
			Scan(&refreshID.Int64)
		if s.dialect.IsUniqueViolation(err) {
			return ErrTokenExists
		}
		if err != nil {
			return fmt.Errorf("insert refresh token: %w", err)
		}
		refreshID.Valid = true
	}
	_, err := tx.ExecContext(ctx, s.q(`
		INSERT INTO access_tokens (token_hash, localpart, device_id, refresh_token_id, created_ts, expires_ts)
		VALUES ($1, $2, $3, $4, $5, $6)`),
		HashToken(access.Token), localpart, deviceID, refreshID, now, nullable(access.ExpiresTS))
	if s.dialect.IsUniqueViolation(err) {
		return ErrTokenExists
	}
	if err != nil {
		return fmt.Errorf("insert access token: %w", err)
	}
	return nil
}

// LookupAccessToken returns the session an access token belongs to. It
// returns [ErrNotFound] for an unknown token, and for an expired one the
// session together with [ErrTokenExpired] (so the caller can answer with a
// soft logout).
func (s *Store) LookupAccessToken(ctx context.Context, token string) (Session, error) {
	var (
		sess    Session
		expires sql.NullInt64
	)
	err := s.db.Read().QueryRowContext(ctx, s.q(`
		SELECT t.localpart, t.device_id, t.expires_ts, u.is_admin, u.is_guest
		FROM access_tokens t JOIN users u ON u.localpart = t.localpart
		WHERE t.token_hash = $1`), HashToken(token)).
		Scan(&sess.Localpart, &sess.DeviceID, &expires, &sess.IsAdmin, &sess.IsGuest)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("accounts: access token: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("accounts: look up access token: %w", err)
	}
	sess.ExpiresTS = orZero(expires)
	if sess.ExpiresTS != 0 && sess.ExpiresTS <= s.nowMS() {
		return sess, fmt.Errorf("accounts: access token of device %q of %q: %w", sess.DeviceID, sess.Localpart, ErrTokenExpired)
	}
	return sess, nil
}

// DeleteAccessToken deletes an access token (logout) and the refresh token
// issued with it. The device stays.
func (s *Store) DeleteAccessToken(ctx context.Context, token string) error {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var refreshID sql.NullInt64
		err := tx.QueryRowContext(ctx, s.q(`
			DELETE FROM access_tokens WHERE token_hash = $1 RETURNING refresh_token_id`),
			HashToken(token)).Scan(&refreshID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil || !refreshID.Valid {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`DELETE FROM refresh_tokens WHERE id = $1`), refreshID.Int64)
		return err
	})
	if err != nil {
		return fmt.Errorf("accounts: delete access token: %w", err)
	}
	return nil
}

// RotateRefreshToken uses a refresh token: in one transaction it deletes the
// refresh token and the access token issued with it, and stores newAccess and
// newRefresh for the same device. A refresh token works once: of concurrent
// uses exactly one succeeds and the others get [ErrNotFound]. An expired
// refresh token returns [ErrTokenExpired] and changes nothing. The returned
// session describes the new access token.
func (s *Store) RotateRefreshToken(ctx context.Context, refreshToken string, newAccess, newRefresh NewToken) (Session, error) {
	var sess Session
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var expires sql.NullInt64
		// The DELETE is the claim: under concurrency only one transaction
		// deletes the row, the others find nothing.
		err := tx.QueryRowContext(ctx, s.q(`
			DELETE FROM refresh_tokens WHERE token_hash = $1
			RETURNING localpart, device_id, expires_ts`), HashToken(refreshToken)).
			Scan(&sess.Localpart, &sess.DeviceID, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if e := orZero(expires); e != 0 && e <= s.nowMS() {
			return ErrTokenExpired // rolls the DELETE back
		}
		err = tx.QueryRowContext(ctx, s.q(`SELECT is_admin, is_guest FROM users WHERE localpart = $1`),
			sess.Localpart).Scan(&sess.IsAdmin, &sess.IsGuest)
		if err != nil {
			return fmt.Errorf("read user: %w", err)
		}
		return s.insertTokens(ctx, tx, sess.Localpart, sess.DeviceID, newAccess, &newRefresh)
	})
	if err != nil {
		return Session{}, fmt.Errorf("accounts: rotate refresh token: %w", err)
	}
	sess.ExpiresTS = newAccess.ExpiresTS
	return sess, nil
}

// DeleteDeviceTokens ends every access and refresh token of one device and
// keeps the device itself (its display name, keys and history). It returns
// [ErrNotFound] for an unknown device.
func (s *Store) DeleteDeviceTokens(ctx context.Context, localpart, deviceID string) error {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM devices WHERE localpart = $1 AND device_id = $2`),
			localpart, deviceID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM access_tokens WHERE localpart = $1 AND device_id = $2`),
			localpart, deviceID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`DELETE FROM refresh_tokens WHERE localpart = $1 AND device_id = $2`),
			localpart, deviceID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("accounts: delete device tokens: %w", err)
	}
	return nil
}
