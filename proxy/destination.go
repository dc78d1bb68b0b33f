package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The destination rule. A forward proxy runs somewhere, and every address that place can reach
// is one hop away for its clients: the admin API on loopback (with flow bodies), an SSH daemon,
// the cloud's metadata service at 169.254.169.254 (credentials), customs' own listeners. So by
// default customs refuses destinations that are
//
//   - loopback (127.0.0.0/8, ::1), link-local (169.254.0.0/16, fe80::/10), unspecified
//     (0.0.0.0/8, ::; connecting to 0.0.0.0 reaches the host itself), and the cloud metadata
//     addresses outside those ranges (fd00:ec2::254, 100.100.100.200), unless
//     allow_destinations names them;
//   - one of customs' own listeners (the proxy and admin addresses, on any local address when
//     they listen on all of them), always: a loop through itself is never what a client wants;
//   - CONNECT to a port other than allow_ports (443 by default), and plain HTTP to a port
//     other than 80 and allow_ports.
//
// Each check runs twice. Before customs answers (the CONNECT's 200, or a plain request's
// forward), on what the client named: an address, or every address its name resolves to, so a
// client is refused with a 403 that names the rule. And at dial time, on the address the socket
// is actually connecting to (net.Dialer.ControlContext), because DNS may answer differently the
// second time (rebinding): a name that resolved to a public address for the first check and to
// 127.0.0.1 for the dial is still refused.
//
// Addresses the operator chose with resolve (--resolve) are configuration, not client input:
// a dial whose address a resolve rule rewrote goes where the rule says (labs and tests send
// vendor names to servers on 127.0.0.1), checked only against customs' own listeners. The same
// holds for the host names in allow_destinations.

// DestinationError is a destination or a port customs refuses to reach. Dials return it (inside
// a *net.OpError); the proxy answers it with a 403 and records a blocked flow.
type DestinationError struct {
	Policy string // "destination" or "port"
	Dest   string // what was refused: host:port, or a name and the address it resolved to
	Rule   string // loopback, link-local, unspecified, cloud metadata, own listener, or the port rule
}

func (e *DestinationError) Error() string {
	switch {
	case e.Policy == "port":
		return "customs: " + e.Rule
	case e.Rule == ruleOwnListener:
		return fmt.Sprintf("customs: destination %s is this proxy's own listener; customs does not connect to itself", e.Dest)
	}
	return fmt.Sprintf("customs: destination %s is %s, which clients may not reach through this proxy (allow_destinations)", e.Dest, e.Rule)
}

const ruleOwnListener = "own listener"

// refusedNets are the ranges refused unless allowed; IPv4-mapped IPv6 addresses are unmapped
// before they are looked up.
var refusedNets = []struct {
	prefix netip.Prefix
	rule   string
}{
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (cloud metadata lives at 169.254.169.254)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified (0.0.0.0 reaches this host)"},
	{netip.MustParsePrefix("::/128"), "unspecified (:: reaches this host)"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "cloud metadata (AWS IPv6)"},
	{netip.MustParsePrefix("100.100.100.200/32"), "cloud metadata (Alibaba Cloud)"},
}

// DefaultAllowPorts are the ports CONNECT may reach when Options.AllowPorts is empty.
var DefaultAllowPorts = []int{443}

// destinations holds the destination rule's configuration and customs' own listeners.
type destinations struct {
	allowNets  []netip.Prefix
	allowHosts HostSet
	ports      []int // CONNECT
	dns        *net.Resolver

	mu    sync.Mutex
	own   []netip.AddrPort // the proxy's and admin's listeners
	local []netip.Addr     // this host's interface addresses, refreshed every localTTL
	at    time.Time
}

const localTTL = 30 * time.Second

// ParseDestinations splits allow_destinations entries into networks (a CIDR, or an IP address)
// and host patterns (a name or "*.suffix").
func ParseDestinations(specs []string) ([]netip.Prefix, HostSet, error) {
	var nets []netip.Prefix
	var hosts []string
	for _, s := range specs {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				// Addresses are unmapped before they are checked; so is the network.
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			nets = append(nets, p.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
			ip = ip.Unmap()
			nets = append(nets, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		if s == "*" {
			return nil, HostSet{}, fmt.Errorf("allow_destinations: %q would switch the destination rule off; name the networks or hosts instead", s)
		}
		hosts = append(hosts, s)
	}
	hs, err := NewHostSet(hosts)
	if err != nil {
		return nil, HostSet{}, fmt.Errorf("allow_destinations: %w", err)
	}
	return nets, hs, nil
}

// addOwn records a listener of this process: dials to it are always refused.
func (d *destinations) addOwn(addr string) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return
	}
	d.mu.Lock()
	d.own = append(d.own, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
	d.mu.Unlock()
}

// check returns why ip:port may not be dialled, or nil. trusted skips everything but the own
// listeners (an operator's resolve rule or allowed host).
func (d *destinations) check(ip netip.Addr, port uint16, dest string, trusted bool) *DestinationError {
	ip = ip.Unmap()
	if d.isOwn(ip, port) {
		return &DestinationError{Policy: "destination", Dest: dest, Rule: ruleOwnListener}
	}
	if trusted {
		return nil
	}
	for _, p := range d.allowNets {
		if p.Contains(ip) {
			return nil
		}
	}
	for _, r := range refusedNets {
		if r.prefix.Contains(ip) {
			return &DestinationError{Policy: "destination", Dest: dest, Rule: r.rule}
		}
	}
	return nil
}

func (d *destinations) isOwn(ip netip.Addr, port uint16) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, l := range d.own {
		if l.Port() != port {
			continue
		}
		if l.Addr() == ip {
			return true
		}
		if l.Addr().IsUnspecified() && d.isLocalLocked(ip) {
			// Listening on every address: each of this host's addresses reaches it.
			return true
		}
	}
	return false
}

