package auth

import (
	"crypto/ed25519"

	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/signing"
)

// thirdPartyInvite is rule 5.4.1: an invite that claims a third-party invite.
func (m memberCheck) thirdPartyInvite(c *checker, tpi gjson.Result) error {
	if m.targetM == event.Ban {
		return reject(RuleTPITargetBanned, "%s is banned", m.target)
	}
	signed := tpi.Get("signed")
	if !tpi.IsObject() || !signed.Exists() {
		return reject(RuleTPINoSigned, "third_party_invite has no signed object")
	}
	mxidVal, token := signed.Get("mxid"), signed.Get("token")
	if !signed.IsObject() || !mxidVal.Exists() || !token.Exists() {
		return reject(RuleTPISignedFields, "third_party_invite.signed lacks mxid or token")
	}
	if mxidVal.Type != gjson.String || mxidVal.Str != m.target {
		return reject(RuleTPIMXID, "signed mxid %s is not the invited user %s", mxidVal.Raw, m.target)
	}
	if token.Type != gjson.String {
		return reject(RuleTPINoEvent, "signed token %s is not a string", token.Raw)
	}
	ev, err := c.get(event.StateKey{Type: event.TypeThirdPartyInvite, StateKey: token.Str})
	if err != nil {
		return err
	}
	if ev == nil {
		return reject(RuleTPINoEvent, "no m.room.third_party_invite with token %q", token.Str)
	}
	if ev.Sender() != m.sender {
		return reject(RuleTPISender, "the third-party invite was sent by %s, not %s", ev.Sender(), m.sender)
	}
	if signedByAnyKey([]byte(signed.Raw), publicKeys(ev), c.v.StrictCanonicalJSON) {
		return nil
	}
	return reject(RuleTPISignature, "no signature in signed verifies with the third-party invite's public keys")
}

// publicKeys returns the ed25519 keys of an m.room.third_party_invite event:
// content.public_key and content.public_keys[].public_key, in standard or
// URL-safe unpadded (or padded) base64.
func publicKeys(ev *event.Event) []ed25519.PublicKey {
	var keys []ed25519.PublicKey
	add := func(r gjson.Result) {
		if r.Type != gjson.String {
			return
		}
		b, err := signing.DecodeBase64(r.Str)
		if err != nil {
			b, err = signing.DecodeBase64URL(r.Str)
		}
		if err == nil && len(b) == ed25519.PublicKeySize {
			keys = append(keys, ed25519.PublicKey(b))
		}
	}
	content := gjson.ParseBytes(ev.Content())
	add(content.Get("public_key"))
	content.Get("public_keys").ForEach(func(_, k gjson.Result) bool {
		add(k.Get("public_key"))
		return true
	})
	return keys
}

// signedByAnyKey reports whether any ed25519 signature in the object signed
// (signatures: {server: {key_id: sig}}) verifies with any of keys.
func signedByAnyKey(signed []byte, keys []ed25519.PublicKey, strict bool) bool {
	if len(keys) == 0 {
		return false
	}
	ok := false
	gjson.GetBytes(signed, "signatures").ForEach(func(server, sigs gjson.Result) bool {
		sigs.ForEach(func(id, _ gjson.Result) bool {
			keyID := signing.KeyID(id.Str)
			if keyID.Algorithm() != "ed25519" {
				return true
			}
			for _, k := range keys {
				if signing.VerifyJSON(signed, server.Str, keyID, k, strict) == nil {
					ok = true
					return false
				}
			}
			return true
		})
		return !ok
	})
	return ok
}
