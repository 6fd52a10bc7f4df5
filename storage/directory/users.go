package directory

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/concordchat/concord/storage"
)

// UserSearch is a user directory query.
type UserSearch struct {
	// Searcher is the user searching; they are never a result.
	Searcher string
	// Words are lowercase search words; a candidate's user ID or display
	// name must contain every one (the caller refines the match).
	Words []string
	// Limit bounds the candidates returned (those sharing a room first).
	Limit int
}

// UserCandidate is a user the searcher may find.
type UserCandidate struct {
	UserID string
	// SharesRoom: the user is joined to a room the searcher is joined to.
	SharesRoom bool
	// DisplayName and AvatarURL are from one of the user's current join
	// events ("" when unset).
	DisplayName string
	AvatarURL   string
}

// SearchUsers returns the users visible to the searcher that may match the
// words: users joined to a room the searcher is joined to, and users joined
// to a room whose join rule is public or whose history is world readable
// (the client-server API's minimum). Those sharing a room come first, then
// by user ID.
//
// The word filter is a case-insensitive substring match done by the
// database; SQLite folds only ASCII case, so on SQLite words with other
// letters are left to the caller.
func (s *Store) SearchUsers(ctx context.Context, q UserSearch) ([]UserCandidate, error) {
	if q.Limit <= 0 {
		return nil, nil
	}
	dn, av := s.contentField("e.json", "displayname"), s.contentField("e.json", "avatar_url")
	jr, hv := s.contentField("pe.json", "join_rule"), s.contentField("pe.json", "history_visibility")
	args := []any{q.Searcher, q.Limit}
	var conds []string
	for _, w := range q.Words {
		if s.dialect.Name() == storage.EngineSQLite && !isASCII(w) {
			continue
		}
		args = append(args, "%"+escapeLike(w)+"%")
		n := len(args)
		conds = append(conds, fmt.Sprintf(`(LOWER(m.state_key) LIKE $%d ESCAPE '\' OR LOWER(COALESCE(%s, '')) LIKE $%d ESCAPE '\')`, n, dn, n))
	}
	where := ""
	if len(conds) > 0 {
		where = " AND " + strings.Join(conds, " AND ")
	}
	rows, err := s.db.Read().QueryContext(ctx, s.q(`SELECT m.state_key,
			MAX(CASE WHEN mine.room_nid IS NULL THEN 0 ELSE 1 END) AS shared,
			MAX(COALESCE(`+dn+`, '')), MAX(COALESCE(`+av+`, ''))
		FROM current_state m
		JOIN room_events e ON e.event_nid = m.event_nid
		LEFT JOIN current_state mine ON mine.room_nid = m.room_nid AND mine.type = 'm.room.member'
			AND mine.state_key = $1 AND mine.membership = 'join'
		WHERE m.type = 'm.room.member' AND m.membership = 'join' AND m.state_key <> $1
			AND (mine.room_nid IS NOT NULL OR m.room_nid IN (
				SELECT p.room_nid FROM current_state p JOIN room_events pe ON pe.event_nid = p.event_nid
				WHERE p.state_key = '' AND (
					(p.type = 'm.room.join_rules' AND `+jr+` = 'public') OR
					(p.type = 'm.room.history_visibility' AND `+hv+` = 'world_readable'))))`+where+`
		GROUP BY m.state_key
		ORDER BY shared DESC, m.state_key
		LIMIT $2`), args...)
	if err != nil {
		return nil, fmt.Errorf("directory: search users: %w", err)
	}
	defer rows.Close()
	var out []UserCandidate
	for rows.Next() {
		var c UserCandidate
		var shared int
		if err := rows.Scan(&c.UserID, &shared, &c.DisplayName, &c.AvatarURL); err != nil {
			return nil, fmt.Errorf("directory: scan user: %w", err)
		}
		c.SharesRoom = shared == 1
		out = append(out, c)
	}
	return out, rows.Err()
}

// escapeLike escapes the LIKE wildcards of s for ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
