package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/concordchat/concord/storage"
)

// Device is one of a user's devices (sessions).
type Device struct {
	Localpart   string
	DeviceID    string
	DisplayName string // "" when unset
	CreatedTS   int64
	LastSeenTS  int64  // 0 when never seen
	LastSeenIP  string // "" when never seen
}

const deviceColumns = `localpart, device_id, display_name, created_ts, last_seen_ts, last_seen_ip`

func scanDevice(row interface{ Scan(...any) error }) (Device, error) {
	var d Device
	err := row.Scan(&d.Localpart, &d.DeviceID, &d.DisplayName, &d.CreatedTS, &d.LastSeenTS, &d.LastSeenIP)
	return d, err
}

// CreateDevice adds a device to an existing, active user. It returns
// [ErrNotFound] for an unknown user, [ErrUserDeactivated] for a deactivated
// one and [ErrDeviceExists] when the user already has deviceID.
func (s *Store) CreateDevice(ctx context.Context, localpart, deviceID, displayName string) (Device, error) {
	if deviceID == "" {
		return Device{}, errors.New("accounts: create device: empty device ID")
	}
	d := Device{Localpart: localpart, DeviceID: deviceID, DisplayName: displayName, CreatedTS: s.nowMS()}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var deactivated bool
		err := tx.QueryRowContext(ctx, s.q(`SELECT deactivated FROM users WHERE localpart = $1`), localpart).
			Scan(&deactivated)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if deactivated {
			return ErrUserDeactivated
		}
		_, err = tx.ExecContext(ctx, s.q(`
			INSERT INTO devices (localpart, device_id, display_name, created_ts)
			VALUES ($1, $2, $3, $4)`), localpart, deviceID, displayName, d.CreatedTS)
		if s.dialect.IsUniqueViolation(err) {
			return ErrDeviceExists
		}
		return err
	})
	if err != nil {
		return Device{}, fmt.Errorf("accounts: create device %q of %q: %w", deviceID, localpart, err)
	}
	return d, nil
}

// GetDevice returns one device of a user.
func (s *Store) GetDevice(ctx context.Context, localpart, deviceID string) (Device, error) {
	d, err := scanDevice(s.db.Read().QueryRowContext(ctx, s.q(`
		SELECT `+deviceColumns+` FROM devices WHERE localpart = $1 AND device_id = $2`),
		localpart, deviceID))
	if errors.Is(err, sql.ErrNoRows) {
		return Device{}, fmt.Errorf("accounts: device %q of %q: %w", deviceID, localpart, ErrNotFound)
	}
	if err != nil {
		return Device{}, fmt.Errorf("accounts: get device %q of %q: %w", deviceID, localpart, err)
	}
	return d, nil
}

// ListDevices returns the user's devices ordered by device ID; none for an
// unknown user.
func (s *Store) ListDevices(ctx context.Context, localpart string) ([]Device, error) {
	rows, err := s.db.Read().QueryContext(ctx, s.q(`
		SELECT `+deviceColumns+` FROM devices WHERE localpart = $1 ORDER BY device_id`), localpart)
	if err != nil {
		return nil, fmt.Errorf("accounts: list devices of %q: %w", localpart, err)
	}
	defer func() { _ = rows.Close() }()
	var out []Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("accounts: list devices of %q: %w", localpart, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accounts: list devices of %q: %w", localpart, err)
	}
	return out, nil
}

// SetDeviceDisplayName renames a device; "" unsets the name.
func (s *Store) SetDeviceDisplayName(ctx context.Context, localpart, deviceID, name string) error {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		return expectOne(tx.ExecContext(ctx, s.q(`
			UPDATE devices SET display_name = $3 WHERE localpart = $1 AND device_id = $2`),
			localpart, deviceID, name))
	})
	if err != nil {
		return fmt.Errorf("accounts: rename device %q of %q: %w", deviceID, localpart, err)
	}
	return nil
}

// TouchDevice records that the device was seen at tsMS from ip. An older
// timestamp than the stored one is ignored, so out-of-order updates are
// harmless.
func (s *Store) TouchDevice(ctx context.Context, localpart, deviceID string, tsMS int64, ip string) error {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var exists int
		err := tx.QueryRowContext(ctx, s.q(`
			SELECT COUNT(*) FROM devices WHERE localpart = $1 AND device_id = $2`),
			localpart, deviceID).Scan(&exists)
		if err != nil {
			return err
		}
		if exists == 0 {
			return ErrNotFound
		}
		_, err = tx.ExecContext(ctx, s.q(`
			UPDATE devices SET last_seen_ts = $3, last_seen_ip = $4
			WHERE localpart = $1 AND device_id = $2 AND last_seen_ts <= $3`),
			localpart, deviceID, tsMS, ip)
		return err
	})
	if err != nil {
		return fmt.Errorf("accounts: touch device %q of %q: %w", deviceID, localpart, err)
	}
	return nil
}

// DeleteDevice deletes a device together with its access and refresh tokens.
func (s *Store) DeleteDevice(ctx context.Context, localpart, deviceID string) error {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		return expectOne(tx.ExecContext(ctx, s.q(`
			DELETE FROM devices WHERE localpart = $1 AND device_id = $2`), localpart, deviceID))
	})
	if err != nil {
		return fmt.Errorf("accounts: delete device %q of %q: %w", deviceID, localpart, err)
	}
	return nil
}

// DeleteDevices deletes those of deviceIDs the user has, with their tokens,
// and returns how many were deleted. Unknown IDs are skipped.
func (s *Store) DeleteDevices(ctx context.Context, localpart string, deviceIDs []string) (int64, error) {
	cond, args := storage.InList(s.dialect, "device_id", 2, deviceIDs)
	var n int64
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM devices WHERE localpart = $1 AND `+cond),
			append([]any{localpart}, args...)...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("accounts: delete devices of %q: %w", localpart, err)
	}
	return n, nil
}

// DeleteOtherDevices deletes every device of the user except keepDeviceID
// (none when it is ""), with their tokens, and returns how many were deleted.
func (s *Store) DeleteOtherDevices(ctx context.Context, localpart, keepDeviceID string) (int64, error) {
	var n int64
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`
			DELETE FROM devices WHERE localpart = $1 AND device_id <> $2`), localpart, keepDeviceID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("accounts: delete other devices of %q: %w", localpart, err)
	}
	return n, nil
}
