package fingerprint

import (
	"bytes"
	"path"
	"slices"
	"strings"
	"testing"
)

func checkPrints(t *testing.T, text string, ps []Print) {
	t.Helper()
	for i, p := range ps {
		if p.Start < 0 || p.End > len(text) || p.Start >= p.End || i > 0 && p.Start <= ps[i-1].Start {
			t.Fatalf("print %d: bad span [%d,%d) in %d bytes (previous start %d)", i, p.Start, p.End, len(text), ps[max(i-1, 0)].Start)
		}
	}
}

func seedTexts(f *testing.F) {
	for _, s := range []string{
		renamedReformatted, legalMemo, "", "x", "```", "/*", "'''", `"""`, "`", "<!--", "-- ", "#",
		"import (\n", "use (", "a\n\n\nb", "É", "机密", "\xff\xfe", strings.Repeat("(", 100),
		"Copyright (c) all rights reserved", `"\"\"\"\"`, "'\\'\\'\\'",
	} {
		f.Add(s)
	}
	for _, p := range []string{"pricing/engine.go", "ingest/normalize.py", "web/checkout.js", "docs/strategy.md"} {
		f.Add(readFixture(f, p))
	}
}

// FuzzCodeNormaliser: any input gives well-formed prints, in linear time, and the same ones twice.
func FuzzCodeNormaliser(f *testing.F) {
	seedTexts(f)
	fp, _ := NewFingerprinter(testKey, Code, Options{K: 5, W: 4})
	keep, _ := NewFingerprinter(testKey, Code, Options{K: 3, W: 2, KeepStrings: true})
	f.Fuzz(func(t *testing.T, text string) {
		ps := fp.Append(nil, text)
		checkPrints(t, text, ps)
		if again := fp.Append(nil, text); !slices.Equal(ps, again) {
			t.Fatal("not deterministic")
		}
		checkPrints(t, text, keep.Append(nil, text))
	})
}

// FuzzDocumentNormaliser: well-formed prints, and ASCII case does not matter.
func FuzzDocumentNormaliser(f *testing.F) {
	seedTexts(f)
	fp, _ := NewFingerprinter(testKey, Document, Options{K: 3, W: 4})
	f.Fuzz(func(t *testing.T, text string) {
		ps := fp.Append(nil, text)
		checkPrints(t, text, ps)
		upper := strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' {
				return r - 32
			}
			return r
		}, text)
		if got := fp.Append(nil, upper); !slices.Equal(hashes(got), hashes(ps)) {
			t.Fatalf("upper-casing ASCII changed the prints of %q", text)
		}
	})
}

// FuzzReadIndex: a damaged index file is an error, never a panic, and a file that loads scans.
func FuzzReadIndex(f *testing.F) {
	ix, _ := buildFixture(f, Options{})
	var buf bytes.Buffer
	ix.WriteTo(&buf)
	valid := buf.Bytes()
	f.Add(valid)
	f.Add(valid[:headerLen])
	f.Add([]byte("CSTMFPX\n"))
	empty := NewBuilder(testKey, Options{}).Build()
	buf.Reset()
	empty.WriteTo(&buf)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		// re-seal the checksum so that mutations reach the body decoder
		if len(data) >= headerLen+4 && bytes.HasPrefix(data, magic[:]) {
			data = reseal(data)
		}
		got, err := ReadIndex(bytes.NewReader(data), testKey)
		if err != nil {
			return
		}
		got.Scan(renamedReformatted)
		got.Labels()
	})
}

// reseal fixes the length and checksum of an index file so that the fuzzer's mutations of the
// body are not all caught by the checksum.
func reseal(data []byte) []byte {
	out := bytes.Clone(data[:len(data)-4])
	n := uint64(len(out) - headerLen)
	for i := range 8 {
		out[20+i] = byte(n >> (8 * i))
	}
	crc := crc32c(out)
	return append(out, byte(crc), byte(crc>>8), byte(crc>>16), byte(crc>>24))
}

// FuzzDocx: any bytes are text or an error, never a panic.
func FuzzDocx(f *testing.F) {
	f.Add(makeDocx(f, []string{"Kestrel tiers launch in January.", "Renewals move in July."}))
	f.Add(zipOf(f, "word/document.xml", "<w:document><w:body><w:p><w:t>a</w:t></w:p>"))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		docxText(data, 1<<20)
	})
}

// FuzzWordXML fuzzes the XML walk directly, which the zip layer hides from most mutations.
func FuzzWordXML(f *testing.F) {
	f.Add(`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Kestrel</w:t><w:tab/><w:t>tiers</w:t></w:r></w:p></w:body></w:document>`)
	f.Add(`<w:t>&amp;&lt;</w:t>`)
	f.Fuzz(func(t *testing.T, x string) {
		wordXMLText(strings.NewReader(x))
	})
}

// FuzzGlob: one-segment globs agree with path.Match where both define the pattern, on ASCII:
// like git's wildmatch, globSegment's ? and classes match bytes, path.Match's runes.
func FuzzGlob(f *testing.F) {
	for _, p := range []string{"*.go", "a?c", "[a-c]*", "[^x]y", `\*`, "**", "*a*b*c*", "["} {
		f.Add(p, "abc.go")
	}
	f.Fuzz(func(t *testing.T, pat, name string) {
		if strings.Contains(name, "/") || strings.Contains(pat, "/") || !ascii(pat) || !ascii(name) {
			return
		}
		got := globSegment(pat, name)
		// gitignore negates a class with ! as well as ^; path.Match only with ^
		if strings.Contains(pat, "[!") || strings.Contains(pat, "[") && !strings.Contains(pat, "]") {
			return
		}
		if want, err := path.Match(pat, name); err == nil && got != want {
			t.Fatalf("globSegment(%q, %q) = %v, path.Match says %v", pat, name, got, want)
		}
	})
}

// FuzzIgnorePattern: any .gitignore line against any path returns, without panicking, in time
// polynomial in their lengths.
func FuzzIgnorePattern(f *testing.F) {
	f.Add("a/**/b/**/c", "a/x/b/y/c", true)
	f.Add("!/build/", "build", true)
	f.Add("**/*.[ch]", "src/x.c", false)
	f.Fuzz(func(t *testing.T, line, rel string, isDir bool) {
		if p, ok := parseIgnoreLine(line); ok && rel != "" {
			p.match(rel, isDir)
		}
	})
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
