// Package mxid parses and validates Matrix identifiers (spec appendices,
// "Identifier Grammar"): server names, user IDs (strict and historical), room
// IDs, room aliases and event IDs.
//
// testdata/identifiers.json lists valid and invalid identifiers taken from the
// appendix text, each with the rule that decides it.
package mxid
