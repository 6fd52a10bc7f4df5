package matrixhttp

import (
	"math"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// RateLimiter keeps a token bucket per key (the user, or the client IP for
// unauthenticated requests). Idle buckets are dropped on a sweep.
type RateLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewRateLimiter allows perSecond requests per key with the given burst.
func NewRateLimiter(perSecond float64, burst int) *RateLimiter {
	return &RateLimiter{limit: rate.Limit(perSecond), burst: burst, buckets: map[string]*bucket{}, swept: time.Now()}
}

// Allow takes a token for key; when none is left it returns the wait in ms.
func (r *RateLimiter) Allow(key string, now time.Time) (ok bool, retryAfterMS int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.swept) > time.Minute {
		for k, b := range r.buckets {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(r.buckets, k)
			}
		}
		r.swept = now
	}
	b := r.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(r.limit, r.burst)}
		r.buckets[key] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	if !res.OK() {
		return false, 1000
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, int64(math.Ceil(float64(d) / float64(time.Millisecond)))
	}
	return true, 0
}

// Middleware limits requests by the key keyFn returns ("" = not limited).
func (r *RateLimiter) Middleware(keyFn func(*gin.Context) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		key := keyFn(c)
		if key == "" {
			c.Next()
			return
		}
		if ok, wait := r.Allow(key, time.Now()); !ok {
			Fail(c, LimitExceeded(wait))
			return
		}
		c.Next()
	}
}
