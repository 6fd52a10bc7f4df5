package cjson_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/concordchat/concord/roomserver/cjson"
)

// FuzzCanonical checks, for both modes: no panic; errors are *cjson.Error;
// the output is valid JSON, a fixed point, and decodes (encoding/json) to the
// same value as the input; strict output passes Validate and equals the lax
// output; and every valid UTF-8 JSON document without lone surrogate escapes
// and within MaxDepth is accepted by the lax mode.
//
// Seeds: every input of testdata/spec_examples.json and testdata/cases.json,
// plus the regression inputs in testdata/fuzz/FuzzCanonical.
func FuzzCanonical(f *testing.F) {
	for _, ex := range loadSpecExamples(f) {
		f.Add([]byte(ex.Input))
	}
	for _, c := range loadGrammarCases(f) {
		f.Add(c.input(f))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var laxOut []byte
		for _, strict := range []bool{false, true} {
			opts := cjson.Options{Strict: strict}
			out, err := cjson.Encode(in, opts)
			if err != nil {
				var cerr *cjson.Error
				if !errors.As(err, &cerr) {
					t.Fatalf("strict=%v: error %T %v is not a *cjson.Error", strict, err, err)
				}
				if cerr.Offset < 0 || cerr.Offset > len(in) {
					t.Fatalf("strict=%v: error offset %d outside input of %d bytes", strict, cerr.Offset, len(in))
				}
				continue
			}
			if !json.Valid(out) || !utf8.Valid(out) {
				t.Fatalf("strict=%v: output %q is not valid UTF-8 JSON", strict, out)
			}
			again, err := cjson.Encode(out, opts)
			if err != nil || !bytes.Equal(again, out) {
				t.Fatalf("strict=%v: not a fixed point: %q -> %q (%v)", strict, out, again, err)
			}
			if want, got := decodeValue(t, in), decodeValue(t, out); !reflect.DeepEqual(want, got) {
				t.Fatalf("strict=%v: value changed:\n in  %#v\n out %#v", strict, want, got)
			}
			if strict {
				if err := cjson.Validate(out); err != nil {
					t.Fatalf("strict output fails Validate: %v", err)
				}
				if laxOut == nil || !bytes.Equal(out, laxOut) {
					t.Fatalf("strict output %q differs from lax output %q", out, laxOut)
				}
			} else {
				laxOut = out
			}
		}
		if laxOut == nil && json.Valid(in) && utf8.Valid(in) && !hasLoneSurrogate(in) && nesting(in) <= cjson.MaxDepth {
			_, err := cjson.Canonical(in)
			t.Fatalf("valid JSON rejected by the lax mode: %v", err)
		}
	})
}

// decodeValue decodes JSON with encoding/json, keeping numbers as written
// except that the integer -0 is 0 (the lax mode writes it so).
func decodeValue(t *testing.T, b []byte) any {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("encoding/json cannot decode %q: %v", b, err)
	}
	var norm func(any) any
	norm = func(v any) any {
		switch x := v.(type) {
		case json.Number:
			if x == "-0" {
				return json.Number("0")
			}
		case []any:
			for i := range x {
				x[i] = norm(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = norm(x[k])
			}
		}
		return v
	}
	return norm(v)
}

// nesting returns the deepest nesting of arrays and objects in JSON text.
func nesting(in []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}
