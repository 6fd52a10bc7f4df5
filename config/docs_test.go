package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docRow matches the first cells of a key row in docs/configuration.md.
var docRow = regexp.MustCompile("(?m)^\\| `([a-z_.]+)` \\| `([A-Z_]+)` \\| ([a-z ]+) \\| `([^`]*)` \\|")

// TestDocsListEveryKey keeps docs/configuration.md in step with the struct:
// every key with its environment variable, type and default, and no key that
// does not exist.
func TestDocsListEveryKey(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "docs", "configuration.md"))
	require.NoError(t, err)

	rows := map[string][]string{}
	for _, m := range docRow.FindAllStringSubmatch(string(raw), -1) {
		rows[m[1]] = m[2:]
	}
	keys := Keys()
	known := map[string]bool{}
	for _, k := range keys {
		known[k.Path] = true
		row, ok := rows[k.Path]
		if !assert.Truef(t, ok, "docs/configuration.md has no row for %s", k.Path) {
			continue
		}
		def, err := json.Marshal(k.Default)
		require.NoError(t, err)
		assert.Equal(t, []string{k.Env, k.Type, string(def)}, row, "row of %s", k.Path)
	}
	for path := range rows {
		assert.Truef(t, known[path], "docs/configuration.md documents %s, which is not a key", path)
	}
}

// TestGeneratedYAMLListsEveryKey checks the generated file names every key,
// its environment variable and a description.
func TestGeneratedYAMLListsEveryKey(t *testing.T) {
	out := GenerateYAML()
	for _, k := range Keys() {
		name := k.Path[strings.LastIndex(k.Path, ".")+1:]
		assert.Containsf(t, out, "\n"+strings.Repeat("  ", strings.Count(k.Path, "."))+name+": ",
			"generated YAML lacks %s", k.Path)
		assert.Containsf(t, out, "# Env: "+k.Env+"\n", "generated YAML lacks the env of %s", k.Path)
		assert.NotEmptyf(t, k.Doc, "%s has no doc tag", k.Path)
	}
}

// TestEveryKeyHasDoc covers sections too: each one heads its YAML block.
func TestEveryKeyHasDoc(t *testing.T) {
	leaves, sections := knownPaths()
	assert.Len(t, leaves, len(Keys()))
	assert.NotEmpty(t, sections)
	out := GenerateYAML()
	for s := range sections {
		assert.Containsf(t, out, "\n"+s+":\n", "generated YAML lacks section %s", s)
	}
}
