// Package accounts is the repository of local accounts: users, their
// profiles (displayname, avatar_url), devices, access and refresh tokens, and
// registration tokens. It owns the tables of storage/migrations/0001_accounts.sql
// and runs on both engines through [storage.DB].
//
// Secrets never reach the database in clear: access and refresh tokens are
// stored as SHA-256 hashes ([HashToken]) and looked up by hash; passwords
// arrive already hashed (bcrypt, by the caller).
//
// Methods are grouped per area, one file each:
//
//   - users.go: create, get, password, admin flag, deactivation;
//   - profiles.go: displayname and avatar_url;
//   - devices.go: devices and their last-seen data;
//   - tokens.go: access tokens and single-use refresh token rotation;
//   - regtokens.go: registration tokens with Synapse admin API semantics
//     and atomic reserve / complete / release of uses.
//
// Failures a caller acts on are sentinel errors ([ErrNotFound],
// [ErrUserExists], ...), wrapped with context: test them with errors.Is.
// Timestamps are milliseconds since the Unix epoch, read from [Deps.Now].
package accounts