func (d *destinations) isLocalLocked(ip netip.Addr) bool {
	if ip.IsLoopback() || ip.IsUnspecified() {
		return true
	}
	if time.Since(d.at) > localTTL {
		d.local, d.at = d.local[:0], time.Now()
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if p, err := netip.ParsePrefix(a.String()); err == nil {
					d.local = append(d.local, p.Addr().Unmap())
				}
			}
		}
	}
	return slices.Contains(d.local, ip)
}

// portAllowed applies the port rule: CONNECT may reach the allowed ports, plain HTTP port 80
// too (what http:// means).
func (d *destinations) portAllowed(port string, connect bool) *DestinationError {
	n, err := strconv.Atoi(port)
	if err == nil && (slices.Contains(d.ports, n) || !connect && n == 80) {
		return nil
	}
	allowed := make([]string, 0, len(d.ports)+1)
	if !connect {
		allowed = append(allowed, "80")
	}
	for _, p := range d.ports {
		if connect || p != 80 {
			allowed = append(allowed, strconv.Itoa(p))
		}
	}
	kind := "CONNECT"
	if !connect {
		kind = "plain HTTP"
	}
	return &DestinationError{Policy: "port", Dest: port,
		Rule: fmt.Sprintf("%s to port %s is not allowed; allowed: %s (allow_ports)", kind, port, strings.Join(allowed, ", "))}
}

// checkTarget is the check before customs answers: the port rule, then the destination rule
// on host as the client named it (every address it resolves to, for a name). A lookup that
// fails is not a refusal: the dial will fail and say so.
func (s *Server) checkTarget(ctx context.Context, host, port string, connect bool) *DestinationError {
	if e := s.dest.portAllowed(port, connect); e != nil {
		return e
	}
	n, _ := strconv.Atoi(port)
	hostport := net.JoinHostPort(host, port)
	if to, ok := s.opts.Resolve.rewrite(hostport); ok {
		// The operator's resolve rule decides where this goes.
		if ap, err := netip.ParseAddrPort(to); err == nil {
			return s.dest.check(ap.Addr(), ap.Port(), hostport, true)
		}
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return s.dest.check(ip, uint16(n), hostport, false)
	}
	if s.dest.allowHosts.Match(host) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.DialTimeout)
	defer cancel()
	ips, err := s.dest.resolver().LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, ip := range ips {
		if e := s.dest.check(ip, uint16(n), host+" ("+ip.Unmap().String()+")", false); e != nil {
			return e
		}
	}
	return nil
}

func (d *destinations) resolver() *net.Resolver {
	if d.dns != nil {
		return d.dns
	}
	return net.DefaultResolver
}

// dialer dials upstream servers: through the operator's resolve rules first, and otherwise with
// every address it connects to checked by the destination rule.
type dialer struct {
	guarded net.Dialer // client-chosen destinations: every address checked at connect time
	trusted net.Dialer // the operator's resolve rules and allowed hosts: own listeners only
	resolve *Resolver
	dest    *destinations
}

func newDialer(timeout time.Duration, resolve *Resolver, dest *destinations, mark int) *dialer {
	d := &dialer{resolve: resolve, dest: dest}
	for i, nd := range []*net.Dialer{&d.guarded, &d.trusted} {
		trusted := i == 1
		nd.Timeout, nd.KeepAlive, nd.Resolver = timeout, 30*time.Second, dest.dns
		nd.ControlContext = func(_ context.Context, _, address string, rc syscall.RawConn) error {
			if mark != 0 {
				// customs' own connections carry the mark the transparent redirect rule skips.
				var merr error
				if err := rc.Control(func(fd uintptr) { merr = setMark(fd, mark) }); err != nil || merr != nil {
					return fmt.Errorf("customs: socket mark %#x: %w", mark, errors.Join(err, merr))
				}
			}
			// address is the IP and port the socket is about to connect to, after resolution:
			// what the destination rule must judge.
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("customs: cannot check destination %q: %w", address, err)
			}
			if e := dest.check(ap.Addr(), ap.Port(), address, trusted); e != nil {
				return e
			}
			return nil
		}
	}
	return d
}

// dialAddrKey carries, in a request's context, the address an opened tunnel's requests must go
// to instead of the URL's host (see connInfo.dialAddr).
type dialAddrKey struct{}

func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if a, ok := ctx.Value(dialAddrKey{}).(string); ok && a != "" {
		addr = a
	}
	if to, ok := d.resolve.rewrite(addr); ok {
		return d.trusted.DialContext(ctx, network, to)
	}
	if host, _, err := net.SplitHostPort(addr); err == nil && d.dest.allowHosts.Match(normalizeHost(host)) {
		return d.trusted.DialContext(ctx, network, addr)
	}
	return d.guarded.DialContext(ctx, network, addr)
}
