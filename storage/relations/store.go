package relations

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/concordchat/concord/storage"
)

// Store reads the relation and redaction indexes.
type Store struct {
	db *storage.DB
}

// New returns a Store over db (migrations already applied by storage.Open).
func New(db *storage.DB) *Store { return &Store{db: db} }

// ChildQuery selects indexed children.
type ChildQuery struct {
	RoomNID   int64    // 0: any room
	ParentIDs []string // required
	RelTypes  []string // empty: any relation type
	Type      string   // "": any event type
	// Stream positions in (After, Before); Before <= 0 means no upper bound.
	After, Before int64
	Backwards     bool // newest first
	Limit         int  // <= 0: no limit
}

// queryArgs builds numbered placeholders.
type queryArgs struct {
	d     storage.Dialect
	args  []any
	conds []string
}

func (q *queryArgs) add(cond string, v any) {
	q.args = append(q.args, v)
	q.conds = append(q.conds, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(q.args))))
}

func (q *queryArgs) in(expr string, values []string, negate bool) {
	cond, args := storage.InList(q.d, expr, len(q.args)+1, values)
	q.args = append(q.args, args...)
	if negate {
		cond = "NOT (" + cond + ")"
	}
	q.conds = append(q.conds, cond)
}

func (q *queryArgs) where() string { return strings.Join(q.conds, " AND ") }

const childColumns = `event_nid, event_id, room_nid, parent_id, rel_type, type, sender, aggregation_key,
	origin_server_ts, stream_pos`

// Children returns indexed children in stream order.
func (s *Store) Children(ctx context.Context, cq ChildQuery) ([]Child, error) {
	q := &queryArgs{d: s.db.Dialect()}
	q.in("parent_id", cq.ParentIDs, false)
	if cq.RoomNID != 0 {
		q.add("room_nid = $?", cq.RoomNID)
	}
	if len(cq.RelTypes) > 0 {
		q.in("rel_type", cq.RelTypes, false)
	}
	if cq.Type != "" {
		q.add("type = $?", cq.Type)
	}
	q.add("stream_pos > $?", cq.After)
	if cq.Before > 0 {
		q.add("stream_pos < $?", cq.Before)
	}
	order := "ASC"
	if cq.Backwards {
		order = "DESC"
	}
	query := `SELECT ` + childColumns + ` FROM event_relations WHERE ` + q.where() + ` ORDER BY stream_pos ` + order
	if cq.Limit > 0 {
		query += " LIMIT " + strconv.Itoa(cq.Limit)
	}
	rows, err := s.db.Read().QueryContext(ctx, query, q.args...)
	if err != nil {
		return nil, fmt.Errorf("relations: children: %w", err)
	}
	return scanChildren(rows)
}

