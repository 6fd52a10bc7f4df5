// Package config holds Concord's configuration tree.
//
// The tree is one [Config] value. It is read from an optional YAML file and
// from environment variables by [Load]: every key can be overridden by an
// environment variable named CONCORD_ followed by the key's dotted path in
// upper case with "." replaced by "_" (listen.client → CONCORD_LISTEN_CLIENT).
// List values taken from the environment are comma-separated.
//
// [Defaults] returns the built-in defaults, [Config.Validate] reports every bad
// key by its dotted path in one [*ValidationError], and [GenerateYAML] prints a
// complete, commented configuration file holding every key with its default.
//
// Each field of the tree carries two struct tags: `mapstructure` names the key
// and `doc` describes it. The description is the comment [GenerateYAML] writes
// above the key; docs/configuration.md documents the same keys and a test keeps
// both in step with the struct.
//
// The package reads files and the environment only; it talks to no other
// component.
package config
