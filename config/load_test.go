package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "concord.yaml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

func issuesOf(t *testing.T, err error) []Issue {
	t.Helper()
	var verr *ValidationError
	require.True(t, errors.As(err, &verr), "want a *ValidationError, got %v", err)
	return verr.Issues
}

func TestDefaultsAreValid(t *testing.T) {
	require.NoError(t, Defaults().Validate())
}

func TestLoadWithoutFileGivesDefaults(t *testing.T) {
	c, err := Load("")
	require.NoError(t, err)
	assert.Equal(t, Defaults(), c)
}

func TestLoadYAMLFile(t *testing.T) {
	path := writeFile(t, `
server_name: example.org
listen:
  client: "0.0.0.0:8008"
database:
  url: postgres://concord@db.internal:5432/concord?sslmode=disable
  max_open_conns: 40
registration:
  enabled: true
  require_token: false
appservice:
  config_files: [/etc/concord/irc.yaml, /etc/concord/slack.yaml]
ratelimit:
  per_second: 0.5
rooms:
  default_version: "11"
log:
  level: debug
  format: console
`)
	c, err := Load(path)
	require.NoError(t, err)

	want := Defaults()
	want.ServerName = "example.org"
	want.Listen.Client = "0.0.0.0:8008"
	want.Database.URL = "postgres://concord@db.internal:5432/concord?sslmode=disable"
	want.Database.MaxOpenConns = 40
	want.Registration.Enabled = true
	want.Registration.RequireToken = false
	want.AppService.ConfigFiles = []string{"/etc/concord/irc.yaml", "/etc/concord/slack.yaml"}
	want.RateLimit.PerSecond = 0.5
	want.Rooms.DefaultVersion = "11"
	want.Log = LogConfig{Level: "debug", Format: "console"}
	assert.Equal(t, want, c)
	assert.True(t, c.IsPostgres())
	assert.Equal(t, want.Database.URL, c.DatabaseURL())
}

func TestEnvOverridesNestedKeys(t *testing.T) {
	path := writeFile(t, "listen:\n  client: \"127.0.0.1:1111\"\nlog:\n  level: warn\n")
	t.Setenv("CONCORD_LISTEN_CLIENT", "0.0.0.0:9999")
	t.Setenv("CONCORD_REGISTRATION_ENABLED", "true")
	t.Setenv("CONCORD_APPSERVICE_CONFIG_FILES", "a.yaml,b.yaml")
	t.Setenv("CONCORD_DATABASE_MAX_OPEN_CONNS", "7")
	t.Setenv("CONCORD_RATELIMIT_PER_SECOND", "2.5")
	t.Setenv("CONCORD_SERVER_NAME", "matrix.example.org")

	c, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, "0.0.0.0:9999", c.Listen.Client, "env beats the file")
	assert.Equal(t, "warn", c.Log.Level, "file value kept where no env is set")
	assert.True(t, c.Registration.Enabled)
	assert.Equal(t, []string{"a.yaml", "b.yaml"}, c.AppService.ConfigFiles)
	assert.Equal(t, 7, c.Database.MaxOpenConns)
	assert.InDelta(t, 2.5, c.RateLimit.PerSecond, 0)
	assert.Equal(t, "matrix.example.org", c.ServerName)

	// Without a file too.
	c, err = Load("")
	require.NoError(t, err)
	assert.Equal(t, "0.0.0.0:9999", c.Listen.Client)
}

func TestEveryKeyHasAWorkingEnvVar(t *testing.T) {
	values := map[string]string{
		"string": "", "bool": "true", "integer": "3", "number": "4.5", "list of strings": "x,y",
	}
	for _, k := range Keys() {
		t.Run(k.Path, func(t *testing.T) {
			v := values[k.Type]
			switch k.Type {
			case "string":
				v = "10.0.0.1:1234"
			case "bool":
				v = strconv.FormatBool(!k.Default.(bool))
			}
			t.Setenv(k.Env, v)
			c, _ := Load("")
			var got any
			walk(reflectValue(&c), "", 0, func(n node) {
				if n.path == k.Path {
					got = n.value.Interface()
				}
			})
			assert.NotEqual(t, k.Default, got, "%s did not change %s", k.Env, k.Path)
		})
	}
}

func TestEnvBadValueReported(t *testing.T) {
	t.Setenv("CONCORD_DATABASE_MAX_OPEN_CONNS", "many")
	t.Setenv("CONCORD_FEDERATION_ENABLED", "perhaps")
	c, err := Load("")
	issues := issuesOf(t, err)
	assert.ElementsMatch(t, []string{"database.max_open_conns", "federation.enabled"}, pathsOf(issues))
	assert.Equal(t, 20, c.Database.MaxOpenConns, "a bad value leaves the default")
}

func TestUnknownKeysRejected(t *testing.T) {
	path := writeFile(t, `
server_name: example.org
listen:
  clinet: "0.0.0.0:8008"
databse:
  url: x.db
log: verbose
federation:
  enabled: true
`)
	_, err := Load(path)
	issues := issuesOf(t, err)
	assert.Equal(t, []Issue{
		{Path: "databse", Problem: "unknown key"},
		{Path: "listen.clinet", Problem: "unknown key"},
		{Path: "log", Problem: "is a section and must be a mapping"},
	}, issues)
	assert.ErrorContains(t, err, "listen.clinet: unknown key")
}

func TestLoadReportsValidationProblems(t *testing.T) {
	path := writeFile(t, "server_name: \"bad name\"\nlog:\n  format: xml\n")
	_, err := Load(path)
	assert.Equal(t, []string{"server_name", "log.format"}, pathsOf(issuesOf(t, err)))
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	require.Error(t, err)
	var verr *ValidationError
	assert.False(t, errors.As(err, &verr))
}

func TestLoadBadYAML(t *testing.T) {
	_, err := Load(writeFile(t, "listen: [\n"))
	require.Error(t, err)
}

func TestGeneratedYAMLRoundTrips(t *testing.T) {
	c, err := Load(writeFile(t, GenerateYAML()))
	require.NoError(t, err)
	assert.Equal(t, Defaults(), c)
}

func TestResolvedPaths(t *testing.T) {
	c := Defaults()
	c.DataDir = "/var/lib/concord"
	assert.Equal(t, "/var/lib/concord/concord.db", c.DatabaseURL())
	assert.Equal(t, "/var/lib/concord/signing.key", c.SigningKeyPath())
	assert.Equal(t, "/var/lib/concord/media", c.MediaPath())
	assert.False(t, c.IsPostgres())

	c.Database.URL = "/srv/db.sqlite"
	c.SigningKeyFile = "/etc/concord/key"
	c.Media.Path = "/srv/media"
	assert.Equal(t, "/srv/db.sqlite", c.DatabaseURL())
	assert.Equal(t, "/etc/concord/key", c.SigningKeyPath())
	assert.Equal(t, "/srv/media", c.MediaPath())
}

func pathsOf(issues []Issue) []string {
	out := make([]string, len(issues))
	for i, is := range issues {
		out[i] = is.Path
	}
	return out
}

func reflectValue(c *Config) reflect.Value { return reflect.ValueOf(c).Elem() }

func TestLoadEmptyAndNullValues(t *testing.T) {
	c, err := Load(writeFile(t, "# nothing set\n"))
	require.NoError(t, err)
	assert.Equal(t, Defaults(), c)

	c, err = Load(writeFile(t, "listen:\nlog:\n  level: ~\nappservice:\n  config_files:\n"))
	require.NoError(t, err)
	assert.Equal(t, Defaults(), c, "null values keep their defaults")
}
