package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Issue is one problem with one key.
type Issue struct {
	Path    string // dotted path of the key, such as "listen.client"
	Problem string // what is wrong with it
}

func (i Issue) String() string { return i.Path + ": " + i.Problem }

// ValidationError lists every problem found in a configuration.
type ValidationError struct {
	Issues []Issue
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		parts[i] = is.String()
	}
	return fmt.Sprintf("invalid configuration (%d problems): %s", len(e.Issues), strings.Join(parts, "; "))
}

// Paths returns the dotted path of every issue, in order.
func (e *ValidationError) Paths() []string {
	paths := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		paths[i] = is.Path
	}
	return paths
}

// validLogLevels are the levels log.level accepts.
var validLogLevels = map[string]bool{"debug": true, "info": true, "warn": true, "error": true}

// Validate checks every key and returns a [*ValidationError] naming each bad
// one, or nil when the configuration is usable.
func (c Config) Validate() error {
	var issues []Issue
	bad := func(path, format string, args ...any) {
		issues = append(issues, Issue{Path: path, Problem: fmt.Sprintf(format, args...)})
	}
	check := func(path string, err error) {
		if err != nil {
			bad(path, "%v", err)
		}
	}

	check("server_name", checkServerName(c.ServerName))

	check("listen.client", checkListenAddr(c.Listen.Client))
	if c.Federation.Enabled || c.Listen.Federation != "" {
		check("listen.federation", checkListenAddr(c.Listen.Federation))
	}
	if c.Listen.Metrics != "" {
		check("listen.metrics", checkListenAddr(c.Listen.Metrics))
	}

	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		if c.TLS.CertFile == "" {
			bad("tls.cert_file", "must be set when tls.key_file is set")
		} else {
			bad("tls.key_file", "must be set when tls.cert_file is set")
		}
	}

	check("database.url", checkDatabaseURL(c.Database.URL))
	if c.Database.MaxOpenConns < 1 {
		bad("database.max_open_conns", "must be at least 1, got %d", c.Database.MaxOpenConns)
	}

	if strings.TrimSpace(c.DataDir) == "" {
		bad("data_dir", "must not be empty")
	}
	if c.Media.MaxUploadBytes < 1 {
		bad("media.max_upload_bytes", "must be positive, got %d", c.Media.MaxUploadBytes)
	}
	for i, f := range c.AppService.ConfigFiles {
		if strings.TrimSpace(f) == "" {
			bad("appservice.config_files", "entry %d is empty", i)
		}
	}

	if !(c.RateLimit.PerSecond > 0) {
		bad("ratelimit.per_second", "must be positive, got %v", c.RateLimit.PerSecond)
	}
	if c.RateLimit.Burst < 1 {
		bad("ratelimit.burst", "must be positive, got %d", c.RateLimit.Burst)
	}

	if n, err := strconv.Atoi(c.Rooms.DefaultVersion); err != nil || n < 1 || n > 12 ||
		strconv.Itoa(n) != c.Rooms.DefaultVersion {
		bad("rooms.default_version", "must be one of \"1\" to \"12\", got %q", c.Rooms.DefaultVersion)
	}
	if d, err := time.ParseDuration(c.Rooms.RedactionWindow); err != nil || d < 0 {
		bad("rooms.redaction_window", "must be a duration of zero or more such as \"0s\", \"15m\" or \"24h\", got %q", c.Rooms.RedactionWindow)
	}

	if !validLogLevels[c.Log.Level] {
		bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.Log.Format != "json" && c.Log.Format != "console" {
		bad("log.format", "must be json or console, got %q", c.Log.Format)
	}

	if len(issues) > 0 {
		return &ValidationError{Issues: issues}
	}
	return nil
}

// checkListenAddr accepts host:port with a numeric port; the host may be
// empty (all interfaces).
func checkListenAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("must be host:port, got %q", addr)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("bad host in %q", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port must be a number from 0 to 65535, got %q", port)
	}
	return nil
}

// checkDatabaseURL accepts an empty string, a PostgreSQL URL or a file path.
func checkDatabaseURL(s string) error {
	switch {
	case s == "":
		return nil
	case isPostgresURL(s):
		if _, err := url.Parse(s); err != nil {
			return fmt.Errorf("bad PostgreSQL URL: %w", err)
		}
		return nil
	case strings.Contains(s, "://"):
		return fmt.Errorf("must be a postgres:// URL or a file path, got scheme %q", s[:strings.Index(s, "://")])
	case s == ":memory:" || strings.HasPrefix(s, "file:"):
		return fmt.Errorf("must be a plain SQLite file path, got %q", s)
	case strings.ContainsAny(s, "?#"):
		return fmt.Errorf("SQLite file path must not contain '?' or '#', got %q", s)
	}
	return nil
}
