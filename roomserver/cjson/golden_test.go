package cjson_test

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/roomserver/cjson"
)

// specExample is one entry of testdata/spec_examples.json.
type specExample struct {
	Name        string  `json:"name"`
	Input       string  `json:"input"`
	SpecOutput  string  `json:"spec_output"`
	Lax         *string `json:"lax"`          // overrides spec_output for Canonical
	StrictError string  `json:"strict_error"` // CanonicalStrict must fail with this message
	Note        string  `json:"note"`
}

func loadSpecExamples(t testing.TB) []specExample {
	var doc struct {
		Examples []specExample `json:"examples"`
	}
	raw, err := os.ReadFile("testdata/spec_examples.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.Len(t, doc.Examples, 10, "the appendix has ten examples")
	return doc.Examples
}

// TestSpecExamples checks every example of the appendix "Canonical JSON" >
// "Examples" in both modes. The last example ({"a": -0, "b": 1e10}) is the one
// deliberate deviation, explained by its note in the data file.
func TestSpecExamples(t *testing.T) {
	for _, ex := range loadSpecExamples(t) {
		t.Run(ex.Name, func(t *testing.T) {
			wantLax := ex.SpecOutput
			if ex.Lax != nil {
				wantLax = *ex.Lax
				require.NotEmpty(t, ex.Note, "a deviation from the spec output needs a note")
			}
			got, err := cjson.Canonical([]byte(ex.Input))
			require.NoError(t, err)
			require.Equal(t, wantLax, string(got))

			strict, err := cjson.CanonicalStrict([]byte(ex.Input))
			if ex.StrictError != "" {
				require.ErrorContains(t, err, ex.StrictError)
				require.Error(t, cjson.Validate([]byte(ex.Input)))
				return
			}
			require.NoError(t, err)
			require.Equal(t, ex.SpecOutput, string(strict))
			require.NoError(t, cjson.Validate([]byte(ex.Input)))
			// The spec output is itself canonical: a fixed point of both modes.
			again, err := cjson.CanonicalStrict([]byte(ex.SpecOutput))
			require.NoError(t, err)
			require.Equal(t, ex.SpecOutput, string(again))
		})
	}
}

// grammarCase is one entry of testdata/cases.json.
type grammarCase struct {
	Name     string  `json:"name"`
	Input    string  `json:"input"`
	InputHex string  `json:"input_hex"` // for inputs that are not valid UTF-8
	Lax      *string `json:"lax"`       // nil: Canonical must fail
	Strict   *string `json:"strict"`    // nil: CanonicalStrict must fail
}

func (c grammarCase) input(t testing.TB) []byte {
	if c.InputHex != "" {
		b, err := hex.DecodeString(c.InputHex)
		require.NoError(t, err)
		return b
	}
	return []byte(c.Input)
}

func loadGrammarCases(t testing.TB) []grammarCase {
	var doc struct {
		Cases []grammarCase `json:"cases"`
	}
	raw, err := os.ReadFile("testdata/cases.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &doc))
	return doc.Cases
}

// TestGrammarCases covers the canonical JSON grammar of the appendix (escapes,
// surrogates, numbers, whitespace, duplicates) and JSON syntax errors.
func TestGrammarCases(t *testing.T) {
	for _, c := range loadGrammarCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			in := c.input(t)
			for _, mode := range []struct {
				name string
				opts cjson.Options
				want *string
			}{{"lax", cjson.Options{}, c.Lax}, {"strict", cjson.Options{Strict: true}, c.Strict}} {
				got, err := cjson.Encode(in, mode.opts)
				if mode.want == nil {
					var cerr *cjson.Error
					require.ErrorAs(t, err, &cerr, "%s: got %q", mode.name, got)
					require.GreaterOrEqual(t, cerr.Offset, 0)
					require.LessOrEqual(t, cerr.Offset, len(in))
					continue
				}
				require.NoError(t, err, mode.name)
				require.Equal(t, *mode.want, string(got), mode.name)
				again, err := cjson.Encode(got, mode.opts)
				require.NoError(t, err, "%s output must re-encode", mode.name)
				require.Equal(t, string(got), string(again), "%s output must be a fixed point", mode.name)
			}
			if c.Strict != nil {
				require.NoError(t, cjson.Validate(in))
			} else {
				require.Error(t, cjson.Validate(in))
			}
		})
	}
}

func TestOmit(t *testing.T) {
	in := []byte(`{"signatures":{"x":1},"b":{"signatures":2},"unsigned":{},"a":1}`)
	got, err := cjson.Encode(in, cjson.Options{Strict: true, Omit: []string{"signatures", "unsigned"}})
	require.NoError(t, err)
	require.Equal(t, `{"a":1,"b":{"signatures":2}}`, string(got), "only top-level keys are omitted")
	got, err = cjson.Encode([]byte(`[{"signatures":1}]`), cjson.Options{Omit: []string{"signatures"}})
	require.NoError(t, err)
	require.Equal(t, `[{"signatures":1}]`, string(got), "Omit is ignored for non-objects")
}

func TestMaxDepth(t *testing.T) {
	deep := func(n int) []byte {
		b := make([]byte, 0, 2*n)
		for i := 0; i < n; i++ {
			b = append(b, '[')
		}
		for i := 0; i < n; i++ {
			b = append(b, ']')
		}
		return b
	}
	_, err := cjson.Canonical(deep(cjson.MaxDepth))
	require.NoError(t, err)
	_, err = cjson.Canonical(deep(cjson.MaxDepth + 1))
	require.ErrorContains(t, err, "nesting too deep")
}

func TestMarshalAndAppendString(t *testing.T) {
	got, err := cjson.Marshal(map[string]any{"b": "<&>", "a": []int{1, 2}, "c": "\u2028"})
	require.NoError(t, err)
	require.Equal(t, "{\"a\":[1,2],\"b\":\"<&>\",\"c\":\"\u2028\"}", string(got), "no HTML or U+2028 escaping")
	_, err = cjson.Marshal(map[string]any{"f": 1.5})
	require.Error(t, err, "Marshal is strict")

	require.Equal(t, `x"a\"\\\n\u0001é"`, string(cjson.AppendString([]byte("x"), "a\"\\\n\x01é")))
}
