package tlshello_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/customs-dev/customs/internal/golden"
	"github.com/customs-dev/customs/internal/tlshello"
)

// clientCase is a ClientHello the tests read: a fresh one from crypto/tls (checked for what the
// Config asked), and the stored copy of it (checked against the golden file).
type clientCase struct {
	name string
	cfg  *tls.Config // nil: the fixture is not from crypto/tls (OpenSSL, captured elsewhere)
	quic bool        // a bare message from a QUIC client, not a record stream

	sni       string
	alpn      []string
	versions  []uint16
	ja4Prefix string // the parts of JA4's "a" that the Config decides
}

var clientCases = []clientCase{
	{name: "go-sni-alpn", cfg: &tls.Config{ServerName: "api.openai.com", NextProtos: []string{"h2", "http/1.1"}},
		sni: "api.openai.com", alpn: []string{"h2", "http/1.1"}, versions: []uint16{0x0304, 0x0303}, ja4Prefix: "t13d"},
	{name: "go-no-sni", cfg: &tls.Config{InsecureSkipVerify: true},
		versions: []uint16{0x0304, 0x0303}, ja4Prefix: "t13i"},
	{name: "go-ip-address", cfg: &tls.Config{ServerName: "104.18.7.192", InsecureSkipVerify: true},
		versions: []uint16{0x0304, 0x0303}, ja4Prefix: "t13i"},
	{name: "go-tls12-only", cfg: &tls.Config{ServerName: "api.anthropic.com", MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12},
		sni: "api.anthropic.com", versions: []uint16{0x0303}, ja4Prefix: "t12d"},
	{name: "go-tls13-only", cfg: &tls.Config{ServerName: "generativelanguage.googleapis.com", MinVersion: tls.VersionTLS13, NextProtos: []string{"h2"}},
		sni: "generativelanguage.googleapis.com", alpn: []string{"h2"}, versions: []uint16{0x0304}, ja4Prefix: "t13d"},
	{name: "go-many-alpn", cfg: &tls.Config{ServerName: "bedrock-runtime.us-east-1.amazonaws.com",
		NextProtos: []string{"http/1.1", "h2", "h3", "spdy/3.1", "grpc-exp", "acme-tls/1", "http/1.0", "stun.turn", "webrtc", "mqtt", "imap", "pop3"}},
		sni: "bedrock-runtime.us-east-1.amazonaws.com", alpn: []string{"http/1.1", "h2", "h3", "spdy/3.1", "grpc-exp", "acme-tls/1", "http/1.0", "stun.turn", "webrtc", "mqtt", "imap", "pop3"},
		versions: []uint16{0x0304, 0x0303}, ja4Prefix: "t13d"},
	{name: "go-odd-alpn", cfg: &tls.Config{ServerName: "Copilot-Proxy.GitHubUserContent.com.", NextProtos: []string{"-x+", "h2"}},
		sni: "copilot-proxy.githubusercontent.com", alpn: []string{"-x+", "h2"}, versions: []uint16{0x0304, 0x0303}, ja4Prefix: "t13d"},
	{name: "go-quic", quic: true, cfg: &tls.Config{ServerName: "api.openai.com", MinVersion: tls.VersionTLS13, NextProtos: []string{"h3"}},
		sni: "api.openai.com", alpn: []string{"h3"}, versions: []uint16{0x0304}, ja4Prefix: "q13d"},
	{name: "openssl-sni-alpn", sni: "api.openai.com", alpn: []string{"h2", "http/1.1"}, versions: []uint16{0x0304, 0x0303}, ja4Prefix: "t13d"},
	{name: "openssl-no-sni", versions: []uint16{0x0304, 0x0303}, ja4Prefix: "t13i"},
	{name: "openssl-tls12-upper", sni: "api.anthropic.com", versions: []uint16{0x0303}, ja4Prefix: "t12d"},
}

func (c clientCase) generate(t testing.TB) []byte {
	if c.quic {
		return goQUICClientHello(t, c.cfg)
	}
	return goClientHello(t, c.cfg)
}

