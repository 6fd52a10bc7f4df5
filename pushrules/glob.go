package pushrules

import (
	"regexp"
	"strings"
	"sync"
)

// nonWord matches a word boundary character in content.body matching: any
// character not in [A-Za-z0-9_].
const nonWord = `[^A-Za-z0-9_]`

// Glob is a compiled glob-style pattern (appendices, "Glob-style matching"):
// '*' matches zero or more characters, '?' exactly one, everything else
// itself, case-insensitively.
type Glob struct {
	whole *regexp.Regexp // the entire value
	words *regexp.Regexp // any substring starting and ending at word boundaries
}

// MatchWhole reports whether the pattern matches all of s.
func (g *Glob) MatchWhole(s string) bool { return g.whole != nil && g.whole.MatchString(s) }

// MatchWords reports whether the pattern matches a substring of s that starts
// and ends at a word boundary: the start or end of s, or a character not in
// [A-Za-z0-9_] (the content.body rule).
func (g *Glob) MatchWords(s string) bool { return g.words != nil && g.words.MatchString(s) }

// globToRegexp translates a glob into regular expression syntax. Go's regexp
// runs in linear time, so user patterns cannot make matching blow up.
func globToRegexp(pattern string) string {
	var b strings.Builder
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	return b.String()
}

// literalGlob compiles s as a literal (no wildcards): display names.
func literalGlob(s string) *Glob {
	return newGlob(regexp.QuoteMeta(s))
}

// newGlob compiles the two forms of a translated pattern. The translation
// only produces valid syntax; a pattern too large for the regexp engine
// yields a Glob that matches nothing.
func newGlob(expr string) *Glob {
	whole, err1 := regexp.Compile(`(?is)\A(?:` + expr + `)\z`)
	words, err2 := regexp.Compile(`(?is)(?:\A|` + nonWord + `)(?:` + expr + `)(?:` + nonWord + `|\z)`)
	if err1 != nil || err2 != nil {
		return &Glob{}
	}
	return &Glob{whole: whole, words: words}
}

// globCache bounds the compiled patterns kept in memory; on overflow it
// starts again empty (patterns come from rules, which are few).
type globCache struct {
	mu    sync.Mutex
	max   int
	globs map[string]*Glob
}

var (
	patterns     = &globCache{max: 4096, globs: map[string]*Glob{}}
	displayNames = &globCache{max: 4096, globs: map[string]*Glob{}}
)

func (c *globCache) get(key string, make func() *Glob) *Glob {
	c.mu.Lock()
	defer c.mu.Unlock()
	if g, ok := c.globs[key]; ok {
		return g
	}
	if len(c.globs) >= c.max {
		c.globs = map[string]*Glob{}
	}
	g := make()
	c.globs[key] = g
	return g
}

// CompileGlob returns the compiled form of a glob pattern (cached).
func CompileGlob(pattern string) *Glob {
	return patterns.get(pattern, func() *Glob { return newGlob(globToRegexp(pattern)) })
}

func displayNameGlob(name string) *Glob {
	return displayNames.get(name, func() *Glob { return literalGlob(name) })
}
