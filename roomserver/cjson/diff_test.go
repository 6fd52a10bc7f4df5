package cjson_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/roomserver/cjson"
	"github.com/concordchat/concord/roomserver/roomversion"
)

// Differential tests against gomatrixserverlib (the oracle). Every known
// oracle bug is a named regression test in TestOracleDisagreements and is
// excluded from the random comparison by a predicate on the input.

// oracleExcluded returns why the oracle's output for in is known to be wrong
// (see TestOracleDisagreements), or "" when it can be compared. strict adds
// the oracle's lenient number checks of room versions 6+.
func oracleExcluded(f docFacts, strict bool) string {
	switch {
	case f.badUTF8:
		return "invalid UTF-8"
	case f.loneSurrogate:
		return "lone surrogate"
	case f.dupKeys:
		return "duplicate keys"
	case f.keyNeedsQuote:
		return "key needing escapes"
	}
	for _, n := range f.numbers {
		if strings.Contains(n, "-0") && n != "-0" {
			return "minus before a 0 in a non-zero number"
		}
		if strict && strictNumberLeniency(n) {
			return "strict number leniency"
		}
	}
	return ""
}

// strictNumberLeniency: numbers the oracle's room v6+ check accepts although
// they have a fraction or exponent: an upper-case exponent, or a zero value
// written with '.' or 'e'.
func strictNumberLeniency(n string) bool {
	if strings.ContainsRune(n, 'E') {
		return true
	}
	return strings.ContainsAny(n, ".e") && strings.Trim(n, "-+.eE0") == ""
}

type diffStats struct {
	compared, bothRejected int
	excluded               map[string]int
}

func (s *diffStats) log(t *testing.T, what string) {
	t.Logf("%s: %d outputs compared, %d rejected by both, excluded %v", what, s.compared, s.bothRejected, s.excluded)
}

// TestDiffCanonical compares canonical JSON of random documents with the
// oracle for every room version: cjson.Encode with the version's mode against
// gomatrixserverlib.EnforcedCanonicalJSON (which is CanonicalJSON for room
// versions 1-5). Accept/reject must agree, and outputs must be equal when
// both accept. A fifth of the documents are damaged to compare rejections.
func TestDiffCanonical(t *testing.T) {
	n := diffCases(t)
	const seed = 20260601
	versions := roomversion.All()
	stats := map[bool]*diffStats{false: {excluded: map[string]int{}}, true: {excluded: map[string]int{}}}
	lax, strict := newDocGen(seed, false), newDocGen(seed+1, true)
	lax.badProb = 0.002
	for i := 0; i < n; i++ {
		g := lax
		if i%2 == 1 {
			g = strict
		}
		in := g.Doc()
		if g.r.IntN(5) == 0 {
			in = mutate(g.r, in)
		}
		f := factsOf(in)
		for _, v := range versions {
			want, oerr := gmsl.EnforcedCanonicalJSON(in, gmsl.RoomVersion(v.ID))
			got, err := cjson.Encode(in, cjson.Options{Strict: v.StrictCanonicalJSON})
			st := stats[v.StrictCanonicalJSON]
			if why := oracleExcluded(f, v.StrictCanonicalJSON); why != "" {
				st.excluded[why]++
				continue
			}
			if err != nil && oerr != nil {
				st.bothRejected++
				continue
			}
			require.Equal(t, oerr == nil, err == nil, "v%s accept/reject differs: concord err=%v oracle err=%v %s",
				v.ID, err, oerr, describe(seed, i, in))
			require.Equal(t, string(want), string(got), "v%s output differs: %s", v.ID, describe(seed, i, in))
			st.compared++
		}
	}
	stats[false].log(t, "room versions 1-5 (lax)")
	stats[true].log(t, "room versions 6-12 (strict)")
	// Each document is compared once per version: 5 lax and 7 strict ones.
	require.Greater(t, stats[false].compared, 5*n/2, "too many lax cases excluded")
	require.Greater(t, stats[true].compared, 7*n/2, "too many strict cases excluded")
}