func (c clientCase) parse(b []byte) (*tlshello.ClientHello, error) {
	if c.quic {
		return tlshello.ParseClientHelloMessage(b)
	}
	return tlshello.ParseClientHello(b)
}

func (c clientCase) transport() byte {
	if c.quic {
		return tlshello.TransportQUIC
	}
	return tlshello.TransportTCP
}

// check compares a parsed hello with what its Config asked for.
func (c clientCase) check(t *testing.T, ch *tlshello.ClientHello) {
	t.Helper()
	if ch.SNI != c.sni || ch.BadSNI {
		t.Errorf("SNI %q (bad %v), want %q", ch.SNI, ch.BadSNI, c.sni)
	}
	if !slices.Equal(ch.ALPN, c.alpn) {
		t.Errorf("ALPN %q, want %q", ch.ALPN, c.alpn)
	}
	if !slices.Equal(ch.SupportedVersions, c.versions) && !(len(c.versions) == 1 && ch.SupportedVersions == nil && ch.LegacyVersion == c.versions[0]) {
		t.Errorf("versions %s (legacy %#04x), want %s", hexList(ch.SupportedVersions), ch.LegacyVersion, hexList(c.versions))
	}
	if ja4 := tlshello.JA4(ch, c.transport()); !strings.HasPrefix(ja4, c.ja4Prefix) {
		t.Errorf("JA4 %s, want it to start %s", ja4, c.ja4Prefix)
	}
	if len(ch.CipherSuites) == 0 || len(ch.Extensions) == 0 {
		t.Errorf("no suites or no extensions: %s", describeClient(ch, nil))
	}
}

// TestParseClientHelloLive reads hellos crypto/tls writes now, whatever this Go release offers.
func TestParseClientHelloLive(t *testing.T) {
	for _, c := range clientCases {
		if c.cfg == nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			ch, err := c.parse(c.generate(t))
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, ch)
		})
	}
}

// TestClientHelloGolden reads the stored hellos and compares everything read from them, JA4
// included, with testdata/clienthello.golden.
func TestClientHelloGolden(t *testing.T) {
	var out bytes.Buffer
	for _, c := range clientCases {
		t.Run(c.name, func(t *testing.T) {
			var gen func(testing.TB) []byte
			if c.cfg != nil {
				gen = c.generate
			}
			b := fixture(t, "client/"+c.name+".hex", gen)
			ch, err := c.parse(b)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, ch)
			fmt.Fprintf(&out, "%s:\n  %s\n  ja4   %s\n  ja4_r %s\n", c.name, describeClient(ch, nil),
				tlshello.JA4(ch, c.transport()), tlshello.JA4Raw(ch, c.transport()))
		})
	}
	golden.Check(t, "testdata/clienthello.golden", out.Bytes())
}

// TestParseClientHelloFragments: a hello split across records, at every split point, parses the
// same as whole; every prefix of it is "need more"; bytes after it change nothing.
func TestParseClientHelloFragments(t *testing.T) {
	for _, name := range []string{"go-sni-alpn", "openssl-sni-alpn", "go-tls12-only"} {
		t.Run(name, func(t *testing.T) {
			stream := fixture(t, "client/"+name+".hex", nil)
			whole, err := tlshello.ParseClientHello(stream)
			if err != nil {
				t.Fatal(err)
			}
			want := describeClient(whole, nil)
			if whole.Records != 1 {
				t.Fatalf("records = %d", whole.Records)
			}
			n := len(stream) - 5
			for k := 1; k < n; k++ {
				got, err := tlshello.ParseClientHello(splitAt(stream, k))
				if err != nil {
					t.Fatalf("split at %d: %v", k, err)
				}
				if got.Records != 2 {
					t.Fatalf("split at %d: records = %d", k, got.Records)
				}
				got.Records = 1
				if d := describeClient(got, nil); d != want {
					t.Fatalf("split at %d:\n got %s\nwant %s", k, d, want)
				}
			}
			for _, split := range [][]byte{stream, splitAt(stream, 1), splitAt(stream, 4), splitAt(stream, n/2), splitAt(stream, n-1), refragment(stream, 7)} {
				for i := range len(split) {
					if ch, err := tlshello.ParseClientHello(split[:i]); !errors.Is(err, tlshello.ErrNeedMore) {
						t.Fatalf("prefix %d of %d: %s, want need more", i, len(split), describeClient(ch, err))
					}
				}
				trailing := append(slices.Clip(split), 23, 3, 3, 0, 1, 0)
				got, err := tlshello.ParseClientHello(trailing)
				if err != nil {
					t.Fatalf("with trailing bytes: %v", err)
				}
				got.Records = 1
				if d := describeClient(got, nil); d != want {
					t.Fatalf("with trailing bytes:\n got %s\nwant %s", d, want)
				}
			}
		})
	}
}

