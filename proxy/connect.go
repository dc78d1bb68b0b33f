package proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/elazarl/goproxy"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/internal/tlshello"
)

// The scope rule. A CONNECT names a destination, but what the client's TLS authenticates — and
// what a vendor's front end routes on — is the server name in its ClientHello (SNI). So customs
// opens a tunnel when either names a host in scope:
//
//   - CONNECT host in scope: opened at once; the SNI is read during the handshake, and the leaf
//     names the SNI (so a client asking for another name through a vendor's CONNECT is still
//     opened and inspected, not refused by a certificate error, and marked sni-mismatch).
//   - otherwise the ClientHello is peeked before deciding: an SNI in scope opens the tunnel (a
//     CONNECT to a vendor's IP address, or to an unrelated name, with the vendor's SNI);
//     cleartext HTTP inside a CONNECT is always opened (reading it costs nothing, and its Host
//     must then match the CONNECT host); anything else is tunnelled byte for byte, recorded with
//     what was seen (ip-target, no-sni, sni-mismatch, ech, not-tls) for policies to judge.
//
// The name a flow records as its Host is the name the client's TLS authenticates: the SNI when
// there is one, else the CONNECT host. Upstream, an opened request goes to the CONNECT target and
// is verified against that name, so a client can pick the address but never an identity.

// connInfo is what customs knows about a proxy client connection; intercepted requests inherit it
// from their CONNECT.
type connInfo struct {
	addr string
	user string
	// run and command: the customs run tag of the client's proxy user name.
	run, command string
	// transparent: a firewall redirected the connection to customs (no CONNECT): the target
	// is the original destination, an address, and the SNI naming it is no mismatch.
	transparent bool

	connectHost string // the CONNECT target's host, normalised
	target      string // the CONNECT target, host:port
	// name is the host an opened tunnel was opened for: the SNI, else the CONNECT host. Requests
	// inside must be for it.
	name  string
	sni   string
	ja4   string // the client's JA4 fingerprint: which TLS stack it is
	marks []flow.Mark

	port string      // the CONNECT target's port: requests inside must be for it too
	tls  bool        // the opened tunnel carries TLS that customs terminated
	conn *clientConn // the opened tunnel's client side: its deadlines follow the requests
}

func (c *connInfo) mark(m flow.Mark) {
	for _, have := range c.marks {
		if have == m {
			return
		}
	}
	c.marks = append(c.marks, m)
}

// applyTo copies the connection's facts onto a flow.
func (c *connInfo) applyTo(f *flow.Flow) {
	f.Target, f.SNI, f.JA4 = c.target, c.sni, c.ja4
	for _, m := range c.marks {
		f.Mark(m)
	}
}

// dialAddr is where requests of an opened tunnel go: the CONNECT target when the client named an
// address other than the opened name (an IP), else "" for the URL's own host.
func (c *connInfo) dialAddr() string {
	if c.target == "" || c.connectHost == c.name {
		return ""
	}
	return c.target
}

type connInfoKey struct{}

// reentryKey marks a CONNECT handed back to goproxy after customs peeked at it and chose to open
// it.
type reentryKey struct{}

// handleConnect decides, per CONNECT, between opening the TLS session (intercept), peeking at it
// first, and passing the bytes through untouched (tunnel).
func (s *Server) handleConnect(authority string, ctx *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
	if info, ok := ctx.Req.Context().Value(reentryKey{}).(*connInfo); ok {
		// customs has opened the tunnel (see open): goproxy reads requests from the plaintext.
		// TLS inside it would be a second session inside the first; nothing needs that.
		ctx.UserData = info
		return &goproxy.ConnectAction{Action: goproxy.ConnectMitm, TLSConfig: func(string, *goproxy.ProxyCtx) (*tls.Config, error) {
			return nil, errors.New("customs: TLS inside an opened tunnel is not supported")
		}}, info.target
	}
	info, _ := ctx.Req.Context().Value(connInfoKey{}).(*connInfo)
	if info == nil {
		info = &connInfo{addr: ctx.Req.RemoteAddr}
	}
	host, port, err := ParseConnectTarget(authority)
	if err != nil {
		msg := "customs: bad CONNECT request: " + err.Error()
		ctx.Resp = textResponse(ctx.Req, http.StatusBadRequest, msg)
		f := s.newFlow(ctx.Req, info, flow.Tunnelled)
		f.Status, f.Error, f.ErrorKind, f.End = http.StatusBadRequest, msg, "client", time.Now()
		_ = s.record(f)
		return goproxy.RejectConnect, authority
	}
	target := net.JoinHostPort(host, port)
	info.connectHost, info.target, info.name, info.port = host, target, host, port
	if _, err := netip.ParseAddr(host); err == nil {
		info.mark(flow.MarkIPTarget)
	}
	ctx.UserData = info
	if s.isDraining() {
		ctx.Resp = textResponse(ctx.Req, http.StatusServiceUnavailable, "customs: shutting down")
		return goproxy.RejectConnect, target
	}
	if refusal := s.checkTarget(ctx.Req.Context(), host, port, true); refusal != nil {
		// Before the 200: the client reads why, and nothing was dialled.
		ctx.Resp = textResponse(ctx.Req, http.StatusForbidden, refusal.Error())
		s.recordRefusal(s.newFlow(ctx.Req, info, flow.Tunnelled), refusal)
		return goproxy.RejectConnect, target
	}
	if s.opts.Scope.Opens(host) {
		return &goproxy.ConnectAction{Action: goproxy.ConnectHijack, Hijack: func(r *http.Request, client net.Conn, _ *goproxy.ProxyCtx) {
			s.open(r, client, info, nil, false)
		}}, target
	}
	return &goproxy.ConnectAction{Action: goproxy.ConnectHijack, Hijack: func(r *http.Request, client net.Conn, _ *goproxy.ProxyCtx) {
		s.peekConnect(r, client, info, port, false)
	}}, target
}

