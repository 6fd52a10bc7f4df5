// Package signing holds Matrix's unpadded base64 encodings, ed25519 signing keys
// with key IDs ("ed25519:abc"), and the signing and verification of JSON objects
// (spec appendices, "Signing JSON"): the signature covers the canonical JSON of
// the object without its "signatures" and "unsigned" members.
//
// Tests: testdata holds the appendix's unpadded base64 examples and JSON
// signing test vectors; TestDiffSignJSON signs and verifies seeded random
// objects against gomatrixserverlib (10,000 cases, or CONCORD_DIFF_CASES=N).
package signing
