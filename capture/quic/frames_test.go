package quic

import (
	"errors"
	"testing"
)

func TestParseFrames(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		crypto  []CryptoFrame
		close   *ConnectionClose
		wantErr error
	}{
		{"empty payload", "", nil, nil, nil},
		{"padding only", "000000000000", nil, nil, nil},
		{"ping", "01", nil, nil, nil},
		{"ACK, no ranges", "02 05 00 00 00", nil, nil, nil},
		{"ACK with ranges", "02 0a 00 02 01  01 01  00 00", nil, nil, nil},
		{"ACK with 8-byte varints", "02 c000000000000010 00 01 00  00 00", nil, nil, nil},
		{"ACK ECN", "03 05 00 00 00  01 02 03", nil, nil, nil},
		{"ACK then CRYPTO", "02 05 00 00 00  06 00 02 6869", []CryptoFrame{{0, []byte("hi")}}, nil, nil},
		{"ACK ECN then CRYPTO", "03 05 00 01 00 00 00  07 08 09  06 00 01 7a", []CryptoFrame{{0, []byte("z")}}, nil, nil},
		{"CRYPTO", "06 00 03 616263", []CryptoFrame{{0, []byte("abc")}}, nil, nil},
		{"CRYPTO 4-byte offset", "06 80010000 01 78", []CryptoFrame{{0x10000, []byte("x")}}, nil, nil},
		{"CRYPTO empty", "06 05 00", []CryptoFrame{{5, []byte{}}}, nil, nil},
		{"non-minimal frame type", "4006 00 01 78", []CryptoFrame{{0, []byte("x")}}, nil, nil},
		{"CRYPTO at the last offset", "06 fffffffffffffffe 01 78", []CryptoFrame{{maxVarint - 1, []byte("x")}}, nil, nil},
		{"CONNECTION_CLOSE", "1c 0a 06 03 626164", nil, &ConnectionClose{10, 6, []byte("bad")}, nil},
		{"first CONNECTION_CLOSE kept", "1c 01 00 00  1c 02 00 00", nil, &ConnectionClose{1, 0, []byte{}}, nil},

		{"ACK range count beyond the input", "02 00 00 ffffffffffffffff 00  00 00", nil, nil, ErrTruncated},
		{"ACK cut", "02 05 00", nil, nil, ErrTruncated},
		{"ACK range cut", "02 05 00 01 00 01", nil, nil, ErrTruncated},
		{"ACK ECN counts cut", "03 05 00 00 00 01 02", nil, nil, ErrTruncated},
		{"CRYPTO data past the payload", "06 00 05 6162", nil, nil, ErrTruncated},
		{"CRYPTO length cut", "06 00 40", nil, nil, ErrTruncated},
		{"CRYPTO offset cut", "06 80", nil, nil, ErrTruncated},
		{"CRYPTO past 2^62-1", "06 ffffffffffffffff 01 78", nil, nil, ErrMalformed},
		{"CONNECTION_CLOSE reason past the payload", "1c 00 00 05 6162", nil, nil, ErrTruncated},
		{"CONNECTION_CLOSE cut", "1c 00", nil, nil, ErrTruncated},
		{"frame type cut", "40", nil, nil, ErrTruncated},
		{"application CONNECTION_CLOSE", "1d 00 00", nil, nil, ErrMalformed},
		{"STREAM", "08 00 00", nil, nil, ErrMalformed},
		{"NEW_TOKEN", "07 00", nil, nil, ErrMalformed},
		{"HANDSHAKE_DONE", "1e", nil, nil, ErrMalformed},
		{"unknown type after good frames", "01 06 00 01 78 21", nil, nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseFrames(mustHex(tt.in))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			checkFrames(t, f.crypto, tt.crypto)
			checkClose(t, f.close, tt.close)
		})
	}
}
