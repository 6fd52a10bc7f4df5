package event

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"sort"

	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/roomserver/signing"
)

// ErrSignature means a server that must have signed the event did not, or its
// signature does not verify with any known key.
var ErrSignature = errors.New("event: missing or bad signature")

// RequiredSigners returns the servers whose signatures the event must carry:
// the sender's server; for v1–v2 also the event ID's server; and, in rooms with
// restricted joins, the server of content.join_authorised_via_users_server on
// membership events.
func (e *Event) RequiredSigners() []string {
	servers := []string{mxid.Domain(e.sender)}
	add := func(s string) {
		for _, have := range servers {
			if have == s {
				return
			}
		}
		servers = append(servers, s)
	}
	if e.version.HasEventIDInJSON() {
		add(mxid.Domain(e.id))
	}
	if e.version.RestrictedJoins && e.typ == TypeMember {
		if via := gjson.GetBytes(e.content, "join_authorised_via_users_server"); via.Type == gjson.String {
			if u, err := mxid.ParseUserID(via.Str); err == nil {
				add(u.Domain)
			}
		}
	}
	sort.Strings(servers[1:])
	return servers
}

// PublicKey is a server's verify key with its validity.
type PublicKey struct {
	Key ed25519.PublicKey
	// ValidUntilTS is the key's valid_until_ts in ms; 0 means no limit known
	// (old keys from expired_keys carry their expiry here).
	ValidUntilTS int64
}

// KeyLookup returns the known key server/id, or ok=false when it is unknown.
type KeyLookup func(server string, id signing.KeyID) (key PublicKey, ok bool)

// SigningKeyIDs lists, per required server, the key IDs the event carries
// signatures from (what a caller must fetch before VerifySignatures).
func (e *Event) SigningKeyIDs() map[string][]signing.KeyID {
	sigs := gjson.GetBytes(e.raw, "signatures")
	out := map[string][]signing.KeyID{}
	for _, server := range e.RequiredSigners() {
		sigs.Get(gjson.Escape(server)).ForEach(func(k, _ gjson.Result) bool {
			id := signing.KeyID(k.Str)
			if id.Algorithm() == "ed25519" {
				out[server] = append(out[server], id)
			}
			return true
		})
	}
	return out
}

// VerifySignatures checks that every required server has a valid ed25519
// signature over the redacted event from a known key. Unknown keys are
// skipped; for v5+ a key must be valid at the event's origin_server_ts.
func (e *Event) VerifySignatures(lookup KeyLookup) error {
	redacted, err := Redact(e.raw, e.version)
	if err != nil {
		return err
	}
	strict := e.version.StrictCanonicalJSON
	for server, ids := range e.SigningKeyIDs() {
		ok := false
		for _, id := range ids {
			pk, known := lookup(server, id)
			if !known {
				continue
			}
			if e.version.EnforceKeyValidity && pk.ValidUntilTS != 0 && pk.ValidUntilTS < e.originServerTS {
				continue
			}
			if signing.VerifyJSON(redacted, server, id, pk.Key, strict) == nil {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("%w: no valid signature from %s", ErrSignature, server)
		}
	}
	for _, server := range e.RequiredSigners() {
		if _, has := e.SigningKeyIDs()[server]; !has {
			return fmt.Errorf("%w: not signed by %s", ErrSignature, server)
		}
	}
	return nil
}

// Sign adds key's signature to event JSON of version v: the signature covers
// the redacted event, and is copied into the full event.
func Sign(raw []byte, v *roomversion.Version, key signing.Key) ([]byte, error) {
	redacted, err := Redact(raw, v)
	if err != nil {
		return nil, err
	}
	msg, err := signing.SigningBytes(redacted, v.StrictCanonicalJSON)
	if err != nil {
		return nil, err
	}
	sig := signing.EncodeBase64(ed25519.Sign(key.Private, msg))
	return signing.AddSignature(raw, key.ServerName, key.ID, sig, v.StrictCanonicalJSON)
}
