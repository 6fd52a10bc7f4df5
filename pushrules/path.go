package pushrules

import "strings"

// SplitPath splits a dot-separated property path (appendices, "Dot-separated
// property paths") into property names: an unescaped '.' separates names,
// '\.' is a literal dot and '\\' a literal backslash; any other backslash is
// kept as it is, with the character after it.
func SplitPath(path string) []string {
	if path == "" {
		return nil
	}
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c == '\\' && i+1 < len(path) && (path[i+1] == '.' || path[i+1] == '\\'):
			cur.WriteByte(path[i+1])
			i++
		case c == '.':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, cur.String())
}

// lookup follows path through nested JSON objects (decoded with UseNumber),
// reporting whether the property exists.
func lookup(obj map[string]any, path []string) (any, bool) {
	if len(path) == 0 {
		return nil, false
	}
	var cur any = obj
	for _, name := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[name]; !ok {
			return nil, false
		}
	}
	return cur, true
}
