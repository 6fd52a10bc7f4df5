package matrixhttp

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"
)

const (
	loggerKey    = "concord.logger"
	requestIDKey = "concord.request_id"
	// RequestIDHeader carries the request ID back to the client.
	RequestIDHeader = "X-Request-Id"
)

// RequestContext gives every request an ID and a child logger carrying it,
// logs one line per request, and turns a panic into M_UNKNOWN 500 so that a
// handler bug never drops the connection.
func RequestContext(base *zap.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := newRequestID()
		log := base.With(zap.String("request_id", id))
		c.Set(requestIDKey, id)
		c.Set(loggerKey, log)
		c.Header(RequestIDHeader, id)
		start := time.Now()
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic in handler", zap.Any("panic", r), zap.Stack("stack"))
				if !c.Writer.Written() {
					Fail(c, fmt.Errorf("panic: %v", r))
				}
			}
			log.Info("request",
				zap.String("method", c.Request.Method),
				zap.String("path", c.Request.URL.Path),
				zap.Int("status", c.Writer.Status()),
				zap.Duration("duration", time.Since(start)),
				zap.String("remote", c.ClientIP()))
		}()
		c.Next()
	}
}

// Logger returns the request's logger (a no-op logger outside RequestContext).
func Logger(c *gin.Context) *zap.Logger {
	if v, ok := c.Get(loggerKey); ok {
		if l, ok := v.(*zap.Logger); ok {
			return l
		}
	}
	return zap.NewNop()
}

// RequestID returns the request's ID.
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// CORS answers preflight requests and sets the headers the client-server API
// requires on every response so browser clients can talk to the server.
func CORS() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "X-Requested-With, Content-Type, Authorization")
		if c.Request.Method == http.MethodOptions {
			c.AbortWithStatus(http.StatusOK)
			return
		}
		c.Next()
	}
}
