package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestServerNames(t *testing.T) {
	valid := []string{
		// The examples of the spec's "Server Name" appendix.
		"matrix.org",
		"matrix.org:8888",
		"1.2.3.4",
		"1.2.3.4:1234",
		"[1234:5678::abcd]",
		"[1234:5678::abcd]:5678",
		// More.
		"localhost",
		"localhost:8008",
		"my-server.example.com",
		"[::1]:8448",
		"[::ffff:1.2.3.4]",
		"1.2.3", // not IPv4-shaped, so a DNS name
		"255.255.255.255:65535",
		strings.Repeat("a", 63) + ".org",
	}
	for _, s := range valid {
		assert.NoError(t, checkServerName(s), s)
	}

	invalid := []string{
		"",
		"bad_name",
		"example.org:",
		"example.org:0",
		"example.org:65536",
		"example.org:123456",
		"example.org:80a",
		":8008",
		"256.1.1.1",
		"1.2.3.4.:80",
		"example..org",
		".example.org",
		"example.org.",
		"exa mple.org",
		"ex\u00e4mple.org",
		"[1234:5678::abcd",
		"[1234:5678::abcd]x",
		"[1234:5678::abcd]:",
		"[::g]",
		"[1.2.3.4]",
		"1234:5678::abcd",
		"user@example.org",
		strings.Repeat("a", 64) + ".org",
		strings.Repeat("a.", 128) + "org",
	}
	for _, s := range invalid {
		assert.Error(t, checkServerName(s), s)
	}
}
