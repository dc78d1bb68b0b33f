package capture

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/builtin"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/internal/golden"
	"github.com/customs-dev/customs/rules"
)

// capturesDir holds the captures the suite writes (shared testdata of the repository).
const capturesDir = "../testdata/captures"

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func testPipeline(t testing.TB) *inspect.Pipeline {
	t.Helper()
	cat, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	ds, err := builtin.Detectors(nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := detectors.New(ds)
	if err != nil {
		t.Fatal(err)
	}
	return inspect.New(inspect.Options{Catalog: cat, Detectors: e, Hasher: detectors.NewHasher([]byte("capture test key 0123456789abcde")),
		Rules: rules.Default()})
}

var (
	client4 = netip.MustParseAddrPort("10.0.0.7:51544")
	client6 = netip.MustParseAddrPort("[fd00::7]:51600")
	openai  = netip.MustParseAddrPort("104.18.7.192:443")
	anthro  = netip.MustParseAddrPort("160.79.104.10:443")
	gemini  = netip.MustParseAddrPort("[2a00:1450:4001:82b::200a]:443")
	other   = netip.MustParseAddrPort("93.184.215.14:443")
	mixpnl  = netip.MustParseAddrPort("35.190.25.25:80")
	googDNS = netip.MustParseAddrPort("8.8.8.8:443")
	resolv  = netip.MustParseAddrPort("10.0.0.1:53")
)

// A fixed AWS key pair of the kind AWS documents, so that the capture's finding is stable.
const leakedKey = "AKIAZ7VQ3KXJ5N2WPLMR"

// captureScenarios write the suite's captures.
var captureScenarios = map[string]func(t testing.TB, path string){
	"tls-vendors.pcap": writeTLSVendors,
	"tls-split-hello.pcapng": func(t testing.TB, path string) {
		// A ClientHello in three segments delivered out of order, one of them twice, on a
		// VLAN-tagged link.
		w := newCapWriter(t, layers.LinkTypeEthernet)
		w.vlan = 42
		ch, sh := handshake(t, "api.mistral.ai", []string{"h2"}, 0, "api.mistral.ai")
		hello := clientHelloOnly(t, ch)
		c := w.tcp(client4, netip.MustParseAddrPort("51.159.1.1:443"))
		c.open()
		segs := c.segments(toServer, hello, 100, len(hello)/2)
		w.add(segs[2])
		w.add(segs[0])
		w.add(segs[0]) // retransmitted
		w.add(segs[1])
		c.send(toServer, ch[len(hello):])
		c.send(toClient, sh)
		c.close()
		w.writePcapng(path)
	},
	"http-mixpanel.pcap.gz": func(t testing.TB, path string) {
		w := newCapWriter(t, layers.LinkTypeEthernet)
		event := fmt.Sprintf(`[{"event":"Prompt Sent","properties":{"token":"0f1e2d3c","distinct_id":"u-118","prompt":"deploy with %s and secret hkYt3Ji+9ZqR2xWmN4pL7sVb1cD8eF0gH5jK6lM3"}}]`, leakedKey)
		form := "data=" + base64.StdEncoding.EncodeToString([]byte(event))
		req := "POST /track HTTP/1.1\r\nHost: api.mixpanel.com\r\nUser-Agent: mixpanel-python/4.10\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
			fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(form), form)
		resp := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\n1"
		req2 := "GET /decide?verbose=1 HTTP/1.1\r\nHost: api.mixpanel.com\r\n\r\n"
		resp2 := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
		c := w.tcp(client4, mixpnl)
		c.open()
		c.send(toServer, []byte(req))
		c.send(toClient, []byte(resp))
		c.send(toServer, []byte(req2))
		c.send(toClient, []byte(resp2))
		c.close()
		w.writePcap(path, true)
	},
	"dns-no-sni.pcap": func(t testing.TB, path string) {
		// The client resolves api.anthropic.com, then speaks TLS to the address with no
		// server name: the DNS answer names the connection. Linux cooked capture.
		w := newCapWriter(t, layers.LinkTypeLinuxSLL)
		w.dnsAnswer(netip.AddrPortFrom(client4.Addr(), 40000), resolv, "api.anthropic.com", anthro.Addr())
		ch, sh := handshake(t, "", []string{"http/1.1"}, 0, "api.anthropic.com")
		c := w.tcp(client4, anthro)
		c.open()
		c.send(toServer, ch)
		c.send(toClient, sh)
		c.close()
		w.writePcap(path, false)
	},
	"quic-v1.pcap": func(t testing.TB, path string) {
		// RFC 9001 Appendix A.2's client Initial, as a browser would send it to UDP 443.
		w := newCapWriter(t, layers.LinkTypeEthernet)
		w.udp(client4, netip.MustParseAddrPort("142.250.74.10:443"), hexFile(t, "quic/testdata/rfc9001_a2_client_initial.hex"))
		w.udp(netip.MustParseAddrPort("142.250.74.10:443"), client4, bytes.Repeat([]byte{0x40}, 1200))
		w.writePcap(path, false)
	},
	"ech-doh.pcap": func(t testing.TB, path string) {
		// A ClientHello with Encrypted Client Hello (only the outer name shows), and a
		// DNS-over-HTTPS connection to Google's resolver.
		w := newCapWriter(t, layers.LinkTypeEthernet)
		ch, _ := handshake(t, "cloudflare-ech.com", []string{"h2"}, 0, "cloudflare-ech.com")
		c := w.tcp(client4, netip.MustParseAddrPort("104.16.123.96:443"))
		c.open()
		c.send(toServer, withECH(t, clientHelloOnly(t, ch)))
		c.close()
		ch2, sh2 := handshake(t, "dns.google", []string{"h2"}, 0, "dns.google")
		d := w.tcp(netip.AddrPortFrom(client4.Addr(), 51700), googDNS)
		d.open()
		d.send(toServer, ch2)
		d.send(toClient, sh2)
		d.close()
		w.writePcap(path, false)
	},
	"garbage-443.pcap": func(t testing.TB, path string) {
		w := newCapWriter(t, layers.LinkTypeEthernet)
		c := w.tcp(client4, netip.MustParseAddrPort("203.0.113.9:443"))
		c.open()
		c.send(toServer, []byte("SSH-2.0-OpenSSH_9.6\r\n\x00\x01garbage that is no TLS"))
		c.close()
		// A ClientHello cut in the middle by the end of the capture.
		ch, _ := handshake(t, "api.openai.com", nil, 0, "api.openai.com")
		d := w.tcp(netip.AddrPortFrom(client4.Addr(), 51800), openai)
		d.open()
		d.send(toServer, ch[:len(ch)/3])
		w.writePcap(path, false)
	},
	"raw-ip-quic-v2.pcap": func(t testing.TB, path string) {
		// Raw IP frames (no link header, as tun devices and some captures give): QUIC v2's
		// published Initial (RFC 9369) over IPv6, and TLS over IPv6 to a vendor.
		w := newCapWriter(t, layers.LinkTypeRaw)
		w.udp(client6, netip.MustParseAddrPort("[2a00:1450:4001:830::200e]:443"), hexFile(t, "quic/testdata/rfc9369_a2_client_initial.hex"))
		ch, sh := handshake(t, "api.deepseek.com", []string{"h2"}, 0, "api.deepseek.com")
		c := w.tcp(netip.AddrPortFrom(client6.Addr(), 51610), netip.MustParseAddrPort("[2606:4700::6812:93a]:443"))
		c.open()
		c.send(toServer, ch)
		c.send(toClient, sh)
		c.close()
		w.writePcap(path, false)
	},
	"sll2-any.pcap": func(t testing.TB, path string) {
		// tcpdump -i any writes Linux cooked v2 frames: plaintext HTTP to an internal
		// OpenAI-compatible gateway named by its Host header, and TLS to Cohere.
		w := newCapWriter(t, layers.LinkTypeLinuxSLL2)
		req := "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nContent-Type: application/json\r\nContent-Length: 75\r\n\r\n" +
			`{"model":"gpt-4o","messages":[{"role":"user","content":"hello from sll2"}]}`
		c := w.tcp(client4, netip.MustParseAddrPort("10.20.0.5:80"))
		c.open()
		c.send(toServer, []byte(req))
		c.send(toClient, []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"))
		c.close()
		ch, sh := handshake(t, "api.cohere.com", []string{"h2"}, 0, "api.cohere.com")
		d := w.tcp(netip.AddrPortFrom(client4.Addr(), 51900), netip.MustParseAddrPort("34.96.76.122:443"))
		d.open()
		d.send(toServer, ch)
		d.send(toClient, sh)
		d.close()
		w.writePcap(path, false)
	},
	"snaplen.pcap": func(t testing.TB, path string) {
		// Captured with a snap length of 200 bytes: headers and the start of each segment only.
		w := newCapWriter(t, layers.LinkTypeEthernet)
		w.snaplen = 200
		ch, sh := handshake(t, "api.openai.com", []string{"h2"}, 0, "api.openai.com")
		c := w.tcp(client4, openai)
		c.open()
		c.send(toServer, ch)
		c.send(toClient, sh)
		c.close()
		w.writePcap(path, false)
	},
	"truncated.pcap": func(t testing.TB, path string) {
		// tls-vendors.pcap cut in the middle of a packet record.
		full := filepath.Join(filepath.Dir(path), "tls-vendors.pcap")
		if !exists(full) {
			writeTLSVendors(t, full)
		}
		b, err := os.ReadFile(full)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b[:len(b)*2/3], 0o644); err != nil {
			t.Fatal(err)
		}
	},
}

