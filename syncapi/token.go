package syncapi

import (
	"errors"
	"strconv"
	"strings"
)

// ErrBadToken is returned for a since/from/to token this server did not make.
var ErrBadToken = errors.New("syncapi: invalid stream token")

// Token is a position in each of the server's streams. It is opaque to
// clients: "s" followed by the positions separated by "_", in the order of
// the fields below. Old tokens with fewer fields stay valid (the missing
// streams are at 0, so their whole content is sent again), and fields a
// newer server added are ignored.
type Token struct {
	// Room is the room event stream position: the token lies after event Room.
	Room int64
	// Typing is the position of the in-memory typing stream.
	Typing int64
	// Receipt is the position of the receipt stream.
	Receipt int64
	// AccountData is the position of the account data stream.
	AccountData int64
	// Presence is the position of the presence stream.
	Presence int64
}

// fields lists the positions in their encoding order.
func (t *Token) fields() []*int64 {
	return []*int64{&t.Room, &t.Typing, &t.Receipt, &t.AccountData, &t.Presence}
}

// String encodes the token. A token with only a room position encodes as
// "s<room>", the form /messages and prev_batch tokens use.
func (t Token) String() string {
	fs := t.fields()
	last := 0
	for i, f := range fs {
		if *f != 0 {
			last = i
		}
	}
	var b strings.Builder
	b.WriteByte('s')
	for i := 0; i <= last; i++ {
		if i > 0 {
			b.WriteByte('_')
		}
		b.WriteString(strconv.FormatInt(*fs[i], 10))
	}
	return b.String()
}

// ParseToken decodes a token made by String.
func ParseToken(s string) (Token, error) {
	rest, ok := strings.CutPrefix(s, "s")
	if !ok {
		return Token{}, ErrBadToken
	}
	var t Token
	fs := t.fields()
	for i, part := range strings.Split(rest, "_") {
		n, err := strconv.ParseInt(part, 10, 64)
		if err != nil || n < 0 {
			return Token{}, ErrBadToken
		}
		if i < len(fs) {
			*fs[i] = n
		}
	}
	return t, nil
}
