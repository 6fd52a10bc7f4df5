// Package accounts is the repository of local accounts: users, their
// profiles (displayname, avatar_url), devices, access and refresh tokens,
// registration tokens and OpenID tokens. It owns the tables of
// storage/migrations/0001_accounts.sql and 0010_openid.sql and runs on both
// engines through [storage.DB].
//
// Secrets never reach the database in clear: access, refresh and OpenID
// tokens are stored as SHA-256 hashes ([HashToken]) and looked up by hash;
// passwords arrive already hashed (bcrypt, by the caller).
//
// Methods are grouped per area, one file each:
//
//   - users.go: create, get, password, admin flag, deactivation;
//   - profiles.go: displayname and avatar_url;
//   - devices.go: devices and their last-seen data;
//   - tokens.go: access tokens and single-use refresh token rotation;
//   - regtokens.go: registration tokens with Synapse admin API semantics
//     and atomic reserve / complete / release of uses;
//   - guests.go: guest accounts: upgrade to a full account, lookups;
//   - openid.go: OpenID tokens (hashed, expiring) for third-party services.
//
// Failures a caller acts on are sentinel errors ([ErrNotFound],
// [ErrUserExists], ...), wrapped with context: test them with errors.Is.
// Timestamps are milliseconds since the Unix epoch, read from [Deps.Now].
package accounts