// TestParseClientHelloLarge: a post-quantum-sized hello that needs several 16 KiB records, and
// one past MaxMessageSize, refused as soon as its header says so.
func TestParseClientHelloLarge(t *testing.T) {
	big := clientHelloMsg(0x0303, []uint16{0x1301}, sniExt("api.openai.com"), ext{0x11ec, make([]byte, 40000)}, listExt(43, 1, 0x0304))
	ch, err := tlshello.ParseClientHello(records(big, 1<<14))
	if err != nil {
		t.Fatal(err)
	}
	if ch.Records != 3 || ch.SNI != "api.openai.com" || ch.MessageLen != len(big) {
		t.Fatalf("got %s", describeClient(ch, nil))
	}

	huge := clientHelloMsg(0x0303, []uint16{0x1301}, ext{0x11ec, make([]byte, 65000)}, ext{0x11ed, make([]byte, 1000)})
	stream := records(huge, 1<<14)
	if _, err := tlshello.ParseClientHello(stream[:20]); !errors.Is(err, tlshello.ErrTooLarge) {
		t.Fatalf("header only: %v, want ErrTooLarge", err)
	}
	if _, err := tlshello.ParseClientHelloMessage(huge[:4]); !errors.Is(err, tlshello.ErrTooLarge) {
		t.Fatalf("bare message: %v, want ErrTooLarge", err)
	}
}

