package proxy_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/proxy"
)

// TestProxyIsNotAPathIntoTheHost (issue 12): through the proxy, an allowed client reached the
// admin API's flow bodies, a local SSH port, localhost, 0.0.0.0 and the cloud metadata address.
// Each case asks for one of those, directly or by a name that resolves (or rebinds) to it, and
// must be refused with a 403 that names the rule — for CONNECT before the 200 — and recorded as
// a blocked flow; nothing may reach the listeners standing in for the admin API.
func TestProxyIsNotAPathIntoTheHost(t *testing.T) {
	admin := newCountingServer(t, "127.0.0.1:0") // the admin API on loopback
	anyAddr := newCountingServer(t, "0.0.0.0:0") // a listener on every address of this host
	dns := newRebindingDNS(t)
	w := newWorld(t, worldOptions{
		// Only the vendor goes to the fake by the operator's choice; every other name is the
		// client's to resolve.
		resolve: []string{"api.openai.com=UP"},
		mutate: func(o *proxy.Options) {
			o.DNS = dns.resolver()
			o.Scope.Intercept = hostSet(t, "rebind-opened.test", "rebind-ws.test")
			o.PeekTimeout = 2 * time.Second
			// Ports and loopback allowed, so that only the own-listener rule stands in the way.
			o.AllowPorts = []int{443, admin.port, anyAddr.port}
			o.AllowDestinations = []string{"127.0.0.0/8"}
		},
	})
	w.proxy.AddOwnListener(admin.ln.Addr())
	w.proxy.AddOwnListener(anyAddr.ln.Addr())
	strict := newWorld(t, worldOptions{resolve: []string{"api.openai.com=UP"}, mutate: func(o *proxy.Options) {
		o.DNS = dns.resolver()
		o.Scope.Intercept = hostSet(t, "rebind-opened.test", "rebind-ws.test")
	}})
	strict.proxy.AddOwnListener(admin.ln.Addr())
	local := nonLoopbackAddr(t)
	adminPort := fmt.Sprint(admin.port)

	cases := []struct {
		name   string
		w      *world
		do     func(t *testing.T, w *world) (int, string)
		policy string
		rule   string
	}{
		{"CONNECT to loopback", strict, connectTo("127.0.0.1:443"), "destination", "loopback"},
		{"CONNECT to IPv6 loopback", strict, connectTo("[::1]:443"), "destination", "loopback"},
		{"CONNECT to IPv4-mapped loopback", strict, connectTo("[::ffff:127.0.0.1]:443"), "destination", "loopback"},
		{"CONNECT to localhost", strict, connectTo("localhost:443"), "destination", "loopback"},
		{"CONNECT to 0.0.0.0", strict, connectTo("0.0.0.0:443"), "destination", "unspecified"},
		{"CONNECT to ::", strict, connectTo("[::]:443"), "destination", "unspecified"},
		{"CONNECT to the cloud metadata address", strict, connectTo("169.254.169.254:443"), "destination", "link-local"},
		{"CONNECT to an IPv6 link-local address", strict, connectTo("[fe80::1]:443"), "destination", "link-local"},
		{"CONNECT to SSH on loopback", strict, connectTo("127.0.0.1:22"), "port", "port 22"},
		{"CONNECT to SSH on a vendor's name", strict, connectTo("api.openai.com:22"), "port", "port 22"},
		{"CONNECT to the admin port", strict, connectTo("127.0.0.1:" + adminPort), "port", "port " + adminPort},
		{"plain HTTP to the admin API's flow bodies", strict, plainGet("http://127.0.0.1:" + adminPort + "/api/flows?bodies=1"), "port", "port " + adminPort},
		{"plain HTTP to loopback port 80", strict, plainGet("http://127.0.0.1/api/flows?bodies=1"), "destination", "loopback"},
		{"plain HTTP to localhost", strict, plainGet("http://localhost/"), "destination", "loopback"},
		{"plain HTTP to the metadata service", strict, plainGet("http://169.254.169.254/latest/meta-data/iam/"), "destination", "link-local"},
		{"plain HTTP to 0.0.0.0", strict, plainGet("http://0.0.0.0/"), "destination", "unspecified"},

		// Allowed ports and loopback: the own listeners are still refused.
		{"CONNECT to the admin listener, loopback allowed", w, connectTo("127.0.0.1:" + adminPort), "destination", "own listener"},
		{"plain HTTP to the admin API, loopback allowed", w, plainGet("http://localhost:" + adminPort + "/api/flows?bodies=1"), "destination", "own listener"},
		{"CONNECT to a listener on every address, by this host's address", w, connectTo(net.JoinHostPort(local, fmt.Sprint(anyAddr.port))), "destination", "own listener"},

		// DNS rebinding: the name resolves to a public address when it is checked, and to
		// 127.0.0.1 when customs dials it. The dial-time check refuses it, for every kind of dial.
		{"rebinding name, tunnel", strict, connectTo("rebind-tunnel.test:443"), "destination", "loopback"},
		{"rebinding name, plain HTTP", strict, plainGet("http://rebind-plain.test/"), "destination", "loopback"},
		{"rebinding name, opened tunnel's request", strict, func(t *testing.T, w *world) (int, string) {
			return requestInTLS(t, w, "rebind-opened.test", "GET / HTTP/1.1\r\nHost: rebind-opened.test\r\n\r\n")
		}, "destination", "loopback"},
		{"rebinding name, WebSocket upgrade", strict, func(t *testing.T, w *world) (int, string) {
			return requestInTLS(t, w, "rebind-ws.test", "GET /ws HTTP/1.1\r\nHost: rebind-ws.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
				"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
		}, "destination", "loopback"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := c.do(t, c.w)
			if status != http.StatusForbidden || !strings.Contains(body, c.rule) {
				t.Fatalf("status %d body %q, want 403 naming %q", status, body, c.rule)
			}
			f := c.w.nextFlow()
			if f.Verdict.Action != flow.Block || f.Verdict.Policy != c.policy || !strings.Contains(f.Verdict.Message, c.rule) || f.Status != http.StatusForbidden {
				t.Fatalf("flow status %d verdict %+v, want a block by %q naming %q", f.Status, f.Verdict, c.policy, c.rule)
			}
		})
	}
	if n := admin.hits.Load() + anyAddr.hits.Load(); n != 0 {
		t.Fatalf("the listeners standing for the admin API were reached %d times", n)
	}
	if dns.queries("rebind-tunnel.test") < 2 {
		t.Fatal("the rebinding name was resolved once: the test did not exercise the dial-time check")
	}
}

