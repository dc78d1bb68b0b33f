package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testCA is made once: leaf tests only need a CA, not the files.
var testCA = sync.OnceValue(func() *CA {
	ca, _, err := newCA(time.Now())
	if err != nil {
		panic(err)
	}
	return ca
})

func caPool(ca *CA) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

func verify(ca *CA, leaf *x509.Certificate, name string, at time.Time) error {
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:       caPool(ca),
		DNSName:     name,
		CurrentTime: at,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return err
}

func TestLeafVerifies(t *testing.T) {
	ca := testCA()
	tests := []struct {
		host      string
		name      string // what the leaf must be for
		ip        bool
		wrongName string // a name the leaf must not verify for
	}{
		{"example.com", "example.com", false, "www.example.com"},
		{"api.openai.com:443", "api.openai.com", false, "openai.com"},
		{"API.Anthropic.COM", "api.anthropic.com", false, "evil.anthropic.com"},
		{"example.com.", "example.com", false, "example.org"},
		{"localhost", "localhost", false, "127.0.0.1"},
		{"my_host.corp.example", "my_host.corp.example", false, "corp.example"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", false, "bucher.example"},
		{"127.0.0.1", "127.0.0.1", true, "127.0.0.2"},
		{"10.1.2.3:8443", "10.1.2.3", true, "localhost"},
		{"::1", "::1", true, "127.0.0.1"},
		{"[2001:db8::1]:443", "2001:db8::1", true, "2001:db8::2"},
		{"[::ffff:192.0.2.1]", "192.0.2.1", true, "192.0.2.2"},
	}
	l := NewLeaves(ca, LeafOptions{})
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			cert, err := l.Get(tt.host)
			if err != nil {
				t.Fatalf("Get(%q): %v", tt.host, err)
			}
			leaf := cert.Leaf
			if leaf == nil {
				t.Fatal("Leaf not set")
			}
			if len(cert.Certificate) != 2 || !bytes.Equal(cert.Certificate[0], leaf.Raw) || !bytes.Equal(cert.Certificate[1], ca.Cert.Raw) {
				t.Fatal("chain is not [leaf, CA]")
			}
			key, ok := cert.PrivateKey.(*ecdsa.PrivateKey)
			if !ok || key.Curve != elliptic.P256() || !key.PublicKey.Equal(leaf.PublicKey) {
				t.Errorf("private key %T is not the leaf's P-256 key", cert.PrivateKey)
			}
			if tt.ip {
				if len(leaf.IPAddresses) != 1 || leaf.IPAddresses[0].String() != tt.name || len(leaf.DNSNames) != 0 {
					t.Errorf("SANs: IP %v DNS %v, want exactly IP %s", leaf.IPAddresses, leaf.DNSNames, tt.name)
				}
			} else if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != tt.name || len(leaf.IPAddresses) != 0 {
				t.Errorf("SANs: DNS %v IP %v, want exactly DNS %s", leaf.DNSNames, leaf.IPAddresses, tt.name)
			}
			if leaf.Subject.CommonName != tt.name {
				t.Errorf("CN %q, want %q", leaf.Subject.CommonName, tt.name)
			}
			if leaf.IsCA || leaf.KeyUsage != x509.KeyUsageDigitalSignature ||
				len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
				t.Errorf("usage: IsCA %v KeyUsage %v ExtKeyUsage %v", leaf.IsCA, leaf.KeyUsage, leaf.ExtKeyUsage)
			}
			if !bytes.Equal(leaf.AuthorityKeyId, ca.Cert.SubjectKeyId) {
				t.Errorf("AKID %x, want the CA's SKID %x", leaf.AuthorityKeyId, ca.Cert.SubjectKeyId)
			}
			if err := verify(ca, leaf, tt.name, time.Now()); err != nil {
				t.Errorf("leaf does not verify for %s: %v", tt.name, err)
			}
			if err := verify(ca, leaf, tt.wrongName, time.Now()); err == nil {
				t.Errorf("leaf for %s verifies for %s", tt.name, tt.wrongName)
			}
			other, _, err := newCA(time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := verify(other, leaf, tt.name, time.Now()); err == nil {
				t.Error("leaf verifies against a different CA")
			}
		})
	}
}

