package clientapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/concordchat/concord/internal/matrixhttp"
)

// User-interactive authentication (UIA) stage types Concord offers.
const (
	stageDummy    = "m.login.dummy"
	stagePassword = "m.login.password"
	stageRegToken = "m.login.registration_token"
)

const (
	// uiaSessionTTL is how long a UIA session lives after it was started.
	uiaSessionTTL = 30 * time.Minute
	// uiaMaxSessions bounds the sessions kept in memory: registration
	// sessions are started by anyone.
	uiaMaxSessions = 100_000
)

// uiaSession is one user-interactive authentication session. Sessions live in
// memory: a restart forgets them, and clients start over.
type uiaSession struct {
	id string
	// op and localpart bind the session to one operation of one caller
	// ("" for registration); the session is refused for anything else.
	op        string
	localpart string
	completed []string
	// regToken is the registration token whose use this session reserved
	// (ReserveRegistrationToken); it is completed when the registration
	// succeeds and released when it fails or the session expires.
	regToken string
	expires  time.Time
	// busy is set while a request performs the operation the session
	// authorised, so that two requests cannot both use one session.
	busy bool
}

// uiaSessions are the server's UIA sessions, safe for concurrent use.
// Methods return copies, never the stored sessions.
type uiaSessions struct {
	mu       sync.Mutex
	sessions map[string]*uiaSession
	swept    time.Time
}

func newUIASessions() *uiaSessions {
	return &uiaSessions{sessions: map[string]*uiaSession{}}
}

// start opens a new session for op by localpart. It returns false when the
// server holds too many sessions.
func (s *uiaSessions) start(op, localpart string, now time.Time) (uiaSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) >= uiaMaxSessions {
		return uiaSession{}, false
	}
	sess := &uiaSession{id: newUIASessionID(), op: op, localpart: localpart, expires: now.Add(uiaSessionTTL)}
	s.sessions[sess.id] = sess
	return sess.copy(), true
}

// get returns a live session.
func (s *uiaSessions) get(id string, now time.Time) (uiaSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok || !now.Before(sess.expires) {
		return uiaSession{}, false
	}
	return sess.copy(), true
}

// complete records a completed stage, with the registration token it
// reserved if any. It returns false when the session is gone, or when a
// token is given and the session already holds one: the caller then releases
// its reservation.
func (s *uiaSessions) complete(id, stage, regToken string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok || (regToken != "" && sess.regToken != "") {
		return false
	}
	if !slices.Contains(sess.completed, stage) {
		sess.completed = append(sess.completed, stage)
	}
	if regToken != "" {
		sess.regToken = regToken
	}
	return true
}

// claim marks the session busy; false when it is gone or already busy.
func (s *uiaSessions) claim(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok || sess.busy {
		return false
	}
	sess.busy = true
	return true
}

// unclaim makes a claimed session usable again after its operation failed.
// With dropRegToken the registration token stage is forgotten too (its
// reservation released by the caller), so the client submits a token again.
func (s *uiaSessions) unclaim(id string, dropRegToken bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return
	}
	sess.busy = false
	if dropRegToken && sess.regToken != "" {
		sess.regToken = ""
		sess.completed = slices.DeleteFunc(sess.completed, func(st string) bool { return st == stageRegToken })
	}
}

// finish ends a session whose operation succeeded: it cannot be used again.
func (s *uiaSessions) finish(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, id)
}

// sweep removes the expired sessions that no request is using and returns
// them, so the caller can release what they reserved. It walks the sessions
// at most once a minute, unless the table is full.
func (s *uiaSessions) sweep(now time.Time) []uiaSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.swept) < time.Minute && len(s.sessions) < uiaMaxSessions {
		return nil
	}
	s.swept = now
	var gone []uiaSession
	for id, sess := range s.sessions {
		if !sess.busy && !now.Before(sess.expires) {
			gone = append(gone, sess.copy())
			delete(s.sessions, id)
		}
	}
	return gone
}

// len is the number of sessions held, expired ones included.
func (s *uiaSessions) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