// TestAllowDestinations: what the operator allows is reached, loopback included.
func TestAllowDestinations(t *testing.T) {
	local := newCountingServer(t, "127.0.0.1:0")
	w := newWorld(t, worldOptions{mutate: func(o *proxy.Options) {
		o.Resolve = nil // no resolve rules: the client's own address is dialled
		o.AllowDestinations = []string{"127.0.0.1/32"}
		o.AllowPorts = []int{443, local.port}
	}})
	resp, err := w.client(false).Get(fmt.Sprintf("http://127.0.0.1:%d/allowed", local.port))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "local" {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
	if f := w.nextFlow(); f.Verdict.Action != flow.Allow {
		t.Fatalf("verdict %+v", f.Verdict)
	}
	target := fmt.Sprintf("127.0.0.1:%d", local.port)
	raw, br := connectRaw(t, w, target)
	resp2, got := roundTrip(t, bufConn{raw, br}, "GET /tunnelled HTTP/1.1\r\nHost: "+target+"\r\n\r\n")
	if resp2.StatusCode != 200 || got != "local" {
		t.Fatalf("through the tunnel: status %d body %q", resp2.StatusCode, got)
	}
	if local.hits.Load() != 2 {
		t.Fatalf("the allowed server saw %d requests, want 2", local.hits.Load())
	}
}

// connectTo sends a CONNECT and returns the status and body of the answer.
func connectTo(target string) func(t *testing.T, w *world) (int, string) {
	return func(t *testing.T, w *world) (int, string) {
		t.Helper()
		raw, err := net.DialTimeout("tcp", w.proxyURL.Host, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		_ = raw.SetDeadline(time.Now().Add(20 * time.Second))
		fmt.Fprintf(raw, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
		resp, err := http.ReadResponse(bufio.NewReader(raw), &http.Request{Method: http.MethodConnect})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
}

func plainGet(url string) func(t *testing.T, w *world) (int, string) {
	return func(t *testing.T, w *world) (int, string) {
		t.Helper()
		resp, err := w.client(false).Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
}

// requestInTLS opens host (in scope) through a CONNECT and sends one raw request inside.
func requestInTLS(t *testing.T, w *world, host, req string) (int, string) {
	t.Helper()
	raw, br := connectRaw(t, w, host+":443")
	pool := x509.NewCertPool()
	pool.AddCert(w.customsCA.Cert)
	conn := tls.Client(bufConn{raw, br}, &tls.Config{ServerName: host, RootCAs: pool, NextProtos: []string{"http/1.1"}})
	if err := conn.Handshake(); err != nil {
		t.Fatal(err)
	}
	resp, body := roundTrip(t, conn, req)
	return resp.StatusCode, body
}

// countingServer stands for something on this host a client must not reach through the proxy.
type countingServer struct {
	ln   net.Listener
	port int
	hits atomic.Int64
}

func newCountingServer(t *testing.T, addr string) *countingServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := &countingServer{ln: ln, port: ln.Addr().(*net.TCPAddr).Port}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		_, _ = io.WriteString(rw, "local")
	})}}
	srv.Start()
	t.Cleanup(srv.Close)
	return c
}

