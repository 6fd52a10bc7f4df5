package roomserver

import (
	"sync"
)

// streamAllocator hands out stream positions to inputs before they commit and
// publishes the highest position below which every position has either
// committed or been abandoned, so readers never skip an event that commits late.
type streamAllocator struct {
	mu      sync.Mutex
	next    int64
	pending map[int64]struct{}
	current int64
}

func newStreamAllocator(max int64) *streamAllocator {
	return &streamAllocator{next: max + 1, pending: map[int64]struct{}{}, current: max}
}

// allocate reserves n consecutive positions and returns the first.
func (s *streamAllocator) allocate(n int) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.next
	for i := 0; i < n; i++ {
		s.pending[s.next] = struct{}{}
		s.next++
	}
	return first
}

// done releases positions [first, first+n) and returns the new current position.
func (s *streamAllocator) done(first int64, n int) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := first; p < first+int64(n); p++ {
		delete(s.pending, p)
	}
	for s.current+1 < s.next {
		if _, waiting := s.pending[s.current+1]; waiting {
			break
		}
		s.current++
	}
	return s.current
}

// position returns the highest published position.
func (s *streamAllocator) position() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}
