package cjson

import (
	"unicode/utf16"
	"unicode/utf8"
)

// str decodes the JSON string at e.pos, writes its canonical form to e.out when
// write is set, and returns the decoded value.
func (e *encoder) str(write bool) (string, error) {
	e.pos++ // opening quote
	// Fast path: no escapes and only printable ASCII or valid UTF-8.
	start := e.pos
	for e.pos < len(e.in) {
		c := e.in[e.pos]
		if c == '"' {
			s := e.in[start:e.pos]
			e.pos++
			if write {
				e.out = append(e.out, '"')
				e.out = append(e.out, s...)
				e.out = append(e.out, '"')
			}
			return string(s), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		if c < utf8.RuneSelf {
			e.pos++
			continue
		}
		r, size := utf8.DecodeRune(e.in[e.pos:])
		if r == utf8.RuneError && size <= 1 {
			return "", e.fail("invalid UTF-8 in string")
		}
		e.pos += size
	}
	// Slow path: decode escapes.
	buf := append([]byte(nil), e.in[start:e.pos]...)
	for {
		if e.pos >= len(e.in) {
			return "", e.fail("unterminated string")
		}
		c := e.in[e.pos]
		switch {
		case c == '"':
			e.pos++
			if write {
				e.out = appendString(e.out, buf)
			}
			return string(buf), nil
		case c < 0x20:
			return "", e.fail("control character in string")
		case c == '\\':
			r, err := e.escape()
			if err != nil {
				return "", err
			}
			buf = utf8.AppendRune(buf, r)
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			e.pos++
		default:
			r, size := utf8.DecodeRune(e.in[e.pos:])
			if r == utf8.RuneError && size <= 1 {
				return "", e.fail("invalid UTF-8 in string")
			}
			buf = append(buf, e.in[e.pos:e.pos+size]...)
			e.pos += size
		}
	}
}

// escape decodes one backslash escape at e.pos (surrogate pairs included).
func (e *encoder) escape() (rune, error) {
	if e.pos+1 >= len(e.in) {
		return 0, e.fail("truncated escape")
	}
	c := e.in[e.pos+1]
	e.pos += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, ok := e.hex4()
		if !ok {
			return 0, e.fail("invalid \\u escape")
		}
		if utf16.IsSurrogate(r) {
			if r >= 0xDC00 || e.pos+1 >= len(e.in) || e.in[e.pos] != '\\' || e.in[e.pos+1] != 'u' {
				return 0, e.fail("unpaired surrogate in \\u escape")
			}
			e.pos += 2
			r2, ok := e.hex4()
			if !ok {
				return 0, e.fail("invalid \\u escape")
			}
			pair := utf16.DecodeRune(r, r2)
			if pair == utf8.RuneError {
				return 0, e.fail("unpaired surrogate in \\u escape")
			}
			return pair, nil
		}
		return r, nil
	default:
		return 0, e.fail("invalid escape character")
	}
}

func (e *encoder) hex4() (rune, bool) {
	if e.pos+4 > len(e.in) {
		return 0, false
	}
	var r rune
	for _, c := range e.in[e.pos : e.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	e.pos += 4
	return r, true
}

const hexDigits = "0123456789abcdef"

// appendString writes s (valid UTF-8) as a canonical JSON string.
func appendString(out, s []byte) []byte {
	out = append(out, '"')
	for _, c := range s {
		switch {
		case c == '"':
			out = append(out, '\\', '"')
		case c == '\\':
			out = append(out, '\\', '\\')
		case c >= 0x20:
			out = append(out, c)
		case c == '\b':
			out = append(out, '\\', 'b')
		case c == '\t':
			out = append(out, '\\', 't')
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\f':
			out = append(out, '\\', 'f')
		case c == '\r':
			out = append(out, '\\', 'r')
		default:
			out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
	}
	return append(out, '"')
}

// AppendString appends s as a canonical JSON string. s must be valid UTF-8.
func AppendString(out []byte, s string) []byte { return appendString(out, []byte(s)) }
