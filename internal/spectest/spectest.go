package spectest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// Validator holds the indexed operations of one API.
type Validator struct {
	ops      []operation
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	compiled map[string]*jsonschema.Schema
}

type operation struct {
	method  string
	re      *regexp.Regexp // matches the path after the API prefix
	file    string         // absolute path of the OpenAPI file
	pattern string
	// statuses maps a status code ("200") to the JSON pointer of its schema.
	statuses map[string]string
}

// clientPrefixes are the path prefixes the client-server API is served under.
var clientPrefixes = []string{"/_matrix/client/v3", "/_matrix/client/v1", "/_matrix/client/r0", "/_matrix/client/unstable", "/_matrix/client"}

// LoadClientServer indexes the client-server API of the spec checkout at specDir
// (the folder that holds data/ and content/).
func LoadClientServer(specDir string) (*Validator, error) {
	dir := filepath.Join(specDir, "data", "api", "client-server")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("spectest: no OpenAPI files in %s", dir)
	}
	v := &Validator{compiler: jsonschema.NewCompiler(), compiled: map[string]*jsonschema.Schema{}}
	v.compiler.UseLoader(yamlLoader{})
	for _, f := range files {
		if err := v.index(f); err != nil {
			return nil, err
		}
	}
	// More specific (longer, fewer parameters) templates first.
	sort.SliceStable(v.ops, func(i, j int) bool {
		return strings.Count(v.ops[i].pattern, "{") < strings.Count(v.ops[j].pattern, "{")
	})
	return v, nil
}

func (v *Validator) index(file string) error {
	doc, err := readYAML(file)
	if err != nil {
		return err
	}
	root, _ := doc.(map[string]any)
	paths, _ := root["paths"].(map[string]any)
	for pattern, item := range paths {
		methods, _ := item.(map[string]any)
		for method, opAny := range methods {
			op, ok := opAny.(map[string]any)
			if !ok {
				continue
			}
			responses, _ := op["responses"].(map[string]any)
			statuses := map[string]string{}
			for status, resp := range responses {
				if obj(obj(resp, "content"), "application/json")["schema"] != nil {
					statuses[status] = "/paths/" + escape(pattern) + "/" + method + "/responses/" + escape(status) +
						"/content/application~1json/schema"
				}
			}
			v.ops = append(v.ops, operation{method: strings.ToUpper(method), re: templateRegexp(pattern),
				file: file, pattern: pattern, statuses: statuses})
		}
	}
	return nil
}

// obj returns v[key] as an object, or nil (v may be anything).
func obj(v any, key string) map[string]any {
	m, _ := v.(map[string]any)
	child, _ := m[key].(map[string]any)
	return child
}

func escape(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1") }

// templateRegexp turns "/rooms/{roomId}/state/{eventType}/{stateKey}" into a
// regexp; a parameter matches one path segment (state keys may be empty).
func templateRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, part := range regexp.MustCompile(`\{[^}]+\}`).Split(pattern, -1) {
		if b.Len() > 1 {
			b.WriteString("[^/]*")
		}
		b.WriteString(regexp.QuoteMeta(part))
	}
	b.WriteString("/?$")
	return regexp.MustCompile(b.String())
}

// ErrNoSchema is returned when the spec defines no schema for the response.
var ErrNoSchema = fmt.Errorf("spectest: no schema for this response")

// Validate checks a response body. It returns ErrNoSchema when the request
// matches no operation or the status has no JSON schema.
func (v *Validator) Validate(method, rawPath string, status int, body []byte) error {
	path := rawPath
	if u, err := url.Parse(rawPath); err == nil {
		path = u.EscapedPath()
	}
	rest := ""
	for _, p := range clientPrefixes {
		if r, ok := strings.CutPrefix(path, p); ok {
			rest = r
			break
		}
	}
	if rest == "" {
		return ErrNoSchema
	}
	for _, op := range v.ops {
		if op.method != method || !op.re.MatchString(rest) {
			continue
		}
		ptr, ok := op.statuses[strconv.Itoa(status)]
		if !ok {
			return ErrNoSchema
		}
		sch, err := v.schema(op.file, ptr)
		if err != nil {
			return err
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("spectest: %s %s: body is not JSON: %w", method, path, err)
		}
		if err := sch.Validate(inst); err != nil {
			return fmt.Errorf("spectest: %s %s (%s %s) %d does not match the spec: %v", method, path, op.method, op.pattern, status, err)
		}
		return nil
	}
	return ErrNoSchema
}

func (v *Validator) schema(file, ptr string) (*jsonschema.Schema, error) {
	loc := "file://" + file + "#" + ptr
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.compiled[loc]; ok {
		return s, nil
	}
	s, err := v.compiler.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("spectest: compile %s: %w", loc, err)
	}
	v.compiled[loc] = s
	return s, nil
}

// yamlLoader loads spec files (YAML or JSON) as JSON values.
type yamlLoader struct{}

func (yamlLoader) Load(loc string) (any, error) {
	u, err := url.Parse(loc)
	if err != nil || u.Scheme != "file" {
		return nil, fmt.Errorf("spectest: cannot load %s", loc)
	}
	return readYAML(u.Path)
}

// readYAML reads a YAML file and returns it as the values encoding/json makes.
func readYAML(path string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("spectest: %s: %w", path, err)
	}
	js, err := json.Marshal(toJSONValue(doc))
	if err != nil {
		return nil, fmt.Errorf("spectest: %s: %w", path, err)
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(js))
}

// toJSONValue converts YAML's map[string]any / map[any]any trees for encoding/json.
func toJSONValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = toJSONValue(val)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[fmt.Sprint(k)] = toJSONValue(val)
		}
		return m
	case []any:
		for i := range x {
			x[i] = toJSONValue(x[i])
		}
		return x
	}
	return v
}
