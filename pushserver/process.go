package pushserver

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/concordchat/concord/pushrules"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/roomserver/event"
	"github.com/concordchat/concord/storage/push"
	"github.com/concordchat/concord/storage/rooms"
)

// catchUpPage is how many events one read of a skipped range returns.
const catchUpPage = 500

// processOutputs evaluates a batch the roomserver told about. The outputs
// carry what evaluation needs (the event, its stream position and the
// snapshot of the state before it), so nothing is read back.
func (w *Worker) processOutputs(ctx context.Context, outs []roomserver.Output) {
	evs := make([]rooms.StoredEvent, 0, len(outs))
	for _, o := range outs {
		if !o.Duplicate {
			evs = append(evs, rooms.StoredEvent{NID: o.NID, RoomNID: o.RoomNID, Event: o.Event,
				StreamPos: o.StreamPos, StateBeforeNID: o.StateBeforeNID})
		}
	}
	if len(evs) == 0 {
		return
	}
	slices.SortFunc(evs, func(a, b rooms.StoredEvent) int { return int(a.StreamPos - b.StreamPos) })
	w.evaluate(ctx, evs)
}

// catchUp evaluates the events of the ranges the full queue left out,
// reading them back from the room store.
func (w *Worker) catchUp(ctx context.Context, ranges map[string]streamRange) {
	roomIDs := make([]string, 0, len(ranges))
	for id := range ranges {
		roomIDs = append(roomIDs, id)
	}
	sort.Slice(roomIDs, func(i, j int) bool { return ranges[roomIDs[i]].from < ranges[roomIDs[j]].from })
	for _, roomID := range roomIDs {
		r := ranges[roomID]
		room, err := w.deps.RoomStore.Room(ctx, roomID)
		if err != nil {
			w.log.Error("catching up: reading room", zap.String("room_id", roomID), zap.Error(err))
			continue
		}
		after := r.from - 1
		for ctx.Err() == nil {
			evs, err := w.deps.RoomStore.StreamEvents(ctx, []int64{room.NID}, after, r.to, catchUpPage)
			if err != nil {
				w.log.Error("catching up: reading events", zap.String("room_id", roomID), zap.Error(err))
				break
			}
			if len(evs) == 0 {
				break
			}
			w.evaluate(ctx, evs)
			after = evs[len(evs)-1].StreamPos
		}
	}
}

// evaluate runs the rules of the local members for events in stream order
// and records the outcome in one transaction.
func (w *Worker) evaluate(ctx context.Context, evs []rooms.StoredEvent) {
	now := w.deps.Now().UnixMilli()
	var (
		ns       []push.Notification
		reads    []push.OwnRead
		redacted []string
	)
	for _, se := range evs {
		if se.Rejected || se.Outlier || se.StreamPos == 0 {
			continue
		}
		e := se.Event
		ti := w.threadOf(ctx, e)
		w.threads.Add(e.ID(), ti)
		thread := ti.thread
		if e.Type() == event.TypeRedaction && e.Redacts() != "" {
			redacted = append(redacted, e.Redacts())
		}
		if w.isLocal(e.Sender()) && w.mayHaveUnread(e.Sender(), e.RoomID(), thread) {
			reads = append(reads, push.OwnRead{UserID: e.Sender(), RoomID: e.RoomID(), ThreadID: thread, StreamPos: se.StreamPos})
		}
		got, err := w.evaluateEvent(ctx, se, thread, now)
		if err != nil {
			w.log.Error("evaluating push rules", zap.String("event_id", e.ID()), zap.Error(err))
			continue
		}
		ns = append(ns, got...)
	}
	if err := w.record(ctx, ns, reads, redacted); err != nil {
		w.log.Error("recording notifications", zap.Error(err), zap.Int("notifications", len(ns)))
		w.forgetClean()
		return
	}
	w.noteRecorded(ns, reads)
	if w.deps.Waker != nil && len(ns) > 0 {
		users := make([]string, 0, len(ns))
		for _, n := range ns {
			users = append(users, n.UserID)
		}
		slices.Sort(users)
		w.deps.Waker.WakeUsers(slices.Compact(users))
	}
}

// recordAttempts bounds the tries to record a batch (the store already
// retries busy and serialization failures inside each).
const recordAttempts = 3

// record stores a batch's outcome, trying again after a pause when the
// database fails (it may be restarting).
func (w *Worker) record(ctx context.Context, ns []push.Notification, reads []push.OwnRead, redacted []string) error {
	var err error
	for attempt := 1; attempt <= recordAttempts; attempt++ {
		if err = w.deps.Store.Record(ctx, ns, reads, redacted); err == nil || ctx.Err() != nil {
			return err
		}
		w.log.Warn("recording notifications failed, retrying", zap.Int("attempt", attempt), zap.Error(err))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		}
	}
	return err
}

// evaluateEvent returns the notifications one event makes: for each local
// member joined before it, other than the sender, and for the local user an
// invite is for.
func (w *Worker) evaluateEvent(ctx context.Context, se rooms.StoredEvent, thread string, now int64) ([]push.Notification, error) {
	e := se.Event
	st, err := w.stateBefore(ctx, se)
	if err != nil {
		return nil, err
	}
	targets := make([]string, 0, len(st.local)+1)
	for u := range st.local {
		if u != e.Sender() {
			targets = append(targets, u)
		}
	}
	if e.Type() == event.TypeMember && e.Membership() == event.Invite && e.StateKey() != nil {
		if u := *e.StateKey(); u != e.Sender() && w.isLocal(u) {
			if _, joined := st.local[u]; !joined {
				targets = append(targets, u)
			}
		}
	}
	if len(targets) == 0 {
		return nil, nil
	}
	slices.Sort(targets)
	pev, err := pushrules.NewEvent(pushrules.EventFields{EventID: e.ID(), RoomID: e.RoomID(), Sender: e.Sender(),
		Type: e.Type(), StateKey: e.StateKey(), Content: e.Content(), OriginServerTS: e.OriginServerTS(), Redacts: e.Redacts()})
	if err != nil {
		return nil, err
	}
	room := pushrules.RoomContext{MemberCount: st.joined, SenderPowerLevel: st.level(e.Sender()),
		NotificationLevel: st.notificationLevel}
	var out []push.Notification
	for _, u := range targets {
		eval, err := w.deps.Rules.Evaluator(ctx, u)
		if err != nil {
			return nil, err
		}
		rule, ok := eval.Evaluate(pev, room, st.local[u])
		if !ok {
			continue
		}
		eff := pushrules.EffectsOf(rule.Actions)
		if !eff.Notify {
			continue
		}
		actions, err := json.Marshal(rule.Actions)
		if err != nil {
			return nil, err
		}
		out = append(out, push.Notification{UserID: u, EventID: e.ID(), RoomID: e.RoomID(), ThreadID: thread,
			Sender: e.Sender(), StreamPos: se.StreamPos, Actions: actions, Highlight: eff.Highlight, TS: now})
	}
	return out, nil
}
