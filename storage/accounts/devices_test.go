package accounts_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/storage/accounts"
)

func TestDevices(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		f.mustUser(t, "alice", "")
		created := f.clock.MS()
		d, err := f.CreateDevice(f.ctx, "alice", "PHONE", "Alice's phone")
		require.NoError(t, err)
		want := accounts.Device{Localpart: "alice", DeviceID: "PHONE", DisplayName: "Alice's phone", CreatedTS: created}
		assert.Equal(t, want, d)

		got, err := f.GetDevice(f.ctx, "alice", "PHONE")
		require.NoError(t, err)
		assert.Equal(t, want, got)

		_, err = f.CreateDevice(f.ctx, "alice", "PHONE", "again")
		assert.ErrorIs(t, err, accounts.ErrDeviceExists)
		_, err = f.CreateDevice(f.ctx, "nobody", "PHONE", "")
		assert.ErrorIs(t, err, accounts.ErrNotFound)
		_, err = f.CreateDevice(f.ctx, "alice", "", "")
		assert.Error(t, err)
		_, err = f.GetDevice(f.ctx, "alice", "NOPE")
		assert.ErrorIs(t, err, accounts.ErrNotFound)

		f.clock.Advance(time.Second)
		_, err = f.CreateDevice(f.ctx, "alice", "LAPTOP", "")
		require.NoError(t, err)
		f.mustUser(t, "bob", "PHONE") // same device ID, other user

		require.NoError(t, f.SetDeviceDisplayName(f.ctx, "alice", "LAPTOP", "Work laptop"))
		require.NoError(t, f.TouchDevice(f.ctx, "alice", "LAPTOP", 1_700_000_005_000, "192.0.2.7"))
		// An older sighting does not overwrite a newer one.
		require.NoError(t, f.TouchDevice(f.ctx, "alice", "LAPTOP", 1_700_000_001_000, "192.0.2.1"))

		list, err := f.ListDevices(f.ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, []accounts.Device{
			{Localpart: "alice", DeviceID: "LAPTOP", DisplayName: "Work laptop", CreatedTS: created + 1000,
				LastSeenTS: 1_700_000_005_000, LastSeenIP: "192.0.2.7"},
			want,
		}, list)

		assert.ErrorIs(t, f.SetDeviceDisplayName(f.ctx, "alice", "NOPE", "x"), accounts.ErrNotFound)
		assert.ErrorIs(t, f.TouchDevice(f.ctx, "alice", "NOPE", 1, "x"), accounts.ErrNotFound)
		none, err := f.ListDevices(f.ctx, "nobody")
		require.NoError(t, err)
		assert.Empty(t, none)
	})
}

func TestDeleteDeviceDeletesItsTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		f.mustUser(t, "alice", "PHONE")
		_, err := f.CreateDevice(f.ctx, "alice", "LAPTOP", "")
		require.NoError(t, err)
		require.NoError(t, f.CreateTokens(f.ctx, "alice", "PHONE",
			accounts.NewToken{Token: "phone-access"}, &accounts.NewToken{Token: "phone-refresh"}))
		require.NoError(t, f.CreateTokens(f.ctx, "alice", "PHONE", accounts.NewToken{Token: "phone-access-2"}, nil))
		require.NoError(t, f.CreateTokens(f.ctx, "alice", "LAPTOP", accounts.NewToken{Token: "laptop-access"}, nil))

		require.NoError(t, f.DeleteDevice(f.ctx, "alice", "PHONE"))

		for _, tok := range []string{"phone-access", "phone-access-2"} {
			_, err = f.LookupAccessToken(f.ctx, tok)
			assert.ErrorIs(t, err, accounts.ErrNotFound, tok)
		}
		_, err = f.RotateRefreshToken(f.ctx, "phone-refresh", accounts.NewToken{Token: "x"}, accounts.NewToken{Token: "y"})
		assert.ErrorIs(t, err, accounts.ErrNotFound)
		assert.Zero(t, f.count(t, "access_tokens", "device_id = 'PHONE'"))
		assert.Zero(t, f.count(t, "refresh_tokens", "device_id = 'PHONE'"))

		sess, err := f.LookupAccessToken(f.ctx, "laptop-access")
		require.NoError(t, err)
		assert.Equal(t, "LAPTOP", sess.DeviceID)

		assert.ErrorIs(t, f.DeleteDevice(f.ctx, "alice", "PHONE"), accounts.ErrNotFound)
	})
}

