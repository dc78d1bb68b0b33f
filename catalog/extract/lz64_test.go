package extract

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// lzCompressToBase64 is LZString.compressToBase64 (lz-string 1.4), written out for the tests:
// it makes round-trip inputs and fixtures, and the published vectors below check it too.
func lzCompressToBase64(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	units := utf16.Encode([]rune(s))
	var out []byte
	val, pos := 0, 0
	put := func(bit int) {
		val = val<<1 | bit
		if pos == 5 {
			out = append(out, alphabet[val])
			val, pos = 0, 0
		} else {
			pos++
		}
	}
	putBits := func(v, n int) { // least significant bit first, as the reference writes
		for i := 0; i < n; i++ {
			put(v & 1)
			v >>= 1
		}
	}
	dict := map[string]int{}
	toCreate := map[string]bool{}
	enlargeIn, dictSize, numBits := 2, 3, 2
	// Dictionary keys are the unit sequences, two bytes a unit.
	k := func(u []uint16) string {
		b := make([]byte, 0, 2*len(u))
		for _, x := range u {
			b = append(b, byte(x>>8), byte(x))
		}
		return string(b)
	}
	emitW := func(w []uint16) {
		kw := k(w)
		if toCreate[kw] {
			if w[0] < 256 {
				putBits(0, numBits)
				putBits(int(w[0]), 8)
			} else {
				putBits(1, numBits)
				putBits(int(w[0]), 16)
			}
			enlargeIn--
			if enlargeIn == 0 {
				enlargeIn = 1 << numBits
				numBits++
			}
			delete(toCreate, kw)
		} else {
			putBits(dict[kw], numBits)
		}
		enlargeIn--
		if enlargeIn == 0 {
			enlargeIn = 1 << numBits
			numBits++
		}
	}
	var w []uint16
	for _, c := range units {
		kc := k([]uint16{c})
		if _, ok := dict[kc]; !ok {
			dict[kc] = dictSize
			dictSize++
			toCreate[kc] = true
		}
		wc := append(append([]uint16(nil), w...), c)
		if _, ok := dict[k(wc)]; ok {
			w = wc
			continue
		}
		emitW(w)
		dict[k(wc)] = dictSize
		dictSize++
		w = []uint16{c}
	}
	if len(w) > 0 {
		emitW(w)
	}
	putBits(2, numBits)
	for {
		val <<= 1
		if pos == 5 {
			out = append(out, alphabet[val])
			break
		}
		pos++
	}
	for len(out)%4 != 0 {
		out = append(out, '=')
	}
	return string(out)
}

// Published vectors, made with the JavaScript library: CyberChef's LZString tests and the
// Python ports' tests (lzstring, langserve).
var lz64Vectors = []struct{ name, plain, lz64 string }{
	{"hello world", "hello world", "BYUwNmD2AEDukCcwBMg="},
	{"czech", "Žluťoučký kůň úpěl ďábelské ódy!", "r6ABsK6KaAD2aLCADWBfgBPQ9oCAlAZAvgDobEARlB4QAEOAjAUxAGd4BL5AZ4BMBPAQiA=="},
	{"json glossary",
		`{"glossary":{"title":"example glossary","GlossDiv":{"title":"S","GlossList":{"GlossEntry":{"ID":"SGML","SortAs":"SGML","GlossTerm":"Standard Generalized Markup Language","Acronym":"SGML","Abbrev":"ISO 8879:1986","GlossDef":{"para":"A meta-markup language, used to create markup languages such as DocBook.","GlossSeeAlso":["GML","XML"]},"GlossSee":"markup"}}}}}`,
		"N4Ig5gNg9gzjCGAnAniAXKALgS0xApuiPgB7wC2ADgQASSwIogA0IA4tHACLYBu6WXASIBlFu04wAMthiYBEhgFEAdpiYYQASS6i2AWSniRURJgCCMPYfEcGAFXyJyozPBUATJB5pt8Kp3gIbAAvfB99JABrAFdKGil3MBj4MEJWcwBjRCgVZBc0EBEDIwyAIzLEfH5CrREAeRoADiaAdgBONABGdqaANltJLnwAMwVKJHgicxpyfDcAWnJouJoIJJS05hoYmHCaTCgabPx4THxZlfj1lWTU/BgaGBjMgAsaeEeuKEyAISgoFEAHSDBgifD4cwQGBQdAAbXYNlYAA0bABdAC+rDscHBhEKy0QsUoIAxZLJQA"},
	// The Python port pads with "AA" where the JavaScript library stops; both must decode.
	{"czech, python padding", "Žluťoučký kůň úpěl ďábelské ódy!", "r6ABsK6KaAD2aLCADWBfgBPQ9oCAlAZAvgDobEARlB4QAEOAjAUxAGd4BL5AZ4BMBPAQiAAA"},
}

func TestLZ64Vectors(t *testing.T) {
	for _, v := range lz64Vectors {
		t.Run(v.name, func(t *testing.T) {
			got, err := decodeLZ64(v.lz64, 1<<20)
			if err != nil || got != v.plain {
				t.Fatalf("decodeLZ64 = %q, %v; want %q", got, err, v.plain)
			}
			if enc := lzCompressToBase64(v.plain); !strings.HasPrefix(v.lz64, strings.TrimRight(enc, "=")) {
				t.Errorf("lzCompressToBase64 = %q, want %q", enc, v.lz64)
			}
		})
	}
}

