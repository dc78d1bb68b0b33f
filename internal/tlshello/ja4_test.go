package tlshello_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"github.com/customs-dev/customs/internal/tlshello"
)

// helloFromRaw builds a ClientHello from the fields of a published "JA4_ro" string (part a, then
// cipher suites and extensions in wire order, then signature algorithms), so that FoxIO's
// expected values check this package end to end, parser included. GREASE goes in everywhere a
// browser puts it, since the fingerprint must not see it.
func helloFromRaw(t *testing.T, ro string) *tlshello.ClientHello {
	t.Helper()
	parts := strings.Split(ro, "_")
	if len(parts) < 3 {
		t.Fatalf("raw fingerprint %q has no lists", ro)
	}
	a := parts[0]
	suites := append([]uint16{0x0a0a}, hexValues(t, parts[1])...)
	var sigs []uint16
	if len(parts) > 3 {
		sigs = hexValues(t, parts[3])
	}
	versions := map[string][]uint16{"13": {0x5a5a, 0x0304, 0x0303}, "12": {0x0303}}[a[1:3]]
	alpn := map[string]string{"h2": "h2", "h1": "http/1.1", "h3": "h3"}[a[8:10]]
	exts := []ext{{0x1a1a, nil}}
	for _, typ := range hexValues(t, parts[2]) {
		switch typ {
		case 0x0000:
			exts = append(exts, sniExt("example.com"))
		case 0x0010:
			exts = append(exts, alpnExt(alpn, "http/1.1"))
		case 0x000d:
			exts = append(exts, listExt(13, 2, append([]uint16{0x3a3a}, sigs...)...))
		case 0x002b:
			exts = append(exts, listExt(43, 1, versions...))
		default:
			exts = append(exts, ext{typ, nil})
		}
	}
	exts = append(exts, ext{0xfafa, []byte{0}})
	ch, err := tlshello.ParseClientHelloMessage(clientHelloMsg(0x0303, suites, exts...))
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func hexValues(t *testing.T, list string) []uint16 {
	t.Helper()
	var out []uint16
	for _, s := range strings.Split(list, ",") {
		if s == "" {
			continue
		}
		v, err := strconv.ParseUint(s, 16, 16)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, uint16(v))
	}
	return out
}

// TestJA4Published checks the fingerprints FoxIO publishes with their inputs: the example of
// technical_details/JA4.md (also the unit test of their Rust implementation) and pcap-derived
// values from python/test/testdata in github.com/FoxIO-LLC/ja4.
func TestJA4Published(t *testing.T) {
	cases := []struct {
		source, ro, ja4, r string
	}{
		{
			"JA4.md example",
			"t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015_0403,0804,0401,0503,0805,0501,0806,0601",
			"t13d1516h2_8daaf6152771_e5627efa2ab1",
			"t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601",
		},
		{
			"latest.pcapng stream 1 (Chrome, another extension order)",
			"t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_0023,ff01,0000,001b,0012,4469,002d,002b,000d,0010,0033,000a,0005,0017,000b,0015_0403,0804,0401,0503,0805,0501,0806,0601",
			"t13d1516h2_8daaf6152771_e5627efa2ab1",
			"t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601",
		},
		{
			"latest.pcapng stream 3 (TLS 1.2, no ALPN)",
			"t12d190800_c02c,c02b,c030,c02f,c024,c023,c028,c027,c00a,c009,c014,c013,009d,009c,003d,003c,0035,002f,000a_0000,0005,000a,000b,000d,0023,0017,ff01_0804,0805,0806,0401,0501,0201,0403,0503,0203,0202,0601,0603",
			"t12d190800_d83cc789557e_7af1ed941c26",
			"t12d190800_000a,002f,0035,003c,003d,009c,009d,c009,c00a,c013,c014,c023,c024,c027,c028,c02b,c02c,c02f,c030_0005,000a,000b,000d,0017,0023,ff01_0804,0805,0806,0401,0501,0201,0403,0503,0203,0202,0601,0603",
		},
		{
			"latest.pcapng stream 5 (resumption: pre_shared_key)",
			"t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_000d,0010,0000,000b,0023,4469,ff01,0033,000a,002d,002b,0005,0017,0012,001b,0029_0403,0804,0401,0503,0805,0501,0806,0601",
			"t13d1516h2_8daaf6152771_9b887d9acb53",
			"t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0017,001b,0023,0029,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601",
		},
		{
			"sigalg-grease.pcapng (Chrome with ECH and ML-DSA, GREASE among its signature algorithms)",
			"t13d1517h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_fe0d,0010,0017,0033,44cd,ff01,000a,000d,0023,002b,000b,ca34,002d,0000,0005,001b,0012_0904,0905,0906,0403,0804,0401,0503,0805,0501,0806,0601",
			"t13d1517h2_8daaf6152771_cb7bf5808d99",
			"t13d1517h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0017,001b,0023,002b,002d,0033,44cd,ca34,fe0d,ff01_0904,0905,0906,0403,0804,0401,0503,0805,0501,0806,0601",
		},
	}
	for _, c := range cases {
		t.Run(c.source, func(t *testing.T) {
			ch := helloFromRaw(t, c.ro)
			if got := tlshello.JA4(ch, tlshello.TransportTCP); got != c.ja4 {
				t.Errorf("JA4 %s, want %s", got, c.ja4)
			}
			if got := tlshello.JA4Raw(ch, tlshello.TransportTCP); got != c.r {
				t.Errorf("JA4_r\n got %s\nwant %s", got, c.r)
			}
		})
	}
}

