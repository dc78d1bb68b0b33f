package capture

import (
	"errors"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/internal/tlshello"
)

// tlsState is what a TLS connection's handshake showed.
type tlsState struct {
	hello  *tlshello.ClientHello
	server *tlshello.ServerHello
	err    string // why the ClientHello could not be read ("" while it may still be)
}

// readTLS parses the handshake message of direction d once its bytes are complete, then keeps
// no more of that direction: after the handshake only the sizes count.
func (c *tcpConn) readTLS(d int) {
	b := c.head[d]
	if d == toServer {
		if c.tls.hello != nil {
			return
		}
		ch, err := tlshello.ParseClientHello(b)
		switch {
		case err == nil:
			c.tls.hello = ch
		case errors.Is(err, tlshello.ErrNeedMore):
			if len(b) < helloLimit {
				return
			}
			c.tls.err = "client-hello-too-large"
		case errors.Is(err, tlshello.ErrTooLarge):
			c.tls.err = "client-hello-too-large"
		case errors.Is(err, tlshello.ErrNotTLS):
			c.tls.err = "not-tls"
		default:
			c.tls.err = "client-hello-malformed"
		}
		c.stop(toServer)
		return
	}
	if c.tls.server != nil {
		return
	}
	sh, err := tlshello.ParseServerHello(b)
	switch {
	case err == nil:
		c.tls.server = sh
	case errors.Is(err, tlshello.ErrNeedMore) && len(b) < helloLimit:
		return
	}
	c.stop(toClient)
}

// describe copies what the handshake showed onto f.
func (t *tlsState) describe(f *flow.Flow) {
	if t.err == "not-tls" {
		f.Mark(flow.MarkNotTLS)
	}
	if t.hello != nil {
		helloOnto(f, t.hello, tlshello.TransportTCP)
	}
	if sh := t.server; sh != nil && !sh.HelloRetryRequest {
		f.TLSVersion = tlshello.VersionName(sh.Version)
		if sh.ALPN != "" {
			f.ALPN = sh.ALPN
		}
		if len(sh.CertNames) > 0 {
			f.Notes = append(f.Notes, "capture: server certificate names "+joinNames(sh.CertNames))
		}
	}
}

// helloOnto copies what a ClientHello says onto f: the server name, the client's first ALPN
// offer, its JA4 over transport, and ECH.
func helloOnto(f *flow.Flow, ch *tlshello.ClientHello, transport byte) {
	f.SNI = ch.SNI
	f.JA4 = tlshello.JA4(ch, transport)
	if len(ch.ALPN) > 0 {
		f.ALPN = ch.ALPN[0]
	}
	if ch.ECH {
		f.Mark(flow.MarkECH)
	}
}

func joinNames(ns []string) string {
	const most = 8
	out := ""
	for i, n := range ns {
		if i == most {
			return out + ", …"
		}
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}
