package pii

import (
	"net/netip"

	"github.com/customs-dev/customs/detectors"
)

// ---- private IP addresses ----

func privateIPDetector(o Options) detectors.Detector {
	return &privateIP{opts: o, meta: detectors.Meta{
		ID:       "infra.private-ip",
		Class:    detectors.PII,
		Severity: detectors.Low,
		Description: "Private network address (infrastructure leakage): IPv4 in 10/8, 172.16/12, " +
			"192.168/16 and 100.64/10 (carrier-grade NAT, Tailscale), dotted-decimal without leading " +
			"zeros, optionally with /prefix or :port; IPv6 unique-local fc00::/7 and link-local " +
			"fe80::/10. Not reported: loopback (127/8), 169.254/16, public addresses, the ranges " +
			"themselves as written in documentation (10.0.0.0/8, 192.168.0.0/16, fd00::/8), and " +
			"four-part versions (v10.2.0.1, \"version 10.2.0.1\"). Confidence 1; 0.7 for the ubiquitous " +
			"router defaults 192.168.0.1, 192.168.1.1 and 10.0.0.1; 0.6 for IPv6 link-local.",
		Keywords: []string{"10.", "172.", "192.168.", "100.", "fc", "fd", "fe8", "fe9", "fea", "feb"},
		Examples: detectors.Examples{
			Match: []string{
				"DB_HOST=10.20.4.17",
				"upstream 172.22.8.140:5432 refused",
				"ssh admin@192.168.40.12",
				"peer 100.101.3.7 (tailscale)",
				"subnet 10.42.0.0/16 for the pods",
				"listen [fd12:3456:789a:1::5]:8080",
				"iface fe80::1c2b:3ff:fe4a:9d1e%eth0",
			},
			NoMatch: []string{
				"connect to 127.0.0.1:8080",
				"public 8.8.8.8 and 172.32.0.1",
				"RFC 1918: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16",
				"chrome 110.0.5481.177",
				"version 10.2.0.1 released",
				"v10.20.4.17",
				"1.10.20.4.17",
				"10.256.1.1",
				"010.20.4.17",
				"metadata 169.254.169.254",
				"hash fdc3a9e1b2 and 2001:db8::1",
				"ULA range fd00::/8",
				"id 550e8400-e29b-41d4-a716-446655440000",
				"released 2024-10-10.",
			},
		},
	}}
}

type privateIP struct {
	meta detectors.Meta
	opts Options
}

var _ detectors.Detector = (*privateIP)(nil)

func (d *privateIP) Meta() detectors.Meta { return d.meta }

func (d *privateIP) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < last || h < 0 || h >= len(text) {
			continue
		}
		var e int
		var conf float64
		if isDigit(text[h]) {
			e, conf = ipv4At(d.opts, text, h)
		} else {
			e, conf = ipv6At(d.opts, text, h)
		}
		if conf > 0 {
			emit(detectors.Match{Start: h, End: e, Confidence: conf})
			last = e
		}
	}
}

