-- The published room directory and content reports. Owned by
-- storage/directory. Timestamps are milliseconds since the Unix epoch.

-- Rooms published in this server's room directory
-- (PUT /directory/list/room/{roomId} with visibility "public", or
-- createRoom with visibility "public"). A room is private when absent.
CREATE TABLE room_directory (
	room_id TEXT PRIMARY KEY,
	published_by TEXT NOT NULL,
	published_ts BIGINT NOT NULL
);

-- Reports of events (POST /rooms/{roomId}/report/{eventId}) and rooms
-- (POST /rooms/{roomId}/report), read by server admins.
CREATE TABLE content_reports (
	id {{SERIAL}},
	-- 'event' or 'room'.
	kind TEXT NOT NULL,
	room_id TEXT NOT NULL,
	-- The reported event and its sender; '' for room reports.
	event_id TEXT NOT NULL DEFAULT '',
	event_sender TEXT NOT NULL DEFAULT '',
	-- The user who reported.
	reporter TEXT NOT NULL,
	-- NULL when the reporter gave none.
	reason TEXT,
	-- -100 (most offensive) to 0; NULL when not given.
	score BIGINT,
	received_ts BIGINT NOT NULL
);
CREATE INDEX content_reports_by_kind ON content_reports (kind, received_ts);
