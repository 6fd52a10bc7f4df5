package cjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// MaxDepth bounds the nesting of arrays and objects. Deeper documents are
// rejected rather than risking unbounded recursion on hostile input.
const MaxDepth = 512

// MaxSafeInteger is the largest integer canonical JSON allows (2^53 - 1).
const MaxSafeInteger = 1<<53 - 1

// Error describes why a document is not acceptable, with the byte offset of
// the problem.
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("canonical json: %s at offset %d", e.Msg, e.Offset)
}

// Options select the mode and optional top-level key filtering.
type Options struct {
	// Strict enforces the room version 6+ rules: integers only, in range,
	// no negative zero, no duplicate keys.
	Strict bool
	// Omit lists top-level object keys to drop from the output (for example
	// "signatures" and "unsigned" when signing). Ignored for non-objects.
	Omit []string
}

// Canonical returns the lax canonical encoding of in.
func Canonical(in []byte) ([]byte, error) { return Encode(in, Options{}) }

// CanonicalStrict returns the strict canonical encoding of in.
func CanonicalStrict(in []byte) ([]byte, error) { return Encode(in, Options{Strict: true}) }

// Validate reports whether in satisfies the strict rules, without keeping the output.
func Validate(in []byte) error {
	_, err := Encode(in, Options{Strict: true})
	return err
}

// Marshal encodes v with encoding/json and returns its strict canonical form.
func Marshal(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return Encode(raw, Options{Strict: true})
}

// Encode canonicalises in according to opts.
func Encode(in []byte, opts Options) ([]byte, error) {
	e := encoder{in: in, strict: opts.Strict, omit: opts.Omit, out: make([]byte, 0, len(in))}
	e.skipSpace()
	if err := e.value(0); err != nil {
		return nil, err
	}
	e.skipSpace()
	if e.pos != len(e.in) {
		return nil, e.fail("trailing data after JSON value")
	}
	return e.out, nil
}

type encoder struct {
	in     []byte
	pos    int
	out    []byte
	strict bool
	omit   []string
	// scratch holds member spans while an object is sorted; reused across objects.
	keyBuf []byte
}

func (e *encoder) fail(msg string) error { return &Error{Offset: e.pos, Msg: msg} }

func (e *encoder) skipSpace() {
	for e.pos < len(e.in) {
		switch e.in[e.pos] {
		case ' ', '\t', '\n', '\r':
			e.pos++
		default:
			return
		}
	}
}

func (e *encoder) value(depth int) error {
	if e.pos >= len(e.in) {
		return e.fail("unexpected end of input")
	}
	switch c := e.in[e.pos]; {
	case c == '{':
		return e.object(depth + 1)
	case c == '[':
		return e.array(depth + 1)
	case c == '"':
		_, err := e.str(true)
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		return e.number()
	case c == 't':
		return e.literal("true")
	case c == 'f':
		return e.literal("false")
	case c == 'n':
		return e.literal("null")
	default:
		return e.fail(fmt.Sprintf("unexpected character %q", c))
	}
}

func (e *encoder) literal(word string) error {
	if !bytes.HasPrefix(e.in[e.pos:], []byte(word)) {
		return e.fail("invalid literal")
	}
	e.pos += len(word)
	e.out = append(e.out, word...)
	return nil
}

func (e *encoder) number() error {
	start := e.pos
	if e.in[e.pos] == '-' {
		e.pos++
	}
	digits := e.pos
	if e.pos >= len(e.in) {
		return e.fail("truncated number")
	}
	switch c := e.in[e.pos]; {
	case c == '0':
		e.pos++
	case c >= '1' && c <= '9':
		for e.pos < len(e.in) && e.in[e.pos] >= '0' && e.in[e.pos] <= '9' {
			e.pos++
		}
	default:
		return e.fail("invalid number")
	}
	intEnd := e.pos
	isFloat := false
	if e.pos < len(e.in) && e.in[e.pos] == '.' {
		isFloat = true
		e.pos++
		if !e.digits() {
			return e.fail("invalid fraction")
		}
	}
	if e.pos < len(e.in) && (e.in[e.pos] == 'e' || e.in[e.pos] == 'E') {
		isFloat = true
		e.pos++
		if e.pos < len(e.in) && (e.in[e.pos] == '+' || e.in[e.pos] == '-') {
			e.pos++
		}
		if !e.digits() {
			return e.fail("invalid exponent")
		}
	}
	text := e.in[start:e.pos]
	if e.strict {
		if isFloat {
			return &Error{Offset: start, Msg: "number is not an integer"}
		}
		if intEnd-digits > 16 {
			return &Error{Offset: start, Msg: "integer out of range"}
		}
		n, err := strconv.ParseInt(string(text), 10, 64)
		if err != nil || n > MaxSafeInteger || n < -MaxSafeInteger {
			return &Error{Offset: start, Msg: "integer out of range"}
		}
		if n == 0 && text[0] == '-' {
			return &Error{Offset: start, Msg: "negative zero"}
		}
	}
	if len(text) == 2 && text[0] == '-' && text[1] == '0' {
		// Lax mode: the integer -0 is the value 0; the spec's example
		// canonicalises {"a": -0} to {"a":0} (so do Synapse and gomatrixserverlib).
		text = text[1:]
	}
	e.out = append(e.out, text...)
	return nil
}

