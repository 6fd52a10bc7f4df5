// Package cjson implements Matrix canonical JSON (spec appendices, "Canonical JSON").
//
// It re-encodes a JSON document as the shortest UTF-8 encoding with object keys
// sorted by Unicode code point. Two modes exist because room versions differ:
//
//   - Lax (room versions 1 to 5): numbers are kept as written (compacted), and a
//     duplicated key keeps its last value, as Python's json module does.
//   - Strict (room versions 6 and later, and every other signed object the server
//     creates): numbers must be integers in [-(2^53)+1, 2^53-1] without fraction,
//     exponent or negative zero, and duplicate keys are an error.
//
// The package does no I/O and keeps no state; every function is safe for
// concurrent use.
package cjson