func writeTLSVendors(t testing.TB, path string) {
	w := newCapWriter(t, layers.LinkTypeEthernet)
	conv := func(client, server netip.AddrPort, sni string, alpn []string, max uint16, cert string) {
		ch, sh := handshake(t, sni, alpn, max, cert)
		c := w.tcp(client, server)
		c.open()
		c.send(toServer, ch)
		c.send(toClient, sh)
		c.send(toServer, bytes.Repeat([]byte{0x17}, 3000)) // application data: counted only
		c.send(toClient, bytes.Repeat([]byte{0x17}, 9000))
		c.close()
	}
	conv(client4, openai, "api.openai.com", []string{"h2", "http/1.1"}, 0, "api.openai.com")
	conv(client4, anthro, "api.anthropic.com", []string{"http/1.1"}, 0x0303, "api.anthropic.com")
	conv(client6, gemini, "generativelanguage.googleapis.com", []string{"h2"}, 0, "generativelanguage.googleapis.com")
	conv(client4, other, "example.org", nil, 0, "example.org")
	w.writePcap(path, false)
}

func hexFile(t testing.TB, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var clean []byte
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		clean = append(clean, strings.Join(strings.Fields(line), "")...)
	}
	out, err := hex.DecodeString(string(clean))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// describe renders what a read reported, deterministically, for the golden files.
