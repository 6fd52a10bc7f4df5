-- Sync filters uploaded by local users (POST /user/{userId}/filter). Owned by
-- storage/filters. A user's identical filters are stored once: uploading the
-- same canonical JSON again returns the existing filter ID.

CREATE TABLE filters (
	-- The filter ID handed to the client, as a decimal string.
	id {{SERIAL}},
	localpart TEXT NOT NULL,
	-- SHA-256 of filter_json, to find a user's identical filter.
	filter_hash {{BLOB}} NOT NULL,
	-- The filter as canonical JSON.
	filter_json TEXT NOT NULL,
	UNIQUE (localpart, filter_hash)
);