// TestLeafTLSHandshake drives a real handshake over an in-memory pipe, the
// way the proxy will use the cache.
func TestLeafTLSHandshake(t *testing.T) {
	ca := testCA()
	l := NewLeaves(ca, LeafOptions{})
	for _, sni := range []string{"api.openai.com", "api.anthropic.com"} {
		t.Run(sni, func(t *testing.T) {
			clientConn, serverConn := net.Pipe()
			defer clientConn.Close()
			defer serverConn.Close()
			srv := tls.Server(serverConn, &tls.Config{
				GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
					return l.Get(h.ServerName)
				},
			})
			errc := make(chan error, 1)
			go func() {
				err := srv.Handshake()
				if err == nil {
					_, err = srv.Write([]byte("ok"))
				}
				errc <- err
			}()
			cli := tls.Client(clientConn, &tls.Config{ServerName: sni, RootCAs: caPool(ca)})
			if err := cli.Handshake(); err != nil {
				t.Fatalf("client handshake: %v", err)
			}
			buf := make([]byte, 2)
			if _, err := io.ReadFull(cli, buf); err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatalf("server: %v", err)
			}
			if got := cli.ConnectionState().PeerCertificates; len(got) != 2 || got[0].Subject.CommonName != sni {
				t.Errorf("client saw %d certificates", len(got))
			}
		})
	}
}

func TestLeafCacheHit(t *testing.T) {
	l := NewLeaves(testCA(), LeafOptions{})
	first, err := l.Get("api.openai.com")
	if err != nil {
		t.Fatal(err)
	}
	// Every spelling of the same host must hit the same entry.
	for _, h := range []string{"api.openai.com", "API.OPENAI.COM", "api.openai.com:443", "api.openai.com."} {
		got, err := l.Get(h)
		if err != nil {
			t.Fatalf("Get(%q): %v", h, err)
		}
		if got != first || got.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) != 0 {
			t.Errorf("Get(%q) returned a different certificate", h)
		}
	}
	if n := l.Minted(); n != 1 {
		t.Errorf("Minted() = %d, want 1", n)
	}
	second, err := l.Get("api.anthropic.com")
	if err != nil {
		t.Fatal(err)
	}
	if second == first || second.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) == 0 {
		t.Error("two hosts share a certificate or a serial")
	}
	if n := l.Minted(); n != 2 {
		t.Errorf("Minted() = %d, want 2", n)
	}
}

func TestLeafConcurrentFirstGetMintsOnce(t *testing.T) {
	const n = 50
	l := NewLeaves(testCA(), LeafOptions{})
	start := make(chan struct{})
	certs := make([]*tls.Certificate, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			certs[i], errs[i] = l.Get("new.example.com")
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Get %d: %v", i, errs[i])
		}
		if certs[i] != certs[0] {
			t.Fatalf("Get %d returned a different certificate", i)
		}
	}
	if got := l.Minted(); got != 1 {
		t.Errorf("Minted() = %d after %d concurrent first Gets, want 1", got, n)
	}
}