func scanChildren(rows *sql.Rows) ([]Child, error) {
	defer rows.Close()
	var out []Child
	for rows.Next() {
		var c Child
		var key sql.NullString
		if err := rows.Scan(&c.EventNID, &c.EventID, &c.RoomNID, &c.ParentID, &c.RelType, &c.Type, &c.Sender, &key,
			&c.OriginServerTS, &c.StreamPos); err != nil {
			return nil, fmt.Errorf("relations: scan child: %w", err)
		}
		if key.Valid {
			c.Key = &key.String
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ThreadSummary is what the index knows of one thread.
type ThreadSummary struct {
	Count     int
	LatestPos int64
}

// ThreadSummaries counts the m.thread children of each parent, leaving out
// those sent by the ignored users.
func (s *Store) ThreadSummaries(ctx context.Context, parentIDs, ignored []string) (map[string]ThreadSummary, error) {
	q := &queryArgs{d: s.db.Dialect()}
	q.in("parent_id", parentIDs, false)
	q.add("rel_type = $?", RelThread)
	if len(ignored) > 0 {
		q.in("sender", ignored, true)
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT parent_id, COUNT(*), MAX(stream_pos) FROM event_relations
		WHERE `+q.where()+` GROUP BY parent_id`, q.args...)
	if err != nil {
		return nil, fmt.Errorf("relations: thread summaries: %w", err)
	}
	defer rows.Close()
	out := map[string]ThreadSummary{}
	for rows.Next() {
		var id string
		var ts ThreadSummary
		if err := rows.Scan(&id, &ts.Count, &ts.LatestPos); err != nil {
			return nil, fmt.Errorf("relations: scan thread summary: %w", err)
		}
		out[id] = ts
	}
	return out, rows.Err()
}

// Participated returns the parents among parentIDs with an m.thread child
// sent by userID.
func (s *Store) Participated(ctx context.Context, userID string, parentIDs []string) (map[string]bool, error) {
	q := &queryArgs{d: s.db.Dialect()}
	q.add("sender = $?", userID)
	q.add("rel_type = $?", RelThread)
	q.in("parent_id", parentIDs, false)
	rows, err := s.db.Read().QueryContext(ctx, `SELECT DISTINCT parent_id FROM event_relations WHERE `+q.where(), q.args...)
	if err != nil {
		return nil, fmt.Errorf("relations: participation: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// ThreadQuery pages through a room's threads, latest activity first.
type ThreadQuery struct {
	RoomNID int64
	// Before: only threads whose latest event is before this stream
	// position (0: no bound).
	Before int64
	// Participant, when set, keeps threads whose root or a reply they sent.
	Participant string
	Limit       int
}

// Thread is a thread root and the stream position of its latest reply.
type Thread struct {
	RootID    string
	LatestPos int64
}

// Threads returns one page of a room's threads.
func (s *Store) Threads(ctx context.Context, tq ThreadQuery) ([]Thread, error) {
	q := &queryArgs{d: s.db.Dialect()}
	q.add("r.room_nid = $?", tq.RoomNID)
	q.add("r.rel_type = $?", RelThread)
	if tq.Participant != "" {
		q.add(`(EXISTS (SELECT 1 FROM room_events e WHERE e.event_id = r.parent_id AND e.sender = $?)
			OR EXISTS (SELECT 1 FROM event_relations c WHERE c.parent_id = r.parent_id AND c.rel_type = r.rel_type
				AND c.sender = $?))`, tq.Participant)
	}
	having := ""
	if tq.Before > 0 {
		q.args = append(q.args, tq.Before)
		having = " HAVING MAX(r.stream_pos) < $" + strconv.Itoa(len(q.args))
	}
	q.args = append(q.args, max(tq.Limit, 1))
	rows, err := s.db.Read().QueryContext(ctx, `SELECT r.parent_id, MAX(r.stream_pos) AS latest FROM event_relations r
		WHERE `+q.where()+` GROUP BY r.parent_id`+having+` ORDER BY latest DESC LIMIT $`+strconv.Itoa(len(q.args)), q.args...)
	if err != nil {
		return nil, fmt.Errorf("relations: threads: %w", err)
	}
	defer rows.Close()
	var out []Thread
	for rows.Next() {
		var th Thread
		if err := rows.Scan(&th.RootID, &th.LatestPos); err != nil {
			return nil, fmt.Errorf("relations: scan thread: %w", err)
		}
		out = append(out, th)
	}
	return out, rows.Err()
}

// AppliedRedactions returns, for each of the given events that was redacted,
// the NID of the first redaction applied to it.
func (s *Store) AppliedRedactions(ctx context.Context, eventIDs []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(eventIDs) == 0 {
		return out, nil
	}
	q := &queryArgs{d: s.db.Dialect()}
	q.in("redacts_id", eventIDs, false)
	rows, err := s.db.Read().QueryContext(ctx, `SELECT redacts_id, MIN(redaction_nid) FROM event_redactions
		WHERE applied AND `+q.where()+` GROUP BY redacts_id`, q.args...)
	if err != nil {
		return nil, fmt.Errorf("relations: redactions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var nid int64
		if err := rows.Scan(&id, &nid); err != nil {
			return nil, err
		}
		out[id] = nid
	}
	return out, rows.Err()
}

// Related returns the events among eventIDs that have indexed children or
// were redacted: the only ones with anything to annotate.
func (s *Store) Related(ctx context.Context, eventIDs []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(eventIDs) == 0 {
		return out, nil
	}
	d := s.db.Dialect()
	parents, args := storage.InList(d, "parent_id", 1, eventIDs)
	targets, _ := storage.InList(d, "redacts_id", 1, eventIDs)
	rows, err := s.db.Read().QueryContext(ctx, `SELECT parent_id FROM event_relations WHERE `+parents+`
		UNION SELECT redacts_id FROM event_redactions WHERE applied AND `+targets, args...)
	if err != nil {
		return nil, fmt.Errorf("relations: related: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}
