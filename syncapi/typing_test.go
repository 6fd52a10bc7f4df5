package syncapi

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTypingStream(t *testing.T) {
	var mu sync.Mutex
	var notified []string
	ts := newTypingStreams(func(room string) {
		mu.Lock()
		notified = append(notified, room)
		mu.Unlock()
	})
	defer ts.stop()
	start := ts.position()
	assert.InDelta(t, time.Now().UnixMilli(), start, 5000, "positions start at the clock")

	ts.set("!r", "@b", true, time.Minute)
	ts.set("!r", "@a", true, time.Minute)
	p2 := ts.position()
	assert.Equal(t, start+2, p2)
	users, ok := ts.since("!r", start, p2, false)
	assert.True(t, ok)
	assert.Equal(t, []string{"@a", "@b"}, users, "sorted")

	// A refresh extends the timeout without a new position.
	ts.set("!r", "@a", true, time.Minute)
	assert.Equal(t, p2, ts.position())
	_, ok = ts.since("!r", p2, p2, false)
	assert.False(t, ok, "nothing changed after p2")

	// Stopping is a change; stopping again is not.
	ts.set("!r", "@b", false, 0)
	ts.set("!r", "@b", false, 0)
	p3 := ts.position()
	assert.Equal(t, p2+1, p3)
	users, ok = ts.since("!r", p2, p3, false)
	assert.True(t, ok)
	assert.Equal(t, []string{"@a"}, users)
	// A change after upTo is left for the next sync.
	_, ok = ts.since("!r", p2, p2, false)
	assert.False(t, ok)

	// Whole state: only when someone is typing; unknown rooms never.
	users, ok = ts.since("!r", 0, 0, true)
	assert.True(t, ok)
	assert.Equal(t, []string{"@a"}, users)
	_, ok = ts.since("!other", 0, p3, false)
	assert.False(t, ok)

	mu.Lock()
	assert.Equal(t, []string{"!r", "!r", "!r"}, notified, "one wake-up per change")
	mu.Unlock()
}

func TestTypingExpiry(t *testing.T) {
	woke := make(chan string, 10)
	ts := newTypingStreams(func(room string) { woke <- room })
	defer ts.stop()
	ts.set("!r", "@a", true, 50*time.Millisecond)
	<-woke
	ts.set("!r", "@b", true, time.Minute)
	<-woke
	// A refresh of @a before expiry pushes it back.
	time.Sleep(20 * time.Millisecond)
	ts.set("!r", "@a", true, 400*time.Millisecond)
	p := ts.position()
	time.Sleep(80 * time.Millisecond)
	users, _ := ts.since("!r", 0, ts.position(), false)
	assert.Equal(t, []string{"@a", "@b"}, users, "refreshed, not yet expired")
	select {
	case r := <-woke:
		assert.Equal(t, "!r", r)
	case <-time.After(2 * time.Second):
		require.Fail(t, "expiry did not wake the room")
	}
	users, ok := ts.since("!r", p, ts.position(), false)
	assert.True(t, ok)
	assert.Equal(t, []string{"@b"}, users)
	assert.Equal(t, p+1, ts.position())
}