func (e *encoder) digits() bool {
	start := e.pos
	for e.pos < len(e.in) && e.in[e.pos] >= '0' && e.in[e.pos] <= '9' {
		e.pos++
	}
	return e.pos > start
}

func (e *encoder) array(depth int) error {
	if depth > MaxDepth {
		return e.fail("nesting too deep")
	}
	e.pos++ // '['
	e.out = append(e.out, '[')
	e.skipSpace()
	if e.pos < len(e.in) && e.in[e.pos] == ']' {
		e.pos++
		e.out = append(e.out, ']')
		return nil
	}
	for {
		e.skipSpace()
		if err := e.value(depth); err != nil {
			return err
		}
		e.skipSpace()
		if e.pos >= len(e.in) {
			return e.fail("unterminated array")
		}
		switch e.in[e.pos] {
		case ',':
			e.pos++
			e.out = append(e.out, ',')
		case ']':
			e.pos++
			e.out = append(e.out, ']')
			return nil
		default:
			return e.fail("expected ',' or ']' in array")
		}
	}
}

// member records where one encoded "key":value pair sits in e.out, and its
// decoded key (for sorting by code point).
type member struct {
	key        string
	start, end int
}

func (e *encoder) object(depth int) error {
	if depth > MaxDepth {
		return e.fail("nesting too deep")
	}
	topLevel := depth == 1
	e.pos++ // '{'
	objStart := len(e.out)
	e.out = append(e.out, '{')
	var members []member
	e.skipSpace()
	if e.pos < len(e.in) && e.in[e.pos] == '}' {
		e.pos++
		e.out = append(e.out, '}')
		return nil
	}
	for {
		e.skipSpace()
		if e.pos >= len(e.in) || e.in[e.pos] != '"' {
			return e.fail("expected string key in object")
		}
		start := len(e.out)
		key, err := e.str(true)
		if err != nil {
			return err
		}
		e.skipSpace()
		if e.pos >= len(e.in) || e.in[e.pos] != ':' {
			return e.fail("expected ':' after object key")
		}
		e.pos++
		e.out = append(e.out, ':')
		e.skipSpace()
		if err := e.value(depth); err != nil {
			return err
		}
		if topLevel && slices.Contains(e.omit, key) {
			e.out = e.out[:start]
		} else {
			members = append(members, member{key: key, start: start, end: len(e.out)})
		}
		e.skipSpace()
		if e.pos >= len(e.in) {
			return e.fail("unterminated object")
		}
		if e.in[e.pos] == ',' {
			e.pos++
			continue
		}
		if e.in[e.pos] == '}' {
			e.pos++
			break
		}
		return e.fail("expected ',' or '}' in object")
	}
	return e.finishObject(objStart, members)
}

// finishObject rewrites the members written after objStart+1 in sorted order,
// joined by commas, resolving duplicate keys.
func (e *encoder) finishObject(objStart int, members []member) error {
	sorted := slices.IsSortedFunc(members, func(a, b member) int { return cmpKey(a.key, b.key) })
	if !sorted {
		slices.SortStableFunc(members, func(a, b member) int { return cmpKey(a.key, b.key) })
	}
	// Duplicates: stable sort keeps input order, so the last of a run is the
	// last written, which is the one Python-like decoders keep.
	dedup := members[:0]
	for i, m := range members {
		if i+1 < len(members) && members[i+1].key == m.key {
			if e.strict {
				return e.fail(fmt.Sprintf("duplicate key %q", m.key))
			}
			continue
		}
		dedup = append(dedup, m)
	}
	members = dedup
	body := e.out[objStart+1:]
	e.keyBuf = append(e.keyBuf[:0], body...)
	e.out = e.out[:objStart+1]
	base := objStart + 1
	for i, m := range members {
		if i > 0 {
			e.out = append(e.out, ',')
		}
		e.out = append(e.out, e.keyBuf[m.start-base:m.end-base]...)
	}
	e.out = append(e.out, '}')
	return nil
}

// cmpKey orders keys by Unicode code point; for valid UTF-8 that is byte order.
func cmpKey(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
