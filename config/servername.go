package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// checkServerName checks s against the grammar of the Matrix specification's
// "Server Name" appendix:
//
//	server_name = hostname [ ":" port ]
//	hostname    = IPv4address / "[" IPv6address "]" / dns-name
//
// with ports limited to 1..65535, IPv4 octets to 0..255, IPv6 literals that
// parse, and DNS names made of non-empty labels of letters, digits and hyphens.
func checkServerName(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	host, port, err := splitServerName(s)
	if err != nil {
		return err
	}
	if port != "" {
		if len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return fmt.Errorf("bad port %q in %q", port, s)
		}
		if n, _ := strconv.Atoi(port); n < 1 || n > 65535 {
			return fmt.Errorf("port %s in %q is out of range 1-65535", port, s)
		}
	}
	if strings.HasPrefix(host, "[") {
		return checkIPv6Literal(host, s)
	}
	if looksLikeIPv4(host) {
		if net.ParseIP(host).To4() == nil {
			return fmt.Errorf("bad IPv4 address %q in %q", host, s)
		}
		return nil
	}
	return checkDNSName(host, s)
}

// splitServerName splits off an optional port. The host keeps the brackets of
// an IPv6 literal.
func splitServerName(s string) (host, port string, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", fmt.Errorf("unclosed '[' in %q", s)
		}
		host, rest := s[:end+1], s[end+1:]
		if rest == "" {
			return host, "", nil
		}
		if !strings.HasPrefix(rest, ":") || rest == ":" {
			return "", "", fmt.Errorf("unexpected %q after IPv6 address in %q", rest, s)
		}
		return host, rest[1:], nil
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		if i == len(s)-1 {
			return "", "", fmt.Errorf("empty port in %q", s)
		}
		return s[:i], s[i+1:], nil
	}
	return s, "", nil
}

func checkIPv6Literal(host, s string) error {
	addr := host[1 : len(host)-1]
	if len(addr) < 2 || len(addr) > 45 || strings.Trim(addr, "0123456789abcdefABCDEF:.") != "" {
		return fmt.Errorf("bad IPv6 address %q in %q", addr, s)
	}
	if ip := net.ParseIP(addr); ip == nil || !strings.Contains(addr, ":") {
		return fmt.Errorf("bad IPv6 address %q in %q", addr, s)
	}
	return nil
}

// looksLikeIPv4 reports whether host has the shape 1*3DIGIT "." ×4.
func looksLikeIPv4(host string) bool {
	parts := strings.Split(host, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

func checkDNSName(host, s string) error {
	if host == "" {
		return fmt.Errorf("missing hostname in %q", s)
	}
	if len(host) > 255 {
		return fmt.Errorf("hostname in %q is longer than 255 characters", s)
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" {
			return fmt.Errorf("empty label in hostname %q", host)
		}
		if len(label) > 63 {
			return fmt.Errorf("label %q in hostname %q is longer than 63 characters", label, host)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("bad character %q in hostname %q", r, host)
			}
		}
	}
	return nil
}
