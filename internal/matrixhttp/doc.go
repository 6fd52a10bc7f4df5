// Package matrixhttp is the HTTP edge shared by Concord's APIs (client,
// federation, media, admin): the Matrix error type and the one table that maps
// domain errors to errcode and status, JSON request decoding with the right
// errors (M_NOT_JSON, M_BAD_JSON, M_TOO_LARGE), gin middleware for request IDs,
// structured access logs, panic recovery and rate limiting, and the handlers
// for unknown endpoints (M_UNRECOGNIZED).
package matrixhttp
