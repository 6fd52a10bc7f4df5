-- OpenID tokens (POST /user/{userId}/openid/request_token), exchanged by
-- third-party services at /_matrix/federation/v1/openid/userinfo. Owned by
-- storage/accounts. Only the SHA-256 hash of a token is stored; expired rows
-- are deleted when new tokens are issued.

CREATE TABLE openid_tokens (
	token_hash {{BLOB}} PRIMARY KEY,
	localpart TEXT NOT NULL REFERENCES users (localpart) ON DELETE CASCADE,
	-- ms since the Unix epoch after which the token is invalid.
	expires_ts BIGINT NOT NULL
);

CREATE INDEX openid_tokens_expiry ON openid_tokens (expires_ts);
