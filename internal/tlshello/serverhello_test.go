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

type serverCase struct {
	name           string
	server, client func(t testing.TB) *tls.Config

	version uint16
	alpn    string
	names   []string
}

func serverConfig(version uint16, cert tls.Certificate, protos ...string) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: version, MaxVersion: version, NextProtos: protos}
}

var serverCases = []serverCase{
	{
		name: "go-tls12",
		server: func(t testing.TB) *tls.Config {
			return serverConfig(tls.VersionTLS12, selfSigned(t, "OpenAI API", "api.openai.com"), "h2", "http/1.1")
		},
		client: func(testing.TB) *tls.Config {
			return &tls.Config{ServerName: "api.openai.com", InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}}
		},
		version: tls.VersionTLS12, alpn: "h2", names: []string{"api.openai.com"},
	},
	{
		name: "go-tls12-cn-only",
		server: func(t testing.TB) *tls.Config {
			return serverConfig(tls.VersionTLS12, selfSigned(t, "API.Anthropic.com"))
		},
		client: func(testing.TB) *tls.Config {
			return &tls.Config{ServerName: "api.anthropic.com", InsecureSkipVerify: true}
		},
		version: tls.VersionTLS12, names: []string{"api.anthropic.com"},
	},
	{
		name: "go-tls13",
		server: func(t testing.TB) *tls.Config {
			return serverConfig(tls.VersionTLS13, selfSigned(t, "", "api.openai.com"), "h2")
		},
		client: func(testing.TB) *tls.Config {
			return &tls.Config{ServerName: "api.openai.com", InsecureSkipVerify: true, NextProtos: []string{"h2"}}
		},
		// TLS 1.3 moves ALPN into the encrypted EncryptedExtensions: not visible.
		version: tls.VersionTLS13,
	},
}

func (c serverCase) generate(t testing.TB) []byte {
	return goServerFlight(t, c.server(t), c.client(t))
}

func (c serverCase) check(t *testing.T, sh *tlshello.ServerHello) {
	t.Helper()
	if sh.Version != c.version || sh.ALPN != c.alpn || !slices.Equal(sh.CertNames, c.names) {
		t.Errorf("got %s, want version %s, ALPN %q, names %q", describeServer(sh, nil), tlshello.VersionName(c.version), c.alpn, c.names)
	}
}

// TestParseServerHelloLive reads what crypto/tls servers send now.
func TestParseServerHelloLive(t *testing.T) {
	for _, c := range serverCases {
		t.Run(c.name, func(t *testing.T) {
			sh, err := tlshello.ParseServerHello(c.generate(t))
			if err != nil {
				t.Fatal(describeServer(sh, err))
			}
			c.check(t, sh)
		})
	}
}

// TestServerHelloGolden reads the stored server flights and compares them with the golden file.
func TestServerHelloGolden(t *testing.T) {
	var out bytes.Buffer
	for _, c := range serverCases {
		t.Run(c.name, func(t *testing.T) {
			sh, err := tlshello.ParseServerHello(fixture(t, "server/"+c.name+".hex", c.generate))
			if err != nil {
				t.Fatal(describeServer(sh, err))
			}
			c.check(t, sh)
			fmt.Fprintf(&out, "%s: %s\n", c.name, describeServer(sh, nil))
		})
	}
	golden.Check(t, "testdata/serverhello.golden", out.Bytes())
}

