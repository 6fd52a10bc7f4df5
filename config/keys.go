package config

import (
	"reflect"
	"strings"
)

// EnvPrefix starts the name of every environment variable that overrides a key.
const EnvPrefix = "CONCORD"

// Key describes one leaf key of the configuration tree.
type Key struct {
	Path    string // dotted path, such as "listen.client"
	Env     string // overriding environment variable, such as "CONCORD_LISTEN_CLIENT"
	Type    string // "string", "bool", "integer", "number" or "list of strings"
	Doc     string // what the key means, from the field's doc tag
	Default any    // the value in Defaults()
}

// EnvName returns the environment variable that overrides the key at path.
func EnvName(path string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// Keys lists every leaf key of [Config] in declaration order.
func Keys() []Key {
	var keys []Key
	walk(reflect.ValueOf(Defaults()), "", 0, func(n node) {
		if n.section {
			return
		}
		keys = append(keys, Key{
			Path:    n.path,
			Env:     EnvName(n.path),
			Type:    typeName(n.value.Kind()),
			Doc:     n.doc,
			Default: n.value.Interface(),
		})
	})
	return keys
}

// node is one key met by walk: a section (a nested struct) or a leaf.
type node struct {
	path    string
	name    string // last element of path
	depth   int
	doc     string
	section bool
	value   reflect.Value
}

// walk visits every key of the struct v in declaration order, a section before
// its children.
func walk(v reflect.Value, prefix string, depth int, visit func(node)) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("mapstructure")
		if name == "" || name == "-" {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		n := node{
			path:    path,
			name:    name,
			depth:   depth,
			doc:     f.Tag.Get("doc"),
			section: f.Type.Kind() == reflect.Struct,
			value:   v.Field(i),
		}
		visit(n)
		if n.section {
			walk(v.Field(i), path, depth+1, visit)
		}
	}
}

func typeName(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int64:
		return "integer"
	case reflect.Float64:
		return "number"
	case reflect.Slice:
		return "list of strings"
	default:
		return "string"
	}
}

// knownPaths returns the set of leaf paths and the set of section paths.
func knownPaths() (leaves, sections map[string]bool) {
	leaves, sections = map[string]bool{}, map[string]bool{}
	walk(reflect.ValueOf(Config{}), "", 0, func(n node) {
		if n.section {
			sections[n.path] = true
		} else {
			leaves[n.path] = true
		}
	})
	return leaves, sections
}
