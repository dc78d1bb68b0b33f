package fingerprint

import (
	"bytes"
	"crypto/aes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customs-dev/customs/internal/lineartime"
)

// BenchmarkKeyedHash compares keyed hashes of one 8-byte k-gram hash, the operation applied to
// every selected print. SipHash-2-4 is chosen: a PRF designed for short inputs, no allocation,
// no dependence on AES instructions, and the fastest here; HMAC-SHA256 is far slower per call.
func BenchmarkKeyedHash(b *testing.B) {
	var sink uint64
	b.Run("siphash-2-4", func(b *testing.B) {
		k := classKey(testKey, Code)
		for i := uint64(0); b.Loop(); i++ {
			sink += k.Sum64(i)
		}
	})
	b.Run("aes-128-block", func(b *testing.B) {
		c, _ := aes.NewCipher(testKey[:16])
		var in, out [16]byte
		for i := uint64(0); b.Loop(); i++ {
			binary.LittleEndian.PutUint64(in[:], i)
			c.Encrypt(out[:], in[:])
			sink += binary.LittleEndian.Uint64(out[:])
		}
	})
	b.Run("hmac-sha256", func(b *testing.B) {
		m := hmac.New(sha256.New, testKey)
		var in [8]byte
		var out []byte
		for i := uint64(0); b.Loop(); i++ {
			binary.LittleEndian.PutUint64(in[:], i)
			m.Reset()
			m.Write(in[:])
			out = m.Sum(out[:0])
			sink += binary.LittleEndian.Uint64(out)
		}
	})
	_ = sink
}

func gorootFile(b testing.TB, rel string) string {
	data, err := os.ReadFile(gorootPath(b, rel))
	if err != nil {
		b.Skipf("GOROOT source not available: %v", err)
	}
	return string(data)
}

// BenchmarkFingerprints is the normalisers' throughput, the cost every scan pays per byte.
func BenchmarkFingerprints(b *testing.B) {
	for _, tc := range []struct {
		name  string
		class Class
		file  string
	}{
		{"code/net-http-server.go", Code, "net/http/server.go"},
		{"document/net-http-server.go", Document, "net/http/server.go"},
		{"document/opticks.txt", Document, "testdata/Isaac.Newton-Opticks.txt"},
		{"code/opticks.txt", Code, "testdata/Isaac.Newton-Opticks.txt"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			text := gorootFile(b, tc.file)
			fp, _ := NewFingerprinter(testKey, tc.class, Options{})
			var ps []Print
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				ps = fp.Append(ps[:0], text)
			}
		})
	}
}

var gorootIx struct {
	once  sync.Once
	ix    *Index
	stats Stats
	err   error
}

// gorootIndex builds the index of $GOROOT/src once per test binary.
func gorootIndex(b testing.TB) (*Index, Stats) {
	src := gorootPath(b, "")
	gorootIx.once.Do(func() {
		bl := NewBuilder(testKey, Options{})
		gorootIx.stats, gorootIx.err = bl.AddTree("go", "", src)
		gorootIx.ix = bl.Build()
	})
	if gorootIx.err != nil {
		b.Fatal(gorootIx.err)
	}
	return gorootIx.ix, gorootIx.stats
}

