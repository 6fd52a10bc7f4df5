// Package roomserver is the one writer of rooms. Every change to a room goes
// through its input pipeline, serialized per room: build (for local events),
// authorise against the auth events, the state before the event and the
// current state, then store the event, its auth edges, its state snapshot, the
// room's new current state and forward extremities, its stream position and
// the federation outbox in one transaction. After the commit the in-memory hot
// state is updated and the notifier is told.
//
// The pure protocol code it uses lives in the subpackages (cjson, signing,
// mxid, roomversion, event, auth, stateres); storage is storage/rooms.
package roomserver
