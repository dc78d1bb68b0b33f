package edm

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

const fuzzHeader = "name,email,phone,id,iban,dob,num,note\n"

var fuzzColumns = []Column{
	{"name", Name}, {"email", Email}, {"phone", Phone}, {"id", ID}, {"iban", IBAN}, {"dob", Date},
	{"num", Number}, {"note", Text},
}

// checkMatches fails t unless ms are well formed for text.
func checkMatches(t *testing.T, text string, ms []Match) {
	t.Helper()
	for _, m := range ms {
		if m.Rows < 1 || len(m.Columns) == 0 || len(m.Spans) == 0 || m.Confidence <= 0 || m.Confidence > 1 {
			t.Fatalf("bad match %+v for %q", m, text)
		}
		last := -1
		for _, sp := range m.Spans {
			if sp[0] < 0 || sp[1] > len(text) || sp[0] >= sp[1] || sp[0] < last {
				t.Fatalf("bad span %v in %+v for %q", sp, m, text)
			}
			last = sp[1]
		}
	}
}

// FuzzBuildTable: any CSV either fails with an error or builds a table that scans its own bytes
// and survives a write and read unchanged.
func FuzzBuildTable(f *testing.F) {
	f.Add(fuzzHeader+"Maria Gonzalez,m@x.example,+44 20 7946 0958,AC-1,DE89 3704 0044 0532 0130 00,1990-01-02,\"1,500\",hello there\n", false)
	f.Add("\xef\xbb\xbfname,email\r\n\"a \"\"b\"\"\",c@d.ef\r\n", true)
	f.Add(fuzzHeader+"x,y\n", false)
	f.Add("", true)
	f.Add(fuzzHeader+strings.Repeat("John Smith,,,,,,,\n", 10), false)
	f.Fuzz(func(t *testing.T, body string, raw bool) {
		csv := body
		if !raw {
			csv = fuzzHeader + body
		}
		tb, st, err := BuildTable(strings.NewReader(csv), testKey, Options{Columns: fuzzColumns, MinRows: 2, Built: testBuilt})
		if err != nil {
			return
		}
		if st.Dropped != st.DroppedCommon+st.DroppedShort+st.DroppedInvalid || st.Bytes != tb.bytes() || st.Rows != tb.rows {
			t.Fatalf("inconsistent stats %+v", st)
		}
		checkMatches(t, csv, tb.Scan(csv))
		var a, b bytes.Buffer
		if _, err := tb.WriteTo(&a); err != nil {
			t.Fatal(err)
		}
		back, err := ReadTable(bytes.NewReader(a.Bytes()), testKey)
		if err != nil {
			t.Fatal(err)
		}
		back.WriteTo(&b)
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatal("table changed through a write and read")
		}
	})
}

