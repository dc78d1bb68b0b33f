package proxy_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/proxy"
	"github.com/customs-dev/customs/rules"
)

// connectRaw sends a CONNECT for target and returns the connection after a 200, or the status
// line when the proxy refused.
func connectRaw(t *testing.T, w *world, target string) (net.Conn, *bufio.Reader) {
	t.Helper()
	raw, err := net.DialTimeout("tcp", w.proxyURL.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	_ = raw.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(raw, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(raw)
	line, err := br.ReadString('\n')
	if err != nil || !strings.Contains(line, " 200 ") {
		t.Fatalf("CONNECT %s answer %q: %v", target, line, err)
	}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if l == "\r\n" {
			return raw, br
		}
	}
}

// bufConn reads through the bufio.Reader that consumed the CONNECT answer.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// tlsThrough opens TLS with the given SNI ("" for none) inside a CONNECT to target, trusting both
// the customs CA and the fake vendor's.
func tlsThrough(t *testing.T, w *world, target, sni string, verifyName string) (*tls.Conn, error) {
	t.Helper()
	raw, br := connectRaw(t, w, target)
	pool := x509.NewCertPool()
	pool.AddCert(w.customsCA.Cert)
	pool.AddCert(w.upCA.Cert)
	cfg := &tls.Config{ServerName: sni, RootCAs: pool, NextProtos: []string{"http/1.1"}}
	if sni == "" {
		// crypto/tls sends no SNI for an IP ServerName; the name checked is given separately.
		cfg.ServerName = "192.0.2.1"
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if verifyName == "" {
				return nil
			}
			return cs.PeerCertificates[0].VerifyHostname(verifyName)
		}
	}
	conn := tls.Client(bufConn{raw, br}, cfg)
	return conn, conn.Handshake()
}

func roundTrip(t *testing.T, conn io.ReadWriter, req string) (*http.Response, string) {
	t.Helper()
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// TestScopeBySNI: what decides interception is what the client's TLS talks to, not only the
// CONNECT line. Each case is a way an attacker tried to reach a vendor unseen.
func TestScopeBySNI(t *testing.T) {
	const secret = "planted-secret-0c1d2e3f"
	w := newWorld(t, worldOptions{mutate: func(o *proxy.Options) {
		o.PeekTimeout = 500 * time.Millisecond
		o.AllowPorts = []int{443, 80} // the cleartext case CONNECTs to port 80
	}})
	cases := []struct {
		name, target, sni, host string
		wantMode                flow.Mode
		wantHost, wantVendor    string
		wantMarks               []flow.Mark
	}{
		{"vendor IP, vendor SNI", "104.18.7.192:443", "api.openai.com", "api.openai.com",
			flow.Intercepted, "api.openai.com", "openai", []flow.Mark{flow.MarkIPTarget, flow.MarkSNIMismatch}},
		{"IPv4-mapped IPv6, vendor SNI", "[::ffff:104.18.7.192]:443", "api.openai.com", "api.openai.com",
			flow.Intercepted, "api.openai.com", "openai", []flow.Mark{flow.MarkIPTarget, flow.MarkSNIMismatch}},
		{"IPv6, vendor SNI upper-case with trailing dot", "[2001:db8::7]:443", "API.Anthropic.com.", "api.anthropic.com",
			flow.Intercepted, "api.anthropic.com", "anthropic", []flow.Mark{flow.MarkIPTarget, flow.MarkSNIMismatch}},
		{"unrelated name, vendor SNI", "notvendor.test:443", "api.openai.com", "api.openai.com",
			flow.Intercepted, "api.openai.com", "openai", []flow.Mark{flow.MarkSNIMismatch}},
		{"vendor name, unrelated SNI (fronting the other way)", "api.openai.com:443", "notvendor.test", "notvendor.test",
			flow.Intercepted, "notvendor.test", "", []flow.Mark{flow.MarkSNIMismatch}},
		{"vendor name, same SNI", "api.openai.com:443", "api.openai.com", "api.openai.com",
			flow.Intercepted, "api.openai.com", "openai", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn, err := tlsThrough(t, w, c.target, c.sni, "")
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			if got := conn.ConnectionState().PeerCertificates[0]; !issuedBy(got, w.customsCA.Cert) || got.VerifyHostname(c.wantHost) != nil {
				t.Fatalf("leaf for %v issued by %s: the tunnel was not opened for %s", got.DNSNames, got.Issuer, c.wantHost)
			}
			resp, body := roundTrip(t, conn, "POST /echo HTTP/1.1\r\nHost: "+c.host+"\r\nContent-Length: 23\r\n\r\n"+secret)
			if resp.StatusCode != 200 || body != secret {
				t.Fatalf("status %d body %q", resp.StatusCode, body)
			}
			f := w.nextFlow()
			if f.Mode != c.wantMode || f.Host != c.wantHost || f.Vendor.ID != c.wantVendor || string(f.RequestBody) != secret {
				t.Fatalf("flow mode %s host %q vendor %q body %q", f.Mode, f.Host, f.Vendor.ID, f.RequestBody)
			}
			if !slices.Equal(f.Marks, c.wantMarks) || f.Target == "" || f.SNI != c.wantHost {
				t.Fatalf("flow marks %v target %q sni %q", f.Marks, f.Target, f.SNI)
			}
			// The client's TLS stack is fingerprinted whether its hello was peeked (an IP
			// target) or read by the handshake (a vendor name): Go's TLS 1.3, SNI, http/1.1.
			if !strings.HasPrefix(f.JA4, "t13d") || !strings.Contains(f.JA4, "h1_") {
				t.Fatalf("flow JA4 %q", f.JA4)
			}
			conn.Close()
		})
	}

	t.Run("IP without SNI is tunnelled and marked", func(t *testing.T) {
		conn, err := tlsThrough(t, w, "192.0.2.9:443", "", "")
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		// No SNI: the fake vendor answers with httptest's own certificate.
		if got := conn.ConnectionState().PeerCertificates[0]; issuedBy(got, w.customsCA.Cert) {
			t.Fatalf("an IP target without SNI was opened (leaf %v %v by %s); want it tunnelled to the upstream's own certificate", got.DNSNames, got.IPAddresses, got.Issuer)
		}
		conn.Close()
		f := w.nextFlow()
		if f.Mode != flow.Tunnelled || f.Host != "192.0.2.9" || !slices.Equal(f.Marks, []flow.Mark{flow.MarkIPTarget, flow.MarkNoSNI}) {
			t.Fatalf("flow mode %s host %q marks %v", f.Mode, f.Host, f.Marks)
		}
	})
	t.Run("plain HTTP inside a CONNECT is opened and held to the CONNECT host", func(t *testing.T) {
		raw, br := connectRaw(t, w, "192.0.2.10:80")
		resp, body := roundTrip(t, bufConn{raw, br}, "POST /echo HTTP/1.1\r\nHost: api.openai.com\r\nContent-Length: 23\r\n\r\n"+secret)
		if resp.StatusCode != http.StatusMisdirectedRequest {
			t.Fatalf("status %d body %q", resp.StatusCode, body)
		}
		if f := w.nextFlow(); f.Host != "api.openai.com" || f.ErrorKind != "client" {
			t.Fatalf("flow host %q error kind %q", f.Host, f.ErrorKind)
		}
	})
	t.Run("a silent client on 443 is closed, not tunnelled", func(t *testing.T) {
		raw, br := connectRaw(t, w, "notvendor.test:443")
		_ = raw.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
			t.Fatalf("read after silence: %v, want EOF", err)
		}
		f := w.nextFlow()
		if f.Verdict.Action != flow.Block || f.Verdict.Policy != "client-silent" {
			t.Fatalf("verdict %+v", f.Verdict)
		}
	})
	t.Run("a malformed hello is refused with an alert", func(t *testing.T) {
		raw, br := connectRaw(t, w, "notvendor.test:443")
		_, _ = raw.Write([]byte{22, 3, 1, 0, 4, 1, 0, 0, 0})
		b, _ := io.ReadAll(br)
		if string(b) != "\x15\x03\x03\x00\x02\x02\x31" {
			t.Fatalf("answer %q, want an access_denied alert", b)
		}
		if f := w.nextFlow(); f.Verdict.Policy != "bad-client-hello" {
			t.Fatalf("verdict %+v", f.Verdict)
		}
	})
	if w.seen.saw(secret) {
		t.Log("(the echo cases above deliberately reach the upstream)")
	}
}

