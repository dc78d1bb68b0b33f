package quic

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// sentinels are the errors a parse may wrap; anything else is a bug.
var sentinels = []error{ErrUnsupportedVersion, ErrDecrypt, ErrTruncated, ErrMalformed}

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzParseDatagram feeds raw datagrams. Mutations rarely survive AEAD
// authentication, so this mostly exercises header parsing and the error
// paths; FuzzInitialPayload reaches the frame parser through real packets.
func FuzzParseDatagram(f *testing.F) {
	for _, name := range []string{
		"rfc9001_a2_client_initial.hex", "rfc9369_a2_client_initial.hex",
		"rfc9001_a3_server_initial.hex", "rfc9369_a3_server_initial.hex",
	} {
		f.Add(readHex(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		orig := bytes.Clone(data)
		r, err := ParseDatagramReport(data)
		if err != nil && !isSentinel(err) {
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		if !bytes.Equal(data, orig) {
			t.Fatal("input modified")
		}
		spanned := 0
		for _, s := range r.Skipped {
			spanned += s.Size
		}
		if spanned > len(data) {
			t.Fatalf("skipped packets span %d of %d bytes", spanned, len(data))
		}
		for _, in := range r.Initials {
			if len(in.DCID) > maxConnIDLen || len(in.SCID) > maxConnIDLen {
				t.Fatalf("connection ID over %d bytes", maxConnIDLen)
			}
			for _, c := range in.Crypto {
				if c.Offset+uint64(len(c.Data)) > maxVarint {
					t.Fatalf("CRYPTO frame ends at %d", c.Offset+uint64(len(c.Data)))
				}
			}
		}
		if _, err := ParseDatagramServer(data, rfcDCID); err != nil && !isSentinel(err) {
			t.Fatalf("server side: error wraps no sentinel: %v", err)
		}
	})
}

// FuzzInitialPayload seals arbitrary plaintext into a valid Initial and
// checks that ParseDatagram finds exactly what parseFrames finds in the
// plaintext: decryption must hand the frame parser the bytes that were
// sealed, and the frame parser must survive anything.
func FuzzInitialPayload(f *testing.F) {
	f.Add(readHex(f, "rfc9001_a2_crypto_frame.hex"), false, uint8(4), uint64(2))
	f.Add(readHex(f, "rfc9001_a3_server_payload.hex"), true, uint8(2), uint64(1))
	f.Add(mustHex("0302000102030405060106000161"), false, uint8(1), uint64(0))
	f.Add(mustHex("1c00000362616400"), true, uint8(3), uint64(300))
	f.Fuzz(func(t *testing.T, payload []byte, v2 bool, pnLen uint8, pn uint64) {
		version := Version1
		if v2 {
			version = Version2
		}
		n := int(pnLen%4) + 1
		if len(payload) < 4-n {
			n = 4 // a shorter packet number leaves room for the sample
		}
		pn &= 1<<(8*n) - 1 // a stateless reader sees the truncated number
		if n == 4 {
			pn &= 0x7fffffff // keep it below half the window (RFC 9000 A.3)
		} else {
			pn &= 1<<(8*n-1) - 1
		}
		pkt := seal(t, sealed{version: version, dcid: rfcDCID, scid: []byte{1, 2, 3}, pn: pn, pnLen: n, payload: payload})
		got, err := ParseDatagram(pkt)
		want, wantErr := parseFrames(payload)
		if errors.Is(err, ErrDecrypt) {
			t.Fatalf("valid packet failed to decrypt: %v", err)
		}
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("ParseDatagram: %v; parseFrames: %v", err, wantErr)
		}
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) != errors.Is(wantErr, s) {
					t.Fatalf("ParseDatagram: %v; parseFrames: %v", err, wantErr)
				}
			}
			return
		}
		if len(got) != 1 || got[0].PacketNumber != pn || got[0].Version != version {
			t.Fatalf("got %d Initials, %+v", len(got), got)
		}
		if len(got[0].Crypto) != len(want.crypto) || (got[0].Close == nil) != (want.close == nil) {
			t.Fatalf("frames differ: %+v vs %+v", got[0], want)
		}
		for i, c := range got[0].Crypto {
			if c.Offset != want.crypto[i].Offset || !bytes.Equal(c.Data, want.crypto[i].Data) {
				t.Fatalf("CRYPTO[%d] differs", i)
			}
		}
	})
}

// FuzzCryptoStream runs random Add sequences against a simple model: which
// offsets arrived, and what arrived first at each.
func FuzzCryptoStream(f *testing.F) {
	f.Add([]byte{}, uint16(0))
	f.Add([]byte{0, 0, 0, 10, 0, 0, 5, 0, 10, 0}, uint16(64))
	f.Add([]byte{0, 20, 0, 16, 0, 0, 0, 0, 20, 0, 0, 4, 0, 8, 1}, uint16(36))
	f.Add([]byte{0xff, 0xf0, 0x00, 0x20, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00}, uint16(0))
	f.Fuzz(func(t *testing.T, ops []byte, limitSel uint16) {
		limit := int(limitSel) // 0 means the default
		effective := limit
		if effective <= 0 {
			effective = DefaultCryptoLimit
		}
		truth := func(i int) byte { return byte(i*31 + i>>8) }
		c := NewCryptoStream(limit)
		model := make([]byte, effective)
		arrived := make([]bool, effective+1) // the extra false ends the prefix scan
		contig := 0
		// Each op: 2 bytes offset (scaled), 2 bytes length, 1 flag byte.
		// Capped so one input stays fast enough to fuzz.
		for steps := 0; len(ops) >= 5 && steps < 64; steps++ {
			off := int(binary.BigEndian.Uint16(ops[0:2])) * 2
			n := int(binary.BigEndian.Uint16(ops[2:4])) % 4096
			corrupt := ops[4]&1 != 0
			ops = ops[5:]

			data := make([]byte, n)
			for i := range data {
				data[i] = truth(off + i)
				if corrupt && i%3 == 0 {
					data[i] ^= 0x5a
				}
			}
			err := c.Add(uint64(off), data)
			if off+n > effective {
				if !errors.Is(err, ErrTooLarge) {
					t.Fatalf("%d bytes at %d past limit %d: err = %v", n, off, effective, err)
				}
				continue
			}
			conflict := false
			for i, b := range data {
				if arrived[off+i] {
					conflict = conflict || model[off+i] != b
				} else {
					model[off+i], arrived[off+i] = b, true
				}
			}
			if conflict != errors.Is(err, ErrInconsistent) || (!conflict && err != nil) {
				t.Fatalf("%d bytes at %d: err = %v, conflict %v", n, off, err, conflict)
			}
			for arrived[contig] {
				contig++
			}
			if got := c.Contiguous(); !bytes.Equal(got, model[:contig]) {
				t.Fatalf("Contiguous() has %d bytes, model %d", len(got), contig)
			}
			if cap(c.buf) > effective {
				t.Fatalf("buffer capacity %d over limit %d", cap(c.buf), effective)
			}
		}
	})
}
