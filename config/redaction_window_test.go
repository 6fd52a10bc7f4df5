package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRedactionWindow(t *testing.T) {
	c := Defaults()
	assert.Equal(t, time.Duration(0), c.Rooms.RedactionWindowDuration(), "no limit by default")
	for _, ok := range []struct {
		in   string
		want time.Duration
	}{{"0s", 0}, {"15m", 15 * time.Minute}, {"24h", 24 * time.Hour}, {"90s", 90 * time.Second}} {
		c.Rooms.RedactionWindow = ok.in
		assert.NoError(t, c.Validate(), ok.in)
		assert.Equal(t, ok.want, c.Rooms.RedactionWindowDuration(), ok.in)
	}
	for _, bad := range []string{"", "soon", "-1m", "10"} {
		c.Rooms.RedactionWindow = bad
		assert.Equal(t, []string{"rooms.redaction_window"}, pathsOf(issuesOf(t, c.Validate())), bad)
		assert.Equal(t, time.Duration(0), c.Rooms.RedactionWindowDuration(), bad)
	}
}
