package clienthello_test

import (
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/customs-dev/customs/internal/golden"
	"github.com/customs-dev/customs/proxy/clienthello"
)

// goHello returns the first flight a crypto/tls client sends for cfg.
func goHello(t testing.TB, cfg *tls.Config) []byte {
	t.Helper()
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	go func() {
		c := tls.Client(client, cfg)
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_ = c.Handshake() // fails once the server side closes; only the hello matters
	}()
	var buf []byte
	tmp := make([]byte, 4096)
	_ = server.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, err := server.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if _, perr := clienthello.Parse(buf); !errors.Is(perr, clienthello.ErrNeedMore) || err != nil {
			return buf
		}
	}
}

// refragment rewrites a single-record hello as records of at most size bytes of handshake data,
// as a client may legally send it.
func refragment(stream []byte, size int) []byte {
	n := int(stream[3])<<8 | int(stream[4])
	msg := stream[5 : 5+n]
	var out []byte
	for len(msg) > 0 {
		k := min(size, len(msg))
		out = append(out, 22, 3, 1, byte(k>>8), byte(k))
		out = append(out, msg[:k]...)
		msg = msg[k:]
	}
	return out
}

func hexFixture(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func describe(h clienthello.Hello, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	vs := make([]string, len(h.Versions))
	for i, v := range h.Versions {
		vs[i] = fmt.Sprintf("%#04x", v)
	}
	return fmt.Sprintf("sni=%q alpn=%q ech=%v versions=%s", h.ServerName, h.ALPN, h.ECH, strings.Join(vs, ","))
}

// TestParse reads real hellos — Go's crypto/tls (with its post-quantum key share) and OpenSSL
// captured into testdata — whole, split across records and cut short.
func TestParse(t *testing.T) {
	cases := []struct {
		name   string
		stream func(t *testing.T) []byte
	}{
		{"go-sni-alpn", func(t *testing.T) []byte {
			return goHello(t, &tls.Config{ServerName: "api.openai.com", NextProtos: []string{"h2", "http/1.1"}})
		}},
		{"go-ip-no-sni", func(t *testing.T) []byte {
			return goHello(t, &tls.Config{ServerName: "104.18.7.192", InsecureSkipVerify: true})
		}},
		{"go-tls12-only", func(t *testing.T) []byte {
			return goHello(t, &tls.Config{ServerName: "api.anthropic.com", MaxVersion: tls.VersionTLS12})
		}},
		{"go-sni-split-in-7-byte-records", func(t *testing.T) []byte {
			return refragment(goHello(t, &tls.Config{ServerName: "generativelanguage.googleapis.com"}), 7)
		}},
		{"openssl-sni-alpn", func(t *testing.T) []byte { return hexFixture(t, "openssl-sni-alpn.hex") }},
		{"openssl-no-sni", func(t *testing.T) []byte { return hexFixture(t, "openssl-no-sni.hex") }},
		{"openssl-tls12-upper-case-trailing-dot", func(t *testing.T) []byte { return hexFixture(t, "openssl-tls12-upper.hex") }},
	}
	var out bytes.Buffer
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stream := c.stream(t)
			h, err := clienthello.Parse(stream)
			fmt.Fprintf(&out, "%s: %s\n", c.name, describe(h, err))
			// Every proper prefix is either "need more" or, once the message is whole, the
			// same answer: a proxy reading in arbitrary chunks decides the same way.
			for i := 0; i < len(stream); i++ {
				ph, perr := clienthello.Parse(stream[:i])
				if errors.Is(perr, clienthello.ErrNeedMore) {
					continue
				}
				if describe(ph, perr) != describe(h, err) {
					t.Fatalf("prefix %d/%d: %s, whole: %s", i, len(stream), describe(ph, perr), describe(h, err))
				}
			}
			// Bytes after the hello (a second flight, early data) change nothing.
			if th, terr := clienthello.Parse(append(stream[:len(stream):len(stream)], 23, 3, 3, 0, 1, 0)); describe(th, terr) != describe(h, err) {
				t.Fatalf("with trailing data: %s", describe(th, terr))
			}
		})
	}
	golden.Check(t, "testdata/parse.golden", out.Bytes())
}

