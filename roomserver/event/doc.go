// Package event is the Matrix PDU of room versions 1 to 12: parsing and
// validating untrusted JSON per version, content and reference hashes, event
// IDs, the v12 room ID, redaction, the servers that must sign an event, signing
// and verification, and a builder for local events with auth event selection.
//
// An *Event is immutable once made and safe to share between goroutines.
package event
