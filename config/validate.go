package config

import (
	"encoding/hex"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// validator collects semantic problems. With pos from a decoder it places
// each at the value at fault; without (Validate) it names the key path only.
type validator struct {
	file   string
	pos    map[string]position
	failed map[string]bool
	errs   Errors
}

func (v *validator) errorf(path, format string, args ...any) {
	v.errorAt(path, path, format, args...)
}

// errorAt reports under label at the position recorded for at, or for its
// nearest ancestor: a missing required key has no position of its own.
func (v *validator) errorAt(at, label, format string, args ...any) {
	for p := range v.failed {
		if p == at || strings.HasPrefix(p, at+".") || strings.HasPrefix(p, at+"[") {
			return // already reported as undecodable
		}
		if strings.HasPrefix(at, p+".") || strings.HasPrefix(at, p+"[") {
			return // inside a value that did not decode: whatever is missing there follows from it
		}
	}
	e := &Error{File: v.file, Msg: label + ": " + fmt.Sprintf(format, args...)}
	if v.pos != nil {
		for p := at; ; p = parent(p) {
			if pos, ok := v.pos[p]; ok {
				e.Line, e.Column = pos.line, pos.col
				break
			}
			if p == "" {
				break
			}
		}
	}
	v.errs = append(v.errs, e)
}

func parent(path string) string {
	path = strings.TrimSuffix(path, "#key")
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(v.errs, func(a, b *Error) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	return v.errs
}

func (v *validator) oneOf(path, value string, allowed ...string) {
	if slices.Contains(allowed, value) {
		return
	}
	msg := fmt.Sprintf("must be one of %s; got %q", strings.Join(allowed, ", "), value)
	if s := suggest(value, allowed); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	v.errorf(path, "%s", msg)
}

func (c *Config) validate(v *validator) {
	if err := checkListen(c.Listen); err != nil {
		v.errorf("listen", "%v", err)
	}
	if c.Admin != "" && c.Admin != "off" {
		if err := checkListen(c.Admin); err != nil {
			v.errorf("admin", "%v (or \"off\" to disable)", err)
		}
	}
	if c.Transparent != "" {
		if err := checkListen(c.Transparent); err != nil {
			v.errorf("transparent", "%v", err)
		}
	}
	if c.TransparentMark < 0 || c.TransparentMark > 0xffffffff {
		v.errorf("transparent_mark", "must be a 32-bit mark")
	}
	if c.Data == "" {
		v.errorf("data", "must not be empty")
	}
	v.oneOf("intercept", c.Intercept, "catalog", "all", "none")
	for _, l := range []struct {
		key   string
		hosts []string
	}{{"intercept_hosts", c.InterceptHosts}, {"never_intercept", c.NeverIntercept}} {
		for i, h := range l.hosts {
			if h == "*" && l.key == "intercept_hosts" {
				v.errorf(fmt.Sprintf("%s[%d]", l.key, i), `"*" is not a host; to intercept every host, set intercept: all`)
			} else if err := checkHost(h, false); err != nil {
				v.errorf(fmt.Sprintf("%s[%d]", l.key, i), "%v", err)
			}
		}
	}
	for i, name := range c.Codenames {
		if strings.TrimSpace(name) == "" || strings.ContainsAny(name, "\n\r") {
			v.errorf(fmt.Sprintf("codenames[%d]", i), "must be a non-empty word or phrase on one line")
		}
	}
	for i, r := range c.Rules {
		if r == "" {
			v.errorf(fmt.Sprintf("rules[%d]", i), "must name a rule file or directory")
		}
	}
	if c.RulesReload < 0 {
		v.errorf("rules_reload", "must not be negative")
	}
	if w := c.Alerts.Webhook; w != "" {
		if u, err := url.Parse(w); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			v.errorf("alerts.webhook", "must be an http or https URL; got %q", w)
		}
	}
	if c.Store.Retention.D() < time.Hour {
		v.errorf("store.retention", "must be at least 1h; got %s", c.Store.Retention)
	}
	if c.Store.MaxSize < 0 {
		v.errorf("store.max_size", "must not be negative")
	}
	if c.Store.Queue < 1 {
		v.errorf("store.queue", "must be at least 1")
	}
	if c.Store.MinFree <= 0 {
		v.errorf("store.min_free", "must be greater than zero (the store dies of SIGBUS on a full disk); got %d", c.Store.MinFree)
	}
	v.oneOf("store.durability", c.Store.Durability, "async", "sync")
	if c.Alerts.Queue < 1 {
		v.errorf("alerts.queue", "must be at least 1")
	}
	for i, f := range c.UpstreamCA {
		if f == "" {
			v.errorf(fmt.Sprintf("upstream_ca[%d]", i), "must name a PEM file")
		}
	}
	for _, host := range slices.Sorted(maps.Keys(c.Resolve)) {
		addr := c.Resolve[host]
		p := fmt.Sprintf("resolve[%s]", host)
		if err := checkHost(host, true); err != nil {
			v.errorAt(p+"#key", "resolve", "%v", err)
		}
		if err := checkAddr(addr); err != nil {
			v.errorf(p, "%v", err)
		}
	}
	for i, s := range c.AllowClients {
		if err := checkClient(s); err != nil {
			v.errorf(fmt.Sprintf("allow_clients[%d]", i), "%v", err)
		}
	}
	for i, s := range c.AllowDestinations {
		if err := checkDestination(s); err != nil {
			v.errorf(fmt.Sprintf("allow_destinations[%d]", i), "%v", err)
		}
	}
	if len(c.AllowPorts) == 0 {
		v.errorf("allow_ports", "must list at least one port (443 is what HTTPS clients CONNECT to)")
	}
	for i, p := range c.AllowPorts {
		if p < 1 || p > 65535 {
			v.errorf(fmt.Sprintf("allow_ports[%d]", i), "must be a port from 1 to 65535; got %d", p)
		}
	}
	c.ProxyAuth.validate(v)

	for _, l := range []struct {
		key  string
		size Size
	}{{"inspect_limit", c.Body.InspectLimit}, {"decode_limit", c.Body.DecodeLimit}} {
		if l.size <= 0 {
			v.errorf("body."+l.key, "must be greater than zero; got %d", l.size)
		}
	}
	v.oneOf("body.oversize", c.Body.Oversize, "forward", "block")
	v.oneOf("inspection.incomplete", c.Inspection.Incomplete, "block", "alert", "allow")

	// Zero is rejected rather than read as "no limit": a timeout lost to a
	// typo would let one stuck upstream hold connections forever.
	for _, t := range []struct {
		key string
		d   Duration
	}{
		{"dial", c.Timeouts.Dial}, {"tls_handshake", c.Timeouts.TLSHandshake},
		{"response_header", c.Timeouts.ResponseHeader}, {"idle", c.Timeouts.Idle}, {"drain", c.Timeouts.Drain},
		{"client_handshake", c.Timeouts.ClientHandshake}, {"client_header", c.Timeouts.ClientHeader},
		{"client_idle", c.Timeouts.ClientIdle},
	} {
		if t.d <= 0 {
			v.errorf("timeouts."+t.key, "must be greater than zero; got %s", time.Duration(t.d))
		}
	}
	c.Limits.validate(v, c.Body.DecodeLimit)
	if c.Jewels.Reload <= 0 {
		v.errorf("jewels.reload", "must be greater than zero; got %s", c.Jewels.Reload)
	}
	if c.Jewels.Echo && c.Jewels.EchoWindow <= 0 {
		v.errorf("jewels.echo_window", "must be greater than zero; got %s", c.Jewels.EchoWindow)
	}
	if c.Jewels.Echo && c.Jewels.EchoBudget < 1<<20 {
		v.errorf("jewels.echo_budget", "must be at least 1MiB; got %s", c.Jewels.EchoBudget)
	}
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	if c.LeafCacheSize <= 0 {
		v.errorf("leaf_cache_size", "must be greater than zero; got %d", c.LeafCacheSize)
	}
	c.validateVendors(v)
	c.Clients.validate(v)
	c.Fleet.validate(v)
}

// validate rejects zero limits for the same reason as zero timeouts: a limit lost to a typo
// would leave the proxy open to the flood it exists for.
func (l *Limits) validate(v *validator, decodeLimit Size) {
	for _, n := range []struct {
		key string
		n   int64
	}{
		{"max_connections", int64(l.MaxConnections)}, {"max_connections_per_client", int64(l.MaxConnectionsPerClient)},
		{"max_header_bytes", int64(l.MaxHeaderBytes)}, {"decode_budget", int64(l.DecodeBudget)},
		{"decode_budget_per_client", int64(l.DecodeBudgetPerClient)},
	} {
		if n.n <= 0 {
			v.errorf("limits."+n.key, "must be greater than zero; got %d", n.n)
		}
	}
	if l.DecodeBudgetPerClient > l.DecodeBudget && l.DecodeBudget > 0 {
		v.errorf("limits.decode_budget_per_client", "must not be more than limits.decode_budget (%s); got %s", l.DecodeBudget, l.DecodeBudgetPerClient)
	}
	if l.DecodeBudgetPerClient > 0 && l.DecodeBudgetPerClient < decodeLimit {
		// A body decoded to the limit could never be held: every such body would be incomplete.
		v.errorf("limits.decode_budget_per_client", "must be at least body.decode_limit (%s), plus room for the decoder's window; got %s", decodeLimit, l.DecodeBudgetPerClient)
	}
	if l.DecodeWait < 0 {
		v.errorf("limits.decode_wait", "must not be negative")
	}
}

func (a *ProxyAuth) validate(v *validator) {
	if a.Realm == "" || strings.ContainsFunc(a.Realm, func(r rune) bool { return r == '"' || r == '\\' || r < ' ' || r == 0x7f }) {
		// The realm is sent inside a quoted Proxy-Authenticate parameter.
		v.errorf("proxy_auth.realm", "must be non-empty, without quotes, backslashes or control characters")
	}
	first := map[string]int{}
	for i, u := range a.Users {
		p := fmt.Sprintf("proxy_auth.users[%d]", i)
		switch j, dup := first[u.Name]; {
		case u.Name == "":
			v.errorf(p+".name", "is required")
		case strings.Contains(u.Name, ":"):
			v.errorf(p+".name", "must not contain ':' (Basic credentials are split at the first colon)")
		case dup:
			v.errorf(p+".name", "duplicate user %q (first defined in proxy_auth.users[%d])", u.Name, j)
		default:
			first[u.Name] = i
		}
		var set []string
		for _, f := range []struct{ key, val string }{
			{"password", u.Password}, {"password_sha256", u.PasswordSHA256}, {"password_file", u.PasswordFile},
		} {
			if f.val != "" {
				set = append(set, f.key)
			}
		}
		switch len(set) {
		case 0:
			v.errorf(p, "set one of password, password_sha256 or password_file")
		case 1:
		default:
			v.errorf(p, "set only one of password, password_sha256 and password_file; got %s", strings.Join(set, " and "))
		}
		if u.PasswordSHA256 != "" {
			if b, err := hex.DecodeString(u.PasswordSHA256); err != nil || len(b) != 32 {
				v.errorf(p+".password_sha256", "must be a SHA-256 digest in hex (64 characters)")
			}
		}
	}
}

// checkListen accepts what net.Listen("tcp", addr) accepts, minus service
// names: an optional host and a numeric port (0 picks a free one).
func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid address %q: want host:port", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("invalid address %q: port must be a number from 0 to 65535", addr)
	}
	if host != "" {
		if err := checkHost(host, false); err != nil {
			return fmt.Errorf("invalid address %q: %v", addr, err)
		}
	}
	return nil
}

