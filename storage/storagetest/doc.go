// Package storagetest is the shared storage test harness: it opens fresh,
// migrated databases on both engines so every repository test runs on SQLite
// and PostgreSQL alike.
//
//	func TestThing(t *testing.T) {
//		storagetest.ForEachBackend(t, func(t *testing.T, db *storage.DB) {
//			...
//		})
//	}
//
// SQLite databases are files in t.TempDir(). PostgreSQL databases are created
// with a unique name on the server of CONCORD_TEST_POSTGRES (default
// [DefaultPostgresURL]) and dropped when the test ends. When that server
// cannot be reached the postgres subtest is skipped, except when CI is set
// or CONCORD_REQUIRE_POSTGRES=1, where it fails: CI never skips PostgreSQL.
package storagetest
