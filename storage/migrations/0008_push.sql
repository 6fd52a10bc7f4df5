-- Push rules and notifications. Owned by storage/push.

-- Push rules a user defined. position orders the rules of one kind: lower
-- is more important. Server-default rules are not stored: they are built in
-- code, and a user's changes to them live in push_rule_defaults.
CREATE TABLE push_rules (
	user_id TEXT NOT NULL,
	kind TEXT NOT NULL,
	rule_id TEXT NOT NULL,
	position BIGINT NOT NULL,
	-- The glob pattern of content rules ('' for other kinds).
	pattern TEXT NOT NULL DEFAULT '',
	-- JSON arrays.
	conditions TEXT NOT NULL,
	actions TEXT NOT NULL,
	enabled BOOLEAN NOT NULL DEFAULT TRUE,
	PRIMARY KEY (user_id, kind, rule_id)
);

-- A user's changes to server-default rules (rule IDs starting with '.'):
-- NULL keeps the default.
CREATE TABLE push_rule_defaults (
	user_id TEXT NOT NULL,
	rule_id TEXT NOT NULL,
	enabled BOOLEAN,
	actions TEXT,
	PRIMARY KEY (user_id, rule_id)
);

-- Events that notify a user: the actions of the push rule that matched, at
-- the event's stream position. thread_id is the thread root's event ID, or
-- 'main' for the main timeline.
CREATE TABLE push_notifications (
	user_id TEXT NOT NULL,
	event_id TEXT NOT NULL,
	room_id TEXT NOT NULL,
	thread_id TEXT NOT NULL,
	-- The event's sender: notifications from users the user ignores are
	-- left out when counting and listing.
	sender TEXT NOT NULL,
	stream_pos BIGINT NOT NULL,
	actions TEXT NOT NULL,
	highlight BOOLEAN NOT NULL,
	-- When the notification was made (ms since the epoch).
	ts BIGINT NOT NULL,
	PRIMARY KEY (user_id, event_id)
);
CREATE INDEX push_notifications_by_room ON push_notifications (user_id, room_id, stream_pos);
CREATE INDEX push_notifications_by_user ON push_notifications (user_id, stream_pos);
CREATE INDEX push_notifications_by_event ON push_notifications (event_id);

-- Implicit read receipts: sending an event marks the user's notifications
-- up to it as read (push module, "Marking notifications as read"), per
-- thread of the sent event.
CREATE TABLE push_own_reads (
	user_id TEXT NOT NULL,
	room_id TEXT NOT NULL,
	thread_id TEXT NOT NULL,
	stream_pos BIGINT NOT NULL,
	PRIMARY KEY (user_id, room_id, thread_id)
);
