package syncapi

import (
	"errors"
	"strconv"
	"strings"
)

// ErrBadToken is returned for a since/from/to token this server did not make.
var ErrBadToken = errors.New("syncapi: invalid stream token")

// Token is a position in the server's streams. It is opaque to clients.
// Today it carries the room event stream; later streams (typing, receipts,
// presence, to-device, device lists, account data) are added as more
// "_"-separated fields, and old tokens without them stay valid.
type Token struct {
	// Room is the room stream position: the token lies after event Room.
	Room int64
}

// String encodes the token ("s" + fields).
func (t Token) String() string { return "s" + strconv.FormatInt(t.Room, 10) }

// ParseToken decodes a token made by String.
func ParseToken(s string) (Token, error) {
	rest, ok := strings.CutPrefix(s, "s")
	if !ok {
		return Token{}, ErrBadToken
	}
	first, _, _ := strings.Cut(rest, "_")
	n, err := strconv.ParseInt(first, 10, 64)
	if err != nil || n < 0 {
		return Token{}, ErrBadToken
	}
	return Token{Room: n}, nil
}
