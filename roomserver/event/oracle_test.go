package event_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"sync"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/sirupsen/logrus"
	"github.com/tidwall/sjson"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/internal/roomtest"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/roomserver/signing"
)

// This file adapts gomatrixserverlib (the oracle) for the differential tests
// and holds the predicates that exclude its known bugs, each kept as a named
// regression test in TestEventOracleDisagreements.

func oracleVersion(v *roomversion.Version) gmsl.IRoomVersion {
	return gmsl.MustGetRoomVersion(gmsl.RoomVersion(v.ID))
}

// oracleContentHash is the content hash computed with the oracle's canonical JSON.
func oracleContentHash(eventJSON []byte) string {
	for _, k := range []string{"signatures", "unsigned", "hashes"} {
		eventJSON, _ = sjson.DeleteBytes(eventJSON, k)
	}
	canonical, err := gmsl.CanonicalJSON(eventJSON)
	if err != nil {
		return "error: " + err.Error()
	}
	sum := sha256.Sum256(canonical)
	return signing.EncodeBase64(sum[:])
}

// oracleReferenceHash follows the spec's steps with the oracle's redaction
// and canonical JSON.
func oracleReferenceHash(impl gmsl.IRoomVersion, eventJSON []byte) string {
	redacted, err := impl.RedactEventJSON(eventJSON)
	if err != nil {
		return "error: " + err.Error()
	}
	for _, k := range []string{"signatures", "unsigned"} {
		redacted, _ = sjson.DeleteBytes(redacted, k)
	}
	canonical, err := gmsl.CanonicalJSON(redacted)
	if err != nil {
		return "error: " + err.Error()
	}
	sum := sha256.Sum256(canonical)
	return signing.EncodeBase64URL(sum[:])
}

// testKeyDB is a gomatrixserverlib key database holding every server's
// roomtest key, valid until validUntil.
type testKeyDB struct{ validUntil spec.Timestamp }

func (testKeyDB) FetcherName() string { return "roomtest keys" }

func (db testKeyDB) FetchKeys(_ context.Context, reqs map[gmsl.PublicKeyLookupRequest]spec.Timestamp) (map[gmsl.PublicKeyLookupRequest]gmsl.PublicKeyLookupResult, error) {
	out := map[gmsl.PublicKeyLookupRequest]gmsl.PublicKeyLookupResult{}
	for req := range reqs {
		if req.KeyID != gmsl.KeyID(testKeyID) {
			continue
		}
		out[req] = gmsl.PublicKeyLookupResult{
			VerifyKey:    gmsl.VerifyKey{Key: spec.Base64Bytes(roomtest.Key(string(req.ServerName)).Public())},
			ValidUntilTS: db.validUntil, ExpiredTS: gmsl.PublicKeyNotExpired,
		}
	}
	return out, nil
}

func (testKeyDB) StoreKeys(context.Context, map[gmsl.PublicKeyLookupRequest]gmsl.PublicKeyLookupResult) error {
	return nil
}

var keyRings sync.Map // spec.Timestamp -> gmsl.KeyRing

// oracleKeyRing returns a key ring whose keys are valid until validUntil
// (far in the future when 0).
func oracleKeyRing(validUntil int64) gmsl.JSONVerifier {
	ts := spec.Timestamp(validUntil)
	if validUntil == 0 {
		ts = spec.Timestamp(4_000_000_000_000)
	}
	if kr, ok := keyRings.Load(ts); ok {
		return kr.(gmsl.KeyRing)
	}
	kr := gmsl.KeyRing{KeyDatabase: testKeyDB{validUntil: ts}}
	keyRings.Store(ts, kr)
	return kr
}

func userIDForSender(_ spec.RoomID, sender spec.SenderID) (*spec.UserID, error) {
	return spec.NewUserID(string(sender), true)
}

// oracleVerify runs the oracle's event signature check.
func oracleVerify(pdu gmsl.PDU, validUntil int64) error {
	return gmsl.VerifyEventSignatures(context.Background(), pdu, oracleKeyRing(validUntil), userIDForSender)
}

