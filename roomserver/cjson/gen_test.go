package cjson_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// diffCases is the number of random cases per differential property:
// 10,000 by default, or CONCORD_DIFF_CASES for longer runs.
func diffCases(t testing.TB) int {
	if s := os.Getenv("CONCORD_DIFF_CASES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("CONCORD_DIFF_CASES=%q is not a positive integer", s)
		}
		return n
	}
	return 10_000
}

// docGen writes random JSON documents as text, choosing the spelling (white
// space, escapes, number forms) at random, so that canonicalisation has work
// to do. It is seeded and so reproducible.
type docGen struct {
	r *rand.Rand
	// strict limits numbers to canonical integers and never repeats a key.
	strict bool
	// dupProb is the chance that an object member reuses an earlier key (lax only).
	dupProb float64
	// badProb is the chance that a string contains a lone surrogate escape.
	badProb  float64
	maxDepth int
}

func newDocGen(seed uint64, strict bool) *docGen {
	g := &docGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), strict: strict, maxDepth: 5}
	if !strict {
		g.dupProb = 0.02
	}
	return g
}

func (g *docGen) chance(p float64) bool { return g.r.Float64() < p }

func (g *docGen) ws(b []byte) []byte {
	if !g.chance(0.3) {
		return b
	}
	for n := g.r.IntN(3) + 1; n > 0; n-- {
		b = append(b, " \t\n\r"[g.r.IntN(4)])
	}
	return b
}

// Doc returns a random document; the top level is an object most of the time.
func (g *docGen) Doc() []byte {
	b := g.ws(nil)
	if g.chance(0.85) {
		b = g.object(b, 0)
	} else {
		b = g.value(b, 0)
	}
	return g.ws(b)
}

func (g *docGen) value(b []byte, depth int) []byte {
	k := g.r.IntN(10)
	if depth >= g.maxDepth && k < 3 {
		k += 3
	}
	switch k {
	case 0, 1:
		return g.object(b, depth+1)
	case 2:
		return g.array(b, depth+1)
	case 3, 4, 5:
		return g.str(b, g.randString())
	case 6, 7:
		return append(b, g.number()...)
	default:
		return append(b, []string{"true", "false", "null"}[g.r.IntN(3)]...)
	}
}

func (g *docGen) object(b []byte, depth int) []byte {
	b = append(b, '{')
	n := g.r.IntN(6)
	if depth > 2 {
		n = g.r.IntN(3)
	}
	var keys []string
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		var key string
		if len(keys) > 0 && g.chance(g.dupProb) {
			key = keys[g.r.IntN(len(keys))]
		} else {
			key = g.randKey()
			for g.strict && seen[key] || !g.strict && seen[key] && !g.chance(g.dupProb) {
				key = g.randKey() + strconv.Itoa(g.r.IntN(1000))
			}
		}
		seen[key] = true
		keys = append(keys, key)
		if i > 0 {
			b = append(b, ',')
		}
		b = g.ws(b)
		b = g.str(b, key)
		b = g.ws(b)
		b = append(b, ':')
		b = g.ws(b)
		b = g.value(b, depth)
		b = g.ws(b)
	}
	if n == 0 {
		b = g.ws(b)
	}
	return append(b, '}')
}

func (g *docGen) array(b []byte, depth int) []byte {
	b = append(b, '[')
	n := g.r.IntN(5)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = g.ws(b)
		b = g.value(b, depth)
		b = g.ws(b)
	}
	return append(b, ']')
}

var keyWords = []string{"a", "b", "type", "content", "body", "m.relates_to", "users", "", "A", "aa", "ab", "é", "日", "😀", "\ufb01", "key with space"}

func (g *docGen) randKey() string {
	switch {
	case g.chance(0.6):
		return keyWords[g.r.IntN(len(keyWords))]
	case g.chance(0.05):
		return g.randString() // may need escapes: '"', '\', controls
	}
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 {
			return '_'
		}
		return r
	}, g.randString())
}