func (s *uiaSession) copy() uiaSession {
	c := *s
	c.completed = slices.Clone(s.completed)
	return c
}

// newUIASessionID returns 128 random bits, URL-safe.
func newUIASessionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// uiaFlow is one flow of a UIA response.
type uiaFlow struct {
	Stages []string `json:"stages"`
}

// uiaResponse is the body of a 401 UIA response.
type uiaResponse struct {
	Flows     []uiaFlow      `json:"flows"`
	Params    map[string]any `json:"params"`
	Session   string         `json:"session"`
	Completed []string       `json:"completed,omitempty"`
	ErrCode   string         `json:"errcode,omitempty"`
	Error     string         `json:"error,omitempty"`
}

// uiaChallenge is the error a UIA-protected handler answers with while
// authentication is incomplete: failAuth writes it as the 401 UIA response.
type uiaChallenge struct{ body uiaResponse }

func (c *uiaChallenge) Error() string {
	if c.body.ErrCode != "" {
		return "uia: " + c.body.ErrCode + ": " + c.body.Error
	}
	return "uia: authentication required"
}

// uiaAuth is the "auth" object of a UIA-protected request, with the fields
// of every stage Concord offers.
type uiaAuth struct {
	Type       string          `json:"type"`
	Session    string          `json:"session"`
	Identifier *userIdentifier `json:"identifier"` // m.login.password
	User       string          `json:"user"`       // m.login.password, deprecated form
	Password   string          `json:"password"`   // m.login.password
	Token      string          `json:"token"`      // m.login.registration_token
}

// uiaSpec describes one UIA-protected call.
type uiaSpec struct {
	op        string     // names the operation a session is bound to
	localpart string     // the authenticated caller; "" for registration
	flows     [][]string // the flows offered
}

// stageFailure is a failed attempt at a stage; the client may try again.
type stageFailure struct{ errcode, msg string }

func (f *stageFailure) Error() string { return f.errcode + ": " + f.msg }

// uiaAuthenticate runs one step of user-interactive authentication for spec
// with the request's auth object (nil when absent). Once a flow is complete
// it claims the session and returns it: the caller performs the operation,
// then calls uiaFinish when it succeeded or uiaAbort when it failed. Until
// then it returns a *uiaChallenge (the 401 response) or another error.
func (a *API) uiaAuthenticate(ctx context.Context, spec uiaSpec, auth *uiaAuth) (uiaSession, error) {
	now := a.deps.Now()
	a.uiaSweep(ctx, now)

	var (
		sess uiaSession
		ok   bool
	)
	if auth != nil && auth.Session != "" {
		if sess, ok = a.uia.get(auth.Session, now); !ok {
			return uiaSession{}, errUnknownUIASession()
		}
		if sess.op != spec.op || sess.localpart != spec.localpart {
			return uiaSession{}, matrixhttp.Forbidden("The authentication session was started for another request")
		}
	} else if sess, ok = a.uia.start(spec.op, spec.localpart, now); !ok {
		return uiaSession{}, matrixhttp.LimitExceeded(int64(time.Minute / time.Millisecond))
	}

	// Completed stages cannot be retried: submitting one again is a no-op.
	if auth != nil && auth.Type != "" && !slices.Contains(sess.completed, auth.Type) {
		if !slices.Contains(nextStages(spec.flows, sess.completed), auth.Type) {
			return uiaSession{}, uiaChallengeFor(spec, sess,
				&stageFailure{"M_FORBIDDEN", "Authentication type " + auth.Type + " is not expected here"})
		}
		regToken, err := a.runStage(ctx, spec, auth)
		var failed *stageFailure
		if errors.As(err, &failed) {
			return uiaSession{}, uiaChallengeFor(spec, sess, failed)
		}
		if err != nil {
			return uiaSession{}, err
		}
		if !a.uia.complete(sess.id, auth.Type, regToken) && regToken != "" {
			// The session is gone, or a concurrent request reserved a
			// token for it first: give this reservation back.
			a.releaseRegToken(ctx, regToken)
		}
		if sess, ok = a.uia.get(sess.id, now); !ok {
			return uiaSession{}, errUnknownUIASession()
		}
	}

	if !flowComplete(spec.flows, sess.completed) {
		return uiaSession{}, uiaChallengeFor(spec, sess, nil)
	}
	if !a.uia.claim(sess.id) {
		return uiaSession{}, &matrixhttp.Error{Status: http.StatusBadRequest, ErrCode: "M_UNKNOWN",
			Message: "The authentication session is being used by another request"}
	}
	return sess, nil
}

