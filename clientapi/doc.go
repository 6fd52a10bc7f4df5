// Package clientapi serves the Matrix client-server API (/_matrix/client/v3
// and the r0 paths clients still call): a routes table per area, the access
// token middleware, and typed request and response structs per endpoint.
// Handlers validate input and call the roomserver, storage repositories and
// syncapi; they never write room tables themselves.
package clientapi
