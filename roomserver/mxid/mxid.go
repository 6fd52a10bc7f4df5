package mxid

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxIDLength is the byte limit for user IDs, room IDs, aliases and event IDs.
const MaxIDLength = 255

var (
	ErrBadServerName = errors.New("invalid server name")
	ErrBadUserID     = errors.New("invalid user ID")
	ErrBadRoomID     = errors.New("invalid room ID")
	ErrBadAlias      = errors.New("invalid room alias")
	ErrBadEventID    = errors.New("invalid event ID")
)

// ValidServerName reports whether s matches the server name grammar:
// hostname [":" port] with an IPv4 literal, [IPv6] literal or DNS name.
func ValidServerName(s string) bool {
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return false
		}
		host, port = s[:end+1], s[end+1:]
		if port != "" {
			if port[0] != ':' {
				return false
			}
			port = port[1:]
			if port == "" {
				return false
			}
		}
		inner := host[1 : len(host)-1]
		if len(inner) < 2 || len(inner) > 45 {
			return false
		}
		addr, err := netip.ParseAddr(inner)
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return false
		}
	} else {
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			host, port = s[:i], s[i+1:]
			if port == "" {
				return false
			}
		}
		if host == "" || len(host) > 255 {
			return false
		}
		for i := 0; i < len(host); i++ {
			c := host[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
				return false
			}
		}
		if looksIPv4(host) {
			if _, err := netip.ParseAddr(host); err != nil {
				return false
			}
		}
	}
	if port != "" {
		if len(port) > 5 {
			return false
		}
		for i := 0; i < len(port); i++ {
			if port[i] < '0' || port[i] > '9' {
				return false
			}
		}
		if n, _ := strconv.Atoi(port); n > 65535 {
			return false
		}
	}
	return true
}

// looksIPv4 reports whether host is four dot-separated runs of digits, which
// the grammar treats as an IPv4 literal that must be in range.
func looksIPv4(host string) bool {
	parts := strings.Split(host, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

// UserID is a parsed "@localpart:domain".
type UserID struct {
	Localpart string
	Domain    string
}

func (u UserID) String() string { return "@" + u.Localpart + ":" + u.Domain }

// ParseUserID accepts historical user IDs (a localpart of any code points
// except ':' and NUL, possibly empty), as the spec requires servers to for
// events from other servers.
func ParseUserID(s string) (UserID, error) {
	return parseUserID(s, validHistoricalLocalpart)
}

// ParseUserIDStrict accepts only user IDs of the current grammar
// (a-z 0-9 . _ = - / +), as required for IDs this server allocates.
func ParseUserIDStrict(s string) (UserID, error) {
	return parseUserID(s, ValidLocalpart)
}

func parseUserID(s string, localpartOK func(string) bool) (UserID, error) {
	if len(s) > MaxIDLength || len(s) < 3 || s[0] != '@' {
		return UserID{}, ErrBadUserID
	}
	local, domain, ok := strings.Cut(s[1:], ":")
	if !ok || !localpartOK(local) || !ValidServerName(domain) {
		return UserID{}, ErrBadUserID
	}
	return UserID{Localpart: local, Domain: domain}, nil
}

// ValidLocalpart reports whether l is a non-empty localpart of the current grammar.
func ValidLocalpart(l string) bool {
	if l == "" {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-.=_/+", c) >= 0) {
			return false
		}
	}
	return true
}

// validHistoricalLocalpart follows "Historical User IDs": servers "MUST accept
// user IDs with localparts consisting of any legal non-surrogate Unicode code
// points except for : and NUL (U+0000), including other control characters
// and the empty string".
func validHistoricalLocalpart(l string) bool {
	return utf8.ValidString(l) && !strings.ContainsAny(l, ":\x00")
}

// Domain returns the server name part of an ID with a sigil and ":domain"
// (user IDs, v1–v11 room IDs, aliases, v1–v2 event IDs), or "" if it has none.
func Domain(id string) string {
	_, domain, ok := strings.Cut(id, ":")
	if !ok {
		return ""
	}
	return domain
}

// ValidRoomID checks "!opaque:domain" (withDomain) or "!opaque" where opaque is
// 43 characters of URL-safe unpadded base64 (room version 12 and later).
func ValidRoomID(s string, withDomain bool) bool {
	if len(s) > MaxIDLength || len(s) < 2 || s[0] != '!' {
		return false
	}
	if withDomain {
		local, domain, ok := strings.Cut(s[1:], ":")
		return ok && !strings.ContainsRune(local, 0) && ValidServerName(domain)
	}
	return isHash(s[1:])
}

// ValidEventID checks "$opaque:domain" (withDomain) or "$hash".
func ValidEventID(s string, withDomain bool) bool {
	if len(s) > MaxIDLength || len(s) < 2 || s[0] != '$' {
		return false
	}
	if withDomain {
		local, domain, ok := strings.Cut(s[1:], ":")
		return ok && local != "" && ValidServerName(domain)
	}
	return !strings.ContainsAny(s[1:], ":\x00")
}

// isHash reports whether s is 43 URL-safe base64 characters (a SHA-256).
func isHash(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ValidAlias checks "#localpart:domain".
func ValidAlias(s string) bool {
	if len(s) > MaxIDLength || len(s) < 2 || s[0] != '#' {
		return false
	}
	local, domain, ok := strings.Cut(s[1:], ":")
	return ok && !strings.ContainsRune(local, 0) && ValidServerName(domain)
}