// uiaFinish ends the session of an operation that succeeded.
func (a *API) uiaFinish(sess uiaSession) { a.uia.finish(sess.id) }

// uiaAbort gives the session back after its operation failed. With
// dropRegToken its registration token reservation is released and the
// client must submit a token again.
func (a *API) uiaAbort(ctx context.Context, sess uiaSession, dropRegToken bool) {
	if dropRegToken && sess.regToken != "" {
		a.releaseRegToken(ctx, sess.regToken)
	}
	a.uia.unclaim(sess.id, dropRegToken)
}

// uiaSweep drops expired sessions and releases their token reservations.
func (a *API) uiaSweep(ctx context.Context, now time.Time) {
	for _, sess := range a.uia.sweep(now) {
		if sess.regToken != "" {
			a.releaseRegToken(ctx, sess.regToken)
		}
	}
}

// releaseRegToken gives back a reserved registration token use.
func (a *API) releaseRegToken(ctx context.Context, token string) {
	if err := a.deps.Accounts.ReleaseRegistrationToken(context.WithoutCancel(ctx), token); err != nil {
		a.log.Warn("could not release registration token reservation", zap.Error(err))
	}
}

// runStage attempts one stage. A *stageFailure means the client may retry;
// for m.login.registration_token it returns the token it reserved.
func (a *API) runStage(ctx context.Context, spec uiaSpec, auth *uiaAuth) (string, error) {
	switch auth.Type {
	case stageDummy:
		return "", nil
	case stagePassword:
		return "", a.passwordStage(ctx, spec.localpart, auth)
	case stageRegToken:
		return a.regTokenStage(ctx, auth.Token)
	}
	return "", &stageFailure{"M_FORBIDDEN", "Unsupported authentication type"}
}

// nextStages are the stages that may come next in some flow.
func nextStages(flows [][]string, completed []string) []string {
	var next []string
	for _, f := range flows {
		if len(f) > len(completed) && slices.Equal(f[:len(completed)], completed) && !slices.Contains(next, f[len(completed)]) {
			next = append(next, f[len(completed)])
		}
	}
	return next
}

// flowComplete reports whether every stage of some flow is completed.
func flowComplete(flows [][]string, completed []string) bool {
	for _, f := range flows {
		done := true
		for _, st := range f {
			done = done && slices.Contains(completed, st)
		}
		if done {
			return true
		}
	}
	return false
}

func uiaChallengeFor(spec uiaSpec, sess uiaSession, failed *stageFailure) *uiaChallenge {
	body := uiaResponse{Params: map[string]any{}, Session: sess.id, Completed: sess.completed}
	for _, f := range spec.flows {
		body.Flows = append(body.Flows, uiaFlow{Stages: f})
	}
	if failed != nil {
		body.ErrCode, body.Error = failed.errcode, failed.msg
	}
	return &uiaChallenge{body: body}
}

func errUnknownUIASession() *matrixhttp.Error {
	return &matrixhttp.Error{Status: http.StatusBadRequest, ErrCode: "M_UNKNOWN", Message: "Unknown authentication session ID"}
}

// failAuth writes err: a *uiaChallenge as the 401 UIA response, anything
// else as a Matrix error.
func failAuth(c *gin.Context, err error) {
	var ch *uiaChallenge
	if errors.As(err, &ch) {
		c.Abort()
		matrixhttp.Respond(c, http.StatusUnauthorized, ch.body)
		return
	}
	matrixhttp.Fail(c, err)
}
