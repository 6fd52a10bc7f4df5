// Package stateres resolves conflicting room states: the state resolution
// algorithms of room version 1, of room versions 2–11 (v2) and of room
// version 12 (v2.1: the conflicted state subgraph joins the full conflicted
// set and the first iterative auth checks start from an empty state map).
//
//	resolved, err := stateres.Resolve(ctx, version, []map[event.StateKey]string{a, b}, source)
//
// Events come from an EventSource in batches: one call per level of the auth
// DAG, or — when the source also implements AuthChainSource (a database with
// an auth chain index) — one AuthChain call and one Events call. A source
// that implements RejectionSource keeps rejected events from being used as
// auth events in the iterative auth checks. Authorisation rules are those of
// package auth. The package does no other I/O and keeps no global state.
//
// # Data structures
//
// Every Resolve call interns the event IDs it meets into dense int32 nodes
// once; auth edges are kept in one compressed sparse row table, sets of
// events are bitsets, and state maps are slices indexed by interned state
// keys. The auth difference is computed without materialising any auth
// chain: one walk from each state set stamps the nodes it reaches and counts
// the sets reaching each node (difference: reached by some but not all). The
// conflicted state subgraph is one memoised post-order walk from the
// conflicted events (a node is in it when it is reachable from a conflicted
// event and reaches one). The reverse topological power ordering is Kahn's
// algorithm over the auth edges inside the power set with a binary heap;
// each sender's power level is computed once per event (auth.SenderPowerLevel
// over the event's own auth events, whose parsed contents package auth
// memoises on the event), and mainline positions are memoised per power
// levels event so every power levels chain is walked once.
//
// # Tests
//
// TestDifferential compares Concord with github.com/matrix-org/gomatrixserverlib
// (a test-only dependency) on seeded random rooms with forks in every room
// version: 10,200 cases by default (1,200 with -short); set
// CONCORD_DIFF_CASES=N for a longer run. A failure prints a command line that
// dumps the case (TestDebugCase, CONCORD_DEBUG=ver:seed:users:forks:prefix:steps).
// Where gomatrixserverlib departs from the spec, the spec wins: each known
// departure has a predicate in oraclemodel_test.go that excludes exactly the
// cases in which the oracle's checks, their order or their outcomes differ
// from the spec's, and a named regression case in regress_test.go that quotes
// the spec. TestScanDeviations (CONCORD_SCAN=N) finds such cases. The golden
// scenarios of testdata/*.json come from the spec's descriptions, and
// bench_test.go compares the speed of both implementations.
package stateres