// TestPolicyRefusesTunnel: a tunnel is decided by the policies too, on what customs saw of it.
func TestPolicyRefusesTunnel(t *testing.T) {
	set, err := rules.Parse("refuse.yaml", []byte(`policies:
  - id: no-anonymous-ip
    when: '"no-sni" in flow.marks && "ip-target" in flow.marks'
    action: block
    message: TLS to a bare IP address without a server name is not allowed.
`))
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, worldOptions{rules: set})
	before := w.seen.count()
	_, err = tlsThrough(t, w, "192.0.2.9:443", "", "")
	if err == nil || !strings.Contains(err.Error(), "access denied") {
		t.Fatalf("handshake error %v, want access denied", err)
	}
	f := w.nextFlow()
	if f.Mode != flow.Tunnelled || f.Verdict.Action != flow.Block || f.Verdict.Policy != "no-anonymous-ip" {
		t.Fatalf("flow mode %s verdict %+v", f.Mode, f.Verdict)
	}
	if w.seen.count() != before {
		t.Fatal("the refused tunnel reached the upstream")
	}
}

// TestPlainHTTPToIPIsInspected: a plain-HTTP request to an address is read like a catalog host's.
func TestPlainHTTPToIPIsInspected(t *testing.T) {
	w := newWorld(t, worldOptions{})
	c := w.client(false)
	resp, err := c.Post("http://192.0.2.80/echo", "application/json", strings.NewReader(`{"prompt":"hello"}`))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	f := w.nextFlow()
	if f.Mode != flow.Plain || !f.HasMark(flow.MarkIPTarget) || string(f.RequestBody) != `{"prompt":"hello"}` || len(f.Segments) == 0 {
		t.Fatalf("flow mode %s marks %v body %q segments %d", f.Mode, f.Marks, f.RequestBody, len(f.Segments))
	}
}