// leafConfig serves the client a leaf for the name the tunnel is opened for: the SNI of its
// ClientHello when it sends a valid one, else the CONNECT host.
func (s *Server) leafConfig(info *connInfo) *tls.Config {
	// The server's ALPN order decides (crypto/tls picks the first of its own protocols the client
	// offers), so h2 goes first when it is on.
	protos := []string{"http/1.1"}
	if s.opts.HTTP2 {
		protos = []string{"h2", "http/1.1"}
	}
	base := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: protos}
	base.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		// Runs once per connection, before any request on it is read: the requests see
		// info as it is left here.
		if info.sni == "" {
			info.noteSNI(hello.ServerName)
		}
		if info.ja4 == "" {
			info.ja4 = tlshello.JA4(tlshello.FromClientHelloInfo(hello), 't')
		}
		cfg := base.Clone()
		cfg.GetConfigForClient = nil
		name := info.name
		cfg.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.opts.Leaves.Get(name) }
		return cfg, nil
	}
	return base
}

// noteSNI records a ClientHello's server name on the connection and makes it the opened name.
// An SNI that is not a valid host name (an IP literal, which RFC 6066 forbids, or junk) is
// ignored for naming and leaves the no-sni mark.
func (c *connInfo) noteSNI(raw string) {
	sni := normalizeHost(raw)
	if sni == "" {
		c.mark(flow.MarkNoSNI)
		return
	}
	if _, err := netip.ParseAddr(sni); err == nil || validHostname(sni) != nil {
		c.mark(flow.MarkNoSNI)
		return
	}
	c.sni = sni
	if sni != c.connectHost && !c.transparent {
		c.mark(flow.MarkSNIMismatch)
	}
	c.name = sni
}

