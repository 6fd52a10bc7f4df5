package signing_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/roomserver/cjson"
	"github.com/concordchat/concord/roomserver/signing"
)

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, v))
}

func TestBase64Vectors(t *testing.T) {
	var doc struct {
		Encode []struct {
			DecodedHex string `json:"decoded_hex"`
			Std, URL   string
		} `json:"encode"`
		DecodeOK []struct {
			Input, Alphabet string
			DecodedHex      string `json:"decoded_hex"`
		} `json:"decode_ok"`
		DecodeError []struct{ Input, Alphabet string } `json:"decode_error"`
	}
	readJSON(t, "testdata/base64.json", &doc)
	require.NotEmpty(t, doc.Encode)
	decoder := map[string]func(string) ([]byte, error){"std": signing.DecodeBase64, "url": signing.DecodeBase64URL}
	for _, c := range doc.Encode {
		raw, err := hex.DecodeString(c.DecodedHex)
		require.NoError(t, err)
		require.Equal(t, c.Std, signing.EncodeBase64(raw))
		require.Equal(t, c.URL, signing.EncodeBase64URL(raw))
		got, err := signing.DecodeBase64(c.Std)
		require.NoError(t, err)
		require.Equal(t, raw, append([]byte{}, got...), "std %q", c.Std)
		got, err = signing.DecodeBase64URL(c.URL)
		require.NoError(t, err)
		require.Equal(t, raw, append([]byte{}, got...), "url %q", c.URL)
		// "implementations SHOULD accept input with or without padding".
		padded := c.Std + "=="[:(4-len(c.Std)%4)%4]
		got, err = signing.DecodeBase64(padded)
		require.NoError(t, err, "padded %q", padded)
		require.Equal(t, raw, append([]byte{}, got...))
	}
	for _, c := range doc.DecodeOK {
		want, _ := hex.DecodeString(c.DecodedHex)
		got, err := decoder[c.Alphabet](c.Input)
		require.NoError(t, err, "%s %q", c.Alphabet, c.Input)
		require.Equal(t, want, append([]byte{}, got...), "%s %q", c.Alphabet, c.Input)
	}
	for _, c := range doc.DecodeError {
		_, err := decoder[c.Alphabet](c.Input)
		require.ErrorIs(t, err, signing.ErrBadBase64, "%s %q", c.Alphabet, c.Input)
	}
}

// specSigning is testdata/spec_json_signing.json (appendices, "Cryptographic
// Test Vectors").
type specSigning struct {
	Seed       string `json:"seed"`
	ServerName string `json:"server_name"`
	KeyID      string `json:"key_id"`
	Cases      []struct {
		Name   string          `json:"name"`
		Input  json.RawMessage `json:"input"`
		Signed json.RawMessage `json:"signed"`
	} `json:"cases"`
}

func specKey(t testing.TB) (specSigning, signing.Key) {
	var doc specSigning
	readJSON(t, "testdata/spec_json_signing.json", &doc)
	seed, err := signing.DecodeBase64(doc.Seed)
	require.NoError(t, err)
	k, err := signing.KeyFromSeed(doc.ServerName, signing.KeyID(doc.KeyID), seed)
	require.NoError(t, err)
	return doc, k
}

func TestSpecJSONSigningVectors(t *testing.T) {
	doc, k := specKey(t)
	require.Len(t, doc.Cases, 2)
	for _, c := range doc.Cases {
		t.Run(c.Name, func(t *testing.T) {
			for _, strict := range []bool{true, false} {
				out, err := signing.SignJSON(c.Input, k, strict)
				require.NoError(t, err)
				want, err := cjson.CanonicalStrict(c.Signed)
				require.NoError(t, err)
				require.Equal(t, string(want), string(out), "the signed object, in canonical form")
				require.NoError(t, signing.VerifyJSON(c.Signed, doc.ServerName, k.ID, k.Public(), strict))
			}
			// The oracle agrees on the vectors.
			theirs, err := gmsl.SignJSON(doc.ServerName, gmsl.KeyID(k.ID), k.Private, c.Input)
			require.NoError(t, err)
			ours, err := signing.SignJSON(c.Input, k, true)
			require.NoError(t, err)
			require.Equal(t, string(ours), string(theirs))
		})
	}
}

