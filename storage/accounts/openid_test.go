package accounts_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/storage/accounts"
)

func TestOpenIDTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		f.mustUser(t, "alice", "")
		f.mustUser(t, "bob", "")
		hour := f.clock.Now().Add(time.Hour).UnixMilli()
		require.NoError(t, f.CreateOpenIDToken(f.ctx, "alice", "tok-a", hour))
		require.NoError(t, f.CreateOpenIDToken(f.ctx, "bob", "tok-b", f.clock.Now().Add(2*time.Hour).UnixMilli()))

		lp, err := f.LookupOpenIDToken(f.ctx, "tok-a")
		require.NoError(t, err)
		assert.Equal(t, "alice", lp)
		lp, err = f.LookupOpenIDToken(f.ctx, "tok-b")
		require.NoError(t, err)
		assert.Equal(t, "bob", lp)
		_, err = f.LookupOpenIDToken(f.ctx, "nope")
		assert.ErrorIs(t, err, accounts.ErrNotFound)
		assert.Equal(t, 0, f.count(t, "openid_tokens", "localpart = 'tok-a'"), "the token is not stored in clear")

		// The same secret twice is refused; an unknown user is refused.
		assert.ErrorIs(t, f.CreateOpenIDToken(f.ctx, "bob", "tok-a", hour), accounts.ErrTokenExists)
		assert.ErrorIs(t, f.CreateOpenIDToken(f.ctx, "nobody", "tok-x", hour), accounts.ErrNotFound)

		// Expiry: at the expiry instant alice's token is dead, bob's lives;
		// the next issue deletes the dead row.
		f.clock.Advance(time.Hour)
		_, err = f.LookupOpenIDToken(f.ctx, "tok-a")
		assert.ErrorIs(t, err, accounts.ErrTokenExpired)
		_, err = f.LookupOpenIDToken(f.ctx, "tok-b")
		assert.NoError(t, err)
		require.Equal(t, 2, f.count(t, "openid_tokens", "1 = 1"))
		require.NoError(t, f.CreateOpenIDToken(f.ctx, "alice", "tok-a2", f.clock.Now().Add(time.Hour).UnixMilli()))
		assert.Equal(t, 2, f.count(t, "openid_tokens", "1 = 1"), "the expired token was deleted")
		_, err = f.LookupOpenIDToken(f.ctx, "tok-a")
		assert.ErrorIs(t, err, accounts.ErrNotFound)

		// A deactivated user's tokens stop working and it gets no new ones.
		require.NoError(t, f.DeactivateUser(f.ctx, "bob"))
		_, err = f.LookupOpenIDToken(f.ctx, "tok-b")
		assert.ErrorIs(t, err, accounts.ErrNotFound)
		assert.ErrorIs(t, f.CreateOpenIDToken(f.ctx, "bob", "tok-b2", hour+int64(time.Hour/time.Millisecond)), accounts.ErrNotFound)
	})
}

func TestGuests(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		n, err := f.CountFullUsers(f.ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
		for _, lp := range []string{"g1", "g2", "g3"} {
			_, err := f.CreateUser(f.ctx, accounts.NewUser{Localpart: lp, IsGuest: true})
			require.NoError(t, err)
		}
		f.mustUser(t, "alice", "")
		n, err = f.CountFullUsers(f.ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(1), n, "guests are not full users")

		guests, err := f.Guests(f.ctx, []string{"alice", "g1", "g3", "unknown"})
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"g1", "g3"}, guests)
		guests, err = f.Guests(f.ctx, nil)
		require.NoError(t, err)
		assert.Empty(t, guests)

		// Upgrade: g1 becomes a full account with a password; its tokens stay.
		_, err = f.CreateDevice(f.ctx, "g1", "GDEV", "")
		require.NoError(t, err)
		require.NoError(t, f.CreateTokens(f.ctx, "g1", "GDEV", accounts.NewToken{Token: "guest-token"}, nil))
		sess, err := f.LookupAccessToken(f.ctx, "guest-token")
		require.NoError(t, err)
		assert.True(t, sess.IsGuest)
		require.NoError(t, f.UpgradeGuest(f.ctx, "g1", "$2a$10$hash", false))
		u, err := f.GetUser(f.ctx, "g1")
		require.NoError(t, err)
		assert.False(t, u.IsGuest)
		assert.False(t, u.IsAdmin)
		assert.Equal(t, "$2a$10$hash", u.PasswordHash)
		sess, err = f.LookupAccessToken(f.ctx, "guest-token")
		require.NoError(t, err)
		assert.False(t, sess.IsGuest, "the guest's token now acts for a full account")

		// Twice, a full user, an unknown user, a deactivated guest: refused.
		assert.ErrorIs(t, f.UpgradeGuest(f.ctx, "g1", "$2a$10$other", false), accounts.ErrNotFound)
		assert.ErrorIs(t, f.UpgradeGuest(f.ctx, "alice", "$2a$10$other", false), accounts.ErrNotFound)
		assert.ErrorIs(t, f.UpgradeGuest(f.ctx, "nobody", "$2a$10$other", false), accounts.ErrNotFound)
		require.NoError(t, f.DeactivateUser(f.ctx, "g2"))
		assert.ErrorIs(t, f.UpgradeGuest(f.ctx, "g2", "$2a$10$other", false), accounts.ErrNotFound)
		assert.Error(t, f.UpgradeGuest(f.ctx, "g3", "", false), "a full account needs a password")

		// The admin flag is set when asked.
		require.NoError(t, f.UpgradeGuest(f.ctx, "g3", "$2a$10$hash", true))
		u, err = f.GetUser(f.ctx, "g3")
		require.NoError(t, err)
		assert.True(t, u.IsAdmin)
		n, err = f.CountFullUsers(f.ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(3), n)
	})
}
