-- Rooms as signed event DAGs. Owned by storage/rooms; written only by the
-- roomserver's input pipeline, one transaction per input.
--
-- State is stored as snapshots: a snapshot is its parent's state plus its own
-- entries (later entries win). A chain is capped in length by writing a full
-- base snapshot (parent_nid = 0), so reading any state is one bounded walk.

CREATE TABLE rooms (
	room_nid {{SERIAL}},
	room_id TEXT NOT NULL UNIQUE,
	room_version TEXT NOT NULL,
	-- The snapshot of the room's current state (0 before the create event).
	state_snapshot_nid BIGINT NOT NULL DEFAULT 0,
	created_ts BIGINT NOT NULL
);

CREATE TABLE room_events (
	event_nid {{SERIAL}},
	event_id TEXT NOT NULL UNIQUE,
	room_nid BIGINT NOT NULL,
	type TEXT NOT NULL,
	-- NULL for message events.
	state_key TEXT,
	sender TEXT NOT NULL,
	depth BIGINT NOT NULL,
	origin_server_ts BIGINT NOT NULL,
	-- The event as sent over federation, canonical JSON.
	json TEXT NOT NULL,
	redacted BOOLEAN NOT NULL DEFAULT FALSE,
	rejected BOOLEAN NOT NULL DEFAULT FALSE,
	-- Outliers are known events without known state (auth chains, invites).
	outlier BOOLEAN NOT NULL DEFAULT FALSE,
	-- Position in this server's event stream; NULL for outliers and rejected events.
	stream_pos BIGINT UNIQUE,
	-- The state before the event, and after it (equal for message events).
	state_before_nid BIGINT NOT NULL DEFAULT 0,
	state_after_nid BIGINT NOT NULL DEFAULT 0,
	-- The client transaction of a local event (device and transaction ID), so a
	-- retried PUT /send returns the same event even across a restart.
	txn_device TEXT,
	txn_id TEXT
);
CREATE INDEX room_events_room_stream ON room_events (room_nid, stream_pos);
CREATE INDEX room_events_room_state ON room_events (room_nid, type, state_key);
CREATE UNIQUE INDEX room_events_txn ON room_events (sender, txn_device, txn_id) WHERE txn_id IS NOT NULL;

-- Auth edges of state events (auth chains are walked through state events;
-- a message event's auth events are read from its JSON).
CREATE TABLE event_auth (
	event_nid BIGINT NOT NULL,
	auth_event_nid BIGINT NOT NULL,
	PRIMARY KEY (event_nid, auth_event_nid)
);

CREATE TABLE forward_extremities (
	room_nid BIGINT NOT NULL,
	event_nid BIGINT NOT NULL,
	PRIMARY KEY (room_nid, event_nid)
);

CREATE TABLE state_snapshots (
	snapshot_nid {{SERIAL}},
	room_nid BIGINT NOT NULL,
	-- 0 for a base snapshot that lists the whole state.
	parent_nid BIGINT NOT NULL,
	-- Number of snapshots from the base to this one (0 for a base).
	chain_len INTEGER NOT NULL
);

CREATE TABLE state_snapshot_entries (
	snapshot_nid BIGINT NOT NULL,
	type TEXT NOT NULL,
	state_key TEXT NOT NULL,
	event_nid BIGINT NOT NULL,
	PRIMARY KEY (snapshot_nid, type, state_key)
);

CREATE TABLE current_state (
	room_nid BIGINT NOT NULL,
	type TEXT NOT NULL,
	state_key TEXT NOT NULL,
	event_nid BIGINT NOT NULL,
	-- content.membership for m.room.member, '' otherwise.
	membership TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (room_nid, type, state_key)
);
CREATE INDEX current_state_by_member ON current_state (type, state_key, membership);

-- Events to send to other servers, written with the event (an outbox).
CREATE TABLE federation_outbox (
	id {{SERIAL}},
	destination TEXT NOT NULL,
	event_nid BIGINT NOT NULL,
	created_ts BIGINT NOT NULL
);
CREATE INDEX federation_outbox_by_destination ON federation_outbox (destination, id);

-- Local room aliases (#alias:this.server → room).
CREATE TABLE room_aliases (
	alias TEXT PRIMARY KEY,
	room_id TEXT NOT NULL,
	creator TEXT NOT NULL,
	created_ts BIGINT NOT NULL
);
CREATE INDEX room_aliases_by_room ON room_aliases (room_id);

-- Rooms a user forgot: the membership event current when they forgot it. A
-- newer membership event makes the room visible again.
CREATE TABLE forgotten_rooms (
	user_id TEXT NOT NULL,
	room_nid BIGINT NOT NULL,
	membership_event_nid BIGINT NOT NULL,
	PRIMARY KEY (user_id, room_nid)
);
