package accounts_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/storage/accounts"
)

func TestNewNeedsDB(t *testing.T) {
	_, err := accounts.New(accounts.Deps{})
	assert.Error(t, err)
}

func TestHashToken(t *testing.T) {
	h := accounts.HashToken("syt_secret")
	assert.Len(t, h, 32)
	assert.Equal(t, h, accounts.HashToken("syt_secret"))
	assert.NotEqual(t, h, accounts.HashToken("syt_secret2"))
}

func TestCreateAndGetUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		created, err := f.CreateUser(f.ctx, accounts.NewUser{
			Localpart: "alice", PasswordHash: "$2a$10$alice", DisplayName: "Alice", IsAdmin: true,
		})
		require.NoError(t, err)
		want := accounts.User{Localpart: "alice", PasswordHash: "$2a$10$alice", CreatedTS: f.clock.MS(), IsAdmin: true}
		assert.Equal(t, want, created)

		got, err := f.GetUser(f.ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, want, got)

		profile, err := f.GetProfile(f.ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, accounts.Profile{DisplayName: "Alice"}, profile)

		guest, err := f.CreateUser(f.ctx, accounts.NewUser{Localpart: "12345", IsGuest: true})
		require.NoError(t, err)
		got, err = f.GetUser(f.ctx, "12345")
		require.NoError(t, err)
		assert.Equal(t, guest, got)
		assert.True(t, got.IsGuest)
		assert.Empty(t, got.PasswordHash, "no password stored")

		_, err = f.GetUser(f.ctx, "nobody")
		assert.ErrorIs(t, err, accounts.ErrNotFound)

		_, err = f.CreateUser(f.ctx, accounts.NewUser{})
		assert.Error(t, err)
	})
}

func TestCreateUserTwice(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		_, err := f.CreateUser(f.ctx, accounts.NewUser{Localpart: "alice", PasswordHash: "first"})
		require.NoError(t, err)
		_, err = f.CreateUser(f.ctx, accounts.NewUser{Localpart: "alice", PasswordHash: "second"})
		assert.ErrorIs(t, err, accounts.ErrUserExists)

		got, err := f.GetUser(f.ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, "first", got.PasswordHash, "the first user is untouched")

		// Racing registrations of one name: exactly one wins.
		errs := concurrently(8, func(int) error {
			_, err := f.CreateUser(f.ctx, accounts.NewUser{Localpart: "bob"})
			return err
		})
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
			} else {
				assert.ErrorIs(t, err, accounts.ErrUserExists)
			}
		}
		assert.Equal(t, 1, wins)
		assert.Equal(t, 1, f.count(t, "profiles", "localpart = 'bob'"))
	})
}

func TestSetPasswordAndAdmin(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		f.mustUser(t, "alice", "")
		require.NoError(t, f.SetPasswordHash(f.ctx, "alice", "$2a$10$new"))
		require.NoError(t, f.SetAdmin(f.ctx, "alice", true))
		got, err := f.GetUser(f.ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, "$2a$10$new", got.PasswordHash)
		assert.True(t, got.IsAdmin)

		require.NoError(t, f.SetPasswordHash(f.ctx, "alice", ""))
		require.NoError(t, f.SetAdmin(f.ctx, "alice", false))
		got, err = f.GetUser(f.ctx, "alice")
		require.NoError(t, err)
		assert.Empty(t, got.PasswordHash)
		assert.False(t, got.IsAdmin)
		assert.Equal(t, 1, f.count(t, "users", "localpart = 'alice' AND password_hash IS NULL"))

		assert.ErrorIs(t, f.SetPasswordHash(f.ctx, "nobody", "x"), accounts.ErrNotFound)
		assert.ErrorIs(t, f.SetAdmin(f.ctx, "nobody", true), accounts.ErrNotFound)
	})
}

func TestDeactivateUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		f.mustUser(t, "alice", "PHONE")
		_, err := f.CreateDevice(f.ctx, "alice", "LAPTOP", "Laptop")
		require.NoError(t, err)
		require.NoError(t, f.CreateTokens(f.ctx, "alice", "PHONE", accounts.NewToken{Token: "a1"}, &accounts.NewToken{Token: "r1"}))
		require.NoError(t, f.CreateTokens(f.ctx, "alice", "LAPTOP", accounts.NewToken{Token: "a2"}, nil))
		require.NoError(t, f.SetDisplayName(f.ctx, "alice", "Alice"))
		require.NoError(t, f.SetAvatarURL(f.ctx, "alice", "mxc://example.org/abc"))
		f.mustUser(t, "bob", "BOBPHONE")
		require.NoError(t, f.CreateTokens(f.ctx, "bob", "BOBPHONE", accounts.NewToken{Token: "b1"}, nil))

		require.NoError(t, f.DeactivateUser(f.ctx, "alice"))

		got, err := f.GetUser(f.ctx, "alice")
		require.NoError(t, err)
		assert.True(t, got.Deactivated)
		assert.Empty(t, got.PasswordHash)
		devices, err := f.ListDevices(f.ctx, "alice")
		require.NoError(t, err)
		assert.Empty(t, devices)
		for _, tok := range []string{"a1", "a2"} {
			_, err = f.LookupAccessToken(f.ctx, tok)
			assert.ErrorIs(t, err, accounts.ErrNotFound, tok)
		}
		assert.Zero(t, f.count(t, "refresh_tokens", "localpart = 'alice'"))
		profile, err := f.GetProfile(f.ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, accounts.Profile{}, profile)

		// The localpart stays taken and cannot get new devices.
		_, err = f.CreateUser(f.ctx, accounts.NewUser{Localpart: "alice"})
		assert.ErrorIs(t, err, accounts.ErrUserExists)
		_, err = f.CreateDevice(f.ctx, "alice", "NEW", "")
		assert.ErrorIs(t, err, accounts.ErrUserDeactivated)

		// Other users are untouched; deactivating again is fine.
		sess, err := f.LookupAccessToken(f.ctx, "b1")
		require.NoError(t, err)
		assert.Equal(t, "bob", sess.Localpart)
		require.NoError(t, f.DeactivateUser(f.ctx, "alice"))
		assert.ErrorIs(t, f.DeactivateUser(f.ctx, "nobody"), accounts.ErrNotFound)
	})
}
