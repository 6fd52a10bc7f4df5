// Package relations serves what the server knows of the relations between
// events (client-server API, "Forming relationships between events"):
// bundled aggregations (m.replace, m.thread, m.reference) and
// unsigned.redacted_because on every served event through [Service.Annotate]
// (the syncapi.EventAnnotator), the children of an event for
// /rooms/{roomId}/relations and the thread roots of a room for
// /rooms/{roomId}/threads.
//
// It only reads: the roomserver indexes relations and applies redactions in
// the transaction that stores the events (storage/relations). What a user
// sees follows the history visibility rules and their ignored users, as
// everywhere events are served.
package relations