// peekConnect answers a CONNECT whose host is out of scope, reads the client's first flight, and
// decides: open it (SNI in scope, or cleartext HTTP), or tunnel it with what was seen recorded.
//
// transparent: the connection was redirected to customs by a firewall, not sent by a CONNECT;
// nothing is answered before the client's own bytes, and failures close the connection.
func (s *Server) peekConnect(r *http.Request, client net.Conn, info *connInfo, port string, transparent bool) {
	// Dialling first keeps a tunnel's failure an HTTP answer (502) the client can read; if the
	// peek then opens the tunnel instead, the connection is simply closed unused.
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.DialTimeout)
	upstream, err := s.dialer.DialContext(ctx, "tcp", info.target)
	cancel()
	var refusal *DestinationError
	if errors.As(err, &refusal) {
		// The name resolved elsewhere at dial time than when it was checked (rebinding).
		defer client.Close()
		if !transparent {
			_ = textResponse(r, http.StatusForbidden, refusal.Error()).Write(client)
		}
		s.recordRefusal(s.newFlow(r, info, flow.Tunnelled), refusal)
		return
	}
	if err != nil {
		defer client.Close()
		f := s.newFlow(r, info, flow.Tunnelled)
		s.opts.Pipeline.Classify(f)
		kind, msg := classifyUpstreamError(f.Host, err)
		f.Status, f.Error, f.ErrorKind = http.StatusBadGateway, msg, kind
		if !transparent {
			_ = textResponse(r, http.StatusBadGateway, msg).Write(client)
		}
		f.End = time.Now()
		_ = s.record(f)
		return
	}
	if !transparent {
		if _, err := io.WriteString(client, connectResponseLine(r)); err != nil {
			_ = client.Close()
			_ = upstream.Close()
			return
		}
	}
	// On port 443 a client that says nothing within the peek timeout is closed: every TLS client
	// speaks first, so silence there is only a way to get a tunnel unseen (waiting, then sending
	// a vendor's ClientHello). On other ports the tunnel opens for server-first protocols; no
	// vendor API listens there.
	first, err := readFirstFlight(client, s.opts.PeekTimeout)
	var hello *tlshello.ClientHello
	var helloErr error
	if len(first) > 0 {
		hello, helloErr = tlshello.ParseClientHello(first)
		if helloErr == nil {
			if e, dup := hello.DuplicateExtension(); dup {
				helloErr = fmt.Errorf("client hello: extension %#04x twice", e)
			}
		}
	}
	switch {
	case len(first) == 0 && port == "443":
		_ = upstream.Close()
		s.refuseTunnel(r, client, info, "client-silent",
			fmt.Sprintf("customs: the client sent nothing within %s of its CONNECT (%v)", s.opts.PeekTimeout, err), false)
		return
	case len(first) == 0:
		// A server-first protocol on another port: nothing to peek at.
		info.mark(flow.MarkNotTLS)
	case helloErr == nil:
		if hello.ECH {
			info.mark(flow.MarkECH)
		}
		info.ja4 = tlshello.JA4(hello, 't')
		info.noteSNI(hello.SNI)
		if info.sni != "" && s.opts.Scope.Opens(info.sni) {
			_ = upstream.Close()
			s.open(r, client, info, first, true)
			return
		}
	case errors.Is(helloErr, tlshello.ErrNotTLS):
		if looksLikeHTTP(first) {
			// Cleartext HTTP through a CONNECT costs nothing to read: open it, and let the
			// request's Host be checked against the CONNECT host like any other.
			if transparent {
				// Redirected cleartext names its host only in the request: requests on this
				// connection must be for that one.
				if h := requestHost(first); h != "" {
					info.name = h
				}
			}
			_ = upstream.Close()
			s.open(r, client, info, first, true)
			return
		}
		info.mark(flow.MarkNotTLS)
	default:
		// A malformed or endless hello: the vendor would refuse it too, and there is no name to
		// judge it by.
		_ = upstream.Close()
		s.refuseTunnel(r, client, info, "bad-client-hello", "customs: "+helloErr.Error(), true)
		return
	}
	s.tunnel(r, client, upstream, info, first)
}

// readFirstFlight reads what a client sends first, until it holds a whole ClientHello, something
// that is not one, or tlshello.MaxMessageSize bytes.
func readFirstFlight(c net.Conn, timeout time.Duration) ([]byte, error) {
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	defer func() { _ = c.SetReadDeadline(time.Time{}) }()
	buf := make([]byte, 0, 2048)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, len(buf))...)[:len(buf)]
		}
		n, err := c.Read(buf[len(buf):min(cap(buf), tlshello.MaxMessageSize+1)])
		buf = buf[:len(buf)+n]
		if _, perr := tlshello.ParseClientHello(buf); !errors.Is(perr, tlshello.ErrNeedMore) {
			return buf, nil
		}
		if err != nil || len(buf) > tlshello.MaxMessageSize {
			return buf, err
		}
	}
}

// looksLikeHTTP reports whether a stream starts with an HTTP/1.x request line or the HTTP/2
// cleartext preface.
func looksLikeHTTP(b []byte) bool {
	sp := bytes.IndexByte(b, ' ')
	if sp <= 0 || sp > 16 {
		return false
	}
	for _, c := range b[:sp] {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// refuseTunnel closes a tunnel customs will not open, with a TLS alert when the client speaks
// TLS, and records it.
func (s *Server) refuseTunnel(r *http.Request, client net.Conn, info *connInfo, policy, msg string, tlsAlert bool) {
	defer client.Close()
	if tlsAlert {
		// alert(21), TLS 1.2 record version, fatal(2) access_denied(49): the client reports a
		// refusal instead of a truncated stream.
		_, _ = client.Write([]byte{21, 3, 3, 0, 2, 2, 49})
	}
	f := s.newFlow(r, info, flow.Tunnelled)
	s.opts.Pipeline.Classify(f)
	f.Status = http.StatusForbidden
	f.Verdict = flow.Verdict{Action: flow.Block, Policy: policy, Message: msg}
	f.End = time.Now()
	_ = s.record(f)
}
