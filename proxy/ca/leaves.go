package ca

import (
	"container/list"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	defaultLeafCacheSize = 1024
	// Short enough that a leaked leaf key is worth little, long enough that
	// a busy proxy mints each host rarely. Keep it under 398 days: Apple
	// clients reject longer-lived server certificates.
	defaultLeafValidity = 7 * 24 * time.Hour
	maxHostLen          = 253
)

// LeafOptions tunes a Leaves cache. The zero value gives the defaults.
type LeafOptions struct {
	Size     int              // max cached leaves (LRU); default 1024
	Validity time.Duration    // leaf lifetime; default 7 days (NotBefore is now-1h)
	Now      func() time.Time // for tests; default time.Now
}

// Leaves mints leaf certificates for intercepted hosts and caches them.
// It is safe for concurrent use.
type Leaves struct {
	ca       *CA
	size     int
	validity time.Duration
	now      func() time.Time

	mu       sync.Mutex
	lru      *list.List               // of *leafEntry, most recently used at the front
	items    map[string]*list.Element // host key -> element in lru
	inflight map[string]*mintCall     // host key -> mint in progress

	minted atomic.Int64
}

type leafEntry struct {
	key     string
	cert    *tls.Certificate
	renewAt time.Time
}

// mintCall lets concurrent first requests for one host share one mint:
// a P-256 key and a signature cost far more than a channel wait.
type mintCall struct {
	done    chan struct{}
	cert    *tls.Certificate
	renewAt time.Time
	err     error
}

// NewLeaves returns a leaf cache that signs with ca.
func NewLeaves(ca *CA, opts LeafOptions) *Leaves {
	if opts.Size <= 0 {
		opts.Size = defaultLeafCacheSize
	}
	if opts.Validity <= 0 {
		opts.Validity = defaultLeafValidity
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Leaves{
		ca:       ca,
		size:     opts.Size,
		validity: opts.Validity,
		now:      opts.Now,
		lru:      list.New(),
		items:    make(map[string]*list.Element),
		inflight: make(map[string]*mintCall),
	}
}

// Minted returns how many leaves have been minted so far.
func (l *Leaves) Minted() int64 { return l.minted.Load() }

// Get returns the leaf certificate for host: a DNS name or an IP literal,
// optionally with a :port, which is dropped. The certificate chain is
// [leaf, CA] and Leaf is set, ready for tls.Config.GetCertificate.
func (l *Leaves) Get(host string) (*tls.Certificate, error) {
	key, ip, err := normalizeHost(host)
	if err != nil {
		return nil, err
	}

	l.mu.Lock()
	if el, ok := l.items[key]; ok {
		e := el.Value.(*leafEntry)
		if l.now().Before(e.renewAt) {
			l.lru.MoveToFront(el)
			l.mu.Unlock()
			return e.cert, nil
		}
	}
	if c, ok := l.inflight[key]; ok {
		l.mu.Unlock()
		<-c.done
		return c.cert, c.err
	}
	c := &mintCall{done: make(chan struct{})}
	l.inflight[key] = c
	l.mu.Unlock()

	// Deferred so that waiters are released even if minting panics.
	defer func() {
		if c.cert == nil && c.err == nil {
			c.err = fmt.Errorf("mint leaf for %s: panicked", key)
		}
		l.mu.Lock()
		delete(l.inflight, key)
		if c.err == nil && c.cert != nil {
			l.store(key, c.cert, c.renewAt)
		}
		l.mu.Unlock()
		close(c.done)
	}()
	c.cert, c.renewAt, c.err = l.mint(key, ip)
	return c.cert, c.err
}

// store puts cert in the cache, replacing any stale leaf for key and
// evicting the least recently used leaves beyond the size. l.mu is held.
func (l *Leaves) store(key string, cert *tls.Certificate, renewAt time.Time) {
	e := &leafEntry{key: key, cert: cert, renewAt: renewAt}
	if el, ok := l.items[key]; ok {
		el.Value = e
		l.lru.MoveToFront(el)
		return
	}
	l.items[key] = l.lru.PushFront(e)
	for l.lru.Len() > l.size {
		oldest := l.lru.Back()
		l.lru.Remove(oldest)
		delete(l.items, oldest.Value.(*leafEntry).key)
	}
}

// mint signs a new leaf and says when the cache should replace it.
func (l *Leaves) mint(host string, ip net.IP) (cert *tls.Certificate, renewAt time.Time, err error) {
	if l.ca == nil || l.ca.Cert == nil || l.ca.Key == nil {
		return nil, time.Time{}, errors.New("mint leaf: no CA")
	}
	now := l.now()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("mint leaf for %s: generate key: %w", host, err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("mint leaf for %s: %w", host, err)
	}
	if !now.Before(l.ca.Cert.NotAfter) {
		return nil, time.Time{}, fmt.Errorf("mint leaf for %s: CA expired on %s", host, l.ca.Cert.NotAfter.UTC().Format(time.RFC3339))
	}
	notAfter := now.Add(l.validity)
	// A leaf outliving its CA would fail verification anyway; capping it
	// makes the cache renew against the CA's real end of life.
	if notAfter.After(l.ca.Cert.NotAfter) {
		notAfter = l.ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization: []string{"customs"},
			CommonName:   host,
		},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		AuthorityKeyId:        l.ca.Cert.SubjectKeyId,
	}
	if ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, l.ca.Cert, key.Public(), l.ca.Key)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("mint leaf for %s: sign: %w", host, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("mint leaf for %s: parse: %w", host, err)
	}
	l.minted.Add(1)
	// Renew once two thirds of the lifetime have passed (less than a third
	// remains), so no client is handed a leaf that is about to expire.
	renewAt = now.Add(notAfter.Sub(now) * 2 / 3)
	return &tls.Certificate{
		Certificate: [][]byte{der, l.ca.Cert.Raw},
		PrivateKey:  key,
		Leaf:        leaf,
	}, renewAt, nil
}

