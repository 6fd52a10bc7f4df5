package signing

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strings"
)

// KeyID names a key as "algorithm:version", for example "ed25519:a_AbCd".
type KeyID string

// Algorithm returns the part before the colon.
func (k KeyID) Algorithm() string {
	alg, _, _ := strings.Cut(string(k), ":")
	return alg
}

// Valid reports whether k is "algorithm:version" with both parts made of
// [a-zA-Z0-9_] and non-empty (spec: key identifiers).
func (k KeyID) Valid() bool {
	alg, ver, ok := strings.Cut(string(k), ":")
	return ok && validKeyPart(alg) && validKeyPart(ver)
}

func validKeyPart(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Key is a server's ed25519 signing key.
type Key struct {
	ServerName string
	ID         KeyID
	Private    ed25519.PrivateKey
}

// Public returns the public half of the key.
func (k Key) Public() ed25519.PublicKey { return k.Private.Public().(ed25519.PublicKey) }

// KeyFromSeed builds a key from a 32-byte ed25519 seed.
func KeyFromSeed(serverName string, id KeyID, seed []byte) (Key, error) {
	if len(seed) != ed25519.SeedSize {
		return Key{}, fmt.Errorf("signing key seed is %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	if !id.Valid() || id.Algorithm() != "ed25519" {
		return Key{}, fmt.Errorf("invalid ed25519 key ID %q", id)
	}
	return Key{ServerName: serverName, ID: id, Private: ed25519.NewKeyFromSeed(seed)}, nil
}

// GenerateKey makes a new random key with a random version "a_XXXX".
func GenerateKey(serverName string) (Key, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return Key{}, err
	}
	ver := make([]byte, 3)
	if _, err := rand.Read(ver); err != nil {
		return Key{}, err
	}
	id := KeyID("ed25519:a_" + strings.NewReplacer("-", "_").Replace(EncodeBase64URL(ver)))
	return KeyFromSeed(serverName, id, seed)
}

// MarshalKeyFile renders the key in the one-line format Synapse and Dendrite
// use for signing key files: "ed25519 <version> <unpadded base64 seed>".
func (k Key) MarshalKeyFile() []byte {
	_, ver, _ := strings.Cut(string(k.ID), ":")
	return []byte(fmt.Sprintf("ed25519 %s %s\n", ver, EncodeBase64(k.Private.Seed())))
}

// ParseKeyFile reads the first key of a signing key file as written by MarshalKeyFile.
func ParseKeyFile(serverName string, data []byte) (Key, error) {
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) != 3 || fields[0] != "ed25519" {
			return Key{}, fmt.Errorf("signing key file: want \"ed25519 <version> <seed>\"")
		}
		seed, err := DecodeBase64(fields[2])
		if err != nil {
			return Key{}, fmt.Errorf("signing key file: seed: %w", err)
		}
		return KeyFromSeed(serverName, KeyID("ed25519:"+fields[1]), seed)
	}
	return Key{}, fmt.Errorf("signing key file: no key found")
}
