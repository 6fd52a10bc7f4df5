// Package cjson implements Matrix canonical JSON (spec appendices, "Canonical JSON").
//
// It re-encodes a JSON document as the shortest UTF-8 encoding with object keys
// sorted by Unicode code point. Two modes exist because room versions differ:
//
//   - Lax (room versions 1 to 5): numbers are kept as written (compacted), except
//     the integer -0 which is written 0, and a duplicated key keeps its last
//     value, as Python's json module does.
//   - Strict (room versions 6 and later, and every other signed object the server
//     creates): numbers must be integers in [-(2^53)+1, 2^53-1] without fraction,
//     exponent or negative zero, and duplicate keys are an error.
//
// The package does no I/O and keeps no state; every function is safe for
// concurrent use.
//
// # Tests
//
// testdata/spec_examples.json holds every example of the appendix "Canonical
// JSON" (one deliberate deviation, explained in its note) and
// testdata/cases.json the grammar cases. The differential tests compare the
// package with gomatrixserverlib (a test-only dependency) on seeded random
// documents, in every room version's mode; inputs on which that library
// contradicts the spec are named in TestOracleDisagreements and excluded from
// the comparison. Each property runs 10,000 cases; set CONCORD_DIFF_CASES=N
// for longer runs, for example:
//
//	CONCORD_DIFF_CASES=1000000 go test ./roomserver/cjson/
//
// FuzzCanonical is seeded from the testdata files:
//
//	go test -run XXX -fuzz FuzzCanonical -fuzztime 5m ./roomserver/cjson/
package cjson