func describe(flows []*flow.Flow, st Stats) []byte {
	var b bytes.Buffer
	slices.SortStableFunc(flows, func(x, y *flow.Flow) int { return x.Start.Compare(y.Start) })
	for _, f := range flows {
		fmt.Fprintf(&b, "%s %s %s -> %s host=%s vendor=%s", f.Start.UTC().Format("15:04:05.000000"), f.Mode, f.Client.Addr, f.Server, f.Host, orNone(f.Vendor.ID))
		for _, kv := range [][2]string{{"sni", f.SNI}, {"alpn", f.ALPN}, {"tls", f.TLSVersion}, {"ja4", f.JA4}, {"method", f.Method}, {"url", f.URL}} {
			if kv[1] != "" {
				fmt.Fprintf(&b, " %s=%s", kv[0], strings.ReplaceAll(kv[1], " ", "_"))
			}
		}
		fmt.Fprintf(&b, " bytes=%d/%d", f.RequestBytes, f.ResponseBytes)
		if f.Status != 0 {
			fmt.Fprintf(&b, " status=%d", f.Status)
		}
		if len(f.Marks) > 0 {
			fmt.Fprintf(&b, " marks=%v", f.Marks)
		}
		if len(f.Incomplete) > 0 {
			fmt.Fprintf(&b, " incomplete=%v", f.Incomplete)
		}
		fmt.Fprintf(&b, " action=%s", orNone(string(f.Verdict.Action)))
		if f.Verdict.Policy != "" {
			fmt.Fprintf(&b, "(%s)", f.Verdict.Policy)
		}
		b.WriteString("\n")
		for _, x := range f.Findings {
			fmt.Fprintf(&b, "  finding %s %s %s %s\n", x.Detector, x.Severity, x.Path, x.Preview)
		}
		for _, n := range f.Notes {
			fmt.Fprintf(&b, "  note %s\n", n)
		}
	}
	fmt.Fprintf(&b, "stats packets=%d bytes=%d tcp=%d udp=%d tls=%d http=%d quic=%d dns=%d flows=%d\n",
		st.Packets, st.Bytes, st.TCPConns, st.UDPConns, st.TLS, st.HTTP, st.QUIC, st.DNSAnswers, st.Flows)
	for _, r := range st.Reasons() {
		fmt.Fprintf(&b, "unreadable %s=%d\n", r, st.Unreadable[r])
	}
	return b.Bytes()
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// TestCaptures reads each capture the suite wrote and compares the flows with its golden file.
// With -update the missing captures are written first.
func TestCaptures(t *testing.T) {
	if updating() {
		if err := os.MkdirAll(capturesDir, 0o755); err != nil {
			t.Fatal(err)
		}
		// Only the missing ones: each write has new handshakes, which would change every
		// golden file. Delete a capture to write it again.
		for name, gen := range captureScenarios {
			if path := filepath.Join(capturesDir, name); !exists(path) {
				gen(t, path)
			}
		}
	}
	p := testPipeline(t)
	names := make([]string, 0, len(captureScenarios))
	for name := range captureScenarios {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			var flows []*flow.Flow
			r := NewReader(Options{Pipeline: p}, func(f *flow.Flow) { flows = append(flows, f) })
			if err := r.ReadFile(context.Background(), filepath.Join(capturesDir, name)); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", strings.SplitN(name, ".", 2)[0]+".golden"), describe(flows, r.Stats()))
		})
	}
}

// TestBadFiles: what is not a capture is an error that says so; nothing panics.
func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, content, want string
	}{
		{"empty", "", "not a pcap or pcapng capture"},
		{"text", "hello, this is not a capture at all", "not a pcap or pcapng capture"},
		{"gzip-garbage", "\x1f\x8b\x08\x00garbage", "gzip"},
		{"pcap-header-cut", "\xd4\xc3\xb2\xa1\x02\x00", "header"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name)
		if err := os.WriteFile(path, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		r := NewReader(Options{}, func(*flow.Flow) {})
		err := r.ReadFile(context.Background(), path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming the file and %q", c.name, err, c.want)
		}
	}
	if err := NewReader(Options{}, func(*flow.Flow) {}).ReadFile(context.Background(), filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file read without an error")
	}
}
