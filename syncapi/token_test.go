package syncapi

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenRoundTrip(t *testing.T) {
	for _, tok := range []Token{
		{},
		{Room: 5},
		{Room: 5, Typing: 1700000000123},
		{Room: 1, Typing: 2, Receipt: 3, AccountData: 4, Presence: 5},
		{Presence: 9},
	} {
		got, err := ParseToken(tok.String())
		require.NoError(t, err, tok.String())
		assert.Equal(t, tok, got)
	}
	assert.Equal(t, "s5", Token{Room: 5}.String(), "room-only tokens keep their old form")
	assert.Equal(t, "s1_2_3_4_5", Token{Room: 1, Typing: 2, Receipt: 3, AccountData: 4, Presence: 5}.String())
	assert.Equal(t, "s0_0_0_0_7", Token{Presence: 7}.String())
}

func TestParseTokenCompatibility(t *testing.T) {
	// An old single-field token: every other stream starts from 0.
	got, err := ParseToken("s42")
	require.NoError(t, err)
	assert.Equal(t, Token{Room: 42}, got)
	// A token from a newer server with more streams: extra fields ignored.
	got, err = ParseToken("s1_2_3_4_5_6_7")
	require.NoError(t, err)
	assert.Equal(t, Token{Room: 1, Typing: 2, Receipt: 3, AccountData: 4, Presence: 5}, got)
	for _, bad := range []string{"", "s", "t5", "5", "s-1", "s1_-2", "s1__2", "s1_x", "sx", "s1_2_", "s 1"} {
		_, err := ParseToken(bad)
		assert.ErrorIs(t, err, ErrBadToken, "%q", bad)
	}
}

func TestTokenClamp(t *testing.T) {
	cur := Token{Room: 10, Typing: 100, Receipt: 5, AccountData: 6, Presence: 7}
	assert.Equal(t, Token{Room: 3, Typing: 50, Receipt: 2, AccountData: 1, Presence: 0},
		Token{Room: 3, Typing: 50, Receipt: 2, AccountData: 1}.clamp(cur))
	// From the future: persisted streams stop at now, typing (in memory,
	// before a restart) starts over.
	assert.Equal(t, Token{Room: 10, Typing: 0, Receipt: 5, AccountData: 6, Presence: 7},
		Token{Room: 99, Typing: 999, Receipt: 99, AccountData: 99, Presence: 99}.clamp(cur))
}
