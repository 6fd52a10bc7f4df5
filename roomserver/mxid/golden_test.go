package mxid_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/roomserver/mxid"
)

type idCase struct {
	ID  string `json:"id"`
	Why string `json:"why"`
}

type validInvalid struct {
	Valid   []idCase `json:"valid"`
	Invalid []idCase `json:"invalid"`
}

type identifiers struct {
	ServerNames validInvalid `json:"server_names"`
	UserIDs     struct {
		ValidStrict         []idCase `json:"valid_strict"`
		ValidHistoricalOnly []idCase `json:"valid_historical_only"`
		Invalid             []idCase `json:"invalid"`
	} `json:"user_ids"`
	RoomIDsWithDomain  validInvalid `json:"room_ids_with_domain"`
	RoomIDsDomainless  validInvalid `json:"room_ids_domainless"`
	EventIDsWithDomain validInvalid `json:"event_ids_with_domain"`
	EventIDsHash       validInvalid `json:"event_ids_hash"`
	Aliases            validInvalid `json:"aliases"`
}

func loadIdentifiers(t *testing.T) identifiers {
	raw, err := os.ReadFile("testdata/identifiers.json")
	require.NoError(t, err)
	var doc identifiers
	require.NoError(t, json.Unmarshal(raw, &doc))
	return doc
}

func checkAll(t *testing.T, name string, set validInvalid, valid func(string) bool) {
	t.Run(name, func(t *testing.T) {
		require.NotEmpty(t, set.Valid)
		require.NotEmpty(t, set.Invalid)
		for _, c := range set.Valid {
			require.True(t, valid(c.ID), "%q should be valid: %s", c.ID, c.Why)
		}
		for _, c := range set.Invalid {
			require.False(t, valid(c.ID), "%q should be invalid: %s", c.ID, c.Why)
		}
	})
}

func TestIdentifierGrammar(t *testing.T) {
	doc := loadIdentifiers(t)
	checkAll(t, "server names", doc.ServerNames, mxid.ValidServerName)
	checkAll(t, "room IDs with domain", doc.RoomIDsWithDomain, func(s string) bool { return mxid.ValidRoomID(s, true) })
	checkAll(t, "room IDs without domain", doc.RoomIDsDomainless, func(s string) bool { return mxid.ValidRoomID(s, false) })
	checkAll(t, "event IDs with domain", doc.EventIDsWithDomain, func(s string) bool { return mxid.ValidEventID(s, true) })
	checkAll(t, "event IDs without domain", doc.EventIDsHash, func(s string) bool { return mxid.ValidEventID(s, false) })
	checkAll(t, "aliases", doc.Aliases, mxid.ValidAlias)

	t.Run("user IDs", func(t *testing.T) {
		u := doc.UserIDs
		for _, c := range u.ValidStrict {
			got, err := mxid.ParseUserIDStrict(c.ID)
			require.NoError(t, err, "%q: %s", c.ID, c.Why)
			require.Equal(t, c.ID, got.String())
			require.Equal(t, mxid.Domain(c.ID), got.Domain)
			_, err = mxid.ParseUserID(c.ID)
			require.NoError(t, err, "a strict ID is also a historical one: %q", c.ID)
		}
		for _, c := range u.ValidHistoricalOnly {
			got, err := mxid.ParseUserID(c.ID)
			require.NoError(t, err, "%q: %s", c.ID, c.Why)
			require.Equal(t, c.ID, got.String())
			_, err = mxid.ParseUserIDStrict(c.ID)
			require.ErrorIs(t, err, mxid.ErrBadUserID, "%q is not a current-grammar user ID", c.ID)
		}
		for _, c := range u.Invalid {
			_, err := mxid.ParseUserID(c.ID)
			require.ErrorIs(t, err, mxid.ErrBadUserID, "%q: %s", c.ID, c.Why)
			_, err = mxid.ParseUserIDStrict(c.ID)
			require.ErrorIs(t, err, mxid.ErrBadUserID, "%q: %s", c.ID, c.Why)
		}
	})
}

func TestLocalpartAndDomain(t *testing.T) {
	for l, ok := range map[string]bool{"a": true, "a-z0-9._=/+": true, "": false, "A": false, "a b": false, "é": false, "a:b": false, "a*": false} {
		require.Equal(t, ok, mxid.ValidLocalpart(l), "%q", l)
	}
	for id, domain := range map[string]string{
		"@a:example.org": "example.org", "@a:[::1]:80": "[::1]:80", "!r:b.c": "b.c", "$e:d": "d", "#x:y": "y",
		"$hash": "", "": "",
	} {
		require.Equal(t, domain, mxid.Domain(id), "%q", id)
	}
	require.Equal(t, "@a:b", mxid.UserID{Localpart: "a", Domain: "b"}.String())
}

// TestGrammarExhaustive checks every single byte as a one-byte server name and
// localpart against the grammar's character classes.
func TestGrammarExhaustive(t *testing.T) {
	for c := 0; c < 256; c++ {
		s := string(rune(c))
		if c >= 0x80 {
			s = string([]byte{byte(c)}) // a lone byte, not UTF-8
		}
		dnsChar := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.'
		require.Equal(t, dnsChar, mxid.ValidServerName("x"+s+"y"), "byte %#x in a server name", c)
		strict := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-.=_/+", byte(c)) >= 0
		_, err := mxid.ParseUserIDStrict("@" + s + ":example.org")
		require.Equal(t, strict, err == nil, "byte %#x in a strict localpart", c)
		// Historical: any code point except ':' and NUL; a lone byte >= 0x80 is not UTF-8.
		historical := c != 0 && c != ':' && c < 0x80
		_, err = mxid.ParseUserID("@" + s + ":example.org")
		require.Equal(t, historical, err == nil, "byte %#x in a historical localpart", c)
	}
}