// TestParseClientHelloErrors: what is not TLS, what is cut short and what is broken, each with
// the error that says so.
func TestParseClientHelloErrors(t *testing.T) {
	suites := []uint16{0x1301}
	good := clientHelloMsg(0x0303, suites, sniExt("example.com"))
	// An extension whose length runs past the block: built by hand, the builder would not.
	overrun := clientHelloMsg(0x0303, suites, ext{0x0017, []byte{1, 2, 3}})
	overrun[len(overrun)-5] = 0x20 // extension length 3 -> 0x2003
	withBody := func(mutate func(b []byte) []byte) []byte {
		return records(mutate(slices.Clone(good)), 1<<14)
	}
	cases := []struct {
		name   string
		stream []byte
		want   error
		text   string // a substring of the error
	}{
		{"empty", nil, tlshello.ErrNeedMore, ""},
		{"one byte", []byte{22}, tlshello.ErrNeedMore, ""},
		{"record header only", []byte{22, 3, 1, 0, 50}, tlshello.ErrNeedMore, ""},
		{"plain HTTP", []byte("GET / HTTP/1.1\r\nHost: api.openai.com\r\n\r\n"), tlshello.ErrNotTLS, "first byte 0x47"},
		{"SSH banner", []byte("SSH-2.0-OpenSSH_9.6\r\n"), tlshello.ErrNotTLS, ""},
		{"SSLv2-style hello", []byte{0x80, 0x2e, 1, 3, 1}, tlshello.ErrNotTLS, ""},
		{"0x16 then noise", []byte{22, 0x47, 0x45}, tlshello.ErrNotTLS, "record version 71.x"},
		{"unknown record minor version", []byte{22, 3, 9, 0, 4}, tlshello.ErrNotTLS, "record version 3.9"},
		{"alert record", []byte{21, 3, 3, 0, 2, 2, 40}, tlshello.ErrNotTLS, ""},
		{"empty record", []byte{22, 3, 1, 0, 0}, tlshello.ErrMalformed, "record length 0"},
		{"record longer than TLS allows", []byte{22, 3, 1, 0xff, 0xff, 1}, tlshello.ErrMalformed, "record length 65535"},
		{"server hello", withBody(func(b []byte) []byte { b[0] = 2; return b }), tlshello.ErrMalformed, "handshake message type 2, want 1"},
		{"change cipher spec inside the hello", append(records(good[:30], 100), 20, 3, 3, 0, 1, 1), tlshello.ErrMalformed, "record of type 20 at stream offset 35"},
		{"second record not TLS 1.x", append(records(good[:30], 100), 22, 2, 0, 0, 1, 1), tlshello.ErrMalformed, "record version 2.x at stream offset 35"},
		{"session id too long", records(func() []byte {
			b := clientHelloMsg(0x0303, suites, sniExt(strings.Repeat("a", 40)+".example"))
			b[38] = 33
			return b
		}(), 1<<14), tlshello.ErrMalformed, "legacy_session_id at offset 39: length 33"},
		{"odd cipher suites length", withBody(func(b []byte) []byte { b[40] = 1; return b }), tlshello.ErrMalformed, "cipher_suites at offset 41: odd length 1"},
		{"extension overruns its block", records(overrun, 1<<14), tlshello.ErrMalformed, "client hello: extension data at offset 51: needs 8195 bytes, 3 left"},
		{"SNI list longer than the extension", records(clientHelloMsg(0x0303, suites, ext{0, []byte{0, 9, 0, 0, 3, 'a'}}), 1<<14), tlshello.ErrMalformed, "server_name_list at offset 53: needs 9 bytes, 4 left"},
		{"trailing bytes in signature_algorithms", records(clientHelloMsg(0x0303, suites, ext{13, []byte{0, 2, 4, 3, 9}}), 1<<14), tlshello.ErrMalformed, "signature_algorithms at offset 55: 1 bytes after its end"},
		{"odd supported_groups", records(clientHelloMsg(0x0303, suites, ext{10, []byte{0, 3, 0, 29, 0}}), 1<<14), tlshello.ErrMalformed, "supported_groups at offset 53: odd length 3"},
		{"ALPN name past its list", records(clientHelloMsg(0x0303, suites, ext{16, []byte{0, 3, 5, 'h', '2'}}), 1<<14), tlshello.ErrMalformed, "protocol_name at offset"},
		{"bytes after the extension block", withBody(func(b []byte) []byte {
			b = append(b, 0xee)
			b[3]++
			return b
		}), tlshello.ErrMalformed, "extensions at offset 67: 1 bytes after its end"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch, err := tlshello.ParseClientHello(c.stream)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %s, want %v", describeClient(ch, err), c.want)
			}
			if ch != nil {
				t.Fatalf("a hello with an error: %s", describeClient(ch, nil))
			}
			if !strings.Contains(err.Error(), c.text) {
				t.Fatalf("error %q does not say %q", err, c.text)
			}
		})
	}
}

