package roomserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/storage/relations"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/storage/search"
)

// Errors of the relation rules applied to local events (client-server API,
// "Forming relationships between events" and the rel_type modules).
var (
	// ErrDuplicateAnnotation: the sender already annotated the event with
	// the same event type and key.
	ErrDuplicateAnnotation = errors.New("roomserver: duplicate annotation")
	// ErrThreadFromRelation: a thread cannot start from an event that is
	// itself a relation.
	ErrThreadFromRelation = errors.New("roomserver: cannot start threads from an event with a relation")
	// ErrBadRelation: the relation is malformed or points at an event this
	// server does not know or that is in another room.
	ErrBadRelation = errors.New("roomserver: invalid relation")
)

// indexer writes what is derived from the events of one batch, in the
// batch's transaction: the relation index, the search index and redactions.
type indexer struct {
	rs  *RoomServer
	w   *rooms.Writer
	rel *relations.Writer
	txt *search.Writer
	b   *batch
	res *committed
}

func (rs *RoomServer) newIndexer(w *rooms.Writer, b *batch, res *committed) *indexer {
	// One search writer per transaction, shared by the batches of a group
	// commit: on PostgreSQL it buffers rows and flushes them in one statement.
	txt := w.Memo("search", func() any {
		sw := search.NewWriter(w.Tx(), w.Dialect())
		sw.Buffer()
		w.BeforeCommit(sw.Flush)
		return sw
	}).(*search.Writer)
	return &indexer{rs: rs, w: w, rel: relations.NewWriter(w.Tx(), w.Dialect()), txt: txt, b: b, res: res}
}

// index handles the i-th event of the batch, stored as nid at streamPos.
func (x *indexer) index(ctx context.Context, i int, nid, streamPos int64) error {
	e := x.b.events[i]
	local := mxid.Domain(e.Sender()) == x.rs.ServerName()
	if !local {
		// A redaction may have arrived before the event it redacts.
		redacted, err := x.applyPending(ctx, i, nid)
		if err != nil || redacted {
			return err
		}
	}
	if rel, ok := relations.FromContent(e.Content()); ok {
		keep, err := x.checkRelation(ctx, e, rel, local)
		if err != nil {
			return err
		}
		if keep {
			var key *string
			if rel.RelType == relations.RelAnnotation && rel.HasKey {
				key = &rel.Key
			}
			if err := x.rel.InsertChild(ctx, relations.Child{EventNID: nid, EventID: e.ID(), RoomNID: x.res.roomNID,
				ParentID: rel.ParentID, RelType: rel.RelType, Type: e.Type(), Sender: e.Sender(), Key: key,
				OriginServerTS: e.OriginServerTS(), StreamPos: streamPos}); err != nil {
				return err
			}
		}
	}
	if err := x.txt.Index(ctx, search.Doc{EventNID: nid, RoomNID: x.res.roomNID, StreamPos: streamPos, Event: e}); err != nil {
		return err
	}
	if e.Type() == event.TypeRedaction && e.Redacts() != "" {
		return x.redaction(ctx, i, nid)
	}
	return nil
}

// checkRelation applies the relation rules. A local event breaking them is
// refused; a remote one is kept out of the index when its parent is known to
// be in another room.
func (x *indexer) checkRelation(ctx context.Context, e *event.Event, rel relations.Relation, local bool) (bool, error) {
	parent, err := x.w.EventByID(ctx, rel.ParentID)
	known := err == nil
	if err != nil && !errors.Is(err, rooms.ErrNotFound) {
		return false, err
	}
	if known && parent.Event.RoomID() != e.RoomID() {
		if local {
			return false, fmt.Errorf("%w: relations must be in the same room", ErrBadRelation)
		}
		return false, nil
	}
	if !local {
		return true, nil
	}
	if !known {
		// A client may relate to an event it learnt of through other
		// relations; otherwise it cannot know the event.
		seen, err := x.rel.IsParent(ctx, rel.ParentID)
		if err != nil {
			return false, err
		}
		if !seen {
			return false, fmt.Errorf("%w: unknown event %s", ErrBadRelation, rel.ParentID)
		}
	}
	switch rel.RelType {
	case relations.RelAnnotation:
		if !rel.HasKey || rel.Key == "" {
			return false, fmt.Errorf("%w: an annotation needs a key", ErrBadRelation)
		}
		if len(rel.Key) > relations.MaxKeyBytes {
			return false, fmt.Errorf("%w: the annotation key is too long", ErrBadRelation)
		}
		dup, err := x.rel.HasAnnotation(ctx, rel.ParentID, e.Type(), e.Sender(), rel.Key)
		if err != nil {
			return false, err
		}
		if dup {
			return false, ErrDuplicateAnnotation
		}
	case relations.RelThread:
		if known {
			if _, isRel := relations.FromContent(parent.Event.Content()); isRel {
				return false, ErrThreadFromRelation
			}
		}
	}
	return true, nil
}

