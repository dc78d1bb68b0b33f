package proxy

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Resolver sends chosen host names to fixed addresses instead of DNS, like curl's --resolve. It
// exists for tests and labs that impersonate vendor hosts with local servers; the TLS server name
// and certificate verification still use the original host name.
type Resolver struct {
	rules []resolveRule
}

type resolveRule struct {
	pattern HostSet
	host    string // IP or host name to dial instead
	port    string // empty: keep the requested port
}

// ParseResolve parses HOST=ADDR rules in order; the first matching rule wins. HOST is a name,
// "*.suffix" or "*"; ADDR is "ip", "ip:port", "host:port" or "[v6]:port".
func ParseResolve(specs []string) (*Resolver, error) {
	r := &Resolver{}
	for _, spec := range specs {
		host, addr, ok := strings.Cut(spec, "=")
		if !ok || host == "" || addr == "" {
			return nil, fmt.Errorf("resolve %q: want HOST=ADDR", spec)
		}
		hs, err := NewHostSet([]string{host})
		if err != nil {
			return nil, fmt.Errorf("resolve %q: %w", spec, err)
		}
		rule := resolveRule{pattern: hs}
		if ip, err := netip.ParseAddr(strings.Trim(addr, "[]")); err == nil {
			rule.host = ip.String()
		} else {
			h, p, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, fmt.Errorf("resolve %q: address %q: %w", spec, addr, err)
			}
			if err := validHost(normalizeHost(h)); err != nil {
				return nil, fmt.Errorf("resolve %q: address %q: %w", spec, addr, err)
			}
			if _, _, err := ParseConnectTarget(addr); err != nil {
				return nil, fmt.Errorf("resolve %q: %w", spec, err)
			}
			rule.host, rule.port = h, p
		}
		r.rules = append(r.rules, rule)
	}
	return r, nil
}

// Rewrite maps a dial address (host:port) to the address to dial.
func (r *Resolver) Rewrite(addr string) string {
	to, _ := r.rewrite(addr)
	return to
}

// rewrite is Rewrite that also reports whether a rule matched: where a rule sends a host is the
// operator's choice, not the client's (see the destination rule).
func (r *Resolver) rewrite(addr string) (string, bool) {
	if r == nil || len(r.rules) == 0 {
		return addr, false
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, false
	}
	host = normalizeHost(host)
	for _, rule := range r.rules {
		if rule.pattern.Match(host) {
			if rule.port != "" {
				port = rule.port
			}
			return net.JoinHostPort(rule.host, port), true
		}
	}
	return addr, false
}
