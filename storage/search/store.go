package search

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/concordchat/concord/storage"
)

// Store matches and ranks indexed events.
type Store struct {
	db *storage.DB
}

// New returns a Store over db (migrations already applied by storage.Open).
func New(db *storage.DB) *Store { return &Store{db: db} }

// Query is one full-text search.
type Query struct {
	Terms    []string // from Terms; no terms match nothing
	RoomNIDs []int64  // the rooms to search; none match nothing
	Keys     []string // searchable keys; empty means all
	// Senders, when not nil, keeps only these senders; NotSenders drops some.
	Senders    *[]string
	NotSenders []string
	ByRecent   bool    // newest first; otherwise best rank first
	After      *Cursor // continue after this hit
	Limit      int
}

// Cursor is the place of a hit in the result order.
type Cursor struct {
	Rank      float64
	StreamPos int64
}

// Hit is one matching event. Rank is higher for closer matches.
type Hit struct {
	EventNID  int64
	RoomNID   int64
	StreamPos int64
	Rank      float64
}

// matchExpr renders the terms in the engine's query syntax: every term must
// match, as a prefix.
func matchExpr(d storage.Dialect, terms []string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		if d.Name() == storage.EnginePostgres {
			parts[i] = t + ":*"
		} else {
			parts[i] = `"` + t + `"*`
		}
	}
	if d.Name() == storage.EnginePostgres {
		return strings.Join(parts, " & ")
	}
	return strings.Join(parts, " AND ")
}

// where renders the FROM and WHERE of a query and its arguments; the rank
// expression is returned for the select list.
func (s *Store) where(q Query) (from, rank, where string, args []any) {
	d := s.db.Dialect()
	args = []any{matchExpr(d, q.Terms)}
	var conds []string
	if d.Name() == storage.EnginePostgres {
		from = `event_search s, to_tsquery('english', $1) AS q(query)`
		rank = `ts_rank(s.vector, q.query)`
		conds = append(conds, `s.vector @@ q.query`)
	} else {
		from = `event_search_fts JOIN event_search s ON s.search_nid = event_search_fts.rowid`
		rank = `-bm25(event_search_fts)`
		conds = append(conds, `event_search_fts MATCH $1`)
	}
	in := func(expr string, values any, negate bool) {
		var cond string
		var more []any
		switch v := values.(type) {
		case []int64:
			cond, more = storage.InList(d, expr, len(args)+1, v)
		case []string:
			cond, more = storage.InList(d, expr, len(args)+1, v)
		}
		args = append(args, more...)
		if negate {
			cond = "NOT (" + cond + ")"
		}
		conds = append(conds, cond)
	}
	in("s.room_nid", q.RoomNIDs, false)
	if len(q.Keys) > 0 {
		in("s.search_key", q.Keys, false)
	}
	if q.Senders != nil {
		in("s.sender", *q.Senders, false)
	}
	if len(q.NotSenders) > 0 {
		in("s.sender", q.NotSenders, true)
	}
	return from, rank, strings.Join(conds, " AND "), args
}

// Search returns one page of hits in the query's order.
func (s *Store) Search(ctx context.Context, q Query) ([]Hit, error) {
	if len(q.Terms) == 0 || len(q.RoomNIDs) == 0 {
		return nil, nil
	}
	from, rank, where, args := s.where(q)
	order := "score DESC, stream_pos DESC"
	if q.ByRecent {
		order = "stream_pos DESC"
	}
	var cursor string
	if q.After != nil {
		args = append(args, q.After.StreamPos)
		pos := "$" + strconv.Itoa(len(args))
		if q.ByRecent {
			cursor = " WHERE stream_pos < " + pos
		} else {
			args = append(args, q.After.Rank)
			r := "$" + strconv.Itoa(len(args))
			cursor = " WHERE (score < " + r + " OR (score = " + r + " AND stream_pos < " + pos + "))"
		}
	}
	args = append(args, max(q.Limit, 1))
	query := `SELECT event_nid, room_nid, stream_pos, score FROM (SELECT s.event_nid, s.room_nid, s.stream_pos, ` +
		rank + ` AS score FROM ` + from + ` WHERE ` + where + `) m` + cursor +
		` ORDER BY ` + order + ` LIMIT $` + strconv.Itoa(len(args))
	rows, err := s.db.Read().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search: query: %w", err)
	}
	defer rows.Close()
	var out []Hit
	for rows.Next() {
		var h Hit
		if err := rows.Scan(&h.EventNID, &h.RoomNID, &h.StreamPos, &h.Rank); err != nil {
			return nil, fmt.Errorf("search: scan: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// Count counts every match of the query (before visibility is applied, so an
// estimate of what the user may see).
func (s *Store) Count(ctx context.Context, q Query) (int, error) {
	if len(q.Terms) == 0 || len(q.RoomNIDs) == 0 {
		return 0, nil
	}
	from, _, where, args := s.where(q)
	var n int
	if err := s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+from+` WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("search: count: %w", err)
	}
	return n, nil
}

// Highlight markers around matched words.
const (
	markStart = "\x01"
	markStop  = "\x02"
)

// Highlights returns the words of the given events' text that the terms
// matched (after stemming and prefix matching), lower-cased, each once.
func (s *Store) Highlights(ctx context.Context, terms []string, eventNIDs []int64) ([]string, error) {
	if len(terms) == 0 || len(eventNIDs) == 0 {
		return []string{}, nil
	}
	d := s.db.Dialect()
	args := []any{matchExpr(d, terms)}
	var query string
	if d.Name() == storage.EnginePostgres {
		cond, more := storage.InList(d, "event_nid", 3, eventNIDs)
		args = append(args, "StartSel="+markStart+", StopSel="+markStop+", HighlightAll=true")
		args = append(args, more...)
		query = `SELECT ts_headline('english', body, to_tsquery('english', $1), $2) FROM event_search WHERE ` + cond
	} else {
		cond, more := storage.InList(d, "event_nid", 2, eventNIDs)
		args = append(args, more...)
		query = `SELECT highlight(event_search_fts, 0, char(1), char(2)) FROM event_search_fts
			WHERE event_search_fts MATCH $1 AND rowid IN (SELECT search_nid FROM event_search WHERE ` + cond + `)`
	}
	rows, err := s.db.Read().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search: highlights: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	out := []string{}
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			return nil, fmt.Errorf("search: scan highlight: %w", err)
		}
		for _, w := range marked(text) {
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out, rows.Err()
}

// marked returns the lower-cased words between highlight markers.
func marked(text string) []string {
	var out []string
	for {
		i := strings.Index(text, markStart)
		if i < 0 {
			return out
		}
		text = text[i+len(markStart):]
		j := strings.Index(text, markStop)
		if j < 0 {
			return out
		}
		if w := strings.ToLower(strings.TrimSpace(text[:j])); w != "" {
			out = append(out, w)
		}
		text = text[j+len(markStop):]
	}
}