// randRune picks a code point from classes that matter for canonical JSON.
func (g *docGen) randRune() rune {
	switch g.r.IntN(20) {
	case 0:
		return rune(g.r.IntN(0x20)) // control characters
	case 1:
		return []rune{'"', '\\', '/', 0x7f}[g.r.IntN(4)]
	case 2:
		return rune(0x80 + g.r.IntN(0x780)) // two-byte UTF-8 (é is U+00E9)
	case 3:
		return []rune{'日', '本', '語', 0x2028, 0x2029, 0xfeff, 0xfffd, 0xffff, 0xe000}[g.r.IntN(9)]
	case 4:
		return rune(0x800 + g.r.IntN(0xd800-0x800)) // three-byte, below surrogates
	case 5:
		return rune(0x10000 + g.r.IntN(0x100000)) // astral (😀 is U+1F600)
	case 6:
		return []rune{0x1f600, 0x10ffff, 0x10000}[g.r.IntN(3)]
	default:
		return rune(0x20 + g.r.IntN(0x5f)) // printable ASCII
	}
}

func (g *docGen) randString() string {
	var sb strings.Builder
	for n := g.r.IntN(12); n > 0; n-- {
		sb.WriteRune(g.randRune())
	}
	return sb.String()
}

func (g *docGen) hex4(b []byte, r rune) []byte {
	digits := "0123456789abcdef"
	if g.chance(0.3) {
		digits = "0123456789ABCDEF"
	}
	return append(b, '\\', 'u', digits[r>>12&0xf], digits[r>>8&0xf], digits[r>>4&0xf], digits[r&0xf])
}

