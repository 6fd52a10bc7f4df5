package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Profile is a user's public profile. "" means unset.
type Profile struct {
	DisplayName string
	AvatarURL   string
}

// GetProfile returns the user's profile.
func (s *Store) GetProfile(ctx context.Context, localpart string) (Profile, error) {
	var p Profile
	err := s.db.Read().QueryRowContext(ctx, s.q(`
		SELECT displayname, avatar_url FROM profiles WHERE localpart = $1`), localpart).
		Scan(&p.DisplayName, &p.AvatarURL)
	if errors.Is(err, sql.ErrNoRows) {
		return Profile{}, fmt.Errorf("accounts: profile of %q: %w", localpart, ErrNotFound)
	}
	if err != nil {
		return Profile{}, fmt.Errorf("accounts: get profile of %q: %w", localpart, err)
	}
	return p, nil
}

// SetDisplayName sets the user's displayname; "" unsets it.
func (s *Store) SetDisplayName(ctx context.Context, localpart, name string) error {
	return s.updateProfile(ctx, "displayname", localpart,
		`UPDATE profiles SET displayname = $2 WHERE localpart = $1`, name)
}

// SetAvatarURL sets the user's avatar (an mxc:// URI); "" unsets it.
func (s *Store) SetAvatarURL(ctx context.Context, localpart, url string) error {
	return s.updateProfile(ctx, "avatar_url", localpart,
		`UPDATE profiles SET avatar_url = $2 WHERE localpart = $1`, url)
}

func (s *Store) updateProfile(ctx context.Context, field, localpart, query, value string) error {
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		return expectOne(tx.ExecContext(ctx, s.q(query), localpart, value))
	})
	if err != nil {
		return fmt.Errorf("accounts: set %s of %q: %w", field, localpart, err)
	}
	return nil
}
