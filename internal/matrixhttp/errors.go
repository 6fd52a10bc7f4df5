package matrixhttp

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a Matrix API error: an errcode, a message and the HTTP status.
type Error struct {
	Status  int            `json:"-"`
	ErrCode string         `json:"errcode"`
	Message string         `json:"error"`
	Extra   map[string]any `json:"-"` // extra top-level fields, e.g. retry_after_ms
}

func (e *Error) Error() string { return fmt.Sprintf("%s (%d): %s", e.ErrCode, e.Status, e.Message) }

// Body returns the JSON body of the error.
func (e *Error) Body() map[string]any {
	body := make(map[string]any, 2+len(e.Extra))
	for k, v := range e.Extra {
		body[k] = v
	}
	body["errcode"] = e.ErrCode
	body["error"] = e.Message
	return body
}

func newErr(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, ErrCode: code, Message: fmt.Sprintf(format, args...)}
}

// Constructors for the errcodes Concord returns (client-server API, "Standard error response").
func Forbidden(format string, args ...any) *Error {
	return newErr(http.StatusForbidden, "M_FORBIDDEN", format, args...)
}
func UnknownToken(format string, args ...any) *Error {
	return newErr(http.StatusUnauthorized, "M_UNKNOWN_TOKEN", format, args...)
}
func MissingToken(format string, args ...any) *Error {
	return newErr(http.StatusUnauthorized, "M_MISSING_TOKEN", format, args...)
}
func BadJSON(format string, args ...any) *Error {
	return newErr(http.StatusBadRequest, "M_BAD_JSON", format, args...)
}
func NotJSON(format string, args ...any) *Error {
	return newErr(http.StatusBadRequest, "M_NOT_JSON", format, args...)
}
func NotFound(format string, args ...any) *Error {
	return newErr(http.StatusNotFound, "M_NOT_FOUND", format, args...)
}
func InvalidParam(format string, args ...any) *Error {
	return newErr(http.StatusBadRequest, "M_INVALID_PARAM", format, args...)
}
func MissingParam(format string, args ...any) *Error {
	return newErr(http.StatusBadRequest, "M_MISSING_PARAM", format, args...)
}
func TooLarge(format string, args ...any) *Error {
	return newErr(http.StatusRequestEntityTooLarge, "M_TOO_LARGE", format, args...)
}
func Unrecognized(status int, format string, args ...any) *Error {
	return newErr(status, "M_UNRECOGNIZED", format, args...)
}
func Unknown(format string, args ...any) *Error {
	return newErr(http.StatusInternalServerError, "M_UNKNOWN", format, args...)
}
func UserInUse(format string, args ...any) *Error {
	return newErr(http.StatusBadRequest, "M_USER_IN_USE", format, args...)
}
func InvalidUsername(format string, args ...any) *Error {
	return newErr(http.StatusBadRequest, "M_INVALID_USERNAME", format, args...)
}
func Exclusive(format string, args ...any) *Error {
	return newErr(http.StatusBadRequest, "M_EXCLUSIVE", format, args...)
}
func UnsupportedRoomVersion(format string, args ...any) *Error {
	return newErr(http.StatusBadRequest, "M_UNSUPPORTED_ROOM_VERSION", format, args...)
}
func RoomInUse(format string, args ...any) *Error {
	return newErr(http.StatusBadRequest, "M_ROOM_IN_USE", format, args...)
}
func GuestAccessForbidden(format string, args ...any) *Error {
	return newErr(http.StatusForbidden, "M_GUEST_ACCESS_FORBIDDEN", format, args...)
}
func UserDeactivated(format string, args ...any) *Error {
	return newErr(http.StatusForbidden, "M_USER_DEACTIVATED", format, args...)
}

// LimitExceeded is M_LIMIT_EXCEEDED (429) with retry_after_ms.
func LimitExceeded(retryAfterMS int64) *Error {
	e := newErr(http.StatusTooManyRequests, "M_LIMIT_EXCEEDED", "Too many requests")
	e.Extra = map[string]any{"retry_after_ms": retryAfterMS}
	return e
}

// Mapping lets domain packages register how their sentinel errors appear at
// the edge, so the mapping lives in one table instead of in every handler.
type Mapping struct {
	Target error
	Make   func(err error) *Error
}

var mappings []Mapping

// Register adds domain error mappings. Call it from package init of the
// component that owns the HTTP handlers (the table is read-only afterwards).
func Register(m ...Mapping) { mappings = append(mappings, m...) }

// FromError converts any error to a Matrix error: an *Error passes through, a
// registered domain error is mapped, anything else is M_UNKNOWN 500 with a
// generic message (the detail goes to the log, not the client).
func FromError(err error) *Error {
	var me *Error
	if errors.As(err, &me) {
		return me
	}
	for _, m := range mappings {
		if errors.Is(err, m.Target) {
			return m.Make(err)
		}
	}
	return Unknown("Internal server error")
}
