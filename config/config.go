package config

import (
	"path/filepath"
	"strings"
	"time"
)

// Config is the whole configuration tree of one Concord server.
type Config struct {
	ServerName     string             `mapstructure:"server_name" doc:"The Matrix server name: the part after the colon in user IDs (@alice:example.org) and room aliases. A hostname, IPv4 address or [IPv6] address with an optional :port. Cannot be changed once users exist."`
	Listen         ListenConfig       `mapstructure:"listen" doc:"Addresses the server listens on."`
	TLS            TLSConfig          `mapstructure:"tls" doc:"TLS certificate for the federation listener."`
	Database       DatabaseConfig     `mapstructure:"database" doc:"Where the server keeps its data."`
	DataDir        string             `mapstructure:"data_dir" doc:"Directory for files the server creates: the SQLite database, the signing key, media and generated TLS keys."`
	SigningKeyFile string             `mapstructure:"signing_key_file" doc:"Path of the server's ed25519 signing key. Empty means <data_dir>/signing.key, created on first start."`
	Media          MediaConfig        `mapstructure:"media" doc:"The media repository."`
	Registration   RegistrationConfig `mapstructure:"registration" doc:"Who may create accounts."`
	AppService     AppServiceConfig   `mapstructure:"appservice" doc:"Application services (bridges and bots)."`
	Federation     FederationConfig   `mapstructure:"federation" doc:"Talking to other Matrix servers."`
	RateLimit      RateLimitConfig    `mapstructure:"ratelimit" doc:"Per-client request rate limiting."`
	Rooms          RoomsConfig        `mapstructure:"rooms" doc:"Room defaults."`
	Presence       PresenceConfig     `mapstructure:"presence" doc:"Presence: the online status users share with those in their rooms."`
	Log            LogConfig          `mapstructure:"log" doc:"Logging."`
}

// ListenConfig holds the listener addresses, each host:port.
type ListenConfig struct {
	Client     string `mapstructure:"client" doc:"host:port of the client-server API (/_matrix/client), plain HTTP: put a TLS-terminating proxy in front of it."`
	Federation string `mapstructure:"federation" doc:"host:port of the server-server API (/_matrix/federation, /_matrix/key), served over HTTPS. May be empty when federation.enabled is false."`
	Metrics    string `mapstructure:"metrics" doc:"host:port of the Prometheus /metrics listener; keep it on loopback. Empty disables it."`
}

// TLSConfig names the certificate of the federation listener.
type TLSConfig struct {
	CertFile string `mapstructure:"cert_file" doc:"PEM certificate (chain) file. Set both cert_file and key_file, or neither: when both are empty a self-signed pair is generated into data_dir."`
	KeyFile  string `mapstructure:"key_file" doc:"PEM private key file matching cert_file."`
}

// DatabaseConfig selects the database.
type DatabaseConfig struct {
	URL          string `mapstructure:"url" doc:"Empty means SQLite in <data_dir>/concord.db; a file path means SQLite at that path; a postgres:// or postgresql:// URL means PostgreSQL."`
	MaxOpenConns int    `mapstructure:"max_open_conns" doc:"Largest number of open PostgreSQL connections (SQLite always uses one writer connection and a small read pool)."`
}

// MediaConfig configures the media repository.
type MediaConfig struct {
	Path           string `mapstructure:"path" doc:"Directory where uploaded media is stored. Empty means <data_dir>/media."`
	MaxUploadBytes int64  `mapstructure:"max_upload_bytes" doc:"Largest upload accepted, in bytes."`
}

// RegistrationConfig controls account creation.
type RegistrationConfig struct {
	Enabled      bool   `mapstructure:"enabled" doc:"Whether clients may register accounts through /register."`
	RequireToken bool   `mapstructure:"require_token" doc:"Whether open registration needs a registration token (m.login.registration_token), managed through the admin API."`
	SharedSecret string `mapstructure:"shared_secret" doc:"Secret for the shared-secret admin registration API. Empty disables that API."`
	AllowGuests  bool   `mapstructure:"allow_guests" doc:"Whether clients may register guest accounts (/register?kind=guest), which may only use the endpoints the spec allows guests and join rooms whose m.room.guest_access is can_join."`
}

