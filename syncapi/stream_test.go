package syncapi

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStreamPublishesContiguousPositions(t *testing.T) {
	s := newStream(10)
	assert.Equal(t, int64(10), s.position())
	a, b, c := s.allocate(), s.allocate(), s.allocate()
	assert.Equal(t, []int64{11, 12, 13}, []int64{a, b, c})

	var woken []string
	s.done(b, func() { woken = append(woken, "b") })
	assert.Equal(t, int64(10), s.position(), "11 is still being written")
	assert.Empty(t, woken, "b's wake-up waits for the position to cover it")

	s.done(c, nil) // a failed write: no wake-up
	assert.Equal(t, int64(10), s.position())

	s.done(a, func() {
		assert.Equal(t, int64(13), s.position(), "wake-ups run after publishing")
		woken = append(woken, "a")
	})
	assert.Equal(t, int64(13), s.position())
	assert.Equal(t, []string{"a", "b"}, woken, "in position order, each once")

	d := s.allocate()
	assert.Equal(t, int64(14), d)
	s.done(d, func() { woken = append(woken, "d") })
	assert.Equal(t, []string{"a", "b", "d"}, woken)
}
