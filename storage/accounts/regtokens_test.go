package accounts_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/storage/accounts"
)

func TestRegistrationTokenCRUD(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		expiry := f.clock.MS() + 60_000
		created, err := f.CreateRegistrationToken(f.ctx, "abcd", ptr(3), &expiry)
		require.NoError(t, err)
		want := accounts.RegistrationToken{Token: "abcd", UsesAllowed: ptr(3), ExpiryTime: &expiry}
		assert.Equal(t, want, created)

		got, err := f.GetRegistrationToken(f.ctx, "abcd")
		require.NoError(t, err)
		assert.Equal(t, want, got)

		unlimited, err := f.CreateRegistrationToken(f.ctx, "open", nil, nil)
		require.NoError(t, err)
		got, err = f.GetRegistrationToken(f.ctx, "open")
		require.NoError(t, err)
		assert.Equal(t, unlimited, got)
		assert.Nil(t, got.UsesAllowed)
		assert.Nil(t, got.ExpiryTime)

		_, err = f.CreateRegistrationToken(f.ctx, "abcd", nil, nil)
		assert.ErrorIs(t, err, accounts.ErrRegistrationTokenExists)
		_, err = f.CreateRegistrationToken(f.ctx, "", nil, nil)
		assert.Error(t, err)
		_, err = f.CreateRegistrationToken(f.ctx, "neg", ptr(-1), nil)
		assert.Error(t, err)
		_, err = f.GetRegistrationToken(f.ctx, "nope")
		assert.ErrorIs(t, err, accounts.ErrNotFound)

		// Update one field, then the other, then clear both.
		upd, err := f.UpdateRegistrationToken(f.ctx, "abcd", accounts.RegistrationTokenUpdate{SetUsesAllowed: true, UsesAllowed: ptr(10)})
		require.NoError(t, err)
		assert.Equal(t, accounts.RegistrationToken{Token: "abcd", UsesAllowed: ptr(10), ExpiryTime: &expiry}, upd)
		later := expiry + 1
		upd, err = f.UpdateRegistrationToken(f.ctx, "abcd", accounts.RegistrationTokenUpdate{SetExpiryTime: true, ExpiryTime: &later})
		require.NoError(t, err)
		assert.Equal(t, accounts.RegistrationToken{Token: "abcd", UsesAllowed: ptr(10), ExpiryTime: &later}, upd)
		upd, err = f.UpdateRegistrationToken(f.ctx, "abcd", accounts.RegistrationTokenUpdate{SetUsesAllowed: true, SetExpiryTime: true})
		require.NoError(t, err)
		assert.Equal(t, accounts.RegistrationToken{Token: "abcd"}, upd)
		got, err = f.GetRegistrationToken(f.ctx, "abcd")
		require.NoError(t, err)
		assert.Equal(t, upd, got)
		_, err = f.UpdateRegistrationToken(f.ctx, "nope", accounts.RegistrationTokenUpdate{SetUsesAllowed: true})
		assert.ErrorIs(t, err, accounts.ErrNotFound)

		require.NoError(t, f.DeleteRegistrationToken(f.ctx, "abcd"))
		_, err = f.GetRegistrationToken(f.ctx, "abcd")
		assert.ErrorIs(t, err, accounts.ErrNotFound)
		assert.ErrorIs(t, f.DeleteRegistrationToken(f.ctx, "abcd"), accounts.ErrNotFound)
	})
}

