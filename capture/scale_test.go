package capture

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/customs-dev/customs/flow"
)

// TestManyShortConnections: a capture of a million short connections — half closed by a
// reset, half left open — is read with memory that does not grow with their number: the
// connections tracked stay near what the idle time holds, and the heap after a million is
// within a small factor of the heap after a hundred thousand. (Long: make test-long.)
func TestManyShortConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("long: a million connections (make test-long)")
	}
	ch, _ := handshake(t, "api.openai.com", []string{"h2"}, 0, "api.openai.com")
	hello := clientHelloOnly(t, ch)
	w := newCapWriter(t, layers.LinkTypeEthernet)
	server := netip.MustParseAddrPort("104.18.7.192:443")
	flows, maxConns := 0, 0
	r := NewReader(Options{Idle: time.Second}, func(*flow.Flow) { flows++ })
	var heap100k uint64
	const total = 1_000_000
	ts := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i := range total {
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i%60000))
		c := w.tcp(client, server)
		w.frames = w.frames[:0]
		c.open()
		c.send(toServer, hello)
		if i%2 == 0 {
			w.add(c.seg(toServer, "R", nil))
		}
		ts = ts.Add(100 * time.Microsecond)
		for _, fr := range w.frames {
			r.Packet(fr.data, gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(fr.data), Length: len(fr.data)}, layers.LinkTypeEthernet)
		}
		maxConns = max(maxConns, r.conns)
		if i == 100_000 {
			heap100k = heapInUse()
		}
	}
	r.Flush()
	heap1m := heapInUse()
	st := r.Stats()
	if st.TLS != total || flows != total {
		t.Fatalf("%d TLS connections read, %d flows, want %d", st.TLS, flows, total)
	}
	// One second of idle time at 10,000 connections a second: about 5,000 open ones wait.
	if maxConns > 20_000 {
		t.Errorf("%d connections tracked at once: not bounded by the idle time", maxConns)
	}
	if heap1m > 3*heap100k+64<<20 {
		t.Errorf("heap %d MB after a million connections, %d MB after 100,000: it grows with the capture", heap1m>>20, heap100k>>20)
	}
	t.Logf("most connections tracked %d; heap %d MB at 100k, %d MB at 1M", maxConns, heap100k>>20, heap1m>>20)
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
