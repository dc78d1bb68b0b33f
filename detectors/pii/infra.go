package pii

import (
	"net/netip"

	"github.com/customs-dev/customs/detectors"
)

// ---- private IP addresses ----

func privateIPDetector() detectors.Detector {
	return &privateIP{meta: detectors.Meta{
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

type privateIP struct{ meta detectors.Meta }

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
			e, conf = ipv4At(text, h)
		} else {
			e, conf = ipv6At(text, h)
		}
		if conf > 0 {
			emit(detectors.Match{Start: h, End: e, Confidence: conf})
			last = e
		}
	}
}

// ipv4At reads a private IPv4 address starting at s.
func ipv4At(text string, s int) (int, float64) {
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
	case "192.168.0.1", "192.168.1.1", "10.0.0.1", "192.168.1.254":
		return p, 0.7
	}
	return p, 1
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
func ipv6At(text string, s int) (int, float64) {
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
	switch {
	case a.IsPrivate():
		return p, 1
	case a.IsLinkLocalUnicast():
		return p, 0.6
	}
	return 0, 0
}

func isHex(c byte) bool { return isDigit(c) || (c|0x20)-'a' < 6 }

// ---- internal host names ----

// internalSuffixes are the DNS suffixes of private networks: RFC 6762 .local, RFC 8375
// .home.arpa, the de-facto .internal (ICANN's reserved private TLD, GCP, AWS ec2.internal),
// .corp, .lan, .intranet, .localdomain and Kubernetes' .svc / .cluster.local.
var internalSuffixes = []string{".internal", ".corp", ".local", ".lan", ".intranet", ".home.arpa", ".localdomain", ".svc", ".priv"}

// codeObjects are identifiers that precede .local/.internal in code (threading.local(),
// self.internal), not host names.
var codeObjects = map[string]bool{"self": true, "this": true, "window": true, "document": true, "os": true,
	"sys": true, "threading": true, "ctx": true, "context": true, "config": true, "settings": true, "env": true,
	"obj": true, "it": true, "me": true, "cls": true, "super": true, "module": true, "exports": true,
	"process": true, "storage": true, "app": true, "state": true, "props": true, "args": true, "opts": true,
	"options": true, "params": true, "data": true, "item": true, "x": true, "o": true, "s": true, "t": true,
	"r": true, "req": true, "res": true, "db": false}

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
				"nas.lan",
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
		}
		labels, multi, marked := 0, false, false
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
				if isDigit(text[k]) || text[k] == '-' {
					marked = true
				}
			}
			labels++
			ls = le + 1
		}
		if labels <= 0 {
			continue
		}
		multi = labels >= 2
		if !multi && codeObjects[lowerLocal(text[s:h])] {
			continue
		}
		if e < n && text[e] == '(' {
			continue // a call: os.local(), x.internal()
		}
		conf := 0.6
		if multi || marked || e+1 < n && text[e] == ':' && isDigit(text[e+1]) || s >= 3 && text[s-3:s] == "://" {
			conf = 0.9
		}
		emit(detectors.Match{Start: s, End: e, Confidence: conf})
		last = e
	}
}