// TestParseServerHelloFragments: the TLS 1.2 flight cut into small records reads the same; every
// prefix is "need more", with the ServerHello already there once it is whole.
func TestParseServerHelloFragments(t *testing.T) {
	stream := fixture(t, "server/go-tls12.hex", nil)
	whole, err := tlshello.ParseServerHello(stream)
	if err != nil {
		t.Fatal(err)
	}
	want := describeServer(whole, nil)
	for _, size := range []int{1, 3, 7, 100, 1 << 14} {
		split := refragment(stream, size)
		sh, err := tlshello.ParseServerHello(split)
		if got := describeServer(sh, err); got != want {
			t.Fatalf("records of %d: %s, want %s", size, got, want)
		}
		partial := false
		for i := range len(split) {
			sh, err := tlshello.ParseServerHello(split[:i])
			if errors.Is(err, tlshello.ErrNeedMore) {
				if sh != nil {
					partial = true
					if sh.Version != whole.Version || sh.CipherSuite != whole.CipherSuite || sh.CertNames != nil {
						t.Fatalf("records of %d, prefix %d: partial %s", size, i, describeServer(sh, nil))
					}
				} else if partial {
					t.Fatalf("records of %d, prefix %d: no ServerHello after one was seen", size, i)
				}
				continue
			}
			if got := describeServer(sh, err); got != want {
				t.Fatalf("records of %d, prefix %d of %d: %s, want %s", size, i, len(split), got, want)
			}
		}
		if !partial {
			t.Fatalf("records of %d: the ServerHello never came alone", size)
		}
	}
}

// serverHelloMsg builds a ServerHello handshake message.
func serverHelloMsg(version, suite uint16, random []byte, exts ...ext) []byte {
	body := []byte{byte(version >> 8), byte(version)}
	if random == nil {
		random = make([]byte, 32)
	}
	body = append(body, random...)
	body = append(body, 0)
	body = append(body, byte(suite>>8), byte(suite), 0)
	if exts != nil {
		var all []byte
		for _, e := range exts {
			all = append(all, byte(e.typ>>8), byte(e.typ), byte(len(e.body)>>8), byte(len(e.body)))
			all = append(all, e.body...)
		}
		body = append(body, byte(len(all)>>8), byte(len(all)))
		body = append(body, all...)
	}
	return handshake(2, body)
}

func certificateMsg(certs ...[]byte) []byte {
	var list []byte
	for _, c := range certs {
		list = append(list, byte(len(c)>>16), byte(len(c)>>8), byte(len(c)))
		list = append(list, c...)
	}
	return handshake(11, append([]byte{byte(len(list) >> 16), byte(len(list) >> 8), byte(len(list))}, list...))
}