func TestDeleteDevices(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		f.mustUser(t, "alice", "A")
		f.mustUser(t, "bob", "B")
		for _, id := range []string{"B", "C", "D"} {
			_, err := f.CreateDevice(f.ctx, "alice", id, "")
			require.NoError(t, err)
		}
		require.NoError(t, f.CreateTokens(f.ctx, "alice", "C", accounts.NewToken{Token: "c"}, nil))
		require.NoError(t, f.CreateTokens(f.ctx, "bob", "B", accounts.NewToken{Token: "bob-b"}, nil))

		n, err := f.DeleteDevices(f.ctx, "alice", []string{"B", "C", "UNKNOWN"})
		require.NoError(t, err)
		assert.Equal(t, int64(2), n)
		assert.Equal(t, []string{"A", "D"}, deviceIDs(t, f, "alice"))
		assert.Equal(t, []string{"B"}, deviceIDs(t, f, "bob"), "bob's device B is not alice's")
		_, err = f.LookupAccessToken(f.ctx, "c")
		assert.ErrorIs(t, err, accounts.ErrNotFound)
		_, err = f.LookupAccessToken(f.ctx, "bob-b")
		assert.NoError(t, err)

		n, err = f.DeleteDevices(f.ctx, "alice", nil)
		require.NoError(t, err)
		assert.Zero(t, n)

		n, err = f.DeleteOtherDevices(f.ctx, "alice", "D")
		require.NoError(t, err)
		assert.Equal(t, int64(1), n)
		assert.Equal(t, []string{"D"}, deviceIDs(t, f, "alice"))
		n, err = f.DeleteOtherDevices(f.ctx, "alice", "")
		require.NoError(t, err)
		assert.Equal(t, int64(1), n)
		assert.Empty(t, deviceIDs(t, f, "alice"))
	})
}

func deviceIDs(t *testing.T, f fixture, localpart string) []string {
	t.Helper()
	list, err := f.ListDevices(f.ctx, localpart)
	require.NoError(t, err)
	var ids []string
	for _, d := range list {
		ids = append(ids, d.DeviceID)
	}
	return ids
}

func TestDeleteDeviceTokensKeepsTheDevice(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		f.mustUser(t, "alice", "PHONE")
		require.NoError(t, f.SetDeviceDisplayName(f.ctx, "alice", "PHONE", "My phone"))
		_, err := f.CreateDevice(f.ctx, "alice", "LAPTOP", "")
		require.NoError(t, err)
		require.NoError(t, f.CreateTokens(f.ctx, "alice", "PHONE",
			accounts.NewToken{Token: "phone-access"}, &accounts.NewToken{Token: "phone-refresh"}))
		require.NoError(t, f.CreateTokens(f.ctx, "alice", "LAPTOP", accounts.NewToken{Token: "laptop-access"}, nil))

		require.NoError(t, f.DeleteDeviceTokens(f.ctx, "alice", "PHONE"))

		_, err = f.LookupAccessToken(f.ctx, "phone-access")
		assert.ErrorIs(t, err, accounts.ErrNotFound)
		assert.Zero(t, f.count(t, "refresh_tokens", "device_id = 'PHONE'"))
		d, err := f.GetDevice(f.ctx, "alice", "PHONE")
		require.NoError(t, err)
		assert.Equal(t, "My phone", d.DisplayName, "the device stays")
		_, err = f.LookupAccessToken(f.ctx, "laptop-access")
		assert.NoError(t, err, "other devices keep their tokens")
		assert.ErrorIs(t, f.DeleteDeviceTokens(f.ctx, "alice", "NOPE"), accounts.ErrNotFound)
	})
}
