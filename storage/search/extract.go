package search

import (
	"strings"
	"unicode"

	"github.com/tidwall/gjson"

	"github.com/concordchat/concord/roomserver/event"
)

// Searchable keys (the spec's room_events keys).
const (
	KeyBody  = "content.body"
	KeyName  = "content.name"
	KeyTopic = "content.topic"
)

// Keys lists every searchable key.
var Keys = []string{KeyBody, KeyName, KeyTopic}

// maxTextBytes bounds the text indexed per key.
const maxTextBytes = 16 << 10

// Texts returns the searchable text of an event by key: content.body of
// m.room.message, content.name of m.room.name, content.topic of m.room.topic
// together with the text/plain bodies of its m.topic.
func Texts(e *event.Event) map[string]string {
	c := e.Content()
	var key, text string
	switch {
	case e.Type() == "m.room.message" && !e.IsState():
		key, text = KeyBody, stringAt(c, "body")
	case e.Type() == "m.room.name" && e.StateKeyIs(""):
		key, text = KeyName, stringAt(c, "name")
	case e.Type() == "m.room.topic" && e.StateKeyIs(""):
		parts := []string{stringAt(c, "topic")}
		gjson.GetBytes(c, `m\.topic.m\.text`).ForEach(func(_, v gjson.Result) bool {
			mime := v.Get("mimetype")
			if (!mime.Exists() || mime.Str == "text/plain") && v.Get("body").Type == gjson.String {
				parts = append(parts, v.Get("body").Str)
			}
			return true
		})
		key, text = KeyTopic, strings.TrimSpace(strings.Join(parts, " "))
	default:
		return nil
	}
	if strings.TrimSpace(text) == "" {
		return nil
	}
	if len(text) > maxTextBytes {
		text = strings.ToValidUTF8(text[:maxTextBytes], "")
	}
	return map[string]string{key: text}
}

func stringAt(content []byte, path string) string {
	if v := gjson.GetBytes(content, path); v.Type == gjson.String {
		return v.Str
	}
	return ""
}

// maxTerms bounds the words of one search.
const maxTerms = 16

// Terms splits a search term into lower-case words (runs of letters and
// digits). Every word must match, as a prefix of a stemmed word of the text.
func Terms(searchTerm string) []string {
	words := strings.FieldsFunc(strings.ToLower(searchTerm), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	seen := map[string]bool{}
	out := words[:0]
	for _, w := range words {
		if !seen[w] && len(out) < maxTerms {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}