// normalizeHost turns what a client sent (SNI, CONNECT authority, Host
// header) into the cache key and the name the leaf is for. ip is non-nil
// for IP literals. Anything that is not a plausible DNS name or IP is
// refused, since it would end up in a signed certificate.
func normalizeHost(raw string) (key string, ip net.IP, err error) {
	if raw == "" {
		return "", nil, errors.New("invalid host: empty")
	}
	// Bound the work and the size of the error before looking closer;
	// brackets and a port add at most 8 bytes to a valid name.
	if len(raw) > maxHostLen+8 {
		return "", nil, fmt.Errorf("invalid host: %d bytes long (max %d)", len(raw), maxHostLen)
	}
	h, err := stripPort(raw)
	if err != nil {
		return "", nil, fmt.Errorf("invalid host %q: %w", raw, err)
	}
	if h == "" {
		return "", nil, fmt.Errorf("invalid host %q: empty name", raw)
	}

	if addr, err := parseIP(h); err == nil {
		if addr.Zone() != "" {
			return "", nil, fmt.Errorf("invalid host %q: IPv6 zone not allowed in a certificate", raw)
		}
		// ::ffff:1.2.3.4 and 1.2.3.4 are the same SAN once encoded.
		addr = addr.Unmap()
		return addr.String(), net.IP(addr.AsSlice()), nil
	}
	if strings.HasPrefix(raw, "[") {
		return "", nil, fmt.Errorf("invalid host %q: brackets around a non-IPv6 name", raw)
	}

	// A fully qualified name with its root dot is the same host.
	h = strings.TrimSuffix(h, ".")
	// "1.2.3.4." minted as a DNS SAN would never verify: verifiers read the
	// name as an IP and look only at IP SANs.
	if _, err := parseIP(h); err == nil {
		return "", nil, fmt.Errorf("invalid host %q: IP address with a trailing dot", raw)
	}
	if err := checkDNSName(h); err != nil {
		return "", nil, fmt.Errorf("invalid host %q: %w", raw, err)
	}
	return strings.ToLower(h), nil, nil
}

// parseIP skips netip.ParseAddr for names that cannot be IPs: its error
// allocates, and Get on a cached DNS name is the proxy's hot path.
func parseIP(h string) (netip.Addr, error) {
	if !strings.ContainsRune(h, ':') && strings.Trim(h, "0123456789.") != "" {
		return netip.Addr{}, errNotIP
	}
	return netip.ParseAddr(h)
}

var errNotIP = errors.New("not an IP address")

// stripPort removes a trailing :port. A bare IPv6 literal has colons but no
// port, so only a bracketed form or a single colon means host:port.
func stripPort(s string) (string, error) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", errors.New("missing ']'")
		}
		rest := s[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return "", errors.New("unexpected text after ']'")
			}
			if err := checkPort(rest[1:]); err != nil {
				return "", err
			}
		}
		return s[1:end], nil
	}
	switch strings.Count(s, ":") {
	case 0:
		return s, nil
	case 1:
		i := strings.IndexByte(s, ':')
		if err := checkPort(s[i+1:]); err != nil {
			return "", err
		}
		return s[:i], nil
	default:
		return s, nil // an IPv6 literal, or rejected as a DNS name later
	}
}

func checkPort(p string) error {
	if p == "" || len(p) > 5 {
		return fmt.Errorf("bad port %q", p)
	}
	n := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < '0' || c > '9' {
			return fmt.Errorf("bad port %q", p)
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return fmt.Errorf("bad port %q", p)
	}
	return nil
}

// checkDNSName accepts what crypto/x509's hostname verification accepts for
// a non-wildcard name: ASCII letters, digits, '-' (not leading a label) and
// '_' (outside the WebPKI rules but common in real deployments). A name
// that would never verify is refused rather than minted.
func checkDNSName(h string) error {
	if h == "" {
		return errors.New("empty name")
	}
	if len(h) > maxHostLen {
		return fmt.Errorf("name is %d bytes long (max %d)", len(h), maxHostLen)
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" {
			return errors.New("empty label")
		}
		if len(label) > 63 {
			return fmt.Errorf("label %d bytes long (max 63)", len(label))
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_':
			case c == '-' && i > 0:
			default:
				return fmt.Errorf("character %q not allowed in a host name", c)
			}
		}
	}
	return nil
}
