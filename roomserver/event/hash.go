package event

import (
	"crypto/sha256"

	"github.com/concordchat/concord/roomserver/cjson"
	"github.com/concordchat/concord/roomserver/roomversion"
	"github.com/concordchat/concord/roomserver/signing"
)

var (
	contentHashOmit   = []string{"unsigned", "signatures", "hashes"}
	referenceHashOmit = []string{"unsigned", "signatures"}
)

// ContentHash computes the sha256 content hash (unpadded base64) of event JSON:
// the canonical JSON without unsigned, signatures and hashes.
func ContentHash(raw []byte, v *roomversion.Version) (string, error) {
	canonical, err := cjson.Encode(raw, cjson.Options{Strict: v.StrictCanonicalJSON, Omit: contentHashOmit})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canonical)
	return signing.EncodeBase64(sum[:]), nil
}

// computeContentHash hashes already-canonical event JSON.
func computeContentHash(canonical []byte) (string, error) {
	stripped, err := cjson.Encode(canonical, cjson.Options{Omit: contentHashOmit})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(stripped)
	return signing.EncodeBase64(sum[:]), nil
}

// ReferenceHash computes the sha256 reference hash of event JSON: the redacted
// event without signatures and unsigned, as canonical JSON.
func ReferenceHash(raw []byte, v *roomversion.Version) ([32]byte, error) {
	redacted, err := Redact(raw, v)
	if err != nil {
		return [32]byte{}, err
	}
	canonical, err := cjson.Encode(redacted, cjson.Options{Strict: v.StrictCanonicalJSON, Omit: referenceHashOmit})
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(canonical), nil
}

// computeEventID derives the event ID of a v3+ event from its reference hash.
func computeEventID(raw []byte, v *roomversion.Version) (string, error) {
	sum, err := ReferenceHash(raw, v)
	if err != nil {
		return "", err
	}
	if v.EventIDFormat == roomversion.EventIDHashStd {
		return "$" + signing.EncodeBase64(sum[:]), nil
	}
	return "$" + signing.EncodeBase64URL(sum[:]), nil
}

// CheckContentHash reports whether the event's claimed content hash matches
// its JSON. A redacted event generally does not match.
func (e *Event) CheckContentHash() bool {
	want, err := computeContentHash(e.raw)
	return err == nil && want == e.contentHash
}