// eventFacts describes event JSON for the exclusion predicates.
type eventFacts struct {
	keyNeedsEscape  bool // a key with '"', '\' or a control character (oracle writes it unescaped)
	minusZeroInside bool // a number with "-0" not being -0 itself (oracle drops the sign)
	floatOverflow   bool // a number outside float64 range (oracle's redaction cannot decode it)
}

func factsOfEvent(raw []byte) eventFacts {
	raw, _ = sjson.DeleteBytes(raw, "unsigned")
	var f eventFacts
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		panic(err)
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if strings.ContainsAny(k, "\"\\") || strings.ContainsFunc(k, func(r rune) bool { return r < 0x20 }) {
					f.keyNeedsEscape = true
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case json.Number:
			if strings.Contains(string(x), "-0") && x != "-0" {
				f.minusZeroInside = true
			}
			if _, err := strconv.ParseFloat(string(x), 64); err != nil {
				f.floatOverflow = true
			}
		}
	}
	walk(v)
	return f
}

// floatRoundTripChanges reports whether a number in JSON changes when
// decoded to float64 and encoded by encoding/json, as the oracle's redaction
// does with the content it keeps.
func floatRoundTripChanges(raw []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		panic(err)
	}
	changed := false
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case json.Number:
			f, err := strconv.ParseFloat(string(x), 64)
			b, _ := json.Marshal(f)
			if err != nil || string(b) != string(x) && !(x == "-0" && string(b) == "0") {
				changed = true
			}
		}
	}
	walk(v)
	return changed
}

// thirdPartySigned: room version 11+ member event whose content has
// third_party_invite.signed, which the spec keeps on redaction and the
// oracle drops.
func thirdPartySigned(v *roomversion.Version, e *event.Event) bool {
	if v.Redaction < roomversion.RedactionV11 || e.Type() != event.TypeMember {
		return false
	}
	var c struct {
		TPI json.RawMessage `json:"third_party_invite"`
	}
	_ = json.Unmarshal(e.Content(), &c)
	var tpi map[string]json.RawMessage
	if json.Unmarshal(c.TPI, &tpi) != nil {
		return false
	}
	_, ok := tpi["signed"]
	return ok
}

// signatureFacts lists what the oracle's signature check does differently.
type signatureFacts struct {
	inviteeUnsigned    bool // invite whose target's server did not sign (oracle requires it)
	authorisedNotJoin  bool // join_authorised_via_users_server on a non-join membership (oracle ignores it)
	undecodableSigs    bool // some signature of any server is not base64 (oracle rejects the whole object)
	paddedOrURLSafeSig bool
}

func sigFactsOf(v *roomversion.Version, e *event.Event, signedBy map[string]bool) signatureFacts {
	var f signatureFacts
	if e.Type() == event.TypeMember {
		var c struct {
			Membership string          `json:"membership"`
			Via        json.RawMessage `json:"join_authorised_via_users_server"`
		}
		_ = json.Unmarshal(e.Content(), &c)
		if c.Membership == event.Invite && e.StateKey() != nil && !signedBy[mxid.Domain(*e.StateKey())] {
			f.inviteeUnsigned = true
		}
		if v.RestrictedJoins && c.Via != nil && c.Membership != event.Join {
			f.authorisedNotJoin = true
		}
	}
	var sigs map[string]map[string]string
	_ = json.Unmarshal([]byte(gjsonGet(e.JSON(), "signatures")), &sigs)
	for _, byKey := range sigs {
		for _, s := range byKey {
			var b spec.Base64Bytes
			if b.Decode(s) != nil {
				f.undecodableSigs = true
			}
			if strings.ContainsAny(s, "=-_") {
				f.paddedOrURLSafeSig = true
			}
		}
	}
	return f
}

func (f signatureFacts) reason() string {
	switch {
	case f.inviteeUnsigned:
		return "invitee's server did not sign"
	case f.authorisedNotJoin:
		return "join_authorised_via_users_server on a non-join"
	case f.undecodableSigs:
		return "undecodable signature of another server"
	case f.paddedOrURLSafeSig:
		return "padded or URL-safe signature"
	}
	return ""
}

func gjsonGet(raw []byte, key string) string {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(raw, &m)
	return string(m[key])
}

func init() {
	// The oracle logs a warning for every key it cannot find (the tests use
	// unknown keys on purpose).
	logrus.SetOutput(io.Discard)
}