// AppServiceConfig lists application service registrations.
type AppServiceConfig struct {
	ConfigFiles []string `mapstructure:"config_files" doc:"Paths of application service registration YAML files. From the environment: a comma-separated list."`
}

// FederationConfig controls the server-server API.
type FederationConfig struct {
	Enabled               bool `mapstructure:"enabled" doc:"Whether to talk to other Matrix servers at all."`
	TLSInsecureSkipVerify bool `mapstructure:"tls_insecure_skip_verify" doc:"Skip verification of other servers' TLS certificates. For tests only: never in production."`
}

// RateLimitConfig configures the per-client token bucket.
type RateLimitConfig struct {
	Enabled   bool    `mapstructure:"enabled" doc:"Whether requests are rate limited."`
	PerSecond float64 `mapstructure:"per_second" doc:"Sustained requests per second allowed per client (may be fractional)."`
	Burst     int     `mapstructure:"burst" doc:"Requests a client may make in a burst above the sustained rate."`
}

// RoomsConfig holds room defaults.
type RoomsConfig struct {
	DefaultVersion string `mapstructure:"default_version" doc:"Room version for new rooms when the client does not ask for one: \"1\" to \"12\"."`
	// RedactionWindow is parsed by RedactionWindowDuration.
	RedactionWindow string `mapstructure:"redaction_window" doc:"How long after sending users without the room's redact power level may still redact their own events, as a Go duration (\"15m\", \"24h\"). \"0s\" means no limit."`
}

// RedactionWindowDuration returns rooms.redaction_window (0: no limit; an
// invalid value, which Validate reports, counts as no limit).
func (r RoomsConfig) RedactionWindowDuration() time.Duration {
	d, err := time.ParseDuration(r.RedactionWindow)
	if err != nil || d < 0 {
		return 0
	}
	return d
}

// PresenceConfig configures presence.
type PresenceConfig struct {
	Enabled bool `mapstructure:"enabled" doc:"Whether the server tracks presence and shares it in /sync. When false, PUT and GET /presence/{userId}/status answer M_FORBIDDEN and /sync sends no presence."`
}

// LogConfig configures logging.
type LogConfig struct {
	Level  string `mapstructure:"level" doc:"Lowest level logged: debug, info, warn or error."`
	Format string `mapstructure:"format" doc:"Log line format: json or console."`
}

// Defaults returns the built-in configuration. It is valid as it is.
func Defaults() Config {
	return Config{
		ServerName: "localhost:8008",
		Listen: ListenConfig{
			Client:     "127.0.0.1:8008",
			Federation: "127.0.0.1:8448",
			Metrics:    "127.0.0.1:9108",
		},
		Database:     DatabaseConfig{MaxOpenConns: 20},
		DataDir:      "./data",
		Media:        MediaConfig{MaxUploadBytes: 50 * 1024 * 1024},
		Registration: RegistrationConfig{RequireToken: true},
		AppService:   AppServiceConfig{ConfigFiles: []string{}},
		Federation:   FederationConfig{Enabled: true},
		RateLimit:    RateLimitConfig{Enabled: true, PerSecond: 10, Burst: 50},
		Rooms:        RoomsConfig{DefaultVersion: "12", RedactionWindow: "0s"},
		Presence:     PresenceConfig{Enabled: true},
		Log:          LogConfig{Level: "info", Format: "json"},
	}
}

// DatabaseURL returns database.url with its default resolved: a PostgreSQL URL
// or the path of the SQLite file.
func (c Config) DatabaseURL() string {
	if c.Database.URL == "" {
		return filepath.Join(c.DataDir, "concord.db")
	}
	return c.Database.URL
}

// IsPostgres reports whether database.url selects PostgreSQL.
func (c Config) IsPostgres() bool {
	return isPostgresURL(c.Database.URL)
}

// SigningKeyPath returns signing_key_file with its default resolved.
func (c Config) SigningKeyPath() string {
	if c.SigningKeyFile == "" {
		return filepath.Join(c.DataDir, "signing.key")
	}
	return c.SigningKeyFile
}

// MediaPath returns media.path with its default resolved.
func (c Config) MediaPath() string {
	if c.Media.Path == "" {
		return filepath.Join(c.DataDir, "media")
	}
	return c.Media.Path
}

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}
