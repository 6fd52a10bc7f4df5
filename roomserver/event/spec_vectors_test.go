package event

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/roomserver/signing"
)

// specKey is the key of the spec's "Cryptographic Test Vectors" (appendices).
func specKey(t *testing.T) signing.Key {
	seed, err := signing.DecodeBase64("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1")
	require.NoError(t, err)
	k, err := signing.KeyFromSeed("domain", "ed25519:1", seed)
	require.NoError(t, err)
	return k
}

func TestSpecJSONSigningVectors(t *testing.T) {
	k := specKey(t)
	for _, tc := range []struct{ in, sig string }{
		{`{}`, "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"},
		{`{"one":1,"two":"Two"}`, "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"},
	} {
		out, err := signing.SignJSON([]byte(tc.in), k, true)
		require.NoError(t, err)
		var got struct {
			Signatures map[string]map[string]string `json:"signatures"`
		}
		require.NoError(t, json.Unmarshal(out, &got))
		require.Equal(t, tc.sig, got.Signatures["domain"]["ed25519:1"])
		require.NoError(t, signing.VerifyJSON(out, "domain", "ed25519:1", k.Public(), true))
	}
}

func TestSpecEventSigningVectors(t *testing.T) {
	k := specKey(t)
	v := roomversion.MustGet("1")
	for _, tc := range []struct{ in, hash, sig string }{
		{`{"room_id":"!x:domain","sender":"@a:domain","origin":"domain","origin_server_ts":1000000,"signatures":{},"hashes":{},"type":"X","content":{},"prev_events":[],"auth_events":[],"depth":3,"unsigned":{"age_ts":1000000}}`,
			"5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos",
			"KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg"},
		{`{"content":{"body":"Here is the message content"},"event_id":"$0:domain","origin":"domain","origin_server_ts":1000000,"type":"m.room.message","room_id":"!r:domain","sender":"@u:domain","signatures":{},"unsigned":{"age_ts":1000000}}`,
			"onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g",
			"Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA"},
	} {
		hash, err := ContentHash([]byte(tc.in), v)
		require.NoError(t, err)
		require.Equal(t, tc.hash, hash)
		var obj map[string]any
		require.NoError(t, json.Unmarshal([]byte(tc.in), &obj))
		obj["hashes"] = map[string]string{"sha256": hash}
		withHash, _ := json.Marshal(obj)
		signed, err := Sign(withHash, v, k)
		require.NoError(t, err)
		var got struct {
			Signatures map[string]map[string]string `json:"signatures"`
		}
		require.NoError(t, json.Unmarshal(signed, &got))
		require.Equal(t, tc.sig, got.Signatures["domain"]["ed25519:1"])
	}
}