// ipv4At reads a private IPv4 address starting at s.
func ipv4At(opts Options, text string, s int) (int, float64) {
	if s > 0 {
		c := text[s-1]
		if isWordByte(c) || c == '.' || c == '-' && s >= 2 && isAlnum(text[s-2]) {
			return 0, 0
		}
	}
	var o [4]int
	p := s
	n := len(text)
	for k := 0; k < 4; k++ {
		if k > 0 {
			if p >= n || text[p] != '.' {
				return 0, 0
			}
			p++
		}
		q := p
		v := 0
		for p < n && isDigit(text[p]) && p-q < 4 {
			v = v*10 + int(text[p]-'0')
			p++
		}
		if p == q || p-q > 3 || v > 255 || p-q > 1 && text[q] == '0' {
			return 0, 0
		}
		o[k] = v
	}
	// Not a fragment of a longer dotted number, a hostname label or a version.
	if p < n && (isWordByte(text[p]) || text[p] == '.' && p+1 < n && isAlnum(text[p+1])) {
		return 0, 0
	}
	if versionWord(text, s) {
		return 0, 0
	}
	private := o[0] == 10 ||
		o[0] == 172 && o[1] >= 16 && o[1] <= 31 ||
		o[0] == 192 && o[1] == 168 ||
		o[0] == 100 && o[1] >= 64 && o[1] <= 127
	if !private {
		return 0, 0
	}
	switch v := text[s:p]; v {
	case "10.0.0.0", "172.16.0.0", "192.168.0.0", "100.64.0.0",
		"10.255.255.255", "172.31.255.255", "192.168.255.255", "100.127.255.255":
		return 0, 0
	}
	prefix := p+1 < n && text[p] == '/' && isDigit(text[p+1])
	if !prefix && (o[3] == 0 || o[3] == 255) {
		return 0, 0 // a network or broadcast address without its prefix length: not a host
	}
	if placeholderIPv4(o) || opts.known(publishedIPs[netip.AddrFrom4([4]byte{byte(o[0]), byte(o[1]), byte(o[2]), byte(o[3])})]) {
		// Router defaults and made-up addresses (192.168.1.1, 10.0.0.5, 10.1.2.3) say nothing
		// about a network: they fill code, tests and tutorials.
		return 0, 0
	}
	return p, 1
}

// publishedIPs are private addresses that every user of a product shares or that
// documentation uses: Tailscale's MagicDNS resolver and the ULA of Go's net/netip examples.
var publishedIPs = map[netip.Addr]bool{
	netip.MustParseAddr("100.100.100.100"):                         true,
	netip.MustParseAddr("fd7a:115c:a1e0::53"):                      true,
	netip.MustParseAddr("fd7a:115c:a1e0:ab12:4843:cd96:626b:430b"): true,
}

// placeholderIPv4: the consumer routers' default subnets 192.168.0.0/24 and 192.168.1.0/24, and
// addresses whose last three octets are all below ten (10.0.0.1, 10.1.2.3, 172.16.0.2): the
// addresses of examples, tests and home networks, not of an organisation's infrastructure.
func placeholderIPv4(o [4]int) bool {
	if o[0] == 192 && o[2] <= 1 {
		return true
	}
	return o[1] < 10 && o[2] < 10 && o[3] < 10 || o[0] == 172 && o[1] == 16 && o[2] < 10 && o[3] < 10
}

// versionWord: "version 10.2.0.1", "v. 10.2.0.1", "build 10.0.19041.1".
func versionWord(text string, s int) bool {
	lo := max(0, s-12)
	w := text[lo:s]
	for _, v := range []string{"version", "ver", "release", "build", "v.", "rev"} {
		for k := 0; k+len(v) <= len(w); k++ {
			if hasPrefixFold(w[k:], v) && (k == 0 && lo == 0 || !isAlpha(text[lo+k-1])) {
				return true
			}
		}
	}
	return false
}

// ipv6At reads a unique-local or link-local IPv6 address starting at s.
func ipv6At(opts Options, text string, s int) (int, float64) {
	if s > 0 {
		c := text[s-1]
		if isWordByte(c) || c == ':' || c == '.' {
			return 0, 0
		}
	}
	n := len(text)
	p := s
	colons := 0
	for p < n && p-s <= 39 && (isHex(text[p]) || text[p] == ':') {
		if text[p] == ':' {
			colons++
		}
		p++
	}
	if p-s > 39 || colons < 2 {
		return 0, 0
	}
	// The first group must end at a colon: "fd12:…", not a hex word.
	k := s
	for k < p && text[k] != ':' {
		k++
	}
	if k-s > 4 {
		return 0, 0
	}
	if p < n && (isWordByte(text[p]) || text[p] == '.') {
		return 0, 0
	}
	a, err := netip.ParseAddr(text[s:p])
	if err != nil || !a.Is6() {
		return 0, 0
	}
	if p+1 < n && text[p] == '/' && isDigit(text[p+1]) {
		switch text[s:p] {
		case "fc00::", "fd00::", "fe80::", "FC00::", "FD00::", "FE80::":
			return 0, 0 // the range itself
		}
	}
	if opts.known(publishedIPs[a]) {
		return 0, 0
	}
	switch {
	case a.IsPrivate():
		if b := a.As16(); b[1]|b[2]|b[3]|b[4]|b[5] == 0 && trivialInterfaceID(a) {
			return 0, 0 // fd00::1: no global ID, no host: a made-up address
		}
		return p, 1
	case a.IsLinkLocalUnicast():
		// fe80::1 and its kin are on every interface and name nothing; a link-local address
		// is worth a finding only with a full interface identifier (often from the MAC).
		if b := a.As16(); b[8]|b[9]|b[10]|b[11] == 0 || trivialInterfaceID(a) {
			return 0, 0
		}
		return p, 0.6
	}
	return 0, 0
}

