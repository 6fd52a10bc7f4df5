package matrixhttp

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"
)

// DefaultMaxBodyBytes bounds JSON request bodies (media uploads have their own limit).
const DefaultMaxBodyBytes = 1 << 20

// Respond writes v as JSON with status.
func Respond(c *gin.Context, status int, v any) {
	c.Header("Content-Type", "application/json")
	c.Status(status)
	enc := json.NewEncoder(c.Writer)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// Fail writes err as a Matrix error and stops the handler chain. Errors that
// map to 500 are logged with the request's logger.
func Fail(c *gin.Context, err error) {
	me := FromError(err)
	if me.Status >= 500 {
		Logger(c).Error("request failed", zap.Error(err))
	}
	c.Abort()
	Respond(c, me.Status, me.Body())
}

// DecodeJSON reads the request body as a JSON object into dst. It answers
// M_TOO_LARGE for bodies over limit, M_NOT_JSON for bodies that are not JSON
// and M_BAD_JSON for JSON of the wrong shape or types. An empty body is
// treated as "{}" only when allowEmpty is set.
func DecodeJSON(c *gin.Context, dst any, limit int64, allowEmpty bool) *Error {
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if c.Request.ContentLength > limit {
		return TooLarge("Request body too large")
	}
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, limit+1))
	if err != nil {
		return BadJSON("Could not read request body")
	}
	if int64(len(body)) > limit {
		return TooLarge("Request body too large")
	}
	return DecodeBytes(body, dst, allowEmpty)
}

// DecodeBytes is DecodeJSON for a body already read.
func DecodeBytes(body []byte, dst any, allowEmpty bool) *Error {
	if len(body) == 0 && allowEmpty {
		body = []byte("{}")
	}
	if !utf8.Valid(body) || !json.Valid(body) {
		return NotJSON("Content not JSON.")
	}
	if body[firstNonSpace(body)] != '{' {
		return BadJSON("Content must be a JSON object")
	}
	if err := json.Unmarshal(body, dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return BadJSON("Field %q has the wrong type", typeErr.Field)
		}
		return BadJSON("Invalid JSON: %v", err)
	}
	return nil
}

func firstNonSpace(b []byte) int {
	for i, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return i
		}
	}
	return 0
}

// NoRoute answers unknown paths with M_UNRECOGNIZED 404.
func NoRoute(c *gin.Context) {
	Fail(c, Unrecognized(http.StatusNotFound, "Unrecognized request"))
}

// NoMethod answers known paths with an unsupported method with M_UNRECOGNIZED 405.
func NoMethod(c *gin.Context) {
	Fail(c, Unrecognized(http.StatusMethodNotAllowed, "Unrecognized request method"))
}
