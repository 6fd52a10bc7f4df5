// Package syncapi serves /sync: the long-poll that delivers each accepted
// event exactly once to every user allowed to see it, with opaque next_batch
// tokens ready for more streams. The Notifier receives the roomserver's
// outputs after they commit and wakes only the syncing users they concern.
// It also owns history visibility, which /messages and /context share.
package syncapi