// str writes s as a JSON string with a random but valid choice of escapes.
func (g *docGen) str(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		if g.chance(g.badProb) {
			// A lone surrogate escape: invalid for canonical JSON.
			b = g.hex4(b, rune(0xd800+g.r.IntN(0x800)))
		}
		switch {
		case r == '"' || r == '\\':
			if g.chance(0.8) {
				b = append(b, '\\', byte(r))
			} else {
				b = g.hex4(b, r)
			}
		case r < 0x20:
			short := map[rune]byte{'\b': 'b', '\t': 't', '\n': 'n', '\f': 'f', '\r': 'r'}[r]
			if short != 0 && g.chance(0.7) {
				b = append(b, '\\', short)
			} else {
				b = g.hex4(b, r)
			}
		case r == '/' && g.chance(0.5):
			b = append(b, '\\', '/')
		case r > 0xffff && g.chance(0.4):
			hi, lo := utf16.EncodeRune(r)
			b = g.hex4(g.hex4(b, hi), lo)
		case r <= 0xffff && g.chance(0.15):
			b = g.hex4(b, r)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

const maxSafe = 1<<53 - 1

func (g *docGen) number() string {
	k := g.r.IntN(10)
	if !g.strict && k >= 7 {
		lax := []func() string{
			func() string { return strconv.FormatFloat(g.r.NormFloat64()*1000, 'f', -1, 64) },
			func() string { return strconv.FormatFloat(g.r.NormFloat64()*1e30, 'e', -1, 64) },
			func() string { return strconv.FormatFloat(g.r.NormFloat64(), 'E', 3, 64) },
			func() string { return "-0" },
			func() string {
				return []string{"1.0", "0.0", "-0.0", "0e0", "1e10", "1E5", "-0.5", "2.5e-3", "1e+2"}[g.r.IntN(9)]
			},
			func() string { return strconv.FormatUint(g.r.Uint64(), 10) + strconv.FormatUint(g.r.Uint64(), 10) },
			func() string { return strconv.FormatInt(maxSafe+1+g.r.Int64N(1000), 10) },
		}
		return lax[g.r.IntN(len(lax))]()
	}
	switch k {
	case 0:
		return strconv.Itoa(g.r.IntN(10))
	case 1:
		return []string{"9007199254740991", "-9007199254740991", "0", "-1", "9007199254740990"}[g.r.IntN(5)]
	case 2, 3:
		return strconv.FormatInt(g.r.Int64N(2*maxSafe+1)-maxSafe, 10)
	default:
		return strconv.FormatInt(g.r.Int64N(20001)-10000, 10)
	}
}

// mutate damages a document a little (truncation, a byte inserted, removed or
// replaced), to compare how both implementations reject bad input.
func mutate(r *rand.Rand, doc []byte) []byte {
	out := bytes.Clone(doc)
	if len(out) == 0 {
		return []byte{byte(r.IntN(256))}
	}
	i := r.IntN(len(out))
	junk := []byte(`{}[]":,\ -+.eE0u'` + "\x00\x01\x7f\xff\xc3")
	switch r.IntN(4) {
	case 0:
		return out[:i]
	case 1:
		return append(out[:i:i], append([]byte{junk[r.IntN(len(junk))]}, out[i:]...)...)
	case 2:
		return append(out[:i:i], out[i+1:]...)
	default:
		out[i] = junk[r.IntN(len(junk))]
		return out
	}
}

// docFacts describes an input document, as needed by the predicates that
// exclude known oracle bugs from the comparison. ok is false when
// encoding/json does not accept the document.
type docFacts struct {
	ok            bool
	dupKeys       bool     // an object has two keys that are equal once unescaped
	keyNeedsQuote bool     // a key contains '"', '\' or a control character
	numbers       []string // every number token, as written
	loneSurrogate bool     // a \u escape of a surrogate that is not a valid pair
	badUTF8       bool
}

func factsOf(in []byte) docFacts {
	f := docFacts{badUTF8: !utf8.Valid(in), loneSurrogate: hasLoneSurrogate(in)}
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	type frame struct {
		obj       bool
		expectKey bool
		keys      map[string]bool
	}
	var stack []*frame
	value := func() { // a value was completed in the current container
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].expectKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			f.ok = err.Error() == "EOF" && len(stack) == 0
			if f.ok {
				// Token accepts some invalid documents (it does not check commas
				// and colons); json.Valid is the final word.
				f.ok = json.Valid(in)
			}
			return f
		}
		top := (*frame)(nil)
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, &frame{obj: true, expectKey: true, keys: map[string]bool{}})
			case '[':
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
				value()
			}
		case string:
			if top != nil && top.obj && top.expectKey {
				if top.keys[v] {
					f.dupKeys = true
				}
				top.keys[v] = true
				if strings.ContainsFunc(v, func(r rune) bool { return r == '"' || r == '\\' || r < 0x20 }) {
					f.keyNeedsQuote = true
				}
				top.expectKey = false
				continue
			}
			value()
		case json.Number:
			f.numbers = append(f.numbers, string(v))
			value()
		default:
			value()
		}
	}
}

// hasLoneSurrogate scans JSON text for \uD800-\uDFFF escapes that do not form
// a high+low pair.
func hasLoneSurrogate(in []byte) bool {
	inString := false
	for i := 0; i < len(in); i++ {
		c := in[i]
		if !inString {
			inString = c == '"'
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 >= len(in) {
				return false
			}
			if in[i+1] != 'u' {
				i++
				continue
			}
			r, ok := hexAt(in, i+2)
			if !ok {
				return false
			}
			i += 5
			if !utf16.IsSurrogate(r) {
				continue
			}
			if r >= 0xdc00 {
				return true
			}
			if i+2 >= len(in) || in[i+1] != '\\' || in[i+2] != 'u' {
				return true
			}
			r2, ok := hexAt(in, i+3)
			if !ok || r2 < 0xdc00 || r2 > 0xdfff {
				return true
			}
			i += 6
		}
	}
	return false
}

func hexAt(in []byte, i int) (rune, bool) {
	if i+4 > len(in) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(in[i:i+4]), 16, 16)
	return rune(n), err == nil
}

// describe renders a failing input for the test log.
func describe(seed uint64, i int, in []byte) string {
	return fmt.Sprintf("seed=%d case=%d input=%q", seed, i, in)
}
