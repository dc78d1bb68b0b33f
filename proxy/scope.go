package proxy

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/customs-dev/customs/catalog"
)

// InterceptMode chooses which CONNECT targets are opened.
type InterceptMode string

const (
	// InterceptCatalog opens hosts the vendor catalog knows plus the operator's intercept list.
	InterceptCatalog InterceptMode = "catalog"
	// InterceptAll opens every host except the never-intercept list.
	InterceptAll InterceptMode = "all"
	// InterceptNone opens nothing: every CONNECT is tunnelled and only metadata is recorded.
	InterceptNone InterceptMode = "none"
)

// HostSet matches host names against exact names and "*.suffix" wildcards ("*" alone matches
// everything). A wildcard matches one or more labels, so "*.example.com" matches "a.b.example.com"
// but not "example.com" itself, as in certificates and the vendor catalog.
type HostSet struct {
	exact    map[string]bool
	suffixes []string // ".example.com"
	any      bool
}

// NewHostSet validates and compiles patterns.
func NewHostSet(patterns []string) (HostSet, error) {
	hs := HostSet{exact: make(map[string]bool, len(patterns))}
	for _, raw := range patterns {
		p := normalizeHost(raw)
		switch {
		case strings.TrimSpace(raw) == "*":
			hs.any = true
		case p == "*" || strings.HasPrefix(p, "*."):
			if err := validHostname(strings.TrimPrefix(p, "*.")); err != nil {
				return HostSet{}, fmt.Errorf("host pattern %q: %w", p, err)
			}
			hs.suffixes = append(hs.suffixes, p[1:])
		default:
			if err := validHost(p); err != nil {
				return HostSet{}, fmt.Errorf("host pattern %q: %w", p, err)
			}
			hs.exact[p] = true
		}
	}
	return hs, nil
}

// Match reports whether host (already normalised) is in the set.
func (hs HostSet) Match(host string) bool {
	if hs.any || hs.exact[host] {
		return true
	}
	for _, s := range hs.suffixes {
		if len(host) > len(s) && strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// Scope decides, per host, whether customs opens the traffic or passes it through untouched.
type Scope struct {
	Mode      InterceptMode
	Intercept HostSet // operator's extra hosts, opened in catalog mode
	Never     HostSet // pinned apps: always tunnelled, whatever the mode
	// InCatalog reports whether the vendor catalog knows host.
	InCatalog func(host string) bool
}

// Opens reports whether traffic to host is intercepted and inspected.
func (s Scope) Opens(host string) bool {
	if s.Never.Match(host) {
		return false
	}
	switch s.Mode {
	case InterceptAll:
		return true
	case InterceptNone:
		return false
	default:
		return s.Intercept.Match(host) || (s.InCatalog != nil && s.InCatalog(host))
	}
}

// normalizeHost makes "API.OpenAI.com." and "api.openai.com" one host for scope, catalog and
// certificate purposes, exactly as the catalog sees it (ASCII-only lower-casing, so a look-alike
// such as the Kelvin sign cannot pass for a catalogued name).
func normalizeHost(h string) string {
	return catalog.Normalize(strings.TrimSpace(h))
}

// ParseConnectTarget splits the authority of a CONNECT request ("host:port", "[v6]:port") into a
// normalised host and a port. A missing port means 443, since CONNECT is used for TLS.
func ParseConnectTarget(authority string) (host, port string, err error) {
	if authority == "" {
		return "", "", fmt.Errorf("empty CONNECT target")
	}
	h, p, splitErr := net.SplitHostPort(authority)
	if splitErr != nil {
		// Some clients omit the port; accept a bare host but nothing that merely failed to parse.
		if strings.ContainsAny(authority, "[]") || strings.Count(authority, ":") == 1 {
			return "", "", fmt.Errorf("CONNECT target %q: %w", authority, splitErr)
		}
		h, p = authority, "443"
	}
	if p == "" {
		return "", "", fmt.Errorf("CONNECT target %q: empty port", authority)
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return "", "", fmt.Errorf("CONNECT target %q: port %q is not a number", authority, p)
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return "", "", fmt.Errorf("CONNECT target %q: port %s out of range", authority, p)
		}
	}
	if n == 0 {
		return "", "", fmt.Errorf("CONNECT target %q: port 0", authority)
	}
	h = normalizeHost(h)
	if err := validHost(h); err != nil {
		return "", "", fmt.Errorf("CONNECT target %q: %w", authority, err)
	}
	return h, p, nil
}

// validHost accepts an IP literal or a DNS host name.
func validHost(h string) error {
	if _, err := netip.ParseAddr(h); err == nil {
		return nil
	}
	return validHostname(h)
}

// validHostname applies RFC 1123 label rules, loosened to allow '_' which real services use
// (e.g. SRV-style names). Anything else here would end up in a certificate SAN or a log line.
func validHostname(h string) error {
	if h == "" {
		return fmt.Errorf("empty host")
	}
	if len(h) > 253 {
		return fmt.Errorf("host name longer than 253 bytes")
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" {
			return fmt.Errorf("empty label in host name")
		}
		if len(label) > 63 {
			return fmt.Errorf("label longer than 63 bytes in host name")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("label %q starts or ends with '-'", label)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("invalid character %q in host name", c)
			}
		}
	}
	return nil
}
