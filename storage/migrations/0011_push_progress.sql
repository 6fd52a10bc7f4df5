-- How far the push evaluator has evaluated the room event stream, so events
-- still queued when the process stopped are evaluated on the next start.
-- One row (id = 1). Owned by storage/push.
CREATE TABLE push_progress (
	id INTEGER PRIMARY KEY,
	stream_pos BIGINT NOT NULL
);