// TestJA4Hashes checks the hashed parts against the values JA4.md and FoxIO's data give for
// the lists alone.
func TestJA4Hashes(t *testing.T) {
	cases := []struct{ text, want string }{
		// JA4.md, "Cipher hash".
		{"002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9", "8daaf6152771"},
		// JA4.md, "Extension hash": with signature algorithms, and without them (no "_").
		{"0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601", "e5627efa2ab1"},
		{"0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01", "6d807ffa2a79"},
		// chrome-cloudflare-quic-with-secrets.pcapng, the QUIC hello: q13d0310h3_55b375c5d22e_…
		{"1301,1302,1303", "55b375c5d22e"},
	}
	for _, c := range cases {
		sum := sha256.Sum256([]byte(c.text))
		if got := hex.EncodeToString(sum[:])[:12]; got != c.want {
			t.Errorf("sha256(%s)[:12] = %s, want %s", c.text, got, c.want)
		}
	}
	// The same lists through the package: the extension hash without signature algorithms
	// comes from a signature_algorithms extension that holds none.
	exts := []ext{{0x0005, nil}, {0x000a, nil}, {0x000b, nil}, {0x000d, nil}, {0x0012, nil}, {0x0015, nil}, {0x0017, nil},
		{0x001b, nil}, {0x0023, nil}, {0x002b, nil}, {0x002d, nil}, {0x0033, nil}, {0x4469, nil}, {0xff01, nil}}
	ch, err := tlshello.ParseClientHelloMessage(clientHelloMsg(0x0303, []uint16{0x1303, 0x1302, 0x1301}, exts...))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tlshello.JA4(ch, 'q'), "q00i031400_55b375c5d22e_6d807ffa2a79"; got != want {
		t.Errorf("JA4 %s, want %s", got, want)
	}
}

// TestJA4A covers part a, rule by rule, with hand-built hellos.
func TestJA4A(t *testing.T) {
	suites := []uint16{0x1301}
	cases := []struct {
		name   string
		legacy uint16
		suites []uint16
		exts   []ext
		want   string
	}{
		// Version: supported_versions' highest non-GREASE value, else legacy_version.
		{"TLS 1.3 from supported_versions", 0x0303, suites, []ext{listExt(43, 1, 0x0303, 0x0304, 0xfafa)}, "t13i0101"},
		{"legacy ignored when supported_versions present", 0x0301, suites, []ext{listExt(43, 1, 0x0303)}, "t12i0101"},
		{"only GREASE in supported_versions", 0x0303, suites, []ext{listExt(43, 1, 0x7a7a)}, "t00i0101"},
		{"empty supported_versions", 0x0303, suites, []ext{{43, nil}}, "t00i0101"},
		{"TLS 1.2 legacy", 0x0303, suites, nil, "t12i0100"},
		{"TLS 1.1 legacy", 0x0302, suites, nil, "t11i0100"},
		{"TLS 1.0 legacy", 0x0301, suites, nil, "t10i0100"},
		{"SSL 3.0 legacy", 0x0300, suites, nil, "ts3i0100"},
		{"SSL 2.0 legacy", 0x0002, suites, nil, "ts2i0100"},
		{"DTLS 1.2 legacy", 0xfefd, suites, nil, "td2i0100"},
		{"DTLS 1.3 in supported_versions", 0xfefd, suites, []ext{listExt(43, 1, 0xfefc)}, "td3i0101"},
		{"unknown version", 0x0305, suites, nil, "t00i0100"},
		// SNI: the extension's presence, even when its name is unusable.
		{"SNI", 0x0303, suites, []ext{sniExt("api.openai.com")}, "t12d0101"},
		{"bad SNI still d", 0x0303, suites, []ext{sniExt("10.1.2.3")}, "t12d0101"},
		// Counts: GREASE not counted, SNI and ALPN counted, 99 at most.
		{"GREASE not counted", 0x0303, []uint16{0x0a0a, 0x1301, 0xfafa}, []ext{{0x2a2a, nil}, {0x0017, nil}}, "t12i0101"},
		{"SCSV counted", 0x0303, []uint16{0x00ff, 0x5600, 0xfe00}, nil, "t12i0300"},
		{"SNI and ALPN counted", 0x0303, suites, []ext{sniExt("a.example"), alpnExt("h2")}, "t12d0102h2"},
		{"no cipher suites", 0x0303, nil, nil, "t12i0000"},
		{"100 suites", 0x0303, make([]uint16, 100), nil, "t12i9900"},
		{"99 suites", 0x0303, make([]uint16, 99), nil, "t12i9900"},
		{"42 suites", 0x0303, make([]uint16, 42), nil, "t12i4200"},
		{"120 extensions", 0x0303, suites, manyExts(120), "t12i0199"},
		// ALPN, with the examples of JA4.md's "ALPN Extension Value".
		{"no ALPN", 0x0303, suites, nil, "t12i010000"},
		{"h2", 0x0303, suites, []ext{alpnExt("h2", "http/1.1")}, "t12i0101h2"},
		{"http/1.1", 0x0303, suites, []ext{alpnExt("http/1.1")}, "t12i0101h1"},
		{"one character twice", 0x0303, suites, []ext{alpnExt("x")}, "t12i0101xx"},
		{"empty first name", 0x0303, suites, []ext{alpnExt("", "h2")}, "t12i010100"},
		{"no names", 0x0303, suites, []ext{{16, []byte{0, 0}}}, "t12i010100"},
		{"0xAB", 0x0303, suites, []ext{alpnExt("\xab")}, "t12i0101ab"},
		{"0xAB 0xCD", 0x0303, suites, []ext{alpnExt("\xab\xcd")}, "t12i0101ad"},
		{"0x30 0xAB", 0x0303, suites, []ext{alpnExt("0\xab")}, "t12i01013b"},
		{"0x30 0x31 0xAB 0xCD", 0x0303, suites, []ext{alpnExt("01\xab\xcd")}, "t12i01013d"},
		{"0x30 0xAB 0xCD 0x31", 0x0303, suites, []ext{alpnExt("0\xab\xcd1")}, "t12i010101"},
		{"punctuation last", 0x0303, suites, []ext{alpnExt("h2-")}, "t12i01016d"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch, err := tlshello.ParseClientHelloMessage(clientHelloMsg(c.legacy, c.suites, c.exts...))
			if err != nil {
				t.Fatal(err)
			}
			got := tlshello.JA4(ch, tlshello.TransportTCP)
			if !strings.HasPrefix(got, c.want) {
				t.Fatalf("JA4 %s, want it to start %s", got, c.want)
			}
		})
	}
}

