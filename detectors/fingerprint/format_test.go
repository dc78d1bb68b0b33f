package fingerprint

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeIndex(t testing.TB, ix *Index) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := ix.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo returned %d, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

// TestIndexHoldsNoText: the index file holds no text of the sources, not even of the gitignored
// or generated ones (which were never read into it), and not the key. It does hold file names.
func TestIndexHoldsNoText(t *testing.T) {
	ix, _ := buildFixture(t, Options{KeepStrings: true})
	data := writeIndex(t, ix)
	for _, s := range []string{
		"tieredCost", "loyaltyDiscount", "surgeCeiling", "SessionStitcher", "pseudonymise", "blake2b",
		"validateCard", "kestrel-b", "checkout_invalid_card", "Nightjar", "Kestrel", "Corvid",
		"Heronworks", "Benelux", "board-approved", "debt covenants", "1.2 million euros",
		"floor of %d cents", "retire the flat per-seat list", "Marmalade", "marmalade", "hunter2",
		"QuokkaZebra", "quokka", "All rights reserved", "Proprietary and confidential",
		string(testKey), string(testKey[:16]),
	} {
		if bytes.Contains(bytes.ToLower(data), bytes.ToLower([]byte(s))) {
			t.Errorf("index file contains %q", s)
		}
	}
	for _, name := range []string{"pricing/engine.go", "docs/strategy.md", fixtureLabel} {
		if !bytes.Contains(data, []byte(name[strings.LastIndexByte(name, '/')+1:])) {
			t.Errorf("index file lacks the name %q: the test may be looking at the wrong bytes", name)
		}
	}
}

func TestIndexRoundTrip(t *testing.T) {
	ix, _ := buildFixture(t, Options{})
	data := writeIndex(t, ix)
	golden := filepath.Join("testdata", "index.golden")
	// The index file of the fixture is stable: a change means the format or the prints changed
	// (then bump formatVersion if old files would now mismatch).
	checkGoldenBytes(t, golden, data)

	got, err := ReadIndex(bytes.NewReader(data), testKey)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Labels(), ix.Labels()) {
		t.Errorf("labels: got %+v, want %+v", got.Labels(), ix.Labels())
	}
	if again := writeIndex(t, got); !bytes.Equal(again, data) {
		t.Error("re-written index differs")
	}
	text := renamedReformatted + reorderParagraphs(readFixture(t, "docs/strategy.md"))
	if a, b := ix.Scan(text), got.Scan(text); !reflect.DeepEqual(a, b) || len(a) != 2 {
		t.Errorf("scan after reading: got %+v, want %+v (2 matches)", b, a)
	}
}

func checkGoldenBytes(t *testing.T, path string, data []byte) {
	t.Helper()
	// golden files are text: store the hex dump
	var b strings.Builder
	const row = 32
	for i := 0; i < len(data); i += row {
		b.WriteString(strings.TrimSpace(hexRow(data[i:min(i+row, len(data))])))
		b.WriteByte('\n')
	}
	goldenCheck(t, path, []byte(b.String()))
}

func hexRow(p []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(p))
	for _, c := range p {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestReadIndexErrors(t *testing.T) {
	ix, _ := buildFixture(t, Options{})
	data := writeIndex(t, ix)
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(data)) }
	cases := []struct {
		name string
		data []byte
		key  []byte
		want error
	}{
		{"empty", nil, testKey, ErrBadMagic},
		{"not-an-index", []byte("{\"hello\": \"this is JSON, not an index file\"}"), testKey, ErrBadMagic},
		{"version", mutate(func(b []byte) []byte { b[8] = 99; return b }), testKey, ErrVersion},
		{"wrong-key", data, []byte("another-installation-key-0123456"), ErrWrongKey},
		{"flipped-byte", mutate(func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b }), testKey, ErrChecksum},
		{"truncated", data[:len(data)-9], testKey, ErrChecksum},
		{"trailing-garbage", append(bytes.Clone(data), "extra"...), testKey, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadIndex(bytes.NewReader(tc.data), tc.key)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "fingerprint: ") {
				t.Errorf("error %q does not say where it comes from", err)
			}
		})
	}
	if _, err := ReadIndex(bytes.NewReader(data), []byte("short")); err == nil {
		t.Error("a short key was accepted")
	}
}

// TestReadIndexFromFile reads the index the way serve does: one file per label.
func TestReadIndexFromFile(t *testing.T) {
	ix, _ := buildFixture(t, Options{})
	p := filepath.Join(t.TempDir(), fixtureLabel+".idx")
	if err := os.WriteFile(p, writeIndex(t, ix), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := ReadIndex(f, testKey); err != nil {
		t.Fatal(err)
	}
}