// trivialInterfaceID: an IPv6 address whose last 64 bits are a small number (::1, ::42) or
// the hex words people make up (dead:beef, cafe:babe).
func trivialInterfaceID(a netip.Addr) bool {
	b := a.As16()
	if b[8]|b[9]|b[10]|b[11]|b[12]|b[13] == 0 {
		return true
	}
	for k := 8; k < 16; k += 2 {
		switch uint16(b[k])<<8 | uint16(b[k+1]) {
		case 0xdead, 0xbeef, 0xcafe, 0xbabe, 0xface, 0xfeed, 0xf00d:
			return true
		}
	}
	return false
}

func isHex(c byte) bool { return isDigit(c) || (c|0x20)-'a' < 6 }

// ---- internal host names ----

// internalSuffixes are the DNS suffixes of private networks: RFC 6762 .local, RFC 8375
// .home.arpa, the de-facto .internal (ICANN's reserved private TLD, GCP, AWS ec2.internal),
// .corp, .lan, .intranet, .localdomain and Kubernetes' .svc / .cluster.local.
var internalSuffixes = []string{".internal", ".corp", ".local", ".lan", ".intranet", ".home.arpa", ".localdomain", ".svc", ".priv"}

// hostContext: words that make a one-label name (nas.lan, printer.local) a host name rather
// than a member access in code (n.local, e.internal).
var hostContext = newContext("host", "server", "ssh", "ping", "curl", "wget", "connect", "open", "browse", "visit",
	"dns", "fqdn", "domain", "endpoint", "url", "addr", "nslookup", "dig ", "telnet", "rdp", "smb", "printer",
	"nas", "mdns", "bonjour", "psql", "mysql", "redis", "mongo", "scp", "rsync", "mount", "proxy", "vpn")

func internalHostDetector() detectors.Detector {
	return &internalHost{meta: detectors.Meta{
		ID:       "infra.internal-hostname",
		Class:    detectors.PII,
		Severity: detectors.Low,
		Description: "Internal host name (infrastructure leakage): a DNS name under .internal (GCP, " +
			"ec2.internal), .corp, .local (mDNS, svc.cluster.local), .lan, .intranet, .home.arpa, " +
			".localdomain, .svc or .priv. Not reported: dotfiles and file names (.env.local, " +
			"settings.local.py), code (threading.local(), self.internal), e-mail domains (the e-mail " +
			"detector covers them). Confidence 0.9 with two or more labels, a digit or dash in the " +
			"name, a port or a URL scheme; 0.6 for a bare one-label name (printer.local).",
		Keywords: internalSuffixes,
		Examples: detectors.Examples{
			Match: []string{
				"VAULT_ADDR=https://vault-2.prod.internal:8200",
				"psql -h db-01.corp.acme.local",
				"curl http://api.payments.svc.cluster.local/v1",
				"ip-10-0-3-17.ec2.internal",
				"ldap-3.corp",
				"ping nas.lan",
			},
			NoMatch: []string{
				"cp .env.local .env",
				"settings.local.py",
				"x = threading.local()",
				"from .internal import helpers",
				"golang.org/x/net/internal/socket",
				"localhost:3000",
				"self.internal = True",
				"see www.corporate.com",
			},
		},
	}}
}