func manyExts(n int) []ext {
	out := make([]ext, n)
	for i := range out {
		out[i] = ext{uint16(0x1000 + i), nil}
	}
	return out
}

// TestJA4EmptyLists: no suites and no extensions give twelve zeros, not the hash of nothing, and
// SNI and ALPN alone leave the extension list empty.
func TestJA4EmptyLists(t *testing.T) {
	cases := []struct {
		name      string
		suites    []uint16
		exts      []ext
		ja4, ja4r string
	}{
		{"nothing", nil, nil, "t12i000000_000000000000_000000000000", "t12i000000__"},
		{"only GREASE", []uint16{0x0a0a}, []ext{{0x1a1a, nil}}, "t12i000000_000000000000_000000000000", "t12i000000__"},
		{"SNI and ALPN only", []uint16{0x1301}, []ext{sniExt("a.example"), alpnExt("h2")}, "t12d0102h2_" + hash12("1301") + "_000000000000", "t12d0102h2_1301_"},
		{"signature algorithms only", []uint16{0x1301}, []ext{listExt(13, 2, 0x0403, 0x0804)}, "t12i010100_" + hash12("1301") + "_" + hash12("000d_0403,0804"), "t12i010100_1301_000d_0403,0804"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch, err := tlshello.ParseClientHelloMessage(clientHelloMsg(0x0303, c.suites, c.exts...))
			if err != nil {
				t.Fatal(err)
			}
			if got := tlshello.JA4(ch, tlshello.TransportTCP); got != c.ja4 {
				t.Errorf("JA4 %s, want %s", got, c.ja4)
			}
			if got := tlshello.JA4Raw(ch, tlshello.TransportTCP); got != c.ja4r {
				t.Errorf("JA4_r %s, want %s", got, c.ja4r)
			}
		})
	}
	if tlshello.JA4(nil, 't') != "" || tlshello.JA4Raw(nil, 't') != "" {
		t.Error("nil hello fingerprinted")
	}
}

func hash12(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:12]
}

// TestJA4RawExplainsJA4: hashing the lists of JA4_r gives JA4, for every stored hello; a report
// can show the raw form and be checked against the short one.
func TestJA4RawExplainsJA4(t *testing.T) {
	for _, c := range clientCases {
		ch, err := c.parse(fixture(t, "client/"+c.name+".hex", nil))
		if err != nil {
			t.Fatal(err)
		}
		raw := tlshello.JA4Raw(ch, c.transport())
		if got, want := tlshello.JA4(ch, c.transport()), hashRaw(raw); got != want {
			t.Errorf("%s: JA4 %s, from JA4_r %s", c.name, got, want)
		}
	}
}

// hashRaw turns a JA4_r into its JA4 as the specification describes, independently of the
// package's own code path.
func hashRaw(raw string) string {
	a, rest, _ := strings.Cut(raw, "_")
	ciphers, exts, _ := strings.Cut(rest, "_")
	h := func(s string) string {
		if s == "" || strings.HasPrefix(s, "_") {
			return "000000000000"
		}
		return hash12(s)
	}
	return a + "_" + h(ciphers) + "_" + h(exts)
}
