// Package roomtest builds signed rooms for tests: users with per-server keys,
// a create event and initial state, linear history and forks (branches) whose
// state is tracked per branch, in any room version.
//
//	r := roomtest.New(t, "12", "@alice:a.test")
//	r.Send("@alice:a.test", "m.room.member", ptr("@bob:b.test"), map[string]any{"membership": "invite"})
//	b := r.Fork("main", "side")
//
// It is a test-only helper (imported from _test files only).
package roomtest