func TestLeafLRUEviction(t *testing.T) {
	l := NewLeaves(testCA(), LeafOptions{Size: 2})
	steps := []struct {
		host       string
		wantMinted int64
	}{
		{"a.example", 1},
		{"b.example", 2},
		{"a.example", 2}, // hit: a is now the most recently used
		{"c.example", 3}, // evicts b, the least recently used
		{"a.example", 3}, // still cached
		{"c.example", 3}, // still cached
		{"b.example", 4}, // was evicted: minted again, evicting a
		{"c.example", 4},
		{"a.example", 5},
	}
	for i, s := range steps {
		if _, err := l.Get(s.host); err != nil {
			t.Fatalf("step %d Get(%s): %v", i, s.host, err)
		}
		if got := l.Minted(); got != s.wantMinted {
			t.Fatalf("step %d Get(%s): Minted() = %d, want %d", i, s.host, got, s.wantMinted)
		}
	}
	if l.lru.Len() != 2 || len(l.items) != 2 {
		t.Errorf("cache holds %d list entries and %d map entries, want 2 and 2", l.lru.Len(), len(l.items))
	}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func TestLeafRenewal(t *testing.T) {
	const validity = 9 * 24 * time.Hour
	t0 := time.Now().Truncate(time.Second)
	clock := &fakeClock{t: t0}
	ca := testCA()
	l := NewLeaves(ca, LeafOptions{Validity: validity, Now: clock.Now})
	steps := []struct {
		at        time.Duration // since t0
		wantFresh bool          // a new leaf is minted
	}{
		{0, true},
		{validity / 2, false},
		{validity*2/3 - time.Minute, false},
		{validity*2/3 + time.Minute, true}, // less than a third left
		{validity, false},                  // the renewed leaf is young
		{validity*2/3 + validity*2/3 + 2*time.Minute, true},
		{10 * validity, true}, // long expired
	}
	var prev *tls.Certificate
	for i, s := range steps {
		clock.Set(t0.Add(s.at))
		cert, err := l.Get("renew.example")
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		fresh := cert != prev
		if fresh != s.wantFresh {
			t.Fatalf("step %d (t0+%v): new leaf = %v, want %v", i, s.at, fresh, s.wantFresh)
		}
		if fresh && prev != nil && !cert.Leaf.NotAfter.After(prev.Leaf.NotAfter) {
			t.Errorf("step %d: renewed NotAfter %v is not after %v", i, cert.Leaf.NotAfter, prev.Leaf.NotAfter)
		}
		now := clock.Now()
		if fresh {
			if !cert.Leaf.NotBefore.Equal(now.Add(-time.Hour)) || !cert.Leaf.NotAfter.Equal(now.Add(validity)) {
				t.Errorf("step %d: validity %v..%v, want now-1h..now+%v", i, cert.Leaf.NotBefore, cert.Leaf.NotAfter, validity)
			}
		}
		if err := verify(ca, cert.Leaf, "renew.example", now); err != nil {
			t.Errorf("step %d: leaf returned at t0+%v does not verify then: %v", i, s.at, err)
		}
		prev = cert
	}
}

func TestLeafCappedAtCAExpiry(t *testing.T) {
	ca := testCA()
	clock := &fakeClock{t: ca.Cert.NotAfter.Add(-24 * time.Hour)}
	l := NewLeaves(ca, LeafOptions{Now: clock.Now})
	cert, err := l.Get("late.example")
	if err != nil {
		t.Fatal(err)
	}
	if !cert.Leaf.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Errorf("leaf NotAfter %v, want capped at the CA's %v", cert.Leaf.NotAfter, ca.Cert.NotAfter)
	}
	clock.Set(ca.Cert.NotAfter.Add(time.Second))
	if _, err := l.Get("late.example"); err == nil || !strings.Contains(err.Error(), "CA expired") {
		t.Errorf("Get after the CA expired: err = %v, want CA expired", err)
	}
}

// flakySigner fails while fail is set, to show errors are not cached.
type flakySigner struct {
	crypto.Signer
	fail atomic.Bool
}

func (s *flakySigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.fail.Load() {
		return nil, errors.New("hsm unavailable")
	}
	return s.Signer.Sign(r, digest, opts)
}

func TestLeafErrorNotCached(t *testing.T) {
	base := testCA()
	signer := &flakySigner{Signer: base.Key}
	signer.fail.Store(true)
	l := NewLeaves(&CA{Cert: base.Cert, Key: signer, CertPEM: base.CertPEM}, LeafOptions{})

	const n = 10
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = l.Get("flaky.example")
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "hsm unavailable") {
			t.Fatalf("Get %d with a failing signer: err = %v", i, err)
		}
	}
	if l.Minted() != 0 {
		t.Fatalf("Minted() = %d with a failing signer", l.Minted())
	}
	signer.fail.Store(false)
	cert, err := l.Get("flaky.example")
	if err != nil {
		t.Fatalf("Get after the signer recovered: %v (error was cached)", err)
	}
	if cert == nil || l.Minted() != 1 {
		t.Errorf("cert %v, Minted() = %d, want a cert and 1", cert, l.Minted())
	}
}

