package config

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// Clients names the proxy's clients in reports (customs report, customs exposure): each key
// is a network (a CIDR such as "10.1.0.0/16"), an IP address, or a proxy user name; its value
// is the team or app to call those clients ("data-team"). A client is named by its proxy user
// when that user has a name here, else by the most specific network holding its address;
// clients matched by neither keep their address.
type Clients map[string]string

// clientRule is one key of Clients, parsed.
type clientRule struct {
	prefix netip.Prefix // the network; invalid for a user rule
	user   string
	name   string
}

// parseClientKey reads a key: a CIDR, an IP address (a /32 or /128), or a user name.
func parseClientKey(key string) (clientRule, error) {
	switch {
	case strings.Contains(key, "/"):
		p, err := netip.ParsePrefix(key)
		if err != nil {
			return clientRule{}, fmt.Errorf("invalid CIDR %q", key)
		}
		if p.Masked() != p {
			return clientRule{}, fmt.Errorf("%q has bits set past its /%d (did you mean %q?)", key, p.Bits(), p.Masked().String())
		}
		return clientRule{prefix: unmapPrefix(p)}, nil
	case strings.Contains(key, ":") || strings.Count(key, ".") == 3 && strings.Trim(key, "0123456789.") == "":
		a, err := netip.ParseAddr(key)
		if err != nil && strings.Contains(key, ":") {
			return clientRule{}, fmt.Errorf("invalid IP address %q (a proxy user name cannot contain ':')", key)
		} else if err != nil {
			return clientRule{}, fmt.Errorf("invalid IP address %q", key)
		}
		a = a.Unmap().WithZone("")
		return clientRule{prefix: netip.PrefixFrom(a, a.BitLen())}, nil
	case strings.TrimSpace(key) != key || key == "" || strings.ContainsAny(key, " \t\r\n"):
		return clientRule{}, fmt.Errorf("%q is neither a CIDR, an IP address nor a proxy user name (no spaces)", key)
	}
	return clientRule{user: key}, nil
}

// unmapPrefix writes an IPv4-mapped IPv6 network as the IPv4 one: clients are recorded
// unmapped.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

func (c Clients) validate(v *validator) {
	seen := map[string]string{} // network or user -> the key that named it first
	for _, key := range slices.Sorted(maps.Keys(c)) {
		p := fmt.Sprintf("clients[%s]", key)
		r, err := parseClientKey(key)
		if err != nil {
			v.errorAt(p+"#key", p, "%v", err)
			continue
		}
		id := "user " + r.user
		if r.prefix.IsValid() {
			id = r.prefix.String()
		}
		if first, dup := seen[id]; dup {
			v.errorAt(p+"#key", p, "names the same clients as clients[%s]", first)
		} else {
			seen[id] = key
		}
		if name := c[key]; strings.TrimSpace(name) == "" || strings.ContainsAny(name, "\r\n") {
			v.errorf(p, "must name a team or app on one line")
		}
	}
}

// Namer returns the function reports name clients with (nil when there are no names): a
// client's IP (without port) and proxy user go in, its name, or "", comes out. The file's
// keys are valid once Load has returned; a key that does not parse is ignored.
func (c Clients) Namer() func(ip, user string) string {
	if len(c) == 0 {
		return nil
	}
	users := map[string]string{}
	var nets []clientRule
	for key, name := range c {
		r, err := parseClientKey(key)
		switch {
		case err != nil:
		case r.prefix.IsValid():
			r.name = name
			nets = append(nets, r)
		default:
			users[r.user] = name
		}
	}
	// Most specific first, so that the first network that holds an address is its name.
	slices.SortFunc(nets, func(a, b clientRule) int {
		return cmp.Or(cmp.Compare(b.prefix.Bits(), a.prefix.Bits()), a.prefix.Addr().Compare(b.prefix.Addr()))
	})
	return func(ip, user string) string {
		if name, ok := users[user]; ok && user != "" {
			return name
		}
		a, err := netip.ParseAddr(strings.Trim(ip, "[]"))
		if err != nil {
			return ""
		}
		a = a.Unmap().WithZone("")
		for _, r := range nets {
			if r.prefix.Contains(a) {
				return r.name
			}
		}
		return ""
	}
}