func TestLZ64RoundTrip(t *testing.T) {
	for _, s := range []string{
		"", "a", "aa", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "abababababababab", "AAAAABBABCABCABC",
		"TOBEORNOTTOBEORTOBEORNOT",
		`[{"event":"$pageview","properties":{"$current_url":"https://app.example.com/?token=abc","distinct_id":"u-1"}}]`,
		"emoji 🦊🦊🦊 and 数据采集无需埋点 mixed with ascii",
		strings.Repeat("the quick brown fox jumps over the lazy dog ", 200),
	} {
		enc := lzCompressToBase64(s)
		got, err := decodeLZ64(enc, 1<<20)
		if err != nil || got != s {
			t.Errorf("round trip of %.40q: got %.40q, %v", s, got, err)
		}
	}
}

func TestLZ64Errors(t *testing.T) {
	hello := lzCompressToBase64("hello world, hello world, hello")
	for _, tc := range []struct {
		name  string
		in    string
		limit int
		want  error  // nil: any error
		plain string // what must have been decoded before the error
	}{
		{name: "truncated", in: hello[:len(hello)/2], limit: 1 << 20, want: errLZ64Truncated, plain: "hello"},
		{name: "invalid character", in: hello[:8] + "!" + hello[9:], limit: 1 << 20},
		{name: "first code not a literal", in: "w", limit: 1 << 20},
		{name: "limit", in: lzCompressToBase64(strings.Repeat("x", 5000)), limit: 100, want: errLZ64Limit},
		{name: "zero limit", in: hello, limit: 0, want: errLZ64Limit},
		// A code past the dictionary: 3 bits of 7 (0b111) right after the first literal.
		{name: "code past the dictionary", in: "AYHg", limit: 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeLZ64(tc.in, tc.limit)
			if err == nil {
				t.Fatalf("decodeLZ64(%q) = %q, nil; want an error", tc.in, got)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error = %v, want %v", err, tc.want)
			}
			if !strings.HasPrefix(got, tc.plain) {
				t.Errorf("decoded %q before the error, want a prefix %q", got, tc.plain)
			}
			if utf8.RuneCountInString(got) > max(tc.limit, 0) {
				t.Errorf("decoded %d runes, over the limit %d", utf8.RuneCountInString(got), tc.limit)
			}
		})
	}
}

// lz64Bomb is input whose every token after the first names the entry it is defining (the
// previous entry plus its first unit), so each token writes one unit more than the last: n
// tokens of about log2(n) bits ask for n²/2 units of output.
func lz64Bomb(tokens int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var out []byte
	val, pos := 0, 0
	putBits := func(v, n int) {
		for i := 0; i < n; i++ {
			val = val<<1 | v&1
			v >>= 1
			if pos == 5 {
				out = append(out, alphabet[val])
				val, pos = 0, 0
			} else {
				pos++
			}
		}
	}
	putBits(0, 2) // a literal
	putBits('a', 8)
	dictSize, numBits, enlargeIn := 4, 3, 4
	for i := 1; i < tokens; i++ {
		putBits(dictSize, numBits)
		dictSize++
		if enlargeIn--; enlargeIn == 0 {
			enlargeIn = 1 << numBits
			numBits++
		}
	}
	putBits(2, numBits)
	putBits(0, 6-pos) // flush the last character
	return string(out)
}

func TestLZ64Bomb(t *testing.T) {
	if got, err := decodeLZ64(lz64Bomb(100), 1<<20); err != nil || got != strings.Repeat("a", 5050) {
		t.Fatalf("a small bomb decodes to %d bytes, %v; want 5050 a's", len(got), err)
	}
	bomb := lz64Bomb(3000) // 4.5 Mi units from 5 KB
	if len(bomb) > 8192 {
		t.Fatalf("bomb is %d bytes; the test wants a small one", len(bomb))
	}
	got, err := decodeLZ64(bomb, 1<<16)
	if !errors.Is(err, errLZ64Limit) {
		t.Fatalf("error = %v, want the limit", err)
	}
	if len(got) == 0 || len(got) > 1<<16 {
		t.Errorf("decoded %d bytes, want some, at most the limit", len(got))
	}
	// Without a caller limit the package cap applies.
	got, err = decodeLZ64(bomb, 1<<40)
	if !errors.Is(err, errLZ64Limit) || len(got) > lz64MaxUnits {
		t.Errorf("uncapped: %d bytes, %v; want at most %d and the limit error", len(got), err, lz64MaxUnits)
	}
}

func FuzzLZ64(f *testing.F) {
	for _, v := range lz64Vectors {
		f.Add(v.lz64)
	}
	f.Add(lz64Bomb(200))
	f.Add("AYHg")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		const limit = 1 << 12
		got, err := decodeLZ64(s, limit)
		if n := len(utf16.Encode([]rune(got))); n > limit {
			t.Fatalf("decoded %d units, over the limit %d", n, limit)
		}
		if err == nil && got == "" && s != "" && lz64Alphabet[s[0]]>>4 != 1 {
			// Only an end-of-stream code first decodes to nothing without an error: code 2 read
			// least significant bit first from the character's top bits, 0b01xxxx ('Q'-'f').
			t.Fatalf("decodeLZ64(%q) = empty without an error", s)
		}
		// Whatever decodes re-encodes and decodes to itself (lone surrogates aside).
		if utf8.ValidString(got) && !strings.ContainsRune(got, utf8.RuneError) {
			if back, err := decodeLZ64(lzCompressToBase64(got), 1<<20); err != nil || back != got {
				t.Fatalf("round trip of %q: %q, %v", got, back, err)
			}
		}
	})
}