// hostCases are valid and invalid hosts, shared by the table test and the
// fuzz seeds.
var (
	validHosts = []string{
		"example.com", "Example.COM:443", "example.com.", "localhost", "a", "1234",
		"my_host.example", "127.0.0.1", "::1", "[::1]", "[::1]:8443", "::ffff:10.0.0.1",
		strings.Repeat("a", 63) + ".com",
		strings.Repeat(strings.Repeat("a", 62)+".", 5)[:253],
	}
	invalidHosts = []string{
		"",
		" ",
		"exa mple.com",
		"example.com ",
		"a/b",
		"example.com/path",
		"a\x00b",
		"a\nb",
		"a..b",
		".example.com",
		"example.com..",
		".",
		"-example.com",
		"foo.-bar.com",
		"*.example.com",
		"user@example.com",
		"héllo.example",
		"example.com:",
		"example.com:https",
		"example.com:99999",
		"example.com:-1",
		":443",
		"a:b:c",
		"[::1",
		"[::1]x",
		"[::1]:",
		"[example.com]:443",
		"[]",
		"fe80::1%eth0",
		"[fe80::1%25eth0]:443",
		"256.1.1.1.1:1:1",
		"0.0.0.0.:0", // found by FuzzLeafHost: minted a DNS SAN no verifier accepts
		"127.0.0.1.",
		strings.Repeat("a", 64) + ".com",
		strings.Repeat(strings.Repeat("a", 62)+".", 5)[:254],
		strings.Repeat("a", 10000),
	}
)

func TestLeafInvalidHosts(t *testing.T) {
	l := NewLeaves(testCA(), LeafOptions{})
	for _, h := range invalidHosts {
		t.Run(fmt.Sprintf("%.40q", h), func(t *testing.T) {
			cert, err := l.Get(h)
			if err == nil {
				t.Fatalf("Get(%q) minted a leaf for %v %v", h, cert.Leaf.DNSNames, cert.Leaf.IPAddresses)
			}
			if !strings.HasPrefix(err.Error(), "invalid host") {
				t.Errorf("error %q does not start with \"invalid host\"", err)
			}
			if len(err.Error()) > 400 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
		})
	}
	if l.Minted() != 0 {
		t.Errorf("Minted() = %d after only invalid hosts", l.Minted())
	}
	for _, h := range validHosts {
		if _, err := l.Get(h); err != nil {
			t.Errorf("Get(%q): %v", h, err)
		}
	}
}

func FuzzLeafHost(f *testing.F) {
	for _, h := range validHosts {
		f.Add(h)
	}
	for _, h := range invalidHosts {
		f.Add(h)
	}
	// Small, so fuzzing exercises eviction and re-minting too.
	l := NewLeaves(testCA(), LeafOptions{Size: 8})
	f.Fuzz(func(t *testing.T, host string) {
		cert, err := l.Get(host)
		if err != nil {
			return
		}
		leaf := cert.Leaf
		if n := len(leaf.DNSNames) + len(leaf.IPAddresses); n != 1 {
			t.Fatalf("Get(%q): leaf has %d SANs, want 1", host, n)
		}
		// Whatever is minted must be usable: it verifies for its own name.
		if err := verify(testCA(), leaf, leaf.Subject.CommonName, time.Now()); err != nil {
			t.Fatalf("Get(%q): leaf for %q does not verify: %v", host, leaf.Subject.CommonName, err)
		}
	})
}

func BenchmarkLeafGetCached(b *testing.B) {
	l := NewLeaves(testCA(), LeafOptions{})
	if _, err := l.Get("api.openai.com"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Get("api.openai.com:443"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkLeafMint(b *testing.B) {
	l := NewLeaves(testCA(), LeafOptions{Size: 64})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := l.Get(fmt.Sprintf("h%d.example.com", i)); err != nil {
			b.Fatal(err)
		}
	}
}