// checkAddr accepts a resolve target: host:port or a bare IP (which keeps the
// port the client asked for).
func checkAddr(addr string) error {
	if _, err := netip.ParseAddr(addr); err == nil {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid address %q: want host:port or an IP address", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("invalid address %q: port must be a number from 1 to 65535", addr)
	}
	if err := checkHost(host, false); err != nil {
		return fmt.Errorf("invalid address %q: %v", addr, err)
	}
	return nil
}

func checkClient(s string) error {
	if strings.Contains(s, "/") {
		if _, err := netip.ParsePrefix(s); err != nil {
			return fmt.Errorf("invalid CIDR %q", s)
		}
		return nil
	}
	if _, err := netip.ParseAddr(s); err != nil {
		return fmt.Errorf("invalid IP address %q: want an IP address or a CIDR such as \"10.0.0.0/8\"", s)
	}
	return nil
}

// checkDestination accepts an allow_destinations entry: a CIDR, an IP address, a host name or a
// "*.suffix" wildcard.
func checkDestination(s string) error {
	if strings.Contains(s, "/") {
		if _, err := netip.ParsePrefix(s); err != nil {
			return fmt.Errorf("invalid CIDR %q", s)
		}
		return nil
	}
	if s == "*" {
		return fmt.Errorf(`"*" would switch the destination rule off; name the networks or hosts to allow`)
	}
	return checkHost(s, false)
}

// checkHost accepts a hostname, an IP address or a "*.suffix" wildcard, and
// "*" alone when allowStar is set.
func checkHost(h string, allowStar bool) error {
	if h == "*" {
		if allowStar {
			return nil
		}
		return fmt.Errorf(`invalid host "*": a wildcard needs a suffix, as in "*.example.com"`)
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return nil
	}
	name := strings.TrimPrefix(h, "*.")
	switch {
	case strings.Contains(name, "*"):
		return fmt.Errorf("invalid host %q: a wildcard is only allowed as a whole first label, as in \"*.example.com\"", h)
	case strings.ContainsAny(name, ":/"):
		return fmt.Errorf("invalid host %q: want a host name without scheme, port or path", h)
	case name == "" || len(name) > 253:
		return fmt.Errorf("invalid host %q", h)
	}
	for label := range strings.SplitSeq(name, ".") {
		ok := len(label) > 0 && len(label) <= 63 && label[0] != '-' && label[len(label)-1] != '-'
		for _, r := range label {
			ok = ok && (r == '-' || r == '_' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z')
		}
		if !ok {
			return fmt.Errorf("invalid host %q", h)
		}
	}
	return nil
}