// nonLoopbackAddr is one of this host's own addresses that is not loopback.
func nonLoopbackAddr(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skip(err)
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && !p.Addr().IsLoopback() && p.Addr().Is4() {
			return p.Addr().String()
		}
	}
	t.Skip("no non-loopback IPv4 address on this host")
	return ""
}

// rebindingDNS is a DNS server on loopback that answers the first A query for a name with a
// public-looking address (TEST-NET-3) and every later one with 127.0.0.1: the DNS rebinding
// attack on a proxy that checks an address once and dials a name.
type rebindingDNS struct {
	conn net.PacketConn
	mu   sync.Mutex
	seen map[string]int
}

func newRebindingDNS(t *testing.T) *rebindingDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &rebindingDNS{conn: pc, seen: map[string]int{}}
	t.Cleanup(func() { pc.Close() })
	go d.serve()
	return d
}

func (d *rebindingDNS) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, "udp", d.conn.LocalAddr().String())
	}}
}

func (d *rebindingDNS) queries(name string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.seen[name]
}

func (d *rebindingDNS) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp := d.answer(buf[:n]); resp != nil {
			_, _ = d.conn.WriteTo(resp, from)
		}
	}
}

// answer builds the response to one query: the header, the question echoed, and for an A query
// one answer (AAAA queries get none).
func (d *rebindingDNS) answer(q []byte) []byte {
	if len(q) < 12 {
		return nil
	}
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	question := q[12 : i+5]
	name := strings.ToLower(strings.Join(labels, "."))
	ip := []byte{203, 0, 113, 7}
	answers := 0
	if qtype == 1 { // A
		d.mu.Lock()
		d.seen[name]++
		if d.seen[name] > 1 {
			ip = []byte{127, 0, 0, 1}
		}
		d.mu.Unlock()
		answers = 1
	}
	out := make([]byte, 0, 12+len(question)+16)
	out = append(out, q[0], q[1], 0x81, 0x80, 0, 1, 0, byte(answers), 0, 0, 0, 0)
	out = append(out, question...)
	if answers == 1 {
		out = append(out, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4)
		out = append(out, ip...)
	}
	return out
}

// TestRequestHeldToConnectPort: a request inside an opened tunnel names the CONNECT's port too;
// another port (Host: api.openai.com:22 inside a CONNECT to :443) would reach what the port rule
// refused.
func TestRequestHeldToConnectPort(t *testing.T) {
	w := newWorld(t, worldOptions{})
	status, body := requestInTLS(t, w, "api.openai.com", "GET /echo HTTP/1.1\r\nHost: api.openai.com:22\r\n\r\n")
	if status != http.StatusMisdirectedRequest || !strings.Contains(body, "port 22") {
		t.Fatalf("status %d body %q, want 421 naming port 22", status, body)
	}
	if f := w.nextFlow(); f.Status != http.StatusMisdirectedRequest {
		t.Fatalf("flow status %d", f.Status)
	}
	if w.seen.count() != 0 {
		t.Fatal("the request reached an upstream")
	}
}