// stateAt is the room state before the i-th event of the batch.
func (x *indexer) stateAt(i int) auth.StateProvider {
	return func(k event.StateKey) *event.Event {
		for j := i - 1; j >= 0; j-- {
			if e := x.b.events[j]; e.IsState() && e.Key() == k {
				return e
			}
		}
		return x.b.r.get(k)
	}
}

// mayRedact reports whether the server applies redaction to target (room
// versions, "Handling redactions"): the redaction's sender has the redact
// power level, or is on the same server as the target's sender.
func mayRedact(redaction, target *event.Event, state auth.StateProvider) bool {
	if mxid.Domain(redaction.Sender()) == mxid.Domain(target.Sender()) {
		return true
	}
	return auth.SenderPowerLevel(redaction, state) >= auth.RoomPowerLevels(state).Redact
}

// redaction records the i-th event, a redaction, and applies it when its
// target is known and the redaction allowed.
func (x *indexer) redaction(ctx context.Context, i int, nid int64) error {
	e := x.b.events[i]
	red := relations.Redaction{RedactionNID: nid, RedactionID: e.ID(), RedactsID: e.Redacts(), RoomNID: x.res.roomNID}
	target, err := x.w.EventByID(ctx, e.Redacts())
	switch {
	case errors.Is(err, rooms.ErrNotFound):
	case err != nil:
		return err
	case target.Event.RoomID() == e.RoomID() && mayRedact(e, target.Event, x.stateAt(i)):
		if err := x.apply(ctx, target); err != nil {
			return err
		}
		red.Applied = true
	}
	return x.rel.InsertRedaction(ctx, red)
}

// applyPending applies the waiting redactions of the i-th event.
func (x *indexer) applyPending(ctx context.Context, i int, nid int64) (bool, error) {
	e := x.b.events[i]
	pending, err := x.rel.PendingRedactions(ctx, []string{e.ID()})
	if err != nil || len(pending) == 0 {
		return false, err
	}
	for _, p := range pending {
		if p.RoomNID != x.res.roomNID {
			continue
		}
		evs, err := x.rs.deps.Store.EventsByNID(ctx, []int64{p.RedactionNID})
		if err != nil {
			return false, err
		}
		if len(evs) == 0 || !mayRedact(evs[0].Event, e, x.stateAt(i)) {
			continue
		}
		if err := x.apply(ctx, rooms.StoredEvent{NID: nid, Event: e}); err != nil {
			return false, err
		}
		return true, x.rel.MarkApplied(ctx, p.RedactionNID)
	}
	return false, nil
}

// apply replaces a stored event by its redacted form and drops it from the
// relation and search indexes.
func (x *indexer) apply(ctx context.Context, target rooms.StoredEvent) error {
	if target.Event.Redacted() {
		return nil
	}
	raw, err := event.Redact(target.Event.JSON(), target.Event.Version())
	if err != nil {
		return fmt.Errorf("roomserver: redact %s: %w", target.Event.ID(), err)
	}
	redacted, err := event.FromTrusted(raw, target.Event.Version(), target.Event.ID(), true)
	if err != nil {
		return fmt.Errorf("roomserver: redact %s: %w", target.Event.ID(), err)
	}
	if err := x.w.ReplaceRedacted(ctx, target.NID, raw); err != nil {
		return err
	}
	if err := x.rel.DeleteChild(ctx, target.NID); err != nil {
		return err
	}
	if err := x.txt.Delete(ctx, target.NID); err != nil {
		return err
	}
	x.res.redacted = append(x.res.redacted, stateEntry{nid: target.NID, ev: redacted})
	return nil
}
