// Package federationapi serves the server-server API (/_matrix/federation/*
// and, later, /_matrix/key/*): a routes table and one file per area.
//
// Its first endpoint is OpenID userinfo (openid.go), which third-party
// services such as LiveKit token services call to turn a user's OpenID token
// into a Matrix user ID. It needs no request signature. Until the
// federation listener exists, cmd/concord mounts these routes on the client
// listener's engine.
package federationapi