func TestVerifyJSONFailures(t *testing.T) {
	doc, k := specKey(t)
	signed := doc.Cases[1].Signed
	other := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	for _, tc := range []struct {
		name   string
		obj    string
		server string
		id     signing.KeyID
		pub    ed25519.PublicKey
		want   error
	}{
		{"wrong key", string(signed), "domain", "ed25519:1", other, signing.ErrBadSignature},
		{"unknown server", string(signed), "elsewhere", "ed25519:1", k.Public(), signing.ErrNoSignature},
		{"unknown key id", string(signed), "domain", "ed25519:2", k.Public(), signing.ErrNoSignature},
		{"changed value", `{"one":2,"signatures":` + sigsOf(t, signed) + `,"two":"Two"}`, "domain", "ed25519:1", k.Public(), signing.ErrBadSignature},
		{"added key", `{"one":1,"three":3,"signatures":` + sigsOf(t, signed) + `,"two":"Two"}`, "domain", "ed25519:1", k.Public(), signing.ErrBadSignature},
		{"bad base64", `{"signatures":{"domain":{"ed25519:1":"!!"}}}`, "domain", "ed25519:1", k.Public(), signing.ErrBadSignature},
		{"short signature", `{"signatures":{"domain":{"ed25519:1":"Zm9v"}}}`, "domain", "ed25519:1", k.Public(), signing.ErrBadSignature},
		{"no signatures", `{"one":1}`, "domain", "ed25519:1", k.Public(), signing.ErrNoSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := signing.VerifyJSON([]byte(tc.obj), tc.server, tc.id, tc.pub, true)
			require.ErrorIs(t, err, tc.want)
		})
	}
	// unsigned is not covered; neither are other servers' signatures.
	extra := `{"one":1,"signatures":{"domain":` + string(mustGet(t, signed, "domain")) + `,"other.server":{"ed25519:x":"not base64 !"}},"two":"Two","unsigned":{"age":5}}`
	require.NoError(t, signing.VerifyJSON([]byte(extra), "domain", "ed25519:1", k.Public(), true))
	// The signature may be padded ("SHOULD accept input with or without padding").
	var sigs signing.Signatures
	require.NoError(t, json.Unmarshal([]byte(sigsOf(t, signed)), &sigs))
	padded := `{"one":1,"signatures":{"domain":{"ed25519:1":"` + sigs["domain"]["ed25519:1"] + `=="}},"two":"Two"}`
	require.NoError(t, signing.VerifyJSON([]byte(padded), "domain", "ed25519:1", k.Public(), true))
}

func sigsOf(t testing.TB, obj []byte) string { return string(mustGet(t, obj, "signatures")) }

func mustGet(t testing.TB, obj []byte, key string) json.RawMessage {
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(obj, &m))
	if key == "domain" {
		require.NoError(t, json.Unmarshal(m["signatures"], &m))
	}
	return m[key]
}

func TestAddSignatureKeepsOthers(t *testing.T) {
	_, k := specKey(t)
	out, err := signing.SignJSON([]byte(`{"a":1,"signatures":{"x.org":{"ed25519:y":"sig"}},"unsigned":{"age":1}}`), k, true)
	require.NoError(t, err)
	var got struct {
		Signatures signing.Signatures
		Unsigned   json.RawMessage
	}
	require.NoError(t, json.Unmarshal(out, &got))
	require.Equal(t, "sig", got.Signatures["x.org"]["ed25519:y"])
	require.Len(t, got.Signatures["domain"]["ed25519:1"], 86)
	require.JSONEq(t, `{"age":1}`, string(got.Unsigned))
	require.NoError(t, signing.VerifyJSON(out, "domain", "ed25519:1", k.Public(), true))

	_, err = signing.SignJSON([]byte(`[1]`), k, true)
	require.Error(t, err)
	_, err = signing.SignJSON([]byte(`{"signatures":"x"}`), k, true)
	require.Error(t, err)
	_, err = signing.SignJSON([]byte(`{"a":1.5}`), k, true)
	require.Error(t, err, "strict signing rejects floats")
	_, err = signing.SignJSON([]byte(`{"a":1.5}`), k, false)
	require.NoError(t, err)
}

func TestKeyIDs(t *testing.T) {
	for id, valid := range map[signing.KeyID]bool{
		"ed25519:1": true, "ed25519:a_AbCd": true, "ed25519:": false, ":1": false, "ed25519": false,
		"ed25519:a-b": false, "ed25519:a:b": false, "curve25519:AAAA": true, "ed25519:é": false,
	} {
		require.Equal(t, valid, id.Valid(), "%q", id)
	}
	require.Equal(t, "ed25519", signing.KeyID("ed25519:x").Algorithm())
	_, err := signing.KeyFromSeed("s", "curve25519:x", make([]byte, 32))
	require.Error(t, err)
	_, err = signing.KeyFromSeed("s", "ed25519:x", make([]byte, 31))
	require.Error(t, err)
}

func TestKeyFile(t *testing.T) {
	doc, k := specKey(t)
	file := k.MarshalKeyFile()
	// The spec's seed has non-zero trailing bits; the file holds the canonical encoding.
	require.Equal(t, "ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0\n", string(file))
	back, err := signing.ParseKeyFile(doc.ServerName, file)
	require.NoError(t, err)
	require.Equal(t, k.ID, back.ID)
	require.True(t, k.Private.Equal(back.Private))
	// Synapse-style file with a comment and the spec's seed as written.
	back, err = signing.ParseKeyFile("domain", []byte("# signing key\n\ned25519 1 "+doc.Seed+"\n"))
	require.NoError(t, err)
	require.True(t, k.Private.Equal(back.Private))
	for _, bad := range []string{"", "# only a comment\n", "ed25519 1\n", "curve25519 1 AAAA\n", "ed25519 1 !!!\n", "ed25519 1 Zm9v\n", "ed25519 a-b " + doc.Seed + "\n"} {
		_, err := signing.ParseKeyFile("domain", []byte(bad))
		require.Error(t, err, "%q", bad)
	}
	gen, err := signing.GenerateKey("example.org")
	require.NoError(t, err)
	require.True(t, gen.ID.Valid())
	require.Equal(t, "ed25519", gen.ID.Algorithm())
	require.Len(t, gen.Public(), ed25519.PublicKeySize)
}
