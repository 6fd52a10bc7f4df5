package pushserver

import (
	"context"
	"errors"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"go.uber.org/zap"

	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/storage/push"
	"github.com/concordchat/concord/storage/rooms"
)

// UserWaker wakes the /sync requests of users (the sync notifier).
type UserWaker interface {
	WakeUsers(users []string)
}

// WorkerDeps are what [NewWorker] needs.
type WorkerDeps struct {
	Rules *Rules
	Store *push.Store
	// RoomStore is read-only access to events and room state.
	RoomStore *rooms.Store
	// ServerName is this server: only its users are evaluated for.
	ServerName string
	// Waker, optional, is told which users got new notifications.
	Waker  UserWaker
	Logger *zap.Logger
	Now    func() time.Time
	// QueueSize bounds the batches waiting in memory; 0 means a default.
	// Past it, only the rooms and stream ranges are remembered.
	QueueSize int
}

// Worker evaluates push rules for every committed event.
type Worker struct {
	deps WorkerDeps
	log  *zap.Logger

	mu          sync.Mutex
	queue       []batch
	overflowing bool                   // new batches go to overflow until it is drained
	overflow    map[string]streamRange // room ID → positions not queued
	busy        bool                   // a batch is being processed
	running     bool
	received    int64         // highest stream position told about
	processed   int64         // highest stream position evaluated
	progress    chan struct{} // closed and replaced when processed or busy changes
	wake        chan struct{}

	cancel context.CancelFunc
	done   chan struct{}

	states  *lru.Cache[int64, *roomState]  // state snapshot NID → what rules need of it
	threads *lru.Cache[string, threadInfo] // event ID → its thread

	clean map[ownReadKey]bool // see ownreads.go; used by the worker goroutine only

	// The last saved progress position and when (recover.go); worker goroutine only.
	saved   int64
	savedAt time.Time
}

type batch struct {
	outs []roomserver.Output
	hi   int64 // highest stream position the batch tells about
}

// streamRange is an inclusive range of stream positions.
type streamRange struct{ from, to int64 }

var _ roomserver.Notifier = (*Worker)(nil)