func treeBytes(root string) int64 {
	var n int64
	filepath.Walk(root, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// BenchmarkBuildGoroot indexes $GOROOT/src on one goroutine (files read from the page cache)
// and reports: source MB/s (bytes of indexed files per wall second, and per CPU second of the
// thread), the index's exact in-memory size and its heap growth per indexed source byte, the
// index file's size per source byte, and the same sizes against the whole tree (skipped files
// included).
func BenchmarkBuildGoroot(b *testing.B) {
	src := gorootPath(b, "")
	tree := treeBytes(src)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var ix *Index
	var st Stats
	var built int64
	var wall, cpu time.Duration
	for b.Loop() {
		ix = nil
		heap0 := heapInuse()
		w0, c0 := time.Now(), threadCPU()
		bl := NewBuilder(testKey, Options{})
		var err error
		if st, err = bl.AddTree("go", "", src); err != nil {
			b.Fatal(err)
		}
		ix = bl.Build()
		wall, cpu = time.Since(w0), threadCPU()-c0
		built = heapInuse() - heap0
	}
	b.StopTimer()
	var disk bytes.Buffer
	ix.WriteTo(&disk)
	// what serve holds: the index as read from its file, in a heap without the build's garbage
	ix = nil
	heap0 := heapInuse()
	loaded, err := ReadIndex(bytes.NewReader(disk.Bytes()), testKey)
	if err != nil {
		b.Fatal(err)
	}
	heap := heapInuse() - heap0
	l := loaded.Labels()[0]
	b.ReportMetric(float64(st.Bytes)/1e6, "src-MB")
	b.ReportMetric(float64(tree)/1e6, "tree-MB")
	b.ReportMetric(float64(st.Bytes)/1e6/wall.Seconds(), "src-MB/s")
	if cpu > 0 {
		b.ReportMetric(float64(st.Bytes)/1e6/cpu.Seconds(), "src-MB/cpu-s")
	}
	b.ReportMetric(float64(l.Prints), "prints")
	b.ReportMetric(float64(loaded.MemSize())/float64(st.Bytes), "mem-B/src-B")
	b.ReportMetric(float64(heap)/float64(st.Bytes), "heap-B/src-B")
	b.ReportMetric(float64(built)/float64(st.Bytes), "built-heap-B/src-B")
	b.ReportMetric(float64(disk.Len())/float64(st.Bytes), "disk-B/src-B")
	b.ReportMetric(float64(loaded.MemSize())/float64(tree), "mem-B/tree-B")
	b.ReportMetric(float64(disk.Len()), "disk-B")
	b.Logf("stats: %d files (%d code, %d document), %d bytes, skipped %v; index %d bytes in memory (heap +%d after ReadIndex, +%d after Build), %d on disk; %d prints kept, %d boilerplate",
		st.Files, st.CodeFiles, st.DocumentFiles, st.Bytes, st.Skipped, loaded.MemSize(), heap, built, disk.Len(), l.Prints, l.Boilerplate)
	runtime.KeepAlive(loaded)
}

// heapInuse is the heap in use after two collections (the second empties sync.Pool victims).
func heapInuse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// unrelated is text in none of GOROOT's files: the fixture's code and documents.
func unrelated(b testing.TB, n int) string {
	var s strings.Builder
	for s.Len() < n {
		for _, f := range []string{"docs/strategy.md", "web/checkout.js", "ingest/normalize.py", "pricing/engine.go"} {
			s.WriteString(readFixture(b, f))
		}
	}
	return s.String()[:n]
}

// BenchmarkScan16K scans a 16 KiB segment, 8 KiB pasted from net/http/server.go and 8 KiB of
// unrelated code and prose, against the index of all of $GOROOT/src (both classes, so the
// segment is normalised twice).
func BenchmarkScan16K(b *testing.B) {
	ix, _ := gorootIndex(b)
	server := gorootFile(b, "net/http/server.go")
	seg := server[40000:40000+8<<10] + unrelated(b, 8<<10)
	ms := ix.Scan(seg)
	if len(ms) == 0 || ms[0].File != "net/http/server.go" {
		b.Fatalf("the pasted half was not found: %+v", ms)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.SetBytes(int64(len(seg)))
	b.ReportAllocs()
	c0 := threadCPU()
	for b.Loop() {
		ix.Scan(seg)
	}
	if cpu := threadCPU() - c0; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	}
}

// TestLinearTime: inputs built to defeat the lexers' memos (unterminated quotes and comments,
// licence phrases on one long line, unbalanced brackets after "use") still take linear time.
func TestLinearTime(t *testing.T) {
	if testing.Short() && raceFactor > 1 {
		t.Skip("slow under the race detector; run without -race or -short")
	}
	code, _ := NewFingerprinter(testKey, Code, Options{})
	doc, _ := NewFingerprinter(testKey, Document, Options{})
	for _, unit := range []string{`"\"`, `'\`, "/*", "<!--", "'''", `"""`, "`", "\nuse (", "x\\", "a'b\"c`d/*e"} {
		lineartime.Check(t, "code "+unit, (1<<20)/lineartime.Growth/raceFactor, func(n int) func() {
			text := strings.Repeat(unit, n/len(unit))
			return func() { code.Append(nil, text) }
		})
	}
	for _, unit := range []string{"copyright c ", "all rights reserved ", "x copyright (c)\n", "é"} {
		lineartime.Check(t, "document "+unit, (1<<20)/lineartime.Growth/raceFactor, func(n int) func() {
			text := strings.Repeat(unit, n/len(unit))
			return func() { doc.Append(nil, text) }
		})
	}
}
