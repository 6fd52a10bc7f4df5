package roomserver

import (
	"context"

	"github.com/concordchat/concord/storage/rooms"
)

// maxGroup bounds how many room batches share one transaction.
const maxGroup = 64

// commitReq is one room's batch waiting to be written.
type commitReq struct {
	r       *room
	b       *batch
	newRoom bool
	first   int64
	dests   []string
	ts      int64
	res     committed
	done    chan error
}

// groupCommitter writes the batches of many rooms in shared transactions: a
// batch that arrives while a transaction is running waits for the next one,
// which takes every batch waiting. Under light load a batch is written at
// once, alone. The rooms' mutexes are held by their callers, so batches of
// one group never touch the same room.
//
// The committer lives as long as the process: every queued batch is answered.
type groupCommitter struct {
	rs    *RoomServer
	queue chan *commitReq
}

func newGroupCommitter(rs *RoomServer) *groupCommitter {
	g := &groupCommitter{rs: rs, queue: make(chan *commitReq, 4*maxGroup)}
	go g.loop()
	return g
}

// submit queues req and waits for its transaction.
func (g *groupCommitter) submit(ctx context.Context, req *commitReq) error {
	select {
	case g.queue <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued the write goes ahead even if ctx ends, so the caller must
	// wait for its outcome to keep the hot state in step with storage.
	return <-req.done
}

func (g *groupCommitter) loop() {
	for {
		group := []*commitReq{<-g.queue}
	drain:
		for len(group) < maxGroup {
			select {
			case req := <-g.queue:
				group = append(group, req)
			default:
				break drain
			}
		}
		g.write(group)
	}
}

// write commits a group in one transaction; if that fails, each batch is
// retried alone so one bad batch cannot fail the others.
func (g *groupCommitter) write(group []*commitReq) {
	ctx := context.Background()
	err := g.rs.deps.Store.Write(ctx, func(w *rooms.Writer) error {
		for _, req := range group {
			res, err := g.rs.writeBatch(ctx, w, req.r, req.b, req.newRoom, req.first, req.dests, req.ts)
			if err != nil {
				return err
			}
			req.res = res
		}
		return nil
	})
	if err == nil || len(group) == 1 {
		for _, req := range group {
			req.done <- err
		}
		return
	}
	for _, req := range group {
		req.done <- g.rs.deps.Store.Write(ctx, func(w *rooms.Writer) error {
			res, err := g.rs.writeBatch(ctx, w, req.r, req.b, req.newRoom, req.first, req.dests, req.ts)
			req.res = res
			return err
		})
	}
}
