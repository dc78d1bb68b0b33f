package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// BenchmarkLayoutAlternatives measures, on badger alone (encrypted, the store's options, write
// batches of 256), the CPU per flow of the key layouts issue 18 weighs, for flows of a 700-byte
// metadata value, a 2 KiB body and eight index values: today's ten keys per flow (metadata,
// body, one empty key per index value); metadata and body keys with the index written as one
// posting list per value per batch; one key per flow with postings; the same with the body
// zstd-compressed; and one value per batch. Measured 2026-12-07 (2 cores, noisy): 62.6,
// 21.4, 16.7, 22.5 and 12.5 µs per flow. Run with -benchtime 100000x.
func BenchmarkLayoutAlternatives(b *testing.B) {
	body := bytes.Repeat([]byte(`{"role":"user","content":"Please review the meeting notes and list the action items with owners and dates. "}`), 20)[:2048]
	meta := make([]byte, 700)
	for i := range meta {
		meta[i] = byte('a' + i%26)
	}
	zenc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	for _, layout := range []string{"10keys", "2keys+postings", "1key+postings", "2keys+postings+zstd", "batchvalue"} {
		b.Run(layout, func(b *testing.B) {
			o := benchOptions(b.TempDir(), randomKey(b))
			o.setDefaults()
			db, err := badger.Open(o.badgerOptions())
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			const batch = 256
			cpu0, t0 := cpuTime(), time.Now()
			id := make([]byte, 16)
			n := 0
			for n < b.N {
				wb := db.NewWriteBatch()
				postings := map[string][]byte{}
				var bv bytes.Buffer
				for i := 0; i < batch && n < b.N; i++ {
					binary.BigEndian.PutUint64(id, uint64(time.Now().UnixNano()))
					binary.BigEndian.PutUint64(id[8:], rand.Uint64())
					day := []byte{0, 0, 0x50, 0x10}
					k := func(fam byte, rest ...[]byte) []byte {
						key := append(append([]byte{}, day...), fam)
						for _, r := range rest {
							key = append(key, r...)
						}
						return key
					}
					idx := [][]byte{[]byte("openai"), []byte("ai-provider"), []byte(fmt.Sprintf("10.0.0.%d", n%16)), []byte("alice"), []byte("secret.aws"), []byte("allow"), []byte("openai.chat"), []byte("api.openai.com")}
					switch layout {
					case "10keys":
						_ = wb.Set(k('m', id), meta)
						_ = wb.Set(k('b', id), body)
						for j, v := range idx {
							_ = wb.Set(k(byte('c'+j), []byte{byte(len(v))}, v, id), nil)
						}
					case "batchvalue":
						bv.Write(id)
						bv.Write(meta)
						bv.Write(body)
						for _, v := range idx {
							postings[string(v)] = append(postings[string(v)], id...)
						}
					default:
						bb := body
						if layout == "2keys+postings+zstd" {
							bb = zenc.EncodeAll(body, nil)
						}
						if layout == "1key+postings" {
							_ = wb.Set(k('m', id), append(append([]byte{}, meta...), bb...))
						} else {
							_ = wb.Set(k('m', id), meta)
							_ = wb.Set(k('b', id), bb)
						}
						for _, v := range idx {
							postings[string(v)] = append(postings[string(v)], id...)
						}
					}
					n++
				}
				if bv.Len() > 0 {
					_ = wb.Set(append([]byte{0, 0, 0x50, 0x10, 'B'}, id...), bv.Bytes())
				}
				for v, ids := range postings {
					_ = wb.Set(append(append([]byte{0, 0, 0x50, 0x10, 'x', byte(len(v))}, v...), id...), ids)
				}
				if err := wb.Flush(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/flow")
			b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "flows/s")
		})
	}
}

// BenchmarkBodyCodecs measures, on the bodies of the realistic mix (mixFlow: request and
// answer of each flow, the value the body key holds), the CPU and the size of the codecs
// issue 18 weighs for compressing bodies before badger encrypts them (CPU time, so that the
// other core's load does not count).
//
//	go test -run '^$' -bench BodyCodecs -benchtime 20000x ./store
func BenchmarkBodyCodecs(b *testing.B) {
	bodies := make([][]byte, 4096)
	var raw int64
	for i := range bodies {
		f := mixFlow(i, base)
		r := RecordOf(f)
		r.RequestHeader, r.ResponseHeader, r.RequestBody, r.ResponseBody = f.RequestHeader, f.ResponseHeader, f.RequestBody, f.ResponseBody
		bodies[i] = appendBodyV1(nil, &r)
		raw += int64(len(bodies[i]))
	}
	zfast, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	zfastLow, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(64<<10))
	zdef, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	zdec, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	for _, c := range []struct {
		name string
		enc  func(dst, src []byte) []byte
		dec  func(dst, src []byte) ([]byte, error)
	}{
		{"zstd-fastest", swap(zfast.EncodeAll), swapErr(zdec.DecodeAll)},
		{"zstd-fastest-64k-window", swap(zfastLow.EncodeAll), swapErr(zdec.DecodeAll)},
		{"zstd-default", swap(zdef.EncodeAll), swapErr(zdec.DecodeAll)},
		{"s2", s2.Encode, s2.Decode},
		{"s2-better", s2.EncodeBetter, s2.Decode},
	} {
		b.Run(c.name, func(b *testing.B) {
			var out, in int64
			var buf []byte
			t0 := cpuTime()
			for i := 0; b.Loop(); i++ {
				src := bodies[i%len(bodies)]
				buf = c.enc(buf[:0], src)
				out += int64(len(buf))
				in += int64(len(src))
			}
			enc := cpuTime() - t0
			comp := make([][]byte, 256)
			for i := range comp {
				comp[i] = c.enc(nil, bodies[i])
			}
			t0 = cpuTime()
			for i := range b.N {
				var err error
				if buf, err = c.dec(buf[:0], comp[i%len(comp)]); err != nil {
					b.Fatal(err)
				}
			}
			dec := cpuTime() - t0
			b.ReportMetric(float64(enc.Microseconds())/float64(b.N), "enc-µs/flow")
			b.ReportMetric(float64(dec.Microseconds())/float64(b.N), "dec-µs/flow")
			b.ReportMetric(float64(in)/float64(out), "ratio")
			b.ReportMetric(float64(out)/float64(b.N), "B/flow")
			b.ReportMetric(float64(raw)/float64(len(bodies)), "raw-B/flow")
		})
	}
}

// swap and swapErr turn zstd's (src, dst) into s2's (dst, src).
func swap(f func(src, dst []byte) []byte) func(dst, src []byte) []byte {
	return func(dst, src []byte) []byte { return f(src, dst) }
}

func swapErr(f func(src, dst []byte) ([]byte, error)) func(dst, src []byte) ([]byte, error) {
	return func(dst, src []byte) ([]byte, error) { return f(src, dst) }
}
