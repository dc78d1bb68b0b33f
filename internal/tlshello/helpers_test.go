package tlshello_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customs-dev/customs/internal/tlshello"
)

// fixture returns the bytes stored in testdata/name as hex. A missing file is generated and
// written first: crypto/tls randomises its hellos and a new Go release may change what it offers,
// so the golden values are computed from the stored bytes, not from a fresh handshake. Delete a
// file to capture it anew.
func fixture(t testing.TB, name string, generate func(t testing.TB) []byte) []byte {
	t.Helper()
	path := filepath.Join("testdata", name)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && generate != nil {
		b := generate(t)
		if err := os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
		return b
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// goClientHello returns the first flight a crypto/tls client writes for cfg.
func goClientHello(t testing.TB, cfg *tls.Config) []byte {
	t.Helper()
	client, server := net.Pipe()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := tls.Client(client, cfg)
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_ = c.Handshake() // fails once the server side closes; only the hello matters
	}()
	defer wg.Wait()
	defer client.Close()
	defer server.Close()
	var buf []byte
	tmp := make([]byte, 4096)
	_ = server.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		n, err := server.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if _, perr := tlshello.ParseClientHello(buf); !errors.Is(perr, tlshello.ErrNeedMore) {
			return buf
		}
		if err != nil {
			t.Fatalf("reading the client hello: %v", err)
		}
	}
}

// goQUICClientHello returns the CRYPTO stream data a crypto/tls QUIC client sends at the
// Initial level: the bare ClientHello message.
func goQUICClientHello(t testing.TB, cfg *tls.Config) []byte {
	t.Helper()
	q := tls.QUICClient(&tls.QUICConfig{TLSConfig: cfg})
	defer q.Close()
	// Any transport parameters will do; these say initial_max_data = 0.
	q.SetTransportParameters([]byte{0x04, 0x01, 0x00})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var data []byte
	for e := q.NextEvent(); e.Kind != tls.QUICNoEvent; e = q.NextEvent() {
		if e.Kind == tls.QUICWriteData && e.Level == tls.QUICEncryptionLevelInitial {
			data = append(data, e.Data...)
		}
	}
	if len(data) == 0 {
		t.Fatal("the QUIC client wrote no Initial data")
	}
	return data
}

// recordingConn keeps what is read through it: the server's side of the handshake.
type recordingConn struct {
	net.Conn
	mu   sync.Mutex
	read []byte
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.read = append(c.read, p[:n]...)
	c.mu.Unlock()
	return n, err
}

// goServerFlight runs a crypto/tls handshake and returns the bytes the server sent.
func goServerFlight(t testing.TB, server, client *tls.Config) []byte {
	t.Helper()
	cconn, sconn := net.Pipe()
	deadline := time.Now().Add(10 * time.Second)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := tls.Server(sconn, server)
		_ = s.SetDeadline(deadline)
		_ = s.Handshake()
	}()
	rec := &recordingConn{Conn: cconn}
	c := tls.Client(rec, client)
	_ = c.SetDeadline(deadline)
	err := c.Handshake()
	cconn.Close()
	sconn.Close()
	wg.Wait()
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.read
}