func TestRegistrationTokenUses(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		_, err := f.CreateRegistrationToken(f.ctx, "two", ptr(2), nil)
		require.NoError(t, err)

		require.NoError(t, f.ReserveRegistrationToken(f.ctx, "two"))
		require.NoError(t, f.ReserveRegistrationToken(f.ctx, "two"))
		assert.ErrorIs(t, f.ReserveRegistrationToken(f.ctx, "two"), accounts.ErrRegistrationTokenInvalid,
			"pending uses count against uses_allowed")
		valid, err := f.RegistrationTokenValid(f.ctx, "two")
		require.NoError(t, err)
		assert.False(t, valid)

		require.NoError(t, f.CompleteRegistrationToken(f.ctx, "two"))
		require.NoError(t, f.ReleaseRegistrationToken(f.ctx, "two"))
		got, err := f.GetRegistrationToken(f.ctx, "two")
		require.NoError(t, err)
		assert.Equal(t, accounts.RegistrationToken{Token: "two", UsesAllowed: ptr(2), Pending: 0, Completed: 1}, got)

		valid, err = f.RegistrationTokenValid(f.ctx, "two")
		require.NoError(t, err)
		assert.True(t, valid, "a released use is available again")
		require.NoError(t, f.ReserveRegistrationToken(f.ctx, "two"))

		assert.ErrorIs(t, f.CompleteRegistrationToken(f.ctx, "open"), accounts.ErrNotFound)
		_, err = f.CreateRegistrationToken(f.ctx, "idle", nil, nil)
		require.NoError(t, err)
		assert.ErrorIs(t, f.CompleteRegistrationToken(f.ctx, "idle"), accounts.ErrNotFound, "nothing pending")
		assert.ErrorIs(t, f.ReleaseRegistrationToken(f.ctx, "idle"), accounts.ErrNotFound, "nothing pending")
		assert.ErrorIs(t, f.ReserveRegistrationToken(f.ctx, "nope"), accounts.ErrNotFound)
		valid, err = f.RegistrationTokenValid(f.ctx, "nope")
		require.NoError(t, err)
		assert.False(t, valid)
	})
}

func TestRegistrationTokenExpiryAndListing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		soon := f.clock.MS() + 1000
		_, err := f.CreateRegistrationToken(f.ctx, "a-expiring", nil, &soon)
		require.NoError(t, err)
		_, err = f.CreateRegistrationToken(f.ctx, "b-unlimited", nil, nil)
		require.NoError(t, err)
		_, err = f.CreateRegistrationToken(f.ctx, "c-zero", ptr(0), nil)
		require.NoError(t, err)

		list := func(valid *bool) []string {
			t.Helper()
			toks, err := f.ListRegistrationTokens(f.ctx, valid)
			require.NoError(t, err)
			var names []string
			for _, tok := range toks {
				names = append(names, tok.Token)
			}
			return names
		}
		yes, no := true, false
		assert.Equal(t, []string{"a-expiring", "b-unlimited", "c-zero"}, list(nil))
		assert.Equal(t, []string{"a-expiring", "b-unlimited"}, list(&yes))
		assert.Equal(t, []string{"c-zero"}, list(&no))

		require.NoError(t, f.ReserveRegistrationToken(f.ctx, "a-expiring"))
		f.clock.Advance(time.Second)
		assert.ErrorIs(t, f.ReserveRegistrationToken(f.ctx, "a-expiring"), accounts.ErrRegistrationTokenInvalid)
		assert.Equal(t, []string{"b-unlimited"}, list(&yes))
		assert.Equal(t, []string{"a-expiring", "c-zero"}, list(&no))
		// A registration that reserved before expiry may still complete.
		require.NoError(t, f.CompleteRegistrationToken(f.ctx, "a-expiring"))

		all, err := f.ListRegistrationTokens(f.ctx, nil)
		require.NoError(t, err)
		require.Len(t, all, 3)
		assert.Equal(t, accounts.RegistrationToken{Token: "a-expiring", Completed: 1, ExpiryTime: &soon}, all[0])
		assert.False(t, all[0].Valid(f.clock.MS()))
		assert.True(t, all[1].Valid(f.clock.MS()))
		assert.False(t, all[2].Valid(f.clock.MS()))
	})
}

func TestRegistrationTokenConcurrentUse(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		_, err := f.CreateRegistrationToken(f.ctx, "three", ptr(3), nil)
		require.NoError(t, err)

		errs := concurrently(12, func(int) error { return f.ReserveRegistrationToken(f.ctx, "three") })
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				assert.ErrorIs(t, err, accounts.ErrRegistrationTokenInvalid)
			}
		}
		assert.Equal(t, 3, ok, "exactly uses_allowed reservations succeed")

		errs = concurrently(3, func(int) error { return f.CompleteRegistrationToken(f.ctx, "three") })
		for _, err := range errs {
			require.NoError(t, err)
		}
		got, err := f.GetRegistrationToken(f.ctx, "three")
		require.NoError(t, err)
		assert.Equal(t, accounts.RegistrationToken{Token: "three", UsesAllowed: ptr(3), Completed: 3}, got)
	})
}