// NewWorker makes the worker; Start runs it.
func NewWorker(deps WorkerDeps) (*Worker, error) {
	if deps.Rules == nil || deps.Store == nil || deps.RoomStore == nil {
		return nil, errors.New("pushserver: WorkerDeps needs Rules, Store and RoomStore")
	}
	if deps.ServerName == "" {
		return nil, errors.New("pushserver: WorkerDeps.ServerName is empty")
	}
	if deps.Logger == nil {
		deps.Logger = zap.NewNop()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.QueueSize <= 0 {
		deps.QueueSize = 4096
	}
	states, err := lru.New[int64, *roomState](256)
	if err != nil {
		return nil, err
	}
	threads, err := lru.New[string, threadInfo](50_000)
	if err != nil {
		return nil, err
	}
	return &Worker{deps: deps, log: deps.Logger.Named("pushserver"), overflow: map[string]streamRange{},
		progress: make(chan struct{}), wake: make(chan struct{}, 1), states: states, threads: threads}, nil
}

// OnRoomEvents implements roomserver.Notifier: it queues the events and
// returns at once. Place the worker before the sync notifier in the
// roomserver's fan-out, so a /sync woken by an event finds it queued.
func (w *Worker) OnRoomEvents(outs []roomserver.Output, pos int64) {
	w.mu.Lock()
	hi := pos
	for _, o := range outs {
		hi = max(hi, o.StreamPos)
	}
	w.received = max(w.received, hi)
	if !w.overflowing && len(w.queue) >= w.deps.QueueSize {
		w.overflowing = true
		w.log.Warn("push evaluation queue full: reading events back from the room store", zap.Int("batches", len(w.queue)))
	}
	if w.overflowing {
		for _, o := range outs {
			if o.Duplicate {
				continue
			}
			r, ok := w.overflow[o.RoomID]
			if !ok {
				r = streamRange{from: o.StreamPos, to: o.StreamPos}
			}
			w.overflow[o.RoomID] = streamRange{from: min(r.from, o.StreamPos), to: max(r.to, o.StreamPos)}
		}
	} else {
		w.queue = append(w.queue, batch{outs: append([]roomserver.Output(nil), outs...), hi: hi})
	}
	w.signalLocked() // waiters see the worker is no longer idle
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Start runs the worker until Stop or ctx ends.
func (w *Worker) Start(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running {
		return errors.New("pushserver: worker already started")
	}
	ctx, w.cancel = context.WithCancel(ctx)
	w.done = make(chan struct{})
	w.running = true
	go w.run(ctx)
	return nil
}

// Stop ends the worker and waits for the batch in hand to finish.
func (w *Worker) Stop() {
	w.mu.Lock()
	cancel, done := w.cancel, w.done
	w.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

func (w *Worker) run(ctx context.Context) {
	defer func() {
		w.mu.Lock()
		w.running, w.busy = false, false
		processed := w.processed
		w.signalLocked()
		w.mu.Unlock()
		if processed > w.saved {
			save, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			w.saveProgress(save, processed)
			cancel()
		}
		close(w.done)
	}()
	w.mu.Lock()
	w.busy = true
	w.mu.Unlock()
	w.recover(ctx)
	w.mu.Lock()
	w.busy = false
	w.signalLocked()
	w.mu.Unlock()
	select { // outputs told during the recovery are waiting
	case w.wake <- struct{}{}:
	default:
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		}
		for ctx.Err() == nil {
			b, ranges, ok := w.next()
			if !ok {
				break
			}
			if ranges != nil {
				w.catchUp(ctx, ranges)
			} else {
				w.processOutputs(ctx, b.outs)
			}
			w.mu.Lock()
			w.processed = max(w.processed, b.hi)
			processed := w.processed
			w.signalLocked()
			w.mu.Unlock()
			if processed > w.saved && w.now().Sub(w.savedAt) >= progressEvery {
				w.saveProgress(ctx, processed)
			}
		}
	}
}

// next takes the next batch, or the overflow ranges once the queue is empty;
// ok is false when there is nothing left (the worker is then idle).
func (w *Worker) next() (b batch, ranges map[string]streamRange, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case len(w.queue) > 0:
		b = w.queue[0]
		w.queue[0] = batch{}
		w.queue = w.queue[1:]
	case len(w.overflow) > 0:
		ranges, w.overflow = w.overflow, map[string]streamRange{}
		b.hi = w.received
	default:
		w.overflowing = false
		w.processed = max(w.processed, w.received)
		w.busy = false
		w.signalLocked()
		return batch{}, nil, false
	}
	w.busy = true
	return b, ranges, true
}

func (w *Worker) signalLocked() {
	close(w.progress)
	w.progress = make(chan struct{})
}

// graceDelay is how long WaitFor waits, with nothing queued, for a position
// that is committed but not yet told about (or that was abandoned).
const graceDelay = 50 * time.Millisecond

// WaitFor waits until the events up to stream position target have been
// evaluated, at most maxWait (or until ctx ends). It returns at once when the
// worker is not running.
func (w *Worker) WaitFor(ctx context.Context, target int64, maxWait time.Duration) {
	deadline := time.Now().Add(maxWait)
	var graceEnd time.Time
	for {
		w.mu.Lock()
		if w.processed >= target || !w.running {
			w.mu.Unlock()
			return
		}
		idle := !w.busy && len(w.queue) == 0 && len(w.overflow) == 0
		ch := w.progress
		w.mu.Unlock()
		end := deadline
		if idle {
			if graceEnd.IsZero() {
				graceEnd = time.Now().Add(graceDelay)
			}
			if graceEnd.Before(end) {
				end = graceEnd
			}
		} else {
			graceEnd = time.Time{}
		}
		d := time.Until(end)
		if d <= 0 {
			return
		}
		t := time.NewTimer(d)
		select {
		case <-ch:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		t.Stop()
	}
}