// selfSigned makes a certificate for the given SANs and subject common name.
func selfSigned(t testing.TB, cn string, dnsNames ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     dnsNames,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// refragment rewrites the handshake records at the start of stream as records of at most size
// bytes, as a sender may legally split them; whatever follows the handshake records is kept.
func refragment(stream []byte, size int) []byte {
	var payload []byte
	off := 0
	for off+5 <= len(stream) && stream[off] == 22 {
		n := int(stream[off+3])<<8 | int(stream[off+4])
		payload = append(payload, stream[off+5:off+5+n]...)
		off += 5 + n
	}
	return append(records(payload, size), stream[off:]...)
}

// records wraps handshake bytes into records of at most size bytes.
func records(payload []byte, size int) []byte {
	var out []byte
	for len(payload) > 0 {
		k := min(size, len(payload))
		out = append(out, 22, 3, 1, byte(k>>8), byte(k))
		out = append(out, payload[:k]...)
		payload = payload[k:]
	}
	return out
}

// splitAt rewrites a one-record stream as two records, the first holding k bytes of the payload.
func splitAt(stream []byte, k int) []byte {
	n := int(stream[3])<<8 | int(stream[4])
	p := stream[5 : 5+n]
	out := append([]byte{22, 3, 1, byte(k >> 8), byte(k)}, p[:k]...)
	out = append(out, 22, 3, 1, byte((n-k)>>8), byte(n-k))
	return append(out, p[k:]...)
}

// ext is one extension of a built hello.
type ext struct {
	typ  uint16
	body []byte
}

// clientHelloMsg builds a ClientHello handshake message.
func clientHelloMsg(legacy uint16, suites []uint16, exts ...ext) []byte {
	body := []byte{byte(legacy >> 8), byte(legacy)}
	body = append(body, make([]byte, 32)...) // random
	body = append(body, 0)                   // session id
	n := 2 * len(suites)
	body = append(body, byte(n>>8), byte(n))
	for _, s := range suites {
		body = append(body, byte(s>>8), byte(s))
	}
	body = append(body, 1, 0) // null compression
	if exts != nil {
		var all []byte
		for _, e := range exts {
			all = append(all, byte(e.typ>>8), byte(e.typ), byte(len(e.body)>>8), byte(len(e.body)))
			all = append(all, e.body...)
		}
		body = append(body, byte(len(all)>>8), byte(len(all)))
		body = append(body, all...)
	}
	return handshake(1, body)
}

func handshake(typ byte, body []byte) []byte {
	return append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

func sniExt(names ...string) ext {
	var list []byte
	for _, n := range names {
		list = append(list, 0, byte(len(n)>>8), byte(len(n)))
		list = append(list, n...)
	}
	return ext{0, append([]byte{byte(len(list) >> 8), byte(len(list))}, list...)}
}

func alpnExt(protos ...string) ext {
	var list []byte
	for _, p := range protos {
		list = append(list, byte(len(p)))
		list = append(list, p...)
	}
	return ext{16, append([]byte{byte(len(list) >> 8), byte(len(list))}, list...)}
}

// listExt is an extension holding a vector of 16-bit values with a lenBytes-byte length.
func listExt(typ uint16, lenBytes int, vals ...uint16) ext {
	n := 2 * len(vals)
	var b []byte
	if lenBytes == 2 {
		b = append(b, byte(n>>8))
	}
	b = append(b, byte(n))
	for _, v := range vals {
		b = append(b, byte(v>>8), byte(v))
	}
	return ext{typ, b}
}

// describeClient renders what the package read from a hello, for golden files and comparisons.
func describeClient(ch *tlshello.ClientHello, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("sni=%q bad_sni=%v alpn=%q ech=%v legacy=%#04x versions=%s suites=%s exts=%s sigs=%s groups=%s msg=%d records=%d",
		ch.SNI, ch.BadSNI, ch.ALPN, ch.ECH, ch.LegacyVersion, hexList(ch.SupportedVersions), hexList(ch.CipherSuites),
		hexList(ch.Extensions), hexList(ch.SignatureAlgorithms), hexList(ch.SupportedGroups), ch.MessageLen, ch.Records)
}

func describeServer(sh *tlshello.ServerHello, err error) string {
	s := "<nil>"
	if sh != nil {
		s = fmt.Sprintf("version=%s legacy=%#04x suite=%#04x alpn=%q exts=%s hrr=%v names=%q",
			tlshello.VersionName(sh.Version), sh.LegacyVersion, sh.CipherSuite, sh.ALPN, hexList(sh.Extensions), sh.HelloRetryRequest, sh.CertNames)
	}
	if err != nil {
		s += " error: " + err.Error()
	}
	return s
}

func hexList(vs []uint16) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf("%04x", v)
	}
	return "[" + strings.Join(parts, ",") + "]"
}
