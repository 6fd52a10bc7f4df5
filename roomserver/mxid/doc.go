// Package mxid parses and validates Matrix identifiers (spec appendices,
// "Identifier Grammar"): server names, user IDs (strict and historical), room
// IDs, room aliases and event IDs.
package mxid
