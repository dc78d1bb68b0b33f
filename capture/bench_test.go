package capture

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/customs-dev/customs/flow"
)

// benchCapture is a capture of at least 200 MB of mixed traffic, written once per machine into
// the temporary directory: TLS connections to vendors (real crypto/tls handshakes, a third of
// the ClientHellos split across two segments) carrying bulk data both ways, and plaintext HTTP.
var benchCapture = sync.OnceValues(func() (string, error) {
	path := filepath.Join(os.TempDir(), "customs-capture-bench-v1.pcap")
	if st, err := os.Stat(path); err == nil && st.Size() > 200e6 {
		return path, nil
	}
	t := &testing.T{}
	type hs struct{ sni, c, s []byte }
	var shakes []hs
	for _, name := range []string{"api.openai.com", "api.anthropic.com", "generativelanguage.googleapis.com", "api.mistral.ai"} {
		c, s := handshake(t, name, []string{"h2", "http/1.1"}, 0, name)
		shakes = append(shakes, hs{[]byte(name), c, s})
	}
	f, err := os.CreateTemp(filepath.Dir(path), "bench-*.pcap")
	if err != nil {
		return "", err
	}
	f.Close()
	w := newCapWriter(t, layers.LinkTypeEthernet)
	bulk := make([]byte, 48<<10)
	for i := range bulk {
		bulk[i] = byte(i * 7)
	}
	req := []byte("POST /track HTTP/1.1\r\nHost: api.mixpanel.com\r\nContent-Length: 2000\r\n\r\n" + string(bulk[:2000]))
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1")
	total := 0
	var frames []frame
	for i := 0; total < 210e6; i++ {
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(20000+i%40000))
		server := netip.AddrPortFrom(netip.AddrFrom4([4]byte{104, 18, byte(i % 7), 1}), 443)
		w.frames = w.frames[:0]
		if i%10 == 9 {
			c := w.tcp(client, netip.AddrPortFrom(server.Addr(), 80))
			c.open()
			c.send(toServer, req)
			c.send(toClient, resp)
			c.close()
		} else {
			h := shakes[i%len(shakes)]
			c := w.tcp(client, server)
			c.mss = 1448
			c.open()
			if i%3 == 0 {
				hello := clientHelloOnly(t, h.c)
				for _, s := range c.segments(toServer, hello, len(hello)/2) {
					w.add(s)
				}
				c.send(toServer, h.c[len(hello):])
			} else {
				c.send(toServer, h.c)
			}
			c.send(toClient, h.s)
			c.send(toServer, bulk[:16<<10])
			c.send(toClient, bulk)
			c.close()
		}
		for _, fr := range w.frames {
			total += len(fr.data) + 16
		}
		frames = append(frames, w.frames...)
	}
	w.frames = frames
	w.writePcap(f.Name(), false)
	if t.Failed() {
		return "", fmt.Errorf("writing the benchmark capture failed")
	}
	return path, os.Rename(f.Name(), path)
})

// BenchmarkCaptureRead: reassembly, SNI and JA4 (and the plaintext HTTP parse) over the
// benchmark capture, without inspection; its ceiling, BenchmarkCapturePlainRead, only reads
// the same file's packets. Compare the two MB/s of one run.
func BenchmarkCaptureRead(b *testing.B) {
	path, err := benchCapture()
	if err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ReportAllocs()
	var s Stats
	for b.Loop() {
		r := NewReader(Options{}, func(*flow.Flow) {})
		if err := r.ReadFile(context.Background(), path); err != nil {
			b.Fatal(err)
		}
		s = r.Stats()
	}
	tlsConns := s.TCPConns - s.HTTP
	b.ReportMetric(float64(s.TLS)/float64(max(tlsConns, 1)), "sni-recovered")
	b.ReportMetric(float64(s.TCPConns), "connections")
}

func BenchmarkCapturePlainRead(b *testing.B) {
	path, err := benchCapture()
	if err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	for b.Loop() {
		src, err := openFile(path)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			data, _, _, err := src.next()
			if err != nil {
				break
			}
			n += len(data)
		}
		src.close()
		if n == 0 {
			b.Fatal("no packets")
		}
	}
}
