// Package event is the Matrix PDU of room versions 1 to 12: parsing and
// validating untrusted JSON per version, content and reference hashes, event
// IDs, the v12 room ID, redaction, the servers that must sign an event, signing
// and verification, and a builder for local events with auth event selection.
//
// An *Event is immutable once made and safe to share between goroutines.
//
// # Tests
//
// Golden files in testdata come from the spec: the event signing test vectors
// (spec_event_signing.json), the example PDUs of the server-server API with
// the outcome of parsing each in every room version (pdu_examples/), and one
// event per special type with its redacted form under each redaction
// algorithm, written from the spec's lists of kept keys (redaction/).
//
// The differential tests build seeded random events in every room version
// (with Builder and as raw JSON with extra keys, re-spelled, then tampered)
// and compare content hash, event ID, redacted JSON and signature verdicts
// with gomatrixserverlib, in both directions (events built and signed by that
// library must verify here). Where that library contradicts the spec the case
// is a named test in TestEventOracleDisagreements and is excluded by a
// predicate. Each property runs 10,000 cases; CONCORD_DIFF_CASES=N runs N:
//
//	CONCORD_DIFF_CASES=200000 go test -run TestDiff ./roomserver/event/
//
// FuzzParseEvent parses its input in every room version:
//
//	go test -run XXX -fuzz FuzzParseEvent -fuzztime 5m ./roomserver/event/
package event
