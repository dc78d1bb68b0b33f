package jewels

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/flow"
)

// benchText is a prompt of about n bytes of prose-like words, distinct for each i: words drawn
// from a vocabulary of 5,000 by a generator seeded with i, as different prompts share words but
// rarely six in a row.
func benchText(i, n int) string {
	r := rand.New(rand.NewPCG(uint64(i), 42))
	var b strings.Builder
	for b.Len() < n {
		w := r.IntN(5000)
		fmt.Fprintf(&b, "%c%c%c%d ", 'a'+w%26, 'a'+w/26%26, 'a'+w/676%26, w%7)
	}
	return b.String()
}

// BenchmarkEcho: what the echo costs the proxy — remembering a 4 KiB prompt, and checking a
// 2 KiB telemetry event against a memory of 10,000 prompts — and the memory per prompt.
func BenchmarkEcho(b *testing.B) {
	h := detectors.NewHasher(testKey)
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	b.Run("Remember4KiB", func(b *testing.B) {
		e, _ := NewEcho(testKey, EchoOptions{Budget: 1 << 40})
		texts := make([][]flow.Segment, 64)
		for i := range texts {
			texts[i] = seg("messages[0].content", benchText(i, 4096))
		}
		b.SetBytes(4096)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			e.Remember("01KFLOW", false, texts[i%len(texts)], t0.Add(time.Duration(i)*time.Second))
		}
	})
	b.Run("Find2KiB", func(b *testing.B) {
		e, _ := NewEcho(testKey, EchoOptions{Budget: 1 << 40})
		for i := range 10_000 {
			e.Remember(fmt.Sprintf("01KFLOW%05d", i), false, seg("messages[0].content", benchText(i, 4096)), t0.Add(time.Duration(i)*time.Second))
		}
		st := e.Stats()
		var other strings.Builder
		for j := 0; other.Len() < 2048; j++ {
			fmt.Fprintf(&other, "event%d field%d ", j, j*31%17)
		}
		event := seg("properties.prompt", other.String())
		echoed := seg("properties.prompt", benchText(4242, 4096)[:2048])
		b.SetBytes(2048)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%2 == 0 {
				e.Find(event, h, t0.Add(3*time.Hour))
			} else if fs, _ := e.Find(echoed, h, t0.Add(3*time.Hour)); len(fs) == 0 {
				b.Fatal("the echoed prompt was not found")
			}
		}
		b.ReportMetric(float64(st.Bytes)/float64(st.Texts), "bytes/prompt")
	})
}