// FuzzNormalise: the normalisers never panic, and each is idempotent on what it returns.
func FuzzNormalise(f *testing.F) {
	for _, s := range []string{
		"Maria Gonzalez", "GONZÁLEZ, María", "Jose\u0301", "O'Brien's", "Þórr", "+44 20 7946 0958",
		"gb29 nwbk 6016 1331 9268 19", "AC-00412938", "1.234,50", "-0012.300", "14 March 1979",
		"03/04/1990", "mailto:A@B.cd", "a@b@c.de", "\xff\xfe'’s", "İstanbul ǅ",
		"ZZ99ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", "DE89370400440532013000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ws, buf := appendWords(nil, nil, s)
		last := 0
		var folded []string
		for _, w := range ws {
			if w.start < last || w.end <= w.start || w.end > len(s) || w.off+w.n > len(buf) || w.n == 0 {
				t.Fatalf("bad word %+v in %q", w, s)
			}
			last = w.end
			folded = append(folded, string(buf[w.off:w.off+w.n]))
		}
		if !utf8.Valid(buf) {
			t.Fatalf("folded words of %q are not UTF-8", s)
		}
		joined := strings.Join(folded, " ")
		ws2, buf2 := appendWords(nil, nil, joined)
		var again []string
		for _, w := range ws2 {
			again = append(again, string(buf2[w.off:w.off+w.n]))
		}
		if a := strings.Join(again, " "); a != joined {
			t.Fatalf("folding %q twice: %q then %q", s, joined, a)
		}
		if v, ok := normEmail(s); ok {
			if w, ok := normEmail(v); !ok || w != v {
				t.Fatalf("email %q → %q → %q", s, v, w)
			}
		}
		if v, _, ok := normPhone(s); ok {
			if len(v) > phoneTail || strings.Trim(v, "0123456789") != "" {
				t.Fatalf("phone %q → %q", s, v)
			}
		}
		if v, ok := normIBAN(s, false); ok {
			if w, ok := normIBAN(v, false); !ok || w != v {
				t.Fatalf("iban %q → %q → %q", s, v, w)
			}
			if got, want := ibanValid([]byte(v)), ibanValidBig(v); got != want {
				t.Fatalf("iban %q: mod-97 says %v, big.Int says %v", v, got, want)
			}
		}
		if v, ok := normID(s); ok {
			if w, ok := normID(v); !ok || w != v {
				t.Fatalf("id %q → %q → %q", s, v, w)
			}
		}
		if v, _, ok := normNumber(s); ok {
			if w, _, ok := normNumber(v); !ok || w != v {
				t.Fatalf("number %q → %q → %q", s, v, w)
			}
		}
		if ds, ok := normDate(s); ok {
			for _, d := range ds {
				if e, ok := normDate(string(d[:])); !ok || e[0] != d {
					t.Fatalf("date %q → %q → %v", s, d[:], e)
				}
			}
		}
	})
}

// ibanValidBig is the ISO 13616 check done the slow, obvious way.
func ibanValidBig(v string) bool {
	var digits strings.Builder
	for _, c := range v[4:] + v[:4] {
		if c >= 'A' && c <= 'Z' {
			digits.WriteString(strconv.Itoa(int(c-'A') + 10))
		} else {
			digits.WriteRune(c)
		}
	}
	n, ok := new(big.Int).SetString(digits.String(), 10)
	return ok && new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

// FuzzScanFindsCells: a text holding a row's values, as a CSV cell would hold them, finds the
// row whenever the build kept them (the build and the scan cut values the same way).
func FuzzScanFindsCells(f *testing.F) {
	f.Add("Maria Gonzalez", "AC-00412938", "+44 20 7946 0958")
	f.Add("José Müller", "ac 1", "02079460958")
	f.Add("GONZÁLEZ, María", "X9/Y8.Z7", "(415) 555-0123")
	f.Add("Li", "abc", "1")
	f.Fuzz(func(t *testing.T, name, id, phone string) {
		// Keep names to letters and single spaces and IDs to ASCII parts joined by one
		// separator: the shapes a text carries them in.
		name = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) && r < 0x250 || r == ' ' {
				return r
			}
			return ' '
		}, name)), " ")
		id = strings.Join(strings.FieldsFunc(id, func(r rune) bool { return r >= utf8.RuneSelf || !isASCIIAlnum(byte(r)) }), "-")
		phone = strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' || r == ' ' || r == '+' || r == '-' {
				return r
			}
			return -1
		}, strings.TrimSpace(phone))
		phone = strings.Join(strings.Fields(phone), " ")
		if strings.Count(phone, "+") > 0 {
			phone = "+" + strings.ReplaceAll(phone, "+", "")
		}
		if len(strings.Fields(name)) > 3 || strings.Count(id, "-") >= maxIDParts || len(id) > maxIDLen ||
			strings.ContainsAny(id, "0123456789") == false || strings.Contains(phone, "- ") || strings.Contains(phone, " -") ||
			strings.Contains(phone, "--") || strings.HasPrefix(phone, "-") || strings.HasSuffix(phone, "-") {
			return
		}
		csv := "name,id,phone\n" + quote(name) + "," + quote(id) + "," + quote(phone) + "\n"
		tb, st, err := BuildTable(strings.NewReader(csv), testKey, Options{
			Columns: []Column{{"name", Name}, {"id", ID}, {"phone", Phone}}, MinColumns: 2, MinRows: -1, Built: testBuilt,
		})
		if err != nil {
			t.Fatal(err)
		}
		kept := 3 - st.Dropped
		if st.Cells != 3 || kept < 2 || nameWordsN(name) == 0 || strings.Count(phone, " ") > 0 && digitGroupsTooLong(phone) {
			return
		}
		for _, text := range []string{name + " / " + id + " / " + phone, "(" + phone + ") " + id + ", " + name + "."} {
			ms := tb.Scan(text)
			checkMatches(t, text, ms)
			if len(ms) != 1 || ms[0].Rows != 1 {
				t.Fatalf("row %q not found in %q (stats %+v): %+v", csv, text, st, ms)
			}
		}
	})
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func nameWordsN(s string) int {
	ws, buf := appendWords(nil, nil, s)
	return len(nameWords(ws, buf))
}

