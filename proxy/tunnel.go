package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elazarl/goproxy"

	"github.com/customs-dev/customs/flow"
)

// handleConnect decides, per CONNECT, between opening the TLS session (intercept) and passing the
// bytes through untouched (tunnel).
func (s *Server) handleConnect(authority string, ctx *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
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
		s.opts.Recorder.Record(f)
		return goproxy.RejectConnect, authority
	}
	target := net.JoinHostPort(host, port)
	ctx.UserData = info
	if s.isDraining() {
		ctx.Resp = textResponse(ctx.Req, http.StatusServiceUnavailable, "customs: shutting down")
		return goproxy.RejectConnect, target
	}
	if s.opts.Scope.Opens(host) {
		info.connectHost = host
		return &goproxy.ConnectAction{Action: goproxy.ConnectMitm, TLSConfig: s.leafConfig(host)}, target
	}
	return &goproxy.ConnectAction{Action: goproxy.ConnectHijack, Hijack: func(r *http.Request, client net.Conn, _ *goproxy.ProxyCtx) {
		s.tunnel(r, client, info, host, target)
	}}, target
}

// leafConfig serves the client a leaf for exactly the CONNECT host. The host name, not the SNI, is
// what customs checked against its scope, so it is also what the certificate names.
func (s *Server) leafConfig(host string) func(string, *goproxy.ProxyCtx) (*tls.Config, error) {
	// The server's ALPN order decides (crypto/tls picks the first of its own protocols the client
	// offers), so h2 goes first when it is on.
	protos := []string{"http/1.1"}
	if s.opts.HTTP2 {
		protos = []string{"h2", "http/1.1"}
	}
	return func(string, *goproxy.ProxyCtx) (*tls.Config, error) {
		return &tls.Config{
			MinVersion: tls.VersionTLS12,
			NextProtos: protos,
			GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
				return s.opts.Leaves.Get(host)
			},
		}, nil
	}
}

// tunnel relays a CONNECT it does not open, counting bytes for the metadata-only flow.
func (s *Server) tunnel(r *http.Request, client net.Conn, info *connInfo, host, target string) {
	// A tunnel is not counted as in flight: customs cannot see whether a request is under way
	// inside it, and idle pooled tunnels would otherwise hold every shutdown for the whole drain.
	// Shutdown closes tunnels after the requests it can see have finished.
	defer client.Close()
	f := s.newFlow(r, info, flow.Tunnelled)
	f.Host = host
	s.opts.Pipeline.Classify(f)
	defer func() {
		f.End = time.Now()
		s.opts.Recorder.Record(f)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), s.opts.DialTimeout)
	upstream, err := s.dialer.DialContext(ctx, "tcp", target)
	cancel()
	if err != nil {
		kind, msg := classifyUpstreamError(host, err)
		f.Status, f.Error, f.ErrorKind = http.StatusBadGateway, msg, kind
		_ = textResponse(r, http.StatusBadGateway, msg).Write(client)
		return
	}
	defer upstream.Close()
	if _, err := io.WriteString(client, connectResponseLine(r)); err != nil {
		f.Error, f.ErrorKind = "client: "+err.Error(), "client"
		return
	}
	f.Status = http.StatusOK
	var up, down atomic.Int64
	var wg sync.WaitGroup
	wg.Add(2)
	go relay(&wg, upstream, client, &up)
	go relay(&wg, client, upstream, &down)
	wg.Wait()
	f.RequestBytes, f.ResponseBytes = up.Load(), down.Load()
}

// relay copies src to dst, then half-closes dst so the other direction can finish its last bytes
// (a TLS close_notify, a final response) instead of being cut.
func relay(wg *sync.WaitGroup, dst, src net.Conn, n *atomic.Int64) {
	defer wg.Done()
	c, err := io.Copy(dst, src)
	n.Add(c)
	if hc, ok := dst.(interface{ CloseWrite() error }); ok && err == nil {
		_ = hc.CloseWrite()
		return
	}
	// An error on one side ends both: closing unblocks the other copy.
	_ = dst.Close()
	_ = src.Close()
}

func connectResponseLine(r *http.Request) string {
	major, minor := r.ProtoMajor, r.ProtoMinor
	if major == 0 {
		major, minor = 1, 1
	}
	return fmt.Sprintf("HTTP/%d.%d 200 Connection established\r\n\r\n", major, minor)
}

// classifyUpstreamError turns a dial, TLS or round-trip error into a kind for metrics and a
// message that tells the client what went wrong without exposing customs' internals.
func classifyUpstreamError(host string, err error) (kind, msg string) {
	var (
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalid     x509.CertificateInvalidError
		verify      *tls.CertificateVerificationError
		netErr      net.Error
		opErr       *net.OpError
	)
	switch {
	case errors.As(err, &verify), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalid):
		return "tls", fmt.Sprintf("customs: upstream %s presented a certificate customs does not trust: %v", host, rootCause(err))
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout", fmt.Sprintf("customs: upstream %s timed out: %v", host, rootCause(err))
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "dial", fmt.Sprintf("customs: cannot connect to upstream %s: %v", host, rootCause(err))
	default:
		return "upstream", fmt.Sprintf("customs: upstream %s failed: %v", host, rootCause(err))
	}
}

// rootCause drops the url.Error wrapping ("Post \"https://...\": ") that repeats the URL, which
// may carry query-string secrets.
func rootCause(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		if _, isURL := err.(*url.Error); !isURL {
			return err
		}
		err = u.Unwrap()
	}
}
