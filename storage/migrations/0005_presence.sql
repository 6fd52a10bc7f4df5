-- The presence of local users. Owned by storage/presence; written only by
-- the sync API's presence tracker, which keeps the live state in memory and
-- writes a row whenever what clients see changes (state, status message,
-- currently_active), with a new position of the presence stream.
CREATE TABLE presence (
	user_id TEXT PRIMARY KEY,
	-- online, unavailable or offline.
	state TEXT NOT NULL,
	-- '' when the user has no status message.
	status_msg TEXT NOT NULL,
	-- Last pro-active event of the user, milliseconds since the epoch; 0 = never.
	last_active_ts BIGINT NOT NULL,
	currently_active BOOLEAN NOT NULL,
	stream_pos BIGINT NOT NULL
);
CREATE INDEX presence_by_stream ON presence (stream_pos);
