package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/customs-dev/customs/config"
)

// isolation is a network namespace of the command's own whose TCP 80 and 443 the host redirects
// to customs' transparent listener, so that a program that ignores every proxy variable is
// still seen. Everything else is forwarded and masqueraded (DNS keeps working).
type isolation struct {
	ns, host   string
	hostIP, ip netip.Addr
	port       int
	undo       []func()
}

// isolate sets the namespace up for run ID; its undo removes all of it.
func isolate(cfg config.Config, runID string) (*isolation, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("--isolate needs root (it creates a network namespace and firewall rules)")
	}
	for _, tool := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("--isolate needs %s: %w", tool, err)
		}
	}
	if cfg.Transparent == "" {
		return nil, errors.New("--isolate needs customs serve's transparent listener: set transparent: 0.0.0.0:PORT in the config (and run serve with it)")
	}
	thost, tport, err := net.SplitHostPort(cfg.Transparent)
	if err != nil {
		return nil, fmt.Errorf("transparent %q: %w", cfg.Transparent, err)
	}
	if a, err := netip.ParseAddr(thost); thost != "" && (err != nil || !a.IsUnspecified()) {
		return nil, fmt.Errorf("--isolate redirects to the transparent listener from another interface: it must listen on every address (transparent: 0.0.0.0:%s), not %s", tport, cfg.Transparent)
	}
	port, _ := strconv.Atoi(tport)
	// A /30 of 10.213.128.0/17 per run: host .1, namespace .2.
	n, _ := strconv.ParseUint(runID[:4], 16, 16)
	base := 128<<8 | int(n&0x7fff)<<2
	iso := &isolation{ns: "custrun" + runID[:8], host: "crun" + runID[:8], port: port,
		hostIP: netip.AddrFrom4([4]byte{10, 213, byte(base >> 8), byte(base | 1)}),
		ip:     netip.AddrFrom4([4]byte{10, 213, byte(base >> 8), byte(base | 2)})}
	allowed := false
	for _, c := range cfg.AllowClients {
		if p, err := netip.ParsePrefix(c); err == nil && p.Contains(iso.ip) {
			allowed = true
		} else if a, err := netip.ParseAddr(c); err == nil && a == iso.ip {
			allowed = true
		}
	}
	if !allowed {
		return nil, fmt.Errorf("--isolate runs the command from %s: add 10.213.128.0/17 to allow_clients", iso.ip)
	}
	ok := false
	defer func() {
		if !ok {
			iso.close()
		}
	}()
	peer := iso.host + "p"
	steps := [][]string{
		{"ip", "netns", "add", iso.ns},
		{"ip", "link", "add", iso.host, "type", "veth", "peer", "name", peer},
		{"ip", "link", "set", peer, "netns", iso.ns},
		{"ip", "addr", "add", iso.hostIP.String() + "/30", "dev", iso.host},
		{"ip", "link", "set", iso.host, "up"},
		{"ip", "-n", iso.ns, "addr", "add", iso.ip.String() + "/30", "dev", peer},
		{"ip", "-n", iso.ns, "link", "set", peer, "up"},
		{"ip", "-n", iso.ns, "link", "set", "lo", "up"},
		{"ip", "-n", iso.ns, "route", "add", "default", "via", iso.hostIP.String()},
	}
	iso.undo = append(iso.undo, func() { _ = exec.Command("ip", "netns", "del", iso.ns).Run() },
		func() { _ = exec.Command("ip", "link", "del", iso.host).Run() })
	for _, st := range steps {
		if out, err := exec.Command(st[0], st[1:]...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %v: %s", strings.Join(st, " "), err, strings.TrimSpace(string(out)))
		}
	}
	rules := [][]string{
		{"-t", "nat", "PREROUTING", "-i", iso.host, "-p", "tcp", "-m", "multiport", "--dports", "80,443", "-j", "REDIRECT", "--to-ports", tport},
		{"-t", "nat", "POSTROUTING", "-s", iso.ip.String() + "/32", "-j", "MASQUERADE"},
		{"-t", "filter", "FORWARD", "-i", iso.host, "-j", "ACCEPT"},
		{"-t", "filter", "FORWARD", "-o", iso.host, "-j", "ACCEPT"},
	}
	for _, r := range rules {
		add := append([]string{r[0], r[1], "-I"}, r[2:]...)
		if out, err := exec.Command("iptables", add...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("iptables %s: %v: %s", strings.Join(add, " "), err, strings.TrimSpace(string(out)))
		}
		del := append([]string{r[0], r[1], "-D"}, r[2:]...)
		iso.undo = append(iso.undo, func() { _ = exec.Command("iptables", del...).Run() })
	}
	// Forwarding for what is not redirected (DNS above all); set back afterwards.
	const fwd = "/proc/sys/net/ipv4/ip_forward"
	if b, err := os.ReadFile(fwd); err == nil && strings.TrimSpace(string(b)) != "1" {
		if err := os.WriteFile(fwd, []byte("1"), 0o644); err != nil {
			return nil, fmt.Errorf("enable forwarding: %w", err)
		}
		iso.undo = append(iso.undo, func() { _ = os.WriteFile(fwd, b, 0o644) })
	}
	// The namespace's resolvers: the host's, unless they are loopback (a local stub the
	// namespace cannot reach), then systemd-resolved's upstream list.
	if ns := resolvers(); len(ns) > 0 {
		dir := filepath.Join("/etc/netns", iso.ns)
		if err := os.MkdirAll(dir, 0o755); err == nil {
			iso.undo = append(iso.undo, func() { _ = os.RemoveAll(dir) })
			var b strings.Builder
			for _, a := range ns {
				fmt.Fprintf(&b, "nameserver %s\n", a)
			}
			_ = os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(b.String()), 0o644)
		}
	}
	ok = true
	return iso, nil
}

