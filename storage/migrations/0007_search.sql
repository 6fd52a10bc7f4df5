-- Full-text search over room events. Owned by storage/search; written by the
-- roomserver in the same transaction as the events. One row per searchable
-- key of an event: content.body of m.room.message, content.name of
-- m.room.name, content.topic (and the text/plain m.topic) of m.room.topic.
-- A redacted event loses its rows.

CREATE TABLE event_search (
	search_nid {{SERIAL}},
	event_nid BIGINT NOT NULL,
	-- content.body, content.name or content.topic.
	search_key TEXT NOT NULL,
	room_nid BIGINT NOT NULL,
	sender TEXT NOT NULL,
	type TEXT NOT NULL,
	stream_pos BIGINT NOT NULL,
	origin_server_ts BIGINT NOT NULL,
	body TEXT NOT NULL
);
CREATE UNIQUE INDEX event_search_by_event ON event_search (event_nid, search_key);
CREATE INDEX event_search_by_room ON event_search (room_nid, stream_pos);

-- engine: postgres
-- English stemming; the vector is kept beside the text and GIN-indexed.
ALTER TABLE event_search ADD COLUMN vector TSVECTOR NOT NULL;
CREATE INDEX event_search_vector ON event_search USING GIN (vector);

-- engine: sqlite
-- An FTS5 index whose rowid is search_nid; Porter stemming over Unicode
-- words, like PostgreSQL's english configuration.
CREATE VIRTUAL TABLE event_search_fts USING fts5(body, tokenize = 'porter unicode61');
