-- Per-user account data and read receipts. Owned by storage/accountdata and
-- storage/receipts; written only through the sync API, which hands out the
-- stream positions (each table is one /sync stream).

-- Account data: global (room_id '') and per room. A row is replaced when the
-- user sets the same type again; stream_pos is the position of the last
-- change, so an incremental /sync sends the rows in (since, now].
CREATE TABLE account_data (
	user_id TEXT NOT NULL,
	-- '' for global account data.
	room_id TEXT NOT NULL,
	type TEXT NOT NULL,
	-- The content, JSON.
	content TEXT NOT NULL,
	stream_pos BIGINT NOT NULL,
	PRIMARY KEY (user_id, room_id, type)
);
CREATE INDEX account_data_by_user_stream ON account_data (user_id, stream_pos);

-- Receipts: one row per (room, user, receipt type, thread). thread_id is ''
-- for an unthreaded receipt, 'main' or a thread root's event ID otherwise.
-- A receipt only moves forwards: event_stream_pos is the room stream
-- position of the acknowledged event.
CREATE TABLE receipts (
	room_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	receipt_type TEXT NOT NULL,
	thread_id TEXT NOT NULL,
	event_id TEXT NOT NULL,
	event_stream_pos BIGINT NOT NULL,
	-- When the receipt was sent, milliseconds since the epoch.
	ts BIGINT NOT NULL,
	stream_pos BIGINT NOT NULL,
	PRIMARY KEY (room_id, user_id, receipt_type, thread_id)
);
CREATE INDEX receipts_by_room_stream ON receipts (room_id, stream_pos);
CREATE INDEX receipts_by_stream ON receipts (stream_pos);
