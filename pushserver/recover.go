package pushserver

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// progressEvery is how often the evaluated position is saved. Evaluation is
// idempotent (one notification per user and event, own reads only move
// forward), so after a crash re-evaluating up to this much is harmless.
const progressEvery = time.Second

// recover evaluates the events committed after the saved progress position
// and before the worker started: those that were still queued when the
// process stopped. A database without a saved position starts from now.
func (w *Worker) recover(ctx context.Context) {
	from, found, err := w.deps.Store.Progress(ctx)
	if err != nil {
		w.log.Error("push: reading progress; events queued before the restart are not evaluated", zap.Error(err))
		return
	}
	upTo, err := w.deps.RoomStore.MaxStreamPos(ctx)
	if err != nil {
		w.log.Error("push: reading the stream position", zap.Error(err))
		return
	}
	if !found {
		w.saveProgress(ctx, upTo)
		return
	}
	for from < upTo && ctx.Err() == nil {
		evs, err := w.deps.RoomStore.AllStreamEvents(ctx, from, upTo, catchUpPage)
		if err != nil {
			w.log.Error("push: reading events to recover", zap.Error(err))
			return
		}
		if len(evs) == 0 {
			break
		}
		w.evaluate(ctx, evs)
		from = evs[len(evs)-1].StreamPos
	}
	w.saveProgress(ctx, upTo)
	w.mu.Lock()
	w.processed = max(w.processed, upTo)
	w.signalLocked()
	w.mu.Unlock()
}

// saveProgress records the evaluated position.
func (w *Worker) saveProgress(ctx context.Context, pos int64) {
	if err := w.deps.Store.SetProgress(ctx, pos); err != nil {
		w.log.Warn("push: saving progress", zap.Error(err))
		return
	}
	w.savedAt, w.saved = w.now(), pos
}

func (w *Worker) now() time.Time {
	if w.deps.Now != nil {
		return w.deps.Now()
	}
	return time.Now()
}