// TestClientHelloContent: how the values inside extensions are read.
func TestClientHelloContent(t *testing.T) {
	suites := []uint16{0x0a0a, 0x1301}
	cases := []struct {
		name string
		exts []ext
		want string
	}{
		{"no extension block at all", nil, `sni="" bad_sni=false alpn=[] ech=false`},
		{"upper case and trailing dot", []ext{sniExt("API.OpenAI.com.")}, `sni="api.openai.com" bad_sni=false`},
		{"IPv4 literal", []ext{sniExt("10.0.0.1")}, `sni="" bad_sni=true`},
		{"IPv6 literal", []ext{sniExt("::1")}, `sni="" bad_sni=true`},
		{"NUL inside", []ext{sniExt("api.openai.com\x00.evil.example")}, `sni="" bad_sni=true`},
		{"non-ASCII", []ext{sniExt("api.openai.com\u212a")}, `sni="" bad_sni=true`},
		{"empty name", []ext{sniExt("")}, `sni="" bad_sni=true`},
		{"empty extension", []ext{{0, nil}}, `sni="" bad_sni=true`},
		{"empty label", []ext{sniExt("api..openai.com")}, `sni="" bad_sni=true`},
		{"label of 64", []ext{sniExt(strings.Repeat("a", 64) + ".com")}, `sni="" bad_sni=true`},
		{"hyphen edge", []ext{sniExt("-api.openai.com")}, `sni="" bad_sni=true`},
		{"underscore", []ext{sniExt("my_host.internal.example")}, `sni="my_host.internal.example" bad_sni=false`},
		{"digits then name", []ext{sniExt("1password.com")}, `sni="1password.com" bad_sni=false`},
		{"two names: the first counts", []ext{sniExt("a.example", "b.example")}, `sni="a.example"`},
		{"two SNI extensions: the first counts", []ext{sniExt("a.example"), sniExt("b.example")}, `sni="a.example" bad_sni=false alpn=[] ech=false legacy=0x0303 versions=[] suites=[0a0a,1301] exts=[0000,0000]`},
		{"ECH", []ext{sniExt("public.example"), {0xfe0d, []byte{0}}}, `ech=true`},
		{"empty ALPN name kept", []ext{alpnExt("", "h2")}, `alpn=["" "h2"]`},
		{"empty ALPN list", []ext{{16, []byte{0, 0}}}, `alpn=[]`},
		{"GREASE kept in the lists", []ext{{0x1a1a, nil}, listExt(43, 1, 0x2a2a, 0x0304), listExt(13, 2, 0x3a3a, 0x0403), listExt(10, 2, 0x4a4a, 0x001d)},
			`versions=[2a2a,0304] suites=[0a0a,1301] exts=[1a1a,002b,000d,000a] sigs=[3a3a,0403] groups=[4a4a,001d]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := clientHelloMsg(0x0303, suites, c.exts...)
			ch, err := tlshello.ParseClientHelloMessage(msg)
			got := describeClient(ch, err)
			if !strings.Contains(got, c.want) {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
			// The lists are carved from one array; appending to one must not write into another.
			if err == nil && len(ch.CipherSuites) > 0 {
				before := describeClient(ch, nil)
				_ = append(ch.CipherSuites, 0xffff)
				_ = append(ch.Extensions, 0xffff)
				_ = append(ch.SignatureAlgorithms, 0xffff)
				if after := describeClient(ch, nil); after != before {
					t.Fatalf("append changed the hello:\n%s\n%s", before, after)
				}
			}
		})
	}
}

// TestParseClientHelloMessage: the bare message as QUIC carries it, whole and cut short.
func TestParseClientHelloMessage(t *testing.T) {
	msg := fixture(t, "client/go-quic.hex", nil)
	ch, err := tlshello.ParseClientHelloMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !ch.HasExtension(0x39) || ch.Records != 0 {
		t.Fatalf("no quic_transport_parameters or records set: %s", describeClient(ch, nil))
	}
	for i := range len(msg) {
		if _, err := tlshello.ParseClientHelloMessage(msg[:i]); !errors.Is(err, tlshello.ErrNeedMore) {
			t.Fatalf("prefix %d of %d: %v", i, len(msg), err)
		}
	}
	// The same message inside a record reads the same.
	rec, err := tlshello.ParseClientHello(records(msg, 1<<14))
	if err != nil {
		t.Fatal(err)
	}
	rec.Records = 0
	if describeClient(rec, nil) != describeClient(ch, nil) {
		t.Fatalf("record layer changed the hello:\n%s\n%s", describeClient(rec, nil), describeClient(ch, nil))
	}
	if _, err := tlshello.ParseClientHelloMessage([]byte("GET /")); !errors.Is(err, tlshello.ErrMalformed) {
		t.Fatalf("not a hello: %v", err)
	}
}
