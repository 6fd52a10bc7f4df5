package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

const yamlHeader = `# Concord configuration file.
#
# Every key is listed with its default value; delete the ones you do not change.
# Each key can also be set by an environment variable named CONCORD_ plus the
# key's dotted path in upper case with "." replaced by "_", for example
# CONCORD_LISTEN_CLIENT for listen.client. Lists taken from the environment
# are comma-separated. The environment wins over this file.
# See docs/configuration.md for the full reference.
`

// commentWidth is the column comments are wrapped at, before indentation.
const commentWidth = 78

// GenerateYAML returns a complete, commented YAML configuration holding every
// key with its default value. Loading it with [Load] yields [Defaults].
func GenerateYAML() string {
	var b strings.Builder
	b.WriteString(yamlHeader)
	afterSection := false
	walk(reflect.ValueOf(Defaults()), "", 0, func(n node) {
		indent := strings.Repeat("  ", n.depth)
		if !afterSection {
			b.WriteString("\n")
		}
		afterSection = n.section
		for _, line := range wrap(n.doc, commentWidth-len(indent)-2) {
			b.WriteString(indent + "# " + line + "\n")
		}
		if n.section {
			b.WriteString(indent + n.name + ":\n")
			return
		}
		b.WriteString(indent + "# Env: " + EnvName(n.path) + "\n")
		b.WriteString(indent + n.name + ": " + yamlScalar(n.value.Interface()) + "\n")
	})
	return b.String()
}

// yamlScalar renders a leaf value. JSON is a subset of YAML, so the JSON
// encoding of a string, number, bool or list is a correct YAML value.
func yamlScalar(v any) string {
	out, err := json.Marshal(v)
	if err != nil {
		// Only strings, numbers, bools and string lists reach here, and json
		// encodes those without error.
		return fmt.Sprintf("%q", fmt.Sprint(v))
	}
	return string(out)
}

// wrap splits text into lines of at most width characters, breaking at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case len(line)+1+len(word) > width:
			lines = append(lines, line)
			line = word
		default:
			line += " " + word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
