package accounts_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/storage/accounts"
)

func TestAccessTokenLookup(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		f.mustUser(t, "alice", "PHONE")
		require.NoError(t, f.SetAdmin(f.ctx, "alice", true))
		expires := f.clock.MS() + 60_000
		require.NoError(t, f.CreateTokens(f.ctx, "alice", "PHONE", accounts.NewToken{Token: "syt_alice", ExpiresTS: expires}, nil))

		sess, err := f.LookupAccessToken(f.ctx, "syt_alice")
		require.NoError(t, err)
		assert.Equal(t, accounts.Session{Localpart: "alice", DeviceID: "PHONE", ExpiresTS: expires, IsAdmin: true}, sess)

		_, err = f.LookupAccessToken(f.ctx, "syt_other")
		assert.ErrorIs(t, err, accounts.ErrNotFound)

		// Expired: the session comes back with ErrTokenExpired (soft logout).
		f.clock.Advance(time.Minute)
		sess, err = f.LookupAccessToken(f.ctx, "syt_alice")
		assert.ErrorIs(t, err, accounts.ErrTokenExpired)
		assert.Equal(t, "alice", sess.Localpart)
		assert.Equal(t, "PHONE", sess.DeviceID)

		// A token without expiry never expires.
		require.NoError(t, f.CreateTokens(f.ctx, "alice", "PHONE", accounts.NewToken{Token: "syt_forever"}, nil))
		f.clock.Advance(1000 * time.Hour)
		sess, err = f.LookupAccessToken(f.ctx, "syt_forever")
		require.NoError(t, err)
		assert.Zero(t, sess.ExpiresTS)

		// Same token twice, and tokens for unknown devices, are refused.
		err = f.CreateTokens(f.ctx, "alice", "PHONE", accounts.NewToken{Token: "syt_forever"}, nil)
		assert.ErrorIs(t, err, accounts.ErrTokenExists)
		err = f.CreateTokens(f.ctx, "alice", "NOPE", accounts.NewToken{Token: "syt_x"}, nil)
		assert.ErrorIs(t, err, accounts.ErrNotFound)
		err = f.CreateTokens(f.ctx, "nobody", "PHONE", accounts.NewToken{Token: "syt_y"}, nil)
		assert.ErrorIs(t, err, accounts.ErrNotFound)
	})
}

func TestTokensStoredOnlyAsHashes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		f.mustUser(t, "alice", "PHONE")
		require.NoError(t, f.CreateTokens(f.ctx, "alice", "PHONE",
			accounts.NewToken{Token: "syt_plain_access"}, &accounts.NewToken{Token: "syr_plain_refresh"}))

		for table, token := range map[string]string{"access_tokens": "syt_plain_access", "refresh_tokens": "syr_plain_refresh"} {
			var hash []byte
			require.NoError(t, f.db.Read().QueryRow(`SELECT token_hash FROM `+table).Scan(&hash))
			assert.Equal(t, accounts.HashToken(token), hash, table)
			assert.False(t, bytes.Contains(hash, []byte(token)), table)
		}
	})
}

func TestDeleteAccessToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		f.mustUser(t, "alice", "PHONE")
		require.NoError(t, f.CreateTokens(f.ctx, "alice", "PHONE",
			accounts.NewToken{Token: "a1"}, &accounts.NewToken{Token: "r1"}))
		require.NoError(t, f.CreateTokens(f.ctx, "alice", "PHONE", accounts.NewToken{Token: "a2"}, nil))

		require.NoError(t, f.DeleteAccessToken(f.ctx, "a1"))
		_, err := f.LookupAccessToken(f.ctx, "a1")
		assert.ErrorIs(t, err, accounts.ErrNotFound)
		_, err = f.RotateRefreshToken(f.ctx, "r1", accounts.NewToken{Token: "a3"}, accounts.NewToken{Token: "r3"})
		assert.ErrorIs(t, err, accounts.ErrNotFound, "its refresh token went with it")

		sess, err := f.LookupAccessToken(f.ctx, "a2")
		require.NoError(t, err, "other tokens of the device stay")
		assert.Equal(t, "PHONE", sess.DeviceID)
		_, err = f.GetDevice(f.ctx, "alice", "PHONE")
		assert.NoError(t, err, "the device stays")

		assert.ErrorIs(t, f.DeleteAccessToken(f.ctx, "a1"), accounts.ErrNotFound)
		require.NoError(t, f.DeleteAccessToken(f.ctx, "a2"), "a token without refresh token")
	})
}

func TestRotateRefreshToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		f.mustUser(t, "alice", "PHONE")
		require.NoError(t, f.CreateTokens(f.ctx, "alice", "PHONE",
			accounts.NewToken{Token: "a1", ExpiresTS: f.clock.MS() + 1000},
			&accounts.NewToken{Token: "r1"}))

		newExpiry := f.clock.MS() + 5000
		sess, err := f.RotateRefreshToken(f.ctx, "r1",
			accounts.NewToken{Token: "a2", ExpiresTS: newExpiry}, accounts.NewToken{Token: "r2"})
		require.NoError(t, err)
		assert.Equal(t, accounts.Session{Localpart: "alice", DeviceID: "PHONE", ExpiresTS: newExpiry}, sess)

		_, err = f.LookupAccessToken(f.ctx, "a1")
		assert.ErrorIs(t, err, accounts.ErrNotFound, "the old access token is gone")
		got, err := f.LookupAccessToken(f.ctx, "a2")
		require.NoError(t, err)
		assert.Equal(t, sess, got)

		// Single use: the old refresh token no longer works.
		_, err = f.RotateRefreshToken(f.ctx, "r1", accounts.NewToken{Token: "a3"}, accounts.NewToken{Token: "r3"})
		assert.ErrorIs(t, err, accounts.ErrNotFound)
		_, err = f.LookupAccessToken(f.ctx, "a3")
		assert.ErrorIs(t, err, accounts.ErrNotFound, "a failed rotation stores nothing")

		// The new one does, once.
		_, err = f.RotateRefreshToken(f.ctx, "r2", accounts.NewToken{Token: "a3"}, accounts.NewToken{Token: "r3"})
		require.NoError(t, err)
		assert.Equal(t, 1, f.count(t, "refresh_tokens", "localpart = 'alice'"))
		assert.Equal(t, 1, f.count(t, "access_tokens", "localpart = 'alice'"))
	})
}

func TestRotateExpiredRefreshToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		f.mustUser(t, "alice", "PHONE")
		require.NoError(t, f.CreateTokens(f.ctx, "alice", "PHONE",
			accounts.NewToken{Token: "a1"}, &accounts.NewToken{Token: "r1", ExpiresTS: f.clock.MS() + 1000}))
		f.clock.Advance(2 * time.Second)
		_, err := f.RotateRefreshToken(f.ctx, "r1", accounts.NewToken{Token: "a2"}, accounts.NewToken{Token: "r2"})
		assert.ErrorIs(t, err, accounts.ErrTokenExpired)
		_, err = f.LookupAccessToken(f.ctx, "a2")
		assert.ErrorIs(t, err, accounts.ErrNotFound)
		_, err = f.LookupAccessToken(f.ctx, "a1")
		assert.NoError(t, err, "nothing changed")
	})
}

func TestRotateRefreshTokenConcurrently(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		f.mustUser(t, "alice", "PHONE")
		for round := range 5 {
			refresh := fmt.Sprintf("r%d", round)
			require.NoError(t, f.CreateTokens(f.ctx, "alice", "PHONE",
				accounts.NewToken{Token: fmt.Sprintf("a%d", round)}, &accounts.NewToken{Token: refresh}))

			errs := concurrently(2, func(i int) error {
				_, err := f.RotateRefreshToken(f.ctx, refresh,
					accounts.NewToken{Token: fmt.Sprintf("a%d-%d", round, i)},
					accounts.NewToken{Token: fmt.Sprintf("r%d-%d", round, i)})
				return err
			})
			winner := -1
			for i, err := range errs {
				if err == nil {
					assert.Equal(t, -1, winner, "round %d: two winners", round)
					winner = i
					continue
				}
				assert.Truef(t, errors.Is(err, accounts.ErrNotFound), "round %d: loser got %v", round, err)
			}
			require.NotEqual(t, -1, winner, "round %d: no winner", round)

			_, err := f.LookupAccessToken(f.ctx, fmt.Sprintf("a%d-%d", round, winner))
			assert.NoError(t, err)
			_, err = f.LookupAccessToken(f.ctx, fmt.Sprintf("a%d-%d", round, 1-winner))
			assert.ErrorIs(t, err, accounts.ErrNotFound, "the loser stored nothing")
			// Clean up the pair so the next round starts from one token.
			require.NoError(t, f.DeleteAccessToken(f.ctx, fmt.Sprintf("a%d-%d", round, winner)))
		}
	})
}
