package clientapi

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

func TestPasswordHasher(t *testing.T) {
	h, err := newPasswordHasher(bcrypt.MinCost)
	require.NoError(t, err)
	hash, err := h.hash("correct horse")
	require.NoError(t, err)
	cost, err := bcrypt.Cost([]byte(hash))
	require.NoError(t, err)
	assert.Equal(t, bcrypt.MinCost, cost)
	assert.True(t, h.check(hash, "correct horse"))
	assert.False(t, h.check(hash, "correct horse "))
	assert.False(t, h.check(hash, ""))
	assert.False(t, h.check("", ""), "no hash matches nothing")
	assert.False(t, h.check("", "correct horse"))
	assert.False(t, h.check("not a hash", "correct horse"))

	// Passwords past bcrypt's 72 bytes: every byte counts.
	long := strings.Repeat("p", 100)
	hash, err = h.hash(long)
	require.NoError(t, err)
	assert.True(t, h.check(hash, long))
	assert.False(t, h.check(hash, long[:99]+"q"))
	assert.False(t, h.check(hash, long[:72]))
	exact := strings.Repeat("e", bcryptMaxInput)
	hash, err = h.hash(exact)
	require.NoError(t, err)
	assert.NoError(t, bcrypt.CompareHashAndPassword([]byte(hash), []byte(exact)), "up to 72 bytes is plain bcrypt")

	def, err := newPasswordHasher(0)
	require.NoError(t, err)
	assert.Equal(t, DefaultBcryptCost, def.cost)
	for _, bad := range []int{1, bcrypt.MaxCost + 1, -1} {
		_, err := newPasswordHasher(bad)
		assert.Error(t, err, "cost %d", bad)
	}
}