func resolvers() []string {
	for _, f := range []string{"/etc/resolv.conf", "/run/systemd/resolve/resolv.conf"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var out []string
		for _, line := range strings.Split(string(b), "\n") {
			fs := strings.Fields(line)
			if len(fs) == 2 && fs[0] == "nameserver" {
				if a, err := netip.ParseAddr(fs[1]); err == nil && !a.IsLoopback() {
					out = append(out, fs[1])
				}
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

// The runs of isolated commands, by namespace address, for serve to tag their flows: a
// redirected connection carries no proxy user name for the tag. customs run --isolate writes
// DATA/isolated/ADDRESS ("RUNID COMMAND") for as long as the command runs.
const isolatedDir = "isolated"

// isolateRange holds every --isolate namespace's address (a /30 each).
var isolateRange = netip.MustParsePrefix("10.213.128.0/17")

// tag records the run for serve (see isolatedRunOf); undone with the namespace.
func (iso *isolation) tag(data, runID, command string) error {
	dir := filepath.Join(data, isolatedDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("customs run: %w", err)
	}
	p := filepath.Join(dir, iso.ip.String())
	if err := os.WriteFile(p, []byte(runID+" "+command+"\n"), 0o600); err != nil {
		return fmt.Errorf("customs run: %w", err)
	}
	iso.undo = append(iso.undo, func() { _ = os.Remove(p) })
	return nil
}

// isolatedRunOf is serve's side of tag: the run of a client address in isolateRange.
func isolatedRunOf(data string) func(netip.Addr) (string, string) {
	return func(a netip.Addr) (string, string) {
		if !isolateRange.Contains(a) {
			return "", ""
		}
		b, err := os.ReadFile(filepath.Join(data, isolatedDir, a.String()))
		if err != nil {
			return "", ""
		}
		run, command, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
		return run, command
	}
}

// command wraps argv to run inside the namespace.
func (iso *isolation) command(argv []string) []string {
	return append([]string{"ip", "netns", "exec", iso.ns}, argv...)
}

func (iso *isolation) close() {
	for i := len(iso.undo) - 1; i >= 0; i-- {
		iso.undo[i]()
	}
	iso.undo = nil
}
