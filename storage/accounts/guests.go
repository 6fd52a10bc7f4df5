package accounts

import (
	"context"
	"database/sql"
	"fmt"

	"go.uber.org/zap"

	"github.com/concordchat/concord/storage"
)

// UpgradeGuest turns a guest account into a full account with a password
// (client-server API, "Guest Access": a guest registers with its guest
// access token). The localpart, devices and tokens stay; the guest's access
// tokens now act for a full account. admin grants server admin rights (the
// first full account of a server). It returns [ErrNotFound] when the user
// does not exist, is deactivated or is not a guest (any more).
func (s *Store) UpgradeGuest(ctx context.Context, localpart, passwordHash string, admin bool) error {
	if passwordHash == "" {
		return fmt.Errorf("accounts: upgrade guest %q: empty password hash", localpart)
	}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		return expectOne(tx.ExecContext(ctx, s.q(`
			UPDATE users SET is_guest = FALSE, password_hash = $2, is_admin = $3
			WHERE localpart = $1 AND is_guest AND NOT deactivated`), localpart, passwordHash, admin))
	})
	if err != nil {
		return fmt.Errorf("accounts: upgrade guest %q: %w", localpart, err)
	}
	s.log.Info("upgraded guest to a full account", zap.String("localpart", localpart), zap.Bool("admin", admin))
	return nil
}

// CountFullUsers returns how many accounts that are not guests exist
// (deactivated ones included): the first-admin rule counts these.
func (s *Store) CountFullUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE NOT is_guest`).Scan(&n); err != nil {
		return 0, fmt.Errorf("accounts: count full users: %w", err)
	}
	return n, nil
}

// Guests returns those of localparts that are guest accounts, in no order.
func (s *Store) Guests(ctx context.Context, localparts []string) ([]string, error) {
	if len(localparts) == 0 {
		return nil, nil
	}
	cond, args := storage.InList(s.dialect, "localpart", 1, localparts)
	rows, err := s.db.Read().QueryContext(ctx, s.q(`SELECT localpart FROM users WHERE is_guest AND `+cond), args...)
	if err != nil {
		return nil, fmt.Errorf("accounts: guests: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var lp string
		if err := rows.Scan(&lp); err != nil {
			return nil, fmt.Errorf("accounts: guests: %w", err)
		}
		out = append(out, lp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accounts: guests: %w", err)
	}
	return out, nil
}
