package accounts_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/storage/accounts"
)

func TestProfiles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		f.mustUser(t, "alice", "")
		p, err := f.GetProfile(f.ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, accounts.Profile{}, p, "created without a displayname")

		require.NoError(t, f.SetDisplayName(f.ctx, "alice", "Alice 🌸"))
		require.NoError(t, f.SetAvatarURL(f.ctx, "alice", "mxc://example.org/abc"))
		p, err = f.GetProfile(f.ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, accounts.Profile{DisplayName: "Alice 🌸", AvatarURL: "mxc://example.org/abc"}, p)

		require.NoError(t, f.SetDisplayName(f.ctx, "alice", ""))
		p, err = f.GetProfile(f.ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, accounts.Profile{AvatarURL: "mxc://example.org/abc"}, p)

		_, err = f.GetProfile(f.ctx, "nobody")
		assert.ErrorIs(t, err, accounts.ErrNotFound)
		assert.ErrorIs(t, f.SetDisplayName(f.ctx, "nobody", "x"), accounts.ErrNotFound)
		assert.ErrorIs(t, f.SetAvatarURL(f.ctx, "nobody", "x"), accounts.ErrNotFound)
	})
}
