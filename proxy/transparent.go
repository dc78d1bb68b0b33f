package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/customs-dev/customs/flow"
)

// ServeTransparent serves connections a firewall redirected to ln instead of sending them
// through a CONNECT: nftables/iptables REDIRECT (the original destination comes from the
// socket's SO_ORIGINAL_DST) or TPROXY (the socket's local address is the original destination).
// Each is decided like a CONNECT to its original destination: the ClientHello's server name
// opens it when in scope (same rules as the explicit proxy), cleartext HTTP is read, and
// everything else is tunnelled byte for byte to where the client was going.
//
// customs' own upstream connections must not be redirected back to it: the firewall rule
// excludes them by socket mark (Options.SocketMark) or by customs' user (owner match).
func (s *Server) ServeTransparent(ln net.Listener) error {
	self := ln.Addr()
	// Tracked like the explicit listener's: the connection limits apply, and Shutdown closes
	// what is left.
	tl := s.conns.listener(ln)
	for {
		c, err := tl.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.isDraining() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return err
		}
		go s.transparentConn(c, self)
	}
}

func (s *Server) transparentConn(c net.Conn, self net.Addr) {
	info := &connInfo{addr: c.RemoteAddr().String(), transparent: true}
	if s.opts.RunOf != nil {
		// A redirected client sends no proxy user name to carry a run tag in; the run of an
		// isolated command is known by its namespace's address.
		if ap, err := netip.ParseAddrPort(info.addr); err == nil {
			info.run, info.command = s.opts.RunOf(ap.Addr().Unmap())
		}
	}
	raw := c
	if tc, ok := c.(*trackedConn); ok {
		raw = tc.Conn
		if tc.refused != "" {
			// Over a connection limit: there is no HTTP to answer in; closed and recorded.
			r := (&http.Request{Method: http.MethodConnect, URL: &url.URL{}, RemoteAddr: info.addr, Header: http.Header{}}).WithContext(context.Background())
			s.refuseTunnel(r, c, info, tc.refused, "customs: too many connections ("+tc.refused+")", false)
			return
		}
	}
	dst, err := originalDst(raw)
	if err == nil && dst.String() == self.String() {
		err = errors.New("the connection was made to the transparent listener itself, not redirected to it")
	}
	if err != nil {
		s.opts.Logger.Warn().Str("component", "proxy").Str("client", info.addr).Err(err).Msg("transparent: no original destination")
		_ = c.Close()
		return
	}
	host, port := dst.Addr().Unmap().String(), strconv.Itoa(int(dst.Port()))
	target := net.JoinHostPort(host, port)
	info.connectHost, info.target, info.name, info.port = host, target, host, port
	ctx := context.WithValue(context.Background(), connInfoKey{}, info)
	r := (&http.Request{Method: http.MethodConnect, URL: &url.URL{Host: target}, Host: target, RemoteAddr: info.addr,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}}).WithContext(ctx)
	if !s.clientAllowed(info.addr) {
		s.refuseTunnel(r, c, info, "allow_clients", fmt.Sprintf("customs: client %s is not allowed (allow_clients)", hostOnly(info.addr)), false)
		return
	}
	if s.isDraining() {
		_ = c.Close()
		return
	}
	// The ports a transparent listener takes are those of plain HTTP and of the explicit
	// proxy's CONNECTs: 80 and allow_ports.
	if refusal := s.checkTarget(ctx, host, port, false); refusal != nil {
		_ = c.Close()
		s.recordRefusal(s.newFlow(r, info, flow.Tunnelled), refusal)
		return
	}
	s.peekConnect(r, c, info, port, true)
}

// requestHost is the Host header of the HTTP/1.x request that starts b, normalised; "".
func requestHost(b []byte) string {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(b)
	}
	for _, line := range strings.Split(string(b[:end]), "\r\n")[1:] {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), "host") {
			h := strings.TrimSpace(v)
			if hh, _, err := net.SplitHostPort(h); err == nil {
				h = hh
			}
			return normalizeHost(strings.Trim(h, "[]"))
		}
	}
	return ""
}

// addrPort is a net.Addr as an AddrPort ("" ports and zones aside).
func addrPort(a net.Addr) (netip.AddrPort, error) {
	return netip.ParseAddrPort(a.String())
}
