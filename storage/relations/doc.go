// Package relations stores the relations between events (m.relates_to) and
// the redactions of a room, the indexes behind /relations, /threads, bundled
// aggregations and redacted_because.
//
// The rows are derived from events and written only by the roomserver, with
// a [Writer] over the transaction that stores the events, so an index never
// disagrees with the events it indexes. Everyone else reads through [Store].
package relations
