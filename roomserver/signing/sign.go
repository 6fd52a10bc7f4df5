package signing

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/concordchat/concord/roomserver/cjson"
)

var (
	// ErrNoSignature means the object carries no signature by that server and key.
	ErrNoSignature = errors.New("no signature for this server and key")
	// ErrBadSignature means a signature exists but does not verify.
	ErrBadSignature = errors.New("signature does not verify")
)

// Signatures is the "signatures" member: server name → key ID → base64 signature.
type Signatures map[string]map[KeyID]string

var omitForSigning = []string{"signatures", "unsigned"}

// SigningBytes returns the bytes a signature over obj covers: its canonical JSON
// without "signatures" and "unsigned". strict selects the canonical JSON mode.
func SigningBytes(obj []byte, strict bool) ([]byte, error) {
	return cjson.Encode(obj, cjson.Options{Strict: strict, Omit: omitForSigning})
}

// SignJSON signs the JSON object obj with key and returns it in canonical form
// with the signature added beside any existing ones.
func SignJSON(obj []byte, key Key, strict bool) ([]byte, error) {
	msg, err := SigningBytes(obj, strict)
	if err != nil {
		return nil, err
	}
	sig := EncodeBase64(ed25519.Sign(key.Private, msg))
	return AddSignature(obj, key.ServerName, key.ID, sig, strict)
}

// AddSignature inserts one signature into obj and returns the canonical result.
func AddSignature(obj []byte, serverName string, id KeyID, sig string, strict bool) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(obj, &top); err != nil {
		return nil, fmt.Errorf("signing: not a JSON object: %w", err)
	}
	sigs, err := ParseSignatures(top["signatures"])
	if err != nil {
		return nil, err
	}
	if sigs[serverName] == nil {
		sigs[serverName] = map[KeyID]string{}
	}
	sigs[serverName][id] = sig
	if top["signatures"], err = json.Marshal(sigs); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(top)
	if err != nil {
		return nil, err
	}
	return cjson.Encode(raw, cjson.Options{Strict: strict})
}

// ParseSignatures decodes a "signatures" value; absent or null gives an empty map.
func ParseSignatures(raw json.RawMessage) (Signatures, error) {
	sigs := Signatures{}
	if len(raw) == 0 || string(raw) == "null" {
		return sigs, nil
	}
	if err := json.Unmarshal(raw, &sigs); err != nil {
		return nil, fmt.Errorf("signing: bad signatures object: %w", err)
	}
	return sigs, nil
}

// VerifyJSON checks the signature by serverName's key id over obj with pub.
func VerifyJSON(obj []byte, serverName string, id KeyID, pub ed25519.PublicKey, strict bool) error {
	var top struct {
		Signatures json.RawMessage `json:"signatures"`
	}
	if err := json.Unmarshal(obj, &top); err != nil {
		return fmt.Errorf("signing: not a JSON object: %w", err)
	}
	sigs, err := ParseSignatures(top.Signatures)
	if err != nil {
		return err
	}
	encoded, ok := sigs[serverName][id]
	if !ok {
		return ErrNoSignature
	}
	sig, err := DecodeBase64(encoded)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return ErrBadSignature
	}
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("signing: public key is %d bytes", len(pub))
	}
	msg, err := SigningBytes(obj, strict)
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, msg, sig) {
		return ErrBadSignature
	}
	return nil
}