// digitGroupsTooLong: a phone of more than maxPhoneDigits digits is cut by the scanner.
func digitGroupsTooLong(p string) bool {
	return len(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, p)) > maxPhoneDigits
}

// FuzzReadTable: no file makes ReadTable panic or return a table that Scan cannot use. With
// fix set, the checksums are recomputed first, so the fuzzer reaches the structural checks.
func FuzzReadTable(f *testing.F) {
	var good bytes.Buffer
	small, _, err := BuildTable(strings.NewReader(fuzzHeader+"Maria Gonzalez,m@x.example,+44 20 7946 0958,AC-1,DE89 3704 0044 0532 0130 00,1990-01-02,\"1,500\",hello\n"),
		testKey, Options{Columns: fuzzColumns, Built: testBuilt})
	if err != nil {
		f.Fatal(err)
	}
	small.WriteTo(&good)
	f.Add(good.Bytes(), false)
	f.Add(good.Bytes(), true)
	f.Add(good.Bytes()[:40], false)
	f.Add([]byte(magic), false)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, data []byte, fix bool) {
		if fix {
			data = fixCRCs(bytes.Clone(data))
		}
		tb, err := ReadTable(bytes.NewReader(data), testKey)
		if err != nil {
			return
		}
		text := "Maria Gonzalez m@x.example +44 20 7946 0958 AC-1 DE89 3704 0044 0532 0130 00 1990-01-02 1,500 hello"
		checkMatches(t, text, tb.Scan(text))
		tb.Info()
	})
}

// fixCRCs rewrites both checksums of a table file to match its bytes, where its lengths allow.
func fixCRCs(b []byte) []byte {
	if len(b) < 20 {
		return b
	}
	hl := int(binary.LittleEndian.Uint32(b[12:]))
	h := 16 + hl
	if hl > len(b) || h+4 > len(b) {
		return b
	}
	binary.LittleEndian.PutUint32(b[h:], crc32.Checksum(b[:h], castagnoli))
	if len(b) >= h+8 {
		binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[h+4:len(b)-4], castagnoli))
	}
	return b
}

// FuzzScan: any text against the fixture table gives well-formed matches, the same through a
// Set.
func FuzzScan(f *testing.F) {
	for _, c := range scanCases {
		f.Add(c.text)
	}
	f.Add(prompt4K)
	f.Add("\xff@\xfe 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6")
	f.Fuzz(func(t *testing.T, text string) {
		tb := fixture(t)
		ms := tb.Scan(text)
		checkMatches(t, text, ms)
		if a, b := renderMatches(text, ms), renderMatches(text, NewSet(tb).Scan(text)); a != b {
			t.Fatalf("set and table differ on %q:\n%s\n%s", text, a, b)
		}
	})
}
