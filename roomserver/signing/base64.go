package signing

import (
	"encoding/base64"
	"errors"
	"strings"
)

// ErrBadBase64 is returned for input that is not base64 in the expected alphabet.
var ErrBadBase64 = errors.New("invalid base64")

// EncodeBase64 encodes b as standard unpadded base64.
func EncodeBase64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

// EncodeBase64URL encodes b as URL-safe unpadded base64.
func EncodeBase64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// DecodeBase64 decodes standard base64. Trailing bits need not be zero (the
// spec's own signing-key test vector has non-zero ones). The spec asks to accept
// padded input too, so trailing '=' are allowed.
func DecodeBase64(s string) ([]byte, error) {
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, ErrBadBase64
	}
	return b, nil
}

// DecodeBase64URL decodes URL-safe base64, padded or not.
func DecodeBase64URL(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, ErrBadBase64
	}
	return b, nil
}
