-- Accounts: local users, their profiles, devices and tokens, and registration
-- tokens. Owned by storage/accounts. Timestamps are milliseconds since the
-- Unix epoch. Tokens are stored only as SHA-256 hashes.

CREATE TABLE users (
	localpart TEXT PRIMARY KEY,
	-- A password hash (bcrypt, made by the caller); NULL: no password login.
	password_hash TEXT,
	created_ts BIGINT NOT NULL,
	is_admin BOOLEAN NOT NULL DEFAULT FALSE,
	is_guest BOOLEAN NOT NULL DEFAULT FALSE,
	deactivated BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE profiles (
	localpart TEXT PRIMARY KEY REFERENCES users (localpart) ON DELETE CASCADE,
	-- '' means unset.
	displayname TEXT NOT NULL DEFAULT '',
	avatar_url TEXT NOT NULL DEFAULT ''
);

CREATE TABLE devices (
	localpart TEXT NOT NULL REFERENCES users (localpart) ON DELETE CASCADE,
	device_id TEXT NOT NULL,
	display_name TEXT NOT NULL DEFAULT '',
	created_ts BIGINT NOT NULL,
	-- 0 and '' mean never seen.
	last_seen_ts BIGINT NOT NULL DEFAULT 0,
	last_seen_ip TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (localpart, device_id)
);

CREATE TABLE refresh_tokens (
	id {{SERIAL}},
	token_hash {{BLOB}} NOT NULL UNIQUE,
	localpart TEXT NOT NULL,
	device_id TEXT NOT NULL,
	created_ts BIGINT NOT NULL,
	-- NULL: never expires.
	expires_ts BIGINT,
	FOREIGN KEY (localpart, device_id) REFERENCES devices (localpart, device_id) ON DELETE CASCADE
);

CREATE INDEX refresh_tokens_device ON refresh_tokens (localpart, device_id);

CREATE TABLE access_tokens (
	id {{SERIAL}},
	token_hash {{BLOB}} NOT NULL UNIQUE,
	localpart TEXT NOT NULL,
	device_id TEXT NOT NULL,
	-- The refresh token issued with this access token: using or deleting it
	-- ends this access token too.
	refresh_token_id BIGINT REFERENCES refresh_tokens (id) ON DELETE CASCADE,
	created_ts BIGINT NOT NULL,
	-- NULL: never expires.
	expires_ts BIGINT,
	FOREIGN KEY (localpart, device_id) REFERENCES devices (localpart, device_id) ON DELETE CASCADE
);

CREATE INDEX access_tokens_device ON access_tokens (localpart, device_id);
CREATE INDEX access_tokens_refresh ON access_tokens (refresh_token_id);

-- Synapse admin API semantics: a token is valid while
-- (uses_allowed IS NULL OR pending + completed < uses_allowed)
-- AND (expiry_time IS NULL OR expiry_time > now).
CREATE TABLE registration_tokens (
	token TEXT PRIMARY KEY,
	-- NULL: unlimited.
	uses_allowed BIGINT CHECK (uses_allowed IS NULL OR uses_allowed >= 0),
	pending BIGINT NOT NULL DEFAULT 0 CHECK (pending >= 0),
	completed BIGINT NOT NULL DEFAULT 0 CHECK (completed >= 0),
	-- NULL: never expires.
	expiry_time BIGINT
);