// TestDiffValidate checks that strict validation agrees with the oracle's
// room version 6+ check on documents the lax generator makes (floats, big
// integers, -0...), which mostly fail it.
func TestDiffValidate(t *testing.T) {
	n := diffCases(t)
	const seed = 7
	g := newDocGen(seed, false)
	g.dupProb = 0 // duplicates are covered by TestOracleDisagreements
	accepted, rejected, excluded := 0, 0, 0
	for i := 0; i < n; i++ {
		in := g.Doc()
		f := factsOf(in)
		if oracleExcluded(f, true) != "" {
			excluded++
			continue
		}
		_, oerr := gmsl.EnforcedCanonicalJSON(in, gmsl.RoomVersionV12)
		err := cjson.Validate(in)
		require.Equal(t, oerr == nil, err == nil, "concord=%v oracle=%v %s", err, oerr, describe(seed, i, in))
		if err == nil {
			accepted++
		} else {
			rejected++
		}
	}
	t.Logf("strict validation: %d accepted and %d rejected by both, %d excluded", accepted, rejected, excluded)
	require.Greater(t, accepted, n/20)
	require.Greater(t, rejected, n/20)
}

// TestOracleDisagreements keeps every input on which gomatrixserverlib's
// canonical JSON is wrong according to the spec. Concord must follow the
// spec; the oracle's behaviour is asserted too, so that a fixed oracle makes
// this test fail and the matching exclusion in oracleExcluded can go.
func TestOracleDisagreements(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec string // the spec text Concord follows
		in   string
		// concord is Concord's output, or "" for an error; strict selects the mode.
		concord string
		strict  bool
		// oracle is the oracle's (wrong) output; version is the room version used.
		oracle string
	}{
		{
			name:    "key containing a quote is written unescaped",
			spec:    `appendices "Canonical JSON" > "Grammar": char = unescaped / "\" escaped; unescaped = %x20-21 / %x23-5B / %x5D-10FFFF (all UTF-8 codepoints except ASCII control characters, " and \)`,
			in:      `{"a\"b":1}`,
			concord: `{"a\"b":1}`,
			oracle:  `{"a"b":1}`,
		},
		{
			name:    "key containing a backslash or newline is written unescaped",
			spec:    `appendices "Canonical JSON" > "Grammar": escaped = %x62 ... / %x6E ; n line feed U+000A ... / %x5C ; \ reverse solidus U+005C`,
			in:      `{"a\\b":1,"c\nd":2}`,
			concord: `{"a\\b":1,"c\nd":2}`,
			oracle:  "{\"a\\b\":1,\"c\nd\":2}",
		},
		{
			name:    "duplicate keys are both kept (lax)",
			spec:    `appendices "Canonical JSON": the reference encoding is Python's json.dumps(value, sort_keys=True) of the decoded value, and a decoded dictionary has one value per key (the last one)`,
			in:      `{"a":1,"b":0,"a":2}`,
			concord: `{"a":2,"b":0}`,
			oracle:  `{"a":1,"a":2,"b":0}`,
		},
		{
			name:    "duplicate keys are accepted in room version 6+",
			spec:    `rooms/v6 "Canonical JSON": "Servers MUST strictly enforce the JSON format specified in the appendices"; a canonical object has its keys "lexicographically sorted", which a repeated key cannot be`,
			in:      `{"a":1,"a":2}`,
			strict:  true,
			concord: "",
			oracle:  `{"a":1,"a":2}`,
		},
		{
			name:    "lone high surrogate is dropped",
			spec:    `appendices "Canonical JSON": "the shortest UTF-8 JSON encoding"; unescaped = %x20-21 / %x23-5B / %x5D-10FFFF: a lone surrogate is not a Unicode scalar value and has no UTF-8 encoding`,
			in:      `["\ud83dx"]`,
			concord: "",
			oracle:  `["x"]`,
		},
		{
			name:    "low surrogate first is replaced by U+FFFD",
			spec:    `appendices "Canonical JSON": "the shortest UTF-8 JSON encoding" (a surrogate code point has no UTF-8 encoding)`,
			in:      `["\udc00\u0041"]`,
			concord: "",
			oracle:  "[\"\ufffd\"]",
		},
		{
			name:    "invalid UTF-8 is passed through",
			spec:    `appendices "Canonical JSON": "We define this encoding for a value to be the shortest UTF-8 JSON encoding"`,
			in:      "[\"\xff\"]",
			concord: "",
			oracle:  "[\"\xff\"]",
		},
		{
			name:    "minus sign dropped from -0.5 changes the value",
			spec:    `appendices "Canonical JSON": "the shortest UTF-8 JSON encoding" of the value; -0.5 and 0.5 are different values`,
			in:      `[-0.5]`,
			concord: `[-0.5]`,
			oracle:  `[0.5]`,
		},
		{
			name:    "minus sign dropped from an exponent written -0N",
			spec:    `appendices "Canonical JSON": "the shortest UTF-8 JSON encoding" of the value; RFC 8259 exp = e [ minus / plus ] 1*DIGIT, so 1.5E-01 is 0.15, not 15`,
			in:      `[1.5E-01]`,
			concord: `[1.5E-01]`,
			oracle:  `[1.5E01]`,
		},
		{
			name:    "upper-case exponent accepted in room version 6+",
			spec:    `appendices "Canonical JSON": "Numbers in the JSON must be integers in the range [-(2**53)+1, (2**53)-1], represented without exponents or decimal places"`,
			in:      `[1E5]`,
			strict:  true,
			concord: "",
			oracle:  `[1E5]`,
		},
		{
			name:    "zero with a fraction accepted in room version 6+",
			spec:    `appendices "Canonical JSON": "represented without exponents or decimal places, and negative zero -0 MUST NOT appear"`,
			in:      `[0.0,-0.0,0e5]`,
			strict:  true,
			concord: "",
			oracle:  `[0.0,0.0,0e5]`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NotEmpty(t, tc.spec)
			got, err := cjson.Encode([]byte(tc.in), cjson.Options{Strict: tc.strict})
			if tc.concord == "" {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
				require.Equal(t, tc.concord, string(got))
				require.True(t, json.Valid(got))
			}
			version := gmsl.RoomVersionV1
			if tc.strict {
				version = gmsl.RoomVersionV12
			}
			oracle, oerr := gmsl.EnforcedCanonicalJSON([]byte(tc.in), version)
			require.NoError(t, oerr, "the oracle now rejects this input: drop the exclusion")
			require.Equal(t, tc.oracle, string(oracle), "the oracle changed: revisit the exclusion")
			require.NotEqual(t, string(got), string(oracle))
			require.NotEmpty(t, oracleExcluded(factsOf([]byte(tc.in)), tc.strict), "the random comparison must exclude this input")
		})
	}
}

// TestFactsOf checks the predicates the exclusions rely on.
func TestFactsOf(t *testing.T) {
	f := factsOf([]byte(`{"a":[1,-0.5,{"a":2,"b\"":3}],"a":"\ud83d\ude00"}`))
	require.True(t, f.ok)
	require.True(t, f.dupKeys)
	require.True(t, f.keyNeedsQuote)
	require.False(t, f.loneSurrogate)
	require.Equal(t, []string{"1", "-0.5", "2", "3"}, f.numbers)
	require.True(t, hasLoneSurrogate([]byte(`["\\\ud83d"]`)))
	require.False(t, hasLoneSurrogate([]byte(`["\\ud83d"]`)), "an escaped backslash followed by u is not an escape")
	require.True(t, hasLoneSurrogate([]byte(`["\ude00\ud83d"]`)))
	require.False(t, factsOf([]byte(`{"a" 1}`)).ok)
	require.True(t, strictNumberLeniency("-0.0"))
	require.True(t, strictNumberLeniency("2E3"))
	require.False(t, strictNumberLeniency("2e3"))
	require.False(t, bytes.Contains([]byte(oracleExcluded(factsOf([]byte(`[1,2]`)), true)), []byte("x")))
}
