package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateReportsEveryBadKey(t *testing.T) {
	c := Defaults()
	c.ServerName = "bad_name"
	c.Listen.Client = "8008"
	c.Listen.Metrics = "127.0.0.1:99999"
	c.TLS.CertFile = "/etc/cert.pem"
	c.Database.URL = "mysql://root@db/concord"
	c.Database.MaxOpenConns = 0
	c.DataDir = " "
	c.Media.MaxUploadBytes = -1
	c.AppService.ConfigFiles = []string{"ok.yaml", ""}
	c.RateLimit.PerSecond = 0
	c.RateLimit.Burst = -5
	c.Rooms.DefaultVersion = "13"
	c.Log.Level = "loud"
	c.Log.Format = "xml"

	err := c.Validate()
	issues := issuesOf(t, err)
	assert.Equal(t, []string{
		"server_name",
		"listen.client",
		"listen.metrics",
		"tls.key_file",
		"database.url",
		"database.max_open_conns",
		"data_dir",
		"media.max_upload_bytes",
		"appservice.config_files",
		"ratelimit.per_second",
		"ratelimit.burst",
		"rooms.default_version",
		"log.level",
		"log.format",
	}, pathsOf(issues))
	for _, is := range issues {
		assert.NotEmpty(t, is.Problem, is.Path)
		assert.Contains(t, err.Error(), is.Path+": "+is.Problem)
	}
	assert.True(t, strings.HasPrefix(err.Error(), "invalid configuration (14 problems): "))
}

func TestValidateTLSPair(t *testing.T) {
	c := Defaults()
	c.TLS.KeyFile = "/etc/key.pem"
	assert.Equal(t, []string{"tls.cert_file"}, pathsOf(issuesOf(t, c.Validate())))
	c.TLS.CertFile = "/etc/cert.pem"
	assert.NoError(t, c.Validate())
}

func TestValidateOptionalListeners(t *testing.T) {
	c := Defaults()
	c.Listen.Metrics = ""
	assert.NoError(t, c.Validate(), "empty metrics listener disables it")

	c.Listen.Federation = ""
	assert.Equal(t, []string{"listen.federation"}, pathsOf(issuesOf(t, c.Validate())))
	c.Federation.Enabled = false
	assert.NoError(t, c.Validate(), "no federation listener needed without federation")

	c.Listen.Client = ":8008"
	assert.NoError(t, c.Validate(), "empty host listens everywhere")
}

func TestValidateDatabaseURL(t *testing.T) {
	for url, ok := range map[string]bool{
		"":                                     true,
		"concord.db":                           true,
		"/var/lib/concord/concord.db":          true,
		"postgres://u:p@localhost/concord":     true,
		"postgresql://localhost:5432/c?x=1":    true,
		"postgres:///concord?host=/run/pg":     true,
		"mysql://localhost/concord":            false,
		"sqlite://concord.db":                  false,
		":memory:":                             false,
		"file:concord.db":                      false,
		"concord.db?_pragma=journal_mode(WAL)": false,
		"postgres://[::1:5432/concord":         false,
	} {
		c := Defaults()
		c.Database.URL = url
		if ok {
			assert.NoError(t, c.Validate(), url)
		} else {
			assert.Equal(t, []string{"database.url"}, pathsOf(issuesOf(t, c.Validate())), url)
		}
	}
}

func TestValidateRoomVersions(t *testing.T) {
	for _, v := range []string{"1", "2", "9", "10", "11", "12"} {
		c := Defaults()
		c.Rooms.DefaultVersion = v
		require.NoError(t, c.Validate(), v)
	}
	for _, v := range []string{"", "0", "13", "01", "1.0", "org.matrix.msc2176", " 5"} {
		c := Defaults()
		c.Rooms.DefaultVersion = v
		assert.Error(t, c.Validate(), v)
	}
}

func TestValidateNaNRate(t *testing.T) {
	c := Defaults()
	zero := 0.0
	c.RateLimit.PerSecond = zero / zero
	assert.Equal(t, []string{"ratelimit.per_second"}, pathsOf(issuesOf(t, c.Validate())))
}
