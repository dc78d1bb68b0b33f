package quic

import (
	"bytes"
	"testing"
)

func TestDecodePacketNumber(t *testing.T) {
	tests := []struct {
		name      string
		largest   int64
		truncated uint64
		pnLen     int
		want      uint64
	}{
		{"RFC 9000 A.3 example", 0xa82f30ea, 0x9b32, 2, 0xa82f9b32},
		{"nothing seen, 1 byte", -1, 0x00, 1, 0},
		{"nothing seen, 4 bytes", -1, 2, 4, 2},
		{"nothing seen, large truncated", -1, 0xff, 1, 0xff},
		{"wraps forward", 0xff, 0x01, 1, 0x101},
		{"stays behind", 0x100, 0xff, 1, 0xff},
		{"near the top of the space", maxVarint - 1, 0xff, 1, maxVarint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decodePacketNumber(tt.largest, tt.truncated, tt.pnLen); got != tt.want {
				t.Errorf("decodePacketNumber(%#x, %#x, %d) = %#x, want %#x", tt.largest, tt.truncated, tt.pnLen, got, tt.want)
			}
		})
	}
}

// TestOpenRFCPayload checks the whole decrypted payload of the RFC client
// Initials, not just the frames ParseDatagram picks out: the CRYPTO frame,
// then PADDING up to 1162 bytes.
func TestOpenRFCPayload(t *testing.T) {
	frame := readHex(t, "rfc9001_a2_crypto_frame.hex")
	want := append(append([]byte(nil), frame...), make([]byte, 1162-len(frame))...)
	for _, tt := range []struct {
		file    string
		version uint32
	}{
		{"rfc9001_a2_client_initial.hex", Version1},
		{"rfc9369_a2_client_initial.hex", Version2},
	} {
		t.Run(tt.file, func(t *testing.T) {
			pkt := readHex(t, tt.file)
			orig := bytes.Clone(pkt)
			h, err := parseHeader(pkt)
			if err != nil {
				t.Fatal(err)
			}
			if h.typ != PacketInitial || h.version != tt.version || h.size != 1200 {
				t.Fatalf("header: type %v version %#x size %d", h.typ, h.version, h.size)
			}
			k, err := newInitialKeys(h.version, h.params, h.dcid, sideClient)
			if err != nil {
				t.Fatal(err)
			}
			o, aad, err := k.open(nil, nil, pkt, h)
			if err != nil {
				t.Fatal(err)
			}
			if o.pn != 2 {
				t.Errorf("packet number %d, want 2", o.pn)
			}
			// The unprotected header of RFC 9001 A.2 / RFC 9369 A.2.
			wantHdr := map[uint32]string{
				Version1: "c300000001088394c8f03e5157080000449e00000002",
				Version2: "d36b3343cf088394c8f03e5157080000449e00000002",
			}[tt.version]
			if !bytes.Equal(aad, mustHex(wantHdr)) {
				t.Errorf("unprotected header %x, want %s", aad, wantHdr)
			}
			if !bytes.Equal(o.plain, want) {
				t.Errorf("payload differs from the RFC's:\n got %x\nwant %x", o.plain, want)
			}
			if !bytes.Equal(pkt, orig) {
				t.Error("open modified the caller's packet")
			}
		})
	}
}

// TestSealMatchesRFC proves the test encryptor against the RFC: sealing the
// published payloads must give the published packets byte for byte. The
// other tests can then trust the packets it builds.
func TestSealMatchesRFC(t *testing.T) {
	frame := readHex(t, "rfc9001_a2_crypto_frame.hex")
	serverPayload := readHex(t, "rfc9001_a3_server_payload.hex")
	serverSCID := mustHex("f067a5502a4262b5")
	tests := []struct {
		file string
		s    sealed
	}{
		{"rfc9001_a2_client_initial.hex", sealed{version: Version1, dcid: rfcDCID, pn: 2, payload: frame, padTo: 1162}},
		{"rfc9369_a2_client_initial.hex", sealed{version: Version2, dcid: rfcDCID, pn: 2, payload: frame, padTo: 1162}},
		{"rfc9001_a3_server_initial.hex", sealed{version: Version1, side: sideServer, keyDCID: rfcDCID, scid: serverSCID, pn: 1, pnLen: 2, payload: serverPayload}},
		{"rfc9369_a3_server_initial.hex", sealed{version: Version2, side: sideServer, keyDCID: rfcDCID, scid: serverSCID, pn: 1, pnLen: 2, payload: serverPayload}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := seal(t, tt.s)
			want := readHex(t, tt.file)
			if !bytes.Equal(got, want) {
				t.Errorf("seal differs from the RFC packet:\n got %x\nwant %x", got, want)
			}
		})
	}
}
