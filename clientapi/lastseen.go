package clientapi

import (
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"
)

// lastSeenEvery is how often a device's last-seen time and IP are written.
const lastSeenEvery = 5 * time.Minute

// lastSeen throttles device last-seen writes to one per device per period.
type lastSeen struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// touchDevice records that a device made a request (time and client IP),
// at most once per lastSeenEvery per device.
func (a *API) touchDevice(c *gin.Context, localpart, deviceID string) {
	now := a.deps.Now()
	key := localpart + "\x00" + deviceID
	a.seen.mu.Lock()
	if a.seen.seen == nil {
		a.seen.seen = map[string]time.Time{}
	}
	last, ok := a.seen.seen[key]
	if ok && now.Sub(last) < lastSeenEvery {
		a.seen.mu.Unlock()
		return
	}
	a.seen.seen[key] = now
	a.seen.mu.Unlock()
	if err := a.deps.Accounts.TouchDevice(c.Request.Context(), localpart, deviceID, now.UnixMilli(), c.ClientIP()); err != nil {
		a.log.Debug("recording device last seen failed", zap.Error(err))
	}
}
