package capture

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/customs-dev/customs/flow"
)

// FuzzFrames feeds arbitrary frames of each link type to a reader: decoding, reassembly and
// every parser behind them must neither panic nor report a flow without its addresses.
func FuzzFrames(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, link uint8) {
		lts := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2, layers.LinkTypeRaw,
			layers.LinkTypeNull, layers.LinkType(147)}
		lt := lts[int(link)%len(lts)]
		r := NewReader(Options{}, func(fl *flow.Flow) {
			if fl.Client.Addr == "" || fl.Server == "" {
				t.Fatalf("a flow without addresses: %+v", fl)
			}
		})
		// The input is a run of frames, each after a one-byte length.
		for len(data) > 0 {
			n := min(int(data[0]), len(data)-1)
			frame := data[1 : 1+n]
			data = data[1+n:]
			r.Packet(frame, gopacket.CaptureInfo{CaptureLength: len(frame), Length: len(frame)}, lt)
		}
		r.Flush()
	})
}

// FuzzStream sends arbitrary bytes each way over a well-formed TCP connection to port 80 or 443
// (plaintext HTTP, TLS or garbage) and over UDP 443 (QUIC): the HTTP parser, the handshake
// parsers and the QUIC path see them through the reader as a capture would.
func FuzzStream(f *testing.F) {
	f.Fuzz(func(t *testing.T, client, server []byte, tls bool) {
		w := newCapWriter(t, layers.LinkTypeEthernet)
		port := uint16(80)
		if tls {
			port = 443
		}
		c := w.tcp(netip.MustParseAddrPort("10.0.0.7:51544"), netip.AddrPortFrom(netip.MustParseAddr("10.0.0.9"), port))
		c.mss = 200
		c.open()
		c.send(toServer, client)
		c.send(toClient, server)
		c.close()
		w.udp(netip.MustParseAddrPort("10.0.0.7:51545"), netip.MustParseAddrPort("10.0.0.9:443"), client)
		flows := 0
		r := NewReader(Options{HTTPLimit: 4096}, func(*flow.Flow) { flows++ })
		for _, fr := range w.frames {
			r.Packet(fr.data, gopacket.CaptureInfo{Timestamp: fr.ts, CaptureLength: len(fr.data), Length: len(fr.data)}, layers.LinkTypeEthernet)
		}
		r.Flush()
		if r.memory != 0 {
			t.Fatalf("%d bytes of the memory budget not given back", r.memory)
		}
		if len(client) > 0 && flows == 0 && (tls || isHTTPStart(client)) {
			t.Fatalf("a connection that sent %d bytes reported no flow", len(client))
		}
	})
}

// TestFuzzSeeds writes the committed seed corpora (with -update) from the suite's captures and
// handshakes, and checks that they are there.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz")
	if updating() {
		ch, sh := handshake(t, "api.openai.com", []string{"h2"}, 0x0303, "api.openai.com")
		req := []byte("POST /track HTTP/1.1\r\nHost: api.mixpanel.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 27\r\n\r\ndata=eyJldmVudCI6InRlc3QifQ==")
		resp := []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n1\r\n0\r\n\r\n")
		quicInit := hexFile(t, "quic/testdata/rfc9001_a2_client_initial.hex")
		seeds := map[string][]any{
			"FuzzStream/tls12":     {ch, sh, true},
			"FuzzStream/tls-cut":   {ch[:len(ch)/2], []byte(nil), true},
			"FuzzStream/http":      {req, resp, false},
			"FuzzStream/http-cut":  {req[:40], resp[:10], false},
			"FuzzStream/pipelined": {append(append([]byte{}, req...), req...), append(append([]byte{}, resp...), resp...), false},
			"FuzzStream/quic":      {quicInit, []byte(nil), true},
			"FuzzStream/garbage":   {[]byte("SSH-2.0-OpenSSH_9.6\r\n"), []byte("SSH-2.0-x\r\n"), true},
			"FuzzFrames/empty":     {[]byte{}, uint8(0)},
			"FuzzFrames/raw-ipv4":  {[]byte{20, 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}, uint8(3)},
			"FuzzFrames/truncated": {[]byte{200, 1, 2, 3}, uint8(0)},
		}
		// Frames of a real capture, each cut to the one-byte length the target reads.
		src, err := openFile(filepath.Join(capturesDir, "tls-split-hello.pcapng"))
		if err != nil {
			t.Fatal(err)
		}
		var frames []byte
		for {
			data, _, _, err := src.next()
			if err != nil {
				break
			}
			n := min(len(data), 255)
			frames = append(append(frames, byte(n)), data[:n]...)
		}
		src.close()
		seeds["FuzzFrames/capture"] = []any{frames, uint8(0)}
		for name, vals := range seeds {
			var b strings.Builder
			b.WriteString("go test fuzz v1\n")
			for _, v := range vals {
				switch v := v.(type) {
				case []byte:
					fmt.Fprintf(&b, "[]byte(%q)\n", v)
				case bool:
					fmt.Fprintf(&b, "bool(%v)\n", v)
				case uint8:
					fmt.Fprintf(&b, "byte(%q)\n", v)
				}
			}
			path := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, target := range []string{"FuzzStream", "FuzzFrames"} {
		ents, err := os.ReadDir(filepath.Join(dir, target))
		if err != nil || len(ents) < 3 {
			t.Errorf("%s: the committed seed corpus is missing (%v); run the test with -update", target, err)
		}
	}
}