type internalHost struct{ meta detectors.Meta }

var _ detectors.Detector = (*internalHost)(nil)

func (d *internalHost) Meta() detectors.Meta { return d.meta }

func (d *internalHost) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	n := len(text)
	for _, h := range hits {
		if h < last || h <= 0 || h >= n || text[h] != '.' {
			continue
		}
		suf := ""
		for _, s := range internalSuffixes {
			if hasPrefixFold(text[h:], s) {
				suf = s
				break
			}
		}
		if suf == "" {
			continue
		}
		e := h + len(suf)
		if e < n && (isLabelByte(text[e]) || text[e] == '_') {
			continue // .localhost, .corporate, .language
		}
		if e+1 < n && text[e] == '.' && isAlnum(text[e+1]) {
			continue // another label follows: settings.local.py, .svc.cluster.local
		}
		// Labels to the left.
		s := h
		for s > 0 && h-s <= 253 && (isLabelByte(text[s-1]) || text[s-1] == '.') {
			s--
		}
		if h-s > 253 || s == h || text[s] == '.' || text[s] == '-' {
			continue
		}
		if s > 0 {
			c := text[s-1]
			if c == '@' || c == '_' || c == '$' || c >= 0x80 {
				continue
			}
			if c == '/' && !(s >= 2 && text[s-2] == '/') {
				continue // a path: golang.org/x/net/internal
			}
			if c == '.' || c == '&' || c == '*' {
				continue // &p.local, *x.internal: code
			}
		}
		labels, marked := 0, false
		for ls := s; ls < h; {
			le := ls
			for le < h && text[le] != '.' {
				le++
			}
			if le == ls || le-ls > 63 || text[ls] == '-' || text[le-1] == '-' {
				labels = -1
				break
			}
			for k := ls; k < le; k++ {
				switch c := text[k]; {
				case isUpper(c):
					labels = -1 // Name.Local, PreserveMe.local: code or a proper noun
				case isDigit(c) || c == '-':
					marked = true
				}
			}
			if labels < 0 {
				break
			}
			labels++
			ls = le + 1
		}
		if labels <= 0 || !isLowerSuffix(text[h:e]) {
			continue
		}
		if e < n && containsByte("([!=<>+*&|?{", text[e]) {
			continue // code: a call, an index, an operator (os.local(), filter.local[0], x.local != y)
		}
		url := s >= 3 && text[s-3:s] == "://"
		port := e+1 < n && text[e] == ':' && isDigit(text[e+1])
		// A name made of plain words (e.internal, p.local, request.filter.local) is how code
		// reads a field; a host name shows itself by a digit or dash in a label, a URL, a port,
		// or a word such as host/ssh/ping nearby.
		conf := 0.9
		if !url && !port && !marked {
			if !hostContext.nearWhole(text, s-40, s) || placeholderHost(text[s:h]) {
				continue
			}
			if labels == 1 {
				conf = 0.6
			}
		}
		emit(detectors.Match{Start: s, End: e, Confidence: conf})
		last = e
	}
}

// isLowerSuffix: the suffix as written is lower case (.local, not .Local: a field in code).
func isLowerSuffix(suf string) bool {
	for k := 0; k < len(suf); k++ {
		if isUpper(suf[k]) {
			return false
		}
	}
	return true
}

// placeholderHost: names made of the words of examples and tests (foo.local, host.domain.local).
func placeholderHost(name string) bool {
	for name != "" {
		l, rest, _ := cutByte(name, '.')
		switch l {
		case "foo", "bar", "baz", "x", "y", "z", "a", "b", "host", "myhost", "domain", "mydomain", "example",
			"test", "long", "name", "hostname", "server", "machine", "my", "some":
		default:
			return false
		}
		name = rest
	}
	return true
}

func cutByte(s string, c byte) (before, after string, found bool) {
	for k := 0; k < len(s); k++ {
		if s[k] == c {
			return s[:k], s[k+1:], true
		}
	}
	return s, "", false
}
