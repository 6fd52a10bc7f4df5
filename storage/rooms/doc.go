// Package rooms is the repository of rooms as event DAGs: events with their
// auth edges, state snapshots (delta chains capped by full bases), current
// state, forward extremities, stream positions and the federation outbox.
//
// Only the roomserver writes these tables, through Store.Write, one
// transaction per input; everyone else reads.
package rooms
