package event

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/roomserver/cjson"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/roomserver/signing"
)

// specEventSigning is testdata/spec_event_signing.json: the appendix
// "Cryptographic Test Vectors" > "Event Signing". (The "JSON Signing" vectors
// are tested by roomserver/signing.)
type specEventSigning struct {
	Seed       string `json:"seed"`
	ServerName string `json:"server_name"`
	KeyID      string `json:"key_id"`
	Cases      []struct {
		Name   string          `json:"name"`
		Input  json.RawMessage `json:"input"`
		Signed json.RawMessage `json:"signed"`
	} `json:"cases"`
}

func loadSpecEventSigning(t testing.TB) (specEventSigning, signing.Key) {
	raw, err := os.ReadFile("testdata/spec_event_signing.json")
	require.NoError(t, err)
	var doc specEventSigning
	require.NoError(t, json.Unmarshal(raw, &doc))
	seed, err := signing.DecodeBase64(doc.Seed)
	require.NoError(t, err)
	k, err := signing.KeyFromSeed(doc.ServerName, signing.KeyID(doc.KeyID), seed)
	require.NoError(t, err)
	return doc, k
}

// TestSpecEventSigningVectors follows the spec's hash_and_sign_event: content
// hash, then the signature over the redacted event, copied into the full event.
// The output must be the spec's signed event exactly (in canonical form).
func TestSpecEventSigningVectors(t *testing.T) {
	doc, k := loadSpecEventSigning(t)
	require.Len(t, doc.Cases, 2)
	v := roomversion.MustGet("1")
	for _, tc := range doc.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			var want struct {
				Hashes struct{ SHA256 string } `json:"hashes"`
			}
			require.NoError(t, json.Unmarshal(tc.Signed, &want))
			hash, err := ContentHash(tc.Input, v)
			require.NoError(t, err)
			require.Equal(t, want.Hashes.SHA256, hash)

			var obj map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(tc.Input, &obj))
			obj["hashes"], _ = json.Marshal(map[string]string{"sha256": hash})
			withHash, _ := json.Marshal(obj)
			signed, err := Sign(withHash, v, k)
			require.NoError(t, err)
			wantCanonical, err := cjson.Canonical(tc.Signed)
			require.NoError(t, err)
			require.Equal(t, string(wantCanonical), string(signed))

			// The spec's signed event verifies against the redacted form, and
			// its content hash still matches.
			redacted, err := Redact(tc.Signed, v)
			require.NoError(t, err)
			require.NoError(t, signing.VerifyJSON(redacted, doc.ServerName, k.ID, k.Public(), false))
			again, err := ContentHash(tc.Signed, v)
			require.NoError(t, err)
			require.Equal(t, hash, again)
		})
	}
}