// TestParseServerHelloCases: flights crypto/tls does not produce on demand.
func TestParseServerHelloCases(t *testing.T) {
	hrr := []byte{0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
		0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c}
	tls12 := serverHelloMsg(0x0303, 0xc02f, nil, ext{0xff01, []byte{0}})
	leaf := selfSigned(t, "", "Chat.OpenAI.com", "*.openai.com").Certificate[0]
	done := handshake(14, nil)
	cases := []struct {
		name   string
		stream []byte
		want   string
		err    error
	}{
		{"HelloRetryRequest", records(serverHelloMsg(0x0303, 0x1301, hrr, ext{43, []byte{3, 4}}, ext{51, []byte{0, 0x1d}}), 1<<14),
			`version=TLS 1.3 legacy=0x0303 suite=0x1301 alpn="" exts=[002b,0033] hrr=true names=[]`, nil},
		{"TLS 1.2 resumption: ChangeCipherSpec, no certificate", append(records(tls12, 1<<14), 20, 3, 3, 0, 1, 1),
			`version=TLS 1.2 legacy=0x0303 suite=0xc02f alpn="" exts=[ff01] hrr=false names=[]`, nil},
		{"TLS 1.2 anonymous: ServerHelloDone, no certificate", records(append(slices.Clone(tls12), done...), 1<<14),
			`suite=0xc02f alpn="" exts=[ff01] hrr=false names=[]`, nil},
		{"TLS 1.2 several SANs, a chain, lower-cased", records(append(slices.Clone(tls12), certificateMsg(leaf, []byte("not parsed: only the leaf counts"))...), 1<<14),
			`names=["chat.openai.com" "*.openai.com"]`, nil},
		{"TLS 1.2 empty certificate list", records(append(slices.Clone(tls12), certificateMsg()...), 1<<14),
			`names=[]`, nil},
		{"TLS 1.2 ServerHello alone", records(tls12, 1<<14), `suite=0xc02f`, tlshello.ErrNeedMore},
		{"TLS 1.2 certificate not DER", records(append(slices.Clone(tls12), certificateMsg([]byte{0x30, 3, 1, 2, 3})...), 1<<14),
			`suite=0xc02f alpn="" exts=[ff01] hrr=false names=[] error: certificate: leaf at offset 10`, tlshello.ErrMalformed},
		{"TLS 1.2 certificate list overrun", records(append(slices.Clone(tls12), handshake(11, []byte{0, 0, 9, 0, 0, 1, 1})...), 1<<14),
			`error: certificate: certificate_list at offset 7: needs 9 bytes, 4 left`, tlshello.ErrMalformed},
		{"SSL 3.0, no extensions", records(append(serverHelloMsg(0x0300, 0x000a, nil), certificateMsg(leaf)...), 1<<14),
			`version=SSL 3.0 legacy=0x0300 suite=0x000a alpn="" exts=[] hrr=false names=["chat.openai.com" "*.openai.com"]`, nil},
		{"ALPN with two names", records(serverHelloMsg(0x0303, 0x1301, nil, ext{43, []byte{3, 4}}, alpnExt("h2", "h3")), 1<<14),
			`<nil> error: server hello: protocol_name_list at offset 59: 3 bytes after its end`, tlshello.ErrMalformed},
		{"supported_versions too long", records(serverHelloMsg(0x0303, 0x1301, nil, ext{43, []byte{3, 4, 0}}), 1<<14),
			`error: server hello: selected_version at offset 50: 1 bytes after its end`, tlshello.ErrMalformed},
		{"alert", []byte{21, 3, 3, 0, 2, 2, 40}, `<nil> error: server hello: tlshello: alert: level 2, description 40`, tlshello.ErrAlert},
		{"alert cut short", []byte{21, 3, 3, 0, 2, 2}, `<nil>`, tlshello.ErrNeedMore},
		{"plaintext HTTP answer", []byte("HTTP/1.1 400 Bad Request\r\n"), `<nil> error: server hello: first byte 0x48`, tlshello.ErrNotTLS},
		{"a ClientHello", records(clientHelloMsg(0x0303, []uint16{0x1301}), 1<<14), `<nil> error: server hello: handshake message type 1, want 2`, tlshello.ErrMalformed},
		{"certificate message too large", append(records(tls12, 1<<14), 22, 3, 3, 0, 4, 11, 1, 0, 0),
			`suite=0xc02f alpn="" exts=[ff01] hrr=false names=[] error: server hello: handshake message of 65540 bytes, limit 65536`, tlshello.ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sh, err := tlshello.ParseServerHello(c.stream)
			if !errors.Is(err, c.err) {
				t.Fatalf("error %v, want %v", err, c.err)
			}
			if got := describeServer(sh, err); !strings.Contains(got, c.want) {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestVersionName(t *testing.T) {
	for v, want := range map[uint16]string{
		0x0304: "TLS 1.3", 0x0303: "TLS 1.2", 0x0302: "TLS 1.1", 0x0301: "TLS 1.0", 0x0300: "SSL 3.0",
		0xfefd: "DTLS 1.2", 0x2a2a: "GREASE 0x2a2a", 0x7f17: "0x7f17", 0: "0x0000",
	} {
		if got := tlshello.VersionName(v); got != want {
			t.Errorf("VersionName(%#04x) = %q, want %q", v, got, want)
		}
	}
	grease := 0
	for v := range 1 << 16 {
		if tlshello.IsGREASE(uint16(v)) {
			grease++
			if v>>8 != v&0xff || v&0x0f != 0x0a {
				t.Errorf("IsGREASE(%#04x)", v)
			}
		}
	}
	if grease != 16 {
		t.Errorf("%d GREASE values, want 16", grease)
	}
}
