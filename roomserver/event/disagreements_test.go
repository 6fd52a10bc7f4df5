package event_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/sjson"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// signedEvent makes event JSON of version v from a template (which must hold
// the hashes-free event as JSON), adds the content hash and signs it with
// each server's roomtest key.
func signedEvent(t *testing.T, v *roomversion.Version, template string, servers ...string) []byte {
	t.Helper()
	hash, err := event.ContentHash([]byte(template), v)
	require.NoError(t, err)
	raw, err := sjson.SetBytes([]byte(template), "hashes", map[string]string{"sha256": hash})
	require.NoError(t, err)
	for _, s := range servers {
		raw, err = event.Sign(raw, v, roomtest.Key(s))
		require.NoError(t, err)
	}
	return raw
}

const roomV11 = `"room_id":"!room:a.test","origin_server_ts":1700000000000,"depth":5,"prev_events":["$p"],"auth_events":["$a"]`
const roomV1 = `"room_id":"!room:a.test","origin_server_ts":1700000000000,"depth":5,"prev_events":[["$p:a.test",{"sha256":"abase64encodedsha256hashshouldbe43byteslong"}]],"auth_events":[]`

// TestEventOracleDisagreements keeps each event on which gomatrixserverlib
// contradicts the spec, with the spec text. The differential tests exclude
// these cases with the predicates named here; each subtest also checks the
// predicate and that the oracle still differs (so that a fixed oracle makes
// it fail and the exclusion can go).
func TestEventOracleDisagreements(t *testing.T) {
	t.Run("v11 redaction keeps third_party_invite.signed", func(t *testing.T) {
		// rooms/fragments/v11-redactions.md: "m.room.member allows keys
		// membership, join_authorised_via_users_server. Additionally, it allows
		// the signed key of the third_party_invite key."
		// Predicate: thirdPartySigned. Effect: the oracle computes another
		// event ID and signs/verifies other bytes.
		v := roomversion.MustGet("11")
		raw := signedEvent(t, v, `{"type":"m.room.member","state_key":"@bob:b.test","sender":"@alice:a.test",`+roomV11+
			`,"content":{"membership":"invite","third_party_invite":{"display_name":"bob","signed":{"mxid":"@bob:b.test","token":"tok","signatures":{}}}}}`, "a.test")
		e, err := event.Parse(raw, v)
		require.NoError(t, err)
		require.True(t, thirdPartySigned(v, e))
		red, err := event.Redact(raw, v)
		require.NoError(t, err)
		require.Contains(t, string(red), `"third_party_invite":{"signed":{"mxid":"@bob:b.test","signatures":{},"token":"tok"}}`)
		require.NotContains(t, string(red), "display_name")

		pdu, err := oracleVersion(v).NewEventFromUntrustedJSON(raw)
		require.NoError(t, err)
		require.NotEqual(t, pdu.EventID(), e.ID(), "the oracle now keeps signed: drop the thirdPartySigned exclusion")
		require.NoError(t, e.VerifySignatures(lookup(0)))
		require.Error(t, oracleVerify(pdu, 0))
	})

	t.Run("invite needs no signature from the invitee's server", func(t *testing.T) {
		// server-server-api.md "Validating hashes and signatures on received
		// events": "For room versions 3 and later, unless the event is a 3rd
		// party invite, only the signature(s) from the originating server (the
		// server the sender belongs to) are required for verification."
		// Predicate: signatureFacts.inviteeUnsigned.
		v := roomversion.MustGet("10")
		raw := signedEvent(t, v, `{"type":"m.room.member","state_key":"@bob:b.test","sender":"@alice:a.test",`+roomV11+
			`,"content":{"membership":"invite"}}`, "a.test")
		e, err := event.Parse(raw, v)
		require.NoError(t, err)
		require.Equal(t, []string{"a.test"}, e.RequiredSigners())
		require.NoError(t, e.VerifySignatures(lookup(0)))
		require.True(t, sigFactsOf(v, e, map[string]bool{"a.test": true}).inviteeUnsigned)
		pdu, err := oracleVersion(v).NewEventFromUntrustedJSON(raw)
		require.NoError(t, err)
		require.Error(t, oracleVerify(pdu, 0), "the oracle no longer requires the invitee's signature")
	})

	t.Run("join_authorised_via_users_server must sign whatever the membership", func(t *testing.T) {
		// rooms/fragments/v8-auth-rules.md, m.room.member rule 2: "If content
		// has a join_authorised_via_users_server property: If the event is not
		// validly signed by the homeserver of the user ID denoted by the key,
		// reject." The rule is not limited to joins. Predicate:
		// signatureFacts.authorisedNotJoin.
		v := roomversion.MustGet("9")
		raw := signedEvent(t, v, `{"type":"m.room.member","state_key":"@alice:a.test","sender":"@alice:a.test",`+roomV11+
			`,"content":{"membership":"leave","join_authorised_via_users_server":"@bob:b.test"}}`, "a.test")
		e, err := event.Parse(raw, v)
		require.NoError(t, err)
		require.Equal(t, []string{"a.test", "b.test"}, e.RequiredSigners())
		require.ErrorIs(t, e.VerifySignatures(lookup(0)), event.ErrSignature)
		require.True(t, sigFactsOf(v, e, map[string]bool{"a.test": true}).authorisedNotJoin)
		pdu, err := oracleVersion(v).NewEventFromUntrustedJSON(raw)
		require.NoError(t, err)
		require.NoError(t, oracleVerify(pdu, 0), "the oracle now checks non-join memberships")
	})

	t.Run("undecodable signature of an uninvolved server", func(t *testing.T) {
		// appendices.md "Checking for a Signature" decodes only the checked
		// entity's signature ("4. Decodes the base64 encoded signature bytes.
		// If base64 decoding fails then the check fails."); the spec's own
		// example PDU (pdu_v4_join_membership) carries "a different signature".
		// Predicate: signatureFacts.undecodableSigs.
		v := roomversion.MustGet("6")
		raw := signedEvent(t, v, `{"type":"m.room.message","sender":"@alice:a.test",`+roomV11+`,"content":{}}`, "a.test")
		raw, _ = sjson.SetBytes(raw, `signatures.other\.org`, map[string]string{"ed25519:x": "a different signature"})
		e, err := event.Parse(raw, v)
		require.NoError(t, err)
		require.NoError(t, e.VerifySignatures(lookup(0)))
		require.True(t, sigFactsOf(v, e, nil).undecodableSigs)
		pdu, err := oracleVersion(v).NewEventFromUntrustedJSON(raw)
		require.NoError(t, err)
		require.Error(t, oracleVerify(pdu, 0))
	})

	t.Run("padded signature", func(t *testing.T) {
		// appendices.md "Unpadded Base64": "When decoding Base64,
		// implementations SHOULD accept input with or without padding
		// characters wherever possible". Predicate:
		// signatureFacts.paddedOrURLSafeSig.
		v := roomversion.MustGet("6")
		raw := signedEvent(t, v, `{"type":"m.room.message","sender":"@alice:a.test",`+roomV11+`,"content":{}}`, "a.test")
		var sigs map[string]map[string]string
		require.NoError(t, json.Unmarshal([]byte(gjsonGet(raw, "signatures")), &sigs))
		raw, _ = sjson.SetBytes(raw, `signatures.a\.test.ed25519:test`, sigs["a.test"]["ed25519:test"]+"==")
		e, err := event.Parse(raw, v)
		require.NoError(t, err)
		require.NoError(t, e.VerifySignatures(lookup(0)))
		require.True(t, sigFactsOf(v, e, nil).paddedOrURLSafeSig)
		pdu, err := oracleVersion(v).NewEventFromUntrustedJSON(raw)
		require.NoError(t, err)
		require.Error(t, oracleVerify(pdu, 0))
	})

	t.Run("v1-v5 redaction rewrites numbers through float64", func(t *testing.T) {
		// rooms/fragments/v1-redactions.md: "the server must strip off any
		// keys not in the following list" - kept values are not changed; and
		// rooms/fragments/v1-floaty-power-levels.md shows a valid v1-v5 power
		// levels event with "@bob:localhost": 50.57 (floats are allowed there
		// because "this room version does not enforce ... Canonical JSON").
		// Predicate: floatRoundTripChanges on the redacted JSON.
		v := roomversion.MustGet("4")
		raw := signedEvent(t, v, `{"type":"m.room.power_levels","state_key":"","sender":"@alice:a.test",`+roomV11+
			`,"content":{"users":{"@alice:a.test":100.0,"@bob:a.test":9007199254740993},"ban":1e2}}`, "a.test")
		e, err := event.Parse(raw, v)
		require.NoError(t, err)
		require.False(t, e.Redacted())
		red, err := event.Redact(e.JSON(), v)
		require.NoError(t, err)
		require.Contains(t, string(red), `"ban":1e2`)
		require.Contains(t, string(red), `"@alice:a.test":100.0,"@bob:a.test":9007199254740993`)
		require.True(t, floatRoundTripChanges(red))
		pdu, err := oracleVersion(v).NewEventFromUntrustedJSON(raw)
		require.NoError(t, err)
		require.NotEqual(t, pdu.EventID(), e.ID())
		pdu.Redact()
		require.Contains(t, string(pdu.JSON()), `"@bob:a.test":9007199254740992`, "the oracle changed a kept value")
	})

	t.Run("v1-v5 content number beyond float64", func(t *testing.T) {
		// rooms/fragments/v1-canonical-json.md: "Servers MUST NOT strictly
		// enforce the JSON format specified in the appendices", so such an
		// event is valid in room versions 1-5. The oracle cannot decode the
		// number during redaction, so it cannot compute the event ID (it
		// panics). Predicate: eventFacts.floatOverflow.
		v := roomversion.MustGet("5")
		raw := signedEvent(t, v, `{"type":"m.room.message","sender":"@alice:a.test",`+roomV11+`,"content":{"n":1e400}}`, "a.test")
		e, err := event.Parse(raw, v)
		require.NoError(t, err)
		require.NoError(t, e.VerifySignatures(lookup(0)))
		require.True(t, factsOfEvent(raw).floatOverflow)
		pdu, err := oracleVersion(v).NewEventFromUntrustedJSON(raw)
		require.NoError(t, err)
		require.Panics(t, func() { pdu.EventID() })
	})

	t.Run("v1-v5 content number with -0 inside", func(t *testing.T) {
		// appendices.md "Canonical JSON": the shortest encoding of the *value*;
		// the oracle writes -0.5 as 0.5 and 1E-05 as 1E05, so its content hash
		// of a valid event is wrong and it redacts the event. Predicate:
		// eventFacts.minusZeroInside.
		v := roomversion.MustGet("1")
		raw := signedEvent(t, v, `{"type":"m.room.message","sender":"@alice:a.test","event_id":"$e:a.test",`+roomV1+`,"content":{"n":-0.5,"m":1E-05}}`, "a.test")
		e, err := event.Parse(raw, v)
		require.NoError(t, err)
		require.False(t, e.Redacted())
		require.True(t, factsOfEvent(raw).minusZeroInside)
		pdu, err := oracleVersion(v).NewEventFromUntrustedJSON(raw)
		require.NoError(t, err)
		require.True(t, pdu.Redacted(), "the oracle now hashes -0.5 correctly")
	})

	t.Run("content key needing escapes", func(t *testing.T) {
		// appendices.md "Canonical JSON" > "Grammar": '"', '\' and control
		// characters in strings (keys included) are escaped. The oracle writes
		// keys unescaped, so its content hash of a valid event is wrong.
		// Predicate: eventFacts.keyNeedsEscape.
		v := roomversion.MustGet("10")
		raw := signedEvent(t, v, `{"type":"m.room.message","sender":"@alice:a.test",`+roomV11+`,"content":{"a\"b":1}}`, "a.test")
		e, err := event.Parse(raw, v)
		require.NoError(t, err)
		require.False(t, e.Redacted())
		require.True(t, factsOfEvent(raw).keyNeedsEscape)
		pdu, err := oracleVersion(v).NewEventFromUntrustedJSON(raw)
		require.True(t, err != nil || pdu.Redacted(), "the oracle now escapes keys")
	})
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestRegressions keeps the inputs of the bugs fixed while writing these tests.
func TestRegressions(t *testing.T) {
	t.Run("room version 8 redaction keeps join_rules allow", func(t *testing.T) {
		// rooms/v8.md "Redactions": "m.room.join_rules events now keep allow
		// in addition to other keys in content when being redacted."
		// Concord used the v6 algorithm for v8, dropping allow (and so
		// computing other event IDs than every other server).
		v := roomversion.MustGet("8")
		raw := []byte(`{"type":"m.room.join_rules","state_key":"","content":{"join_rule":"restricted","allow":[{"type":"m.room_membership","room_id":"!r:a.test"}],"x":1}}`)
		red, err := event.Redact(raw, v)
		require.NoError(t, err)
		require.Equal(t, `{"content":{"allow":[{"room_id":"!r:a.test","type":"m.room_membership"}],"join_rule":"restricted"},"state_key":"","type":"m.room.join_rules"}`, string(red))
	})

	t.Run("builder caps depth at 2^53-1", func(t *testing.T) {
		// PDU schema (depth_v6.yaml): "Must be less than the maximum value for
		// an integer (2^53 - 1). If the room's depth is already at the limit,
		// the depth must be set to the limit." Building on a parent at the
		// limit failed with a canonical JSON range error.
		for _, id := range []string{"1", "6", "12"} {
			v := roomversion.MustGet(id)
			room := roomtest.Init(t, id, "@alice:a.test", "public")
			tmpl := `{"type":"m.room.message","sender":"@alice:a.test","room_id":` + quote(room.ID) +
				`,"origin_server_ts":1,"depth":9007199254740991,"prev_events":[],"auth_events":[],"content":{}}`
			if v.HasEventIDInJSON() {
				tmpl = strings.Replace(tmpl, `"type"`, `"event_id":"$deep:a.test","type"`, 1)
			}
			parent, err := event.Parse(signedEvent(t, v, tmpl, "a.test"), v)
			require.NoError(t, err)
			e, err := event.Builder{Version: v, RoomID: room.ID, Type: "m.room.message", Sender: "@alice:a.test",
				Content: map[string]any{"body": "deep"}, PrevEvents: []*event.Event{parent}}.Build(roomtest.Key("a.test"))
			require.NoError(t, err, "room version %s", id)
			require.Equal(t, int64(1<<53-1), e.Depth())
		}
	})

	t.Run("historical senders are accepted", func(t *testing.T) {
		// appendices.md "Historical User IDs" (spec v1.8+): servers "MUST
		// accept user IDs with localparts consisting of any legal
		// non-surrogate Unicode code points except for : and NUL (U+0000),
		// including other control characters and the empty string." Concord
		// rejected such senders as ErrInvalid.
		v := roomversion.MustGet("12")
		for _, sender := range []string{"@:a.test", "@ä:a.test", "@a\u0001b:a.test", "@A B:a.test"} {
			raw := signedEvent(t, v, `{"type":"m.room.message","sender":`+quote(sender)+`,"room_id":"!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM",`+
				`"origin_server_ts":1,"depth":1,"prev_events":[],"auth_events":[],"content":{}}`, "a.test")
			e, err := event.Parse(raw, v)
			require.NoError(t, err, "%q", sender)
			require.Equal(t, "a.test", mxid.Domain(e.Sender()))
			require.NoError(t, e.VerifySignatures(lookup(0)))
			pdu, err := oracleVersion(v).NewEventFromUntrustedJSON(raw)
			require.NoError(t, err)
			require.Equal(t, pdu.EventID(), e.ID())
			require.NoError(t, oracleVerify(pdu, 0), "the oracle agrees")
		}
		raw := signedEvent(t, v, `{"type":"m.room.message","sender":"@a\u0000b:a.test","room_id":"!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM",`+
			`"origin_server_ts":1,"depth":1,"prev_events":[],"auth_events":[],"content":{}}`, "a.test")
		_, err := event.Parse(raw, v)
		require.ErrorIs(t, err, event.ErrInvalid, "NUL stays forbidden")
	})

	t.Run("lax -0 hashes like every other server", func(t *testing.T) {
		// appendices.md "Canonical JSON" example: {"a": -0, ...} gives
		// {"a":0,...}. Concord kept -0 in room versions 1-5, so its content
		// hash of such an event differed from Synapse's and the oracle's.
		v := roomversion.MustGet("3")
		raw := signedEvent(t, v, `{"type":"m.room.message","sender":"@alice:a.test",`+roomV11+`,"content":{"n":-0}}`, "a.test")
		e, err := event.Parse(raw, v)
		require.NoError(t, err)
		require.Contains(t, string(e.JSON()), `"n":0`)
		pdu, err := oracleVersion(v).NewEventFromUntrustedJSON(raw)
		require.NoError(t, err)
		require.False(t, pdu.Redacted())
		require.Equal(t, pdu.EventID(), e.ID())
	})
}
