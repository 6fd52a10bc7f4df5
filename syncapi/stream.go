package syncapi

import "sync"

// stream hands out positions of one database-backed stream (receipts,
// account data, presence) to writers before they commit, and publishes the
// highest position below which every write has committed or failed, so a
// /sync never passes a position whose row is still being written. The
// wake-up of a write is held back until the published position covers it:
// a syncing user woken earlier would read an older position and miss it.
type stream struct {
	mu      sync.Mutex
	next    int64
	current int64
	pending map[int64]struct{}
	held    map[int64]func() // wake-ups of finished writes above current
}

func newStream(max int64) *stream {
	return &stream{next: max + 1, current: max, pending: map[int64]struct{}{}, held: map[int64]func(){}}
}

// allocate reserves the next position.
func (s *stream) allocate() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.next
	s.next++
	s.pending[p] = struct{}{}
	return p
}

// done releases pos. wake, when not nil, runs once the published position
// reaches pos (at once when nothing before it is pending), after the
// position is published.
func (s *stream) done(pos int64, wake func()) {
	s.mu.Lock()
	delete(s.pending, pos)
	if wake != nil {
		s.held[pos] = wake
	}
	var run []func()
	for s.current+1 < s.next {
		if _, waiting := s.pending[s.current+1]; waiting {
			break
		}
		s.current++
		if w, ok := s.held[s.current]; ok {
			run = append(run, w)
			delete(s.held, s.current)
		}
	}
	s.mu.Unlock()
	for _, w := range run {
		w()
	}
}

// position returns the published position.
func (s *stream) position() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}
