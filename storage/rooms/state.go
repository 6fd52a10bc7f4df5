package rooms

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/concordchat/concord/roomserver/event"
)

// MaxChainLen caps a snapshot delta chain; the next snapshot is a full base.
const MaxChainLen = 64

// Snapshot is a snapshot's row.
type Snapshot struct {
	NID       int64
	RoomNID   int64
	ParentNID int64
	ChainLen  int
}

// SnapshotInfo returns a snapshot's row.
func (s *Store) SnapshotInfo(ctx context.Context, nid int64) (Snapshot, error) {
	snap := Snapshot{NID: nid}
	err := s.db.Read().QueryRowContext(ctx,
		`SELECT room_nid, parent_nid, chain_len FROM state_snapshots WHERE snapshot_nid = $1`, nid).
		Scan(&snap.RoomNID, &snap.ParentNID, &snap.ChainLen)
	if errors.Is(err, sql.ErrNoRows) {
		return snap, ErrNotFound
	}
	if err != nil {
		return snap, fmt.Errorf("rooms: snapshot %d: %w", nid, err)
	}
	return snap, nil
}

// State returns the full state of a snapshot as event NIDs (0 gives an empty
// state). It reads the chain from the snapshot back to its base in one query.
func (s *Store) State(ctx context.Context, snapshotNID int64) (map[event.StateKey]int64, error) {
	if snapshotNID == 0 {
		return map[event.StateKey]int64{}, nil
	}
	rows, err := s.db.Read().QueryContext(ctx, `
		WITH RECURSIVE chain(snapshot_nid, parent_nid, chain_len) AS (
			SELECT snapshot_nid, parent_nid, chain_len FROM state_snapshots WHERE snapshot_nid = $1
			UNION ALL
			SELECT s.snapshot_nid, s.parent_nid, s.chain_len
			FROM state_snapshots s JOIN chain c ON s.snapshot_nid = c.parent_nid
		)
		SELECT e.type, e.state_key, e.event_nid
		FROM chain c JOIN state_snapshot_entries e ON e.snapshot_nid = c.snapshot_nid
		ORDER BY c.chain_len`, snapshotNID)
	if err != nil {
		return nil, fmt.Errorf("rooms: read state %d: %w", snapshotNID, err)
	}
	// Rows come base first, so later snapshots' entries overwrite.
	return scanStateRows(rows)
}

// StateAt returns, for one snapshot, the event NIDs of just the given keys
// (absent keys are omitted). It walks the same chain as State but reads only
// the rows it needs.
func (s *Store) StateAt(ctx context.Context, snapshotNID int64, keys []event.StateKey) (map[event.StateKey]int64, error) {
	out := map[event.StateKey]int64{}
	if snapshotNID == 0 || len(keys) == 0 {
		return out, nil
	}
	var conds []string
	args := []any{snapshotNID}
	for _, k := range keys {
		conds = append(conds, fmt.Sprintf("(e.type = $%d AND e.state_key = $%d)", len(args)+1, len(args)+2))
		args = append(args, k.Type, k.StateKey)
	}
	rows, err := s.db.Read().QueryContext(ctx, `
		WITH RECURSIVE chain(snapshot_nid, parent_nid, chain_len) AS (
			SELECT snapshot_nid, parent_nid, chain_len FROM state_snapshots WHERE snapshot_nid = $1
			UNION ALL
			SELECT s.snapshot_nid, s.parent_nid, s.chain_len
			FROM state_snapshots s JOIN chain c ON s.snapshot_nid = c.parent_nid
		)
		SELECT e.type, e.state_key, e.event_nid
		FROM chain c JOIN state_snapshot_entries e ON e.snapshot_nid = c.snapshot_nid
		WHERE `+strings.Join(conds, " OR ")+`
		ORDER BY c.chain_len`, args...)
	if err != nil {
		return nil, fmt.Errorf("rooms: read state keys at %d: %w", snapshotNID, err)
	}
	return scanStateRows(rows)
}