// hello builds a minimal ClientHello record around the given extensions.
func hello(exts ...[]byte) []byte {
	var body []byte
	body = append(body, 3, 3)
	body = append(body, make([]byte, 32)...)
	body = append(body, 0)                // session id
	body = append(body, 0, 2, 0x13, 0x01) // one suite
	body = append(body, 1, 0)             // null compression
	var all []byte
	for _, e := range exts {
		all = append(all, e...)
	}
	body = append(body, byte(len(all)>>8), byte(len(all)))
	body = append(body, all...)
	msg := append([]byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{22, 3, 1, byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

func ext(typ int, data []byte) []byte {
	return append([]byte{byte(typ >> 8), byte(typ), byte(len(data) >> 8), byte(len(data))}, data...)
}

func sni(names ...string) []byte {
	var list []byte
	for _, n := range names {
		list = append(list, 0, byte(len(n)>>8), byte(len(n)))
		list = append(list, n...)
	}
	return ext(0, append([]byte{byte(len(list) >> 8), byte(len(list))}, list...))
}

// TestParseHostile: the hellos an attacker would craft to make the proxy pick a name the vendor
// will not see, or to make it buffer or crash.
func TestParseHostile(t *testing.T) {
	cases := []struct {
		name   string
		stream []byte
		want   string
	}{
		{"plain HTTP", []byte("GET / HTTP/1.1\r\nHost: api.openai.com\r\n\r\n"), "error: clienthello: not a TLS handshake"},
		{"two SNI extensions", hello(sni("example.com"), sni("api.openai.com")), "error: clienthello: extension 0 repeated"},
		{"two names in one SNI", hello(sni("example.com", "api.openai.com")), "error: clienthello: two host names in server_name"},
		{"NUL in name", hello(sni("api.openai.com\x00.example.com")), "error: clienthello: byte 0x0 in host name"},
		{"non-ASCII name", hello(sni("api.openai.com\u212a")), "error: clienthello: byte 0xe2 in host name"},
		{"empty name", hello(sni("")), "error: clienthello: empty host name in server_name"},
		{"SNI list longer than extension", hello(ext(0, []byte{0, 9, 0, 0, 3, 'a'})), "error: clienthello: malformed server_name"},
		{"ECH present", hello(sni("cloudflare-ech.com"), ext(0xfe0d, []byte{0})), `sni="cloudflare-ech.com" alpn=[] ech=true versions=0x0303`},
		{"no extensions", hello()[:len(hello())-2], "need more"},
		{"ServerHello type", func() []byte { b := hello(sni("a.example")); b[5] = 2; return b }(), "error: clienthello: handshake type 2, not a ClientHello"},
		{"record claims 64 KiB", []byte{22, 3, 1, 0xff, 0xff, 1}, "error: clienthello: record length 65535"},
		{"message claims 16 MiB", []byte{22, 3, 1, 0x40, 0x00, 1, 0xff, 0xff, 0xff}, "need more"},
		{"alert record", []byte{21, 3, 3, 0, 2, 2, 40}, "error: clienthello: not a TLS handshake"},
		{"SSLv2-style hello", []byte{0x80, 0x2e, 1, 3, 1}, "error: clienthello: not a TLS handshake"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, err := clienthello.Parse(c.stream)
			got := describe(h, err)
			if errors.Is(err, clienthello.ErrNeedMore) {
				got = "need more"
			}
			if got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}

// TestParseBounded: a hello that never ends is cut off at MaxSize, not buffered for ever.
func TestParseBounded(t *testing.T) {
	var stream []byte
	// A 16 MiB handshake message announced, then records of it, up to well past MaxSize.
	first := []byte{1, 0xff, 0xff, 0xff}
	first = append(first, make([]byte, 16000)...)
	stream = append(stream, 22, 3, 1, byte(len(first)>>8), byte(len(first)))
	stream = append(stream, first...)
	for len(stream) < 2*clienthello.MaxSize {
		stream = append(stream, 22, 3, 1, 0x3e, 0x80)
		stream = append(stream, make([]byte, 16000)...)
	}
	_, err := clienthello.Parse(stream)
	if err == nil || errors.Is(err, clienthello.ErrNeedMore) {
		t.Fatalf("err = %v, want a size error", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(hello(sni("api.openai.com"), ext(16, []byte{0, 3, 2, 'h', '2'})))
	f.Add(refragment(hello(sni("api.openai.com")), 3))
	f.Add([]byte("CONNECT x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := clienthello.Parse(b)
		if err != nil {
			return
		}
		if strings.ContainsAny(h.ServerName, "\x00 \r\n") || len(h.ServerName) > len(b) {
			t.Fatalf("server name %q", h.ServerName)
		}
		// A hello parsed from b parses the same with more bytes after it.
		h2, err := clienthello.Parse(append(b[:len(b):len(b)], 0, 0, 0))
		if err != nil || describe(h2, nil) != describe(h, nil) {
			t.Fatalf("trailing bytes changed the answer: %s vs %s (%v)", describe(h2, err), describe(h, nil), err)
		}
	})
}
