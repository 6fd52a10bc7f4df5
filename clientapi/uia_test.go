package clientapi

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/internal/matrixhttp"
)

func TestUIASessions(t *testing.T) {
	s := newUIASessions()
	now := time.Unix(1000, 0)
	a, ok := s.start("op", "alice", now)
	require.True(t, ok)
	assert.Len(t, a.id, 22)
	b, _ := s.start("op", "alice", now)
	assert.NotEqual(t, a.id, b.id)

	require.True(t, s.complete(a.id, stageDummy, ""))
	require.True(t, s.complete(a.id, stageDummy, ""), "completing twice is harmless")
	require.True(t, s.complete(a.id, stageRegToken, "tok"))
	assert.False(t, s.complete(a.id, stageRegToken, "tok2"), "one reservation per session")
	got, ok := s.get(a.id, now)
	require.True(t, ok)
	assert.Equal(t, []string{stageDummy, stageRegToken}, got.completed)
	assert.Equal(t, "tok", got.regToken)
	got.completed[0] = "mutated"
	again, _ := s.get(a.id, now)
	assert.Equal(t, stageDummy, again.completed[0], "get returns copies")

	require.True(t, s.claim(a.id))
	assert.False(t, s.claim(a.id), "one request at a time")
	s.unclaim(a.id, true)
	got, _ = s.get(a.id, now)
	assert.Equal(t, []string{stageDummy}, got.completed)
	assert.Empty(t, got.regToken)
	assert.True(t, s.claim(a.id))

	// Expiry: get refuses, sweep removes idle sessions only.
	later := now.Add(uiaSessionTTL)
	_, ok = s.get(b.id, later)
	assert.False(t, ok)
	gone := s.sweep(later)
	require.Len(t, gone, 1, "the claimed session stays")
	assert.Equal(t, b.id, gone[0].id)
	assert.Nil(t, s.sweep(later.Add(time.Second)), "sweeps at most once a minute")
	s.finish(a.id)
	assert.Equal(t, 0, s.len())
	assert.False(t, s.complete("nope", stageDummy, ""))
	assert.False(t, s.claim("nope"))
}

func TestFlows(t *testing.T) {
	flows := [][]string{{"a", "b"}, {"a", "c"}, {"d"}}
	assert.ElementsMatch(t, []string{"a", "d"}, nextStages(flows, nil))
	assert.ElementsMatch(t, []string{"b", "c"}, nextStages(flows, []string{"a"}))
	assert.Empty(t, nextStages(flows, []string{"b"}))
	assert.False(t, flowComplete(flows, []string{"a"}))
	assert.True(t, flowComplete(flows, []string{"a", "c"}))
	assert.True(t, flowComplete(flows, []string{"d"}))
}

// TestUIARegistrationTokenRelease checks that a reserved token use is given
// back when the operation fails and when the session expires.
func TestUIARegistrationTokenRelease(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		_, err := e.store.CreateRegistrationToken(e.ctx, "tok", ptrInt64(1), nil)
		require.NoError(t, err)
		pending := func() int64 {
			tok, err := e.store.GetRegistrationToken(e.ctx, "tok")
			require.NoError(t, err)
			return tok.Pending
		}
		spec := uiaSpec{op: uiaOpRegister, flows: [][]string{{stageRegToken}}}
		sess, err := e.api.uiaAuthenticate(e.ctx, spec, &uiaAuth{Type: stageRegToken, Token: "tok"})
		require.NoError(t, err)
		assert.Equal(t, "tok", sess.regToken)
		assert.Equal(t, int64(1), pending())

		// The operation failed: the use is released and the stage forgotten.
		e.api.uiaAbort(e.ctx, sess, true)
		assert.Equal(t, int64(0), pending())
		_, err = e.api.uiaAuthenticate(e.ctx, spec, &uiaAuth{Session: sess.id})
		var ch *uiaChallenge
		require.ErrorAs(t, err, &ch)
		assert.Empty(t, ch.body.Completed)

		// A two-stage flow holds the reservation until the session expires.
		two := uiaSpec{op: uiaOpRegister, flows: [][]string{{stageRegToken, stageDummy}}}
		_, err = e.api.uiaAuthenticate(e.ctx, two, &uiaAuth{Type: stageRegToken, Token: "tok"})
		require.ErrorAs(t, err, &ch)
		assert.Equal(t, []string{stageRegToken}, ch.body.Completed)
		assert.Empty(t, ch.body.ErrCode)
		assert.Equal(t, int64(1), pending())
		// Meanwhile the token is used up for everyone else.
		_, err = e.api.uiaAuthenticate(e.ctx, spec, &uiaAuth{Type: stageRegToken, Token: "tok"})
		require.ErrorAs(t, err, &ch)
		assert.Equal(t, "M_UNAUTHORIZED", ch.body.ErrCode)

		e.clock.Advance(uiaSessionTTL + time.Minute)
		_, err = e.api.uiaAuthenticate(e.ctx, spec, nil) // any UIA request sweeps
		require.ErrorAs(t, err, &ch)
		assert.Equal(t, int64(0), pending(), "the expired session's reservation is released")
	})
}

// TestUIAConcurrentCompletion checks that one session authorises one
// registration even when requests race.
func TestUIAConcurrentCompletion(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		first := e.do("POST", v3+"/register", map[string]any{}, "")
		require.Equal(t, 401, first.status)
		session := first.str("session")
		const n = 6
		statuses := make([]int, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				r := e.do("POST", v3+"/register", map[string]any{
					"username": "racer" + string(rune('a'+i)), "password": "pw",
					"auth": map[string]any{"type": stageDummy, "session": session},
				}, "")
				statuses[i] = r.status
			})
		}
		close(start)
		wg.Wait()
		wins := 0
		for _, s := range statuses {
			if s == 200 {
				wins++
			} else {
				assert.Equal(t, 400, s)
			}
		}
		assert.Equal(t, 1, wins, "statuses %v", statuses)
	})
}

func TestUIASessionLimit(t *testing.T) {
	forEachAccountEnv(t, func(t *testing.T, e *accountEnv) {
		now := e.clock.Now()
		for range uiaMaxSessions {
			_, ok := e.api.uia.start("filler", "", now)
			require.True(t, ok)
		}
		r := e.do("POST", v3+"/register", map[string]any{}, "")
		e.expectError(r, 429, "M_LIMIT_EXCEEDED")
		// Once they expire, the next request sweeps them and gets a session.
		e.clock.Advance(uiaSessionTTL)
		r = e.do("POST", v3+"/register", map[string]any{}, "")
		assert.Equal(t, 401, r.status)
		assert.Equal(t, 1, e.api.uia.len())
	})
}

func TestFailAuthWritesChallenge(t *testing.T) {
	ch := uiaChallengeFor(uiaSpec{flows: [][]string{{stagePassword}}}, uiaSession{id: "s", completed: []string{}}, &stageFailure{"M_FORBIDDEN", "no"})
	assert.Equal(t, "uia: M_FORBIDDEN: no", ch.Error())
	var target *uiaChallenge
	assert.True(t, errors.As(error(ch), &target))
	var me *matrixhttp.Error
	assert.False(t, errors.As(error(ch), &me), "a challenge is not a plain Matrix error")
}
