-- Relations between events and redactions. Owned by storage/relations;
-- written by the roomserver in the same transaction as the events they index.

-- One row per accepted event with a well-formed m.relates_to (rel_type and
-- event_id). A redacted child loses its row: its relation no longer counts.
CREATE TABLE event_relations (
	-- The child event.
	event_nid BIGINT PRIMARY KEY,
	event_id TEXT NOT NULL,
	room_nid BIGINT NOT NULL,
	-- The event the child relates to, by ID: it may not have arrived yet.
	parent_id TEXT NOT NULL,
	rel_type TEXT NOT NULL,
	-- The child's event type and sender.
	type TEXT NOT NULL,
	sender TEXT NOT NULL,
	-- m.relates_to.key of an m.annotation, NULL otherwise.
	aggregation_key TEXT,
	origin_server_ts BIGINT NOT NULL,
	stream_pos BIGINT NOT NULL
);
CREATE INDEX event_relations_by_parent ON event_relations (parent_id, rel_type, stream_pos);
CREATE INDEX event_relations_threads ON event_relations (room_nid, rel_type, parent_id, stream_pos);
CREATE INDEX event_relations_by_sender ON event_relations (sender, rel_type, parent_id);

-- One row per accepted m.room.redaction. applied is set once the redacted
-- event is known and the redaction allowed: its stored JSON is then the
-- redacted form. A redaction that arrives first waits here for its target.
CREATE TABLE event_redactions (
	redaction_nid BIGINT PRIMARY KEY,
	redaction_id TEXT NOT NULL,
	redacts_id TEXT NOT NULL,
	room_nid BIGINT NOT NULL,
	applied BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX event_redactions_by_target ON event_redactions (redacts_id);
