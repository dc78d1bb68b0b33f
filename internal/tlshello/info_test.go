package tlshello

import (
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// TestFromClientHelloInfo: the JA4 of a hello crypto/tls hands a server equals the JA4 of the
// same hello's bytes, as a capture reads them.
func TestFromClientHelloInfo(t *testing.T) {
	for _, c := range []struct {
		sni  string
		alpn []string
		max  uint16
	}{{"api.openai.com", []string{"h2", "http/1.1"}, 0}, {"", nil, 0}, {"api.anthropic.com", []string{"http/1.1"}, tls.VersionTLS12}} {
		c1, c2 := net.Pipe()
		rec := &recorder{Conn: c1}
		got := make(chan *ClientHello, 1)
		go func() {
			srv := tls.Server(c2, &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
				got <- FromClientHelloInfo(h)
				return nil, errStop
			}})
			_ = srv.Handshake()
			c2.Close()
		}()
		cl := tls.Client(rec, &tls.Config{ServerName: c.sni, NextProtos: c.alpn, MaxVersion: c.max, InsecureSkipVerify: true})
		_ = cl.SetDeadline(time.Now().Add(5 * time.Second))
		_ = cl.Handshake()
		c1.Close()
		info := <-got
		wire, err := ParseClientHello(rec.b)
		if err != nil {
			t.Fatalf("%q: %v", c.sni, err)
		}
		if a, b := JA4(info, 't'), JA4(wire, 't'); a != b {
			t.Errorf("%q: JA4 from ClientHelloInfo %s, from the bytes %s (raw %s / %s)", c.sni, a, b, JA4Raw(info, 't'), JA4Raw(wire, 't'))
		}
		if _, dup := wire.DuplicateExtension(); dup {
			t.Errorf("%q: crypto/tls sent a duplicate extension?", c.sni)
		}
	}
	dup := &ClientHello{Extensions: []uint16{0x0a0a, 0, 16, 0x0a0a, 16}}
	if e, ok := dup.DuplicateExtension(); !ok || e != 16 {
		t.Errorf("DuplicateExtension = %#x %v, want 0x10 (GREASE repeats are not duplicates)", e, ok)
	}
}

type stopErr struct{}

func (stopErr) Error() string { return "stop after the hello" }

var errStop = stopErr{}

type recorder struct {
	net.Conn
	b []byte
}

func (r *recorder) Write(p []byte) (int, error) {
	if len(r.b) < 1<<16 {
		r.b = append(r.b, p...)
	}
	return r.Conn.Write(p)
}
