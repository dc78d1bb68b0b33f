package decode

import (
	"bytes"
	"errors"
	"testing"
)

// Encode must be Body's inverse for every coding and stack of codings Body accepts, including
// deflate in both framings clients use.
func TestEncodeRoundTrip(t *testing.T) {
	body := bytes.Repeat([]byte(`{"messages":[{"role":"user","content":"[REDACTED:secret.aws-access-key-id#1] hello"}]}`), 50)
	rawDeflate, _ := Encode("deflate", body, []byte{0x00}) // no zlib header: raw DEFLATE
	tests := []struct {
		name, coding string
		raw          []byte
	}{
		{"identity", "", nil},
		{"gzip", "gzip", nil},
		{"x-gzip", "x-gzip", nil},
		{"zlib deflate", "deflate", []byte{0x78, 0x9c}},
		{"raw deflate", "deflate", rawDeflate},
		{"br", "br", nil},
		{"zstd", "zstd", nil},
		{"stacked", "gzip, br", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := Encode(tt.coding, body, tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if tt.coding != "" && bytes.Equal(enc, body) {
				t.Fatal("nothing was encoded")
			}
			dec, err := Body(tt.coding, enc, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dec, body) {
				t.Fatalf("round trip changed the body: %q", dec[:min(len(dec), 80)])
			}
			if tt.name == "raw deflate" && zlibHeader(enc) {
				t.Fatal("raw DEFLATE was re-encoded with a zlib header")
			}
		})
	}
	if _, err := Encode("compress", body, nil); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("unknown coding: %v, want ErrUnsupported", err)
	}
}
