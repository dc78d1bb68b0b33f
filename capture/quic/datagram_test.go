package quic

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestParseDatagramRFC decrypts the published Initial packets of RFC 9001
// Appendix A.2/A.3 and RFC 9369 Appendix A.2/A.3.
func TestParseDatagramRFC(t *testing.T) {
	clientHello := rfcClientHello(t)
	serverHello := readHex(t, "rfc9001_a3_server_payload.hex")[9:] // after ACK (5 bytes) and the CRYPTO header (4)
	serverSCID := mustHex("f067a5502a4262b5")
	tests := []struct {
		name       string
		file       string
		server     bool
		version    uint32
		dcid, scid []byte
		pn         uint64
		data       []byte
	}{
		{"RFC 9001 A.2 client", "rfc9001_a2_client_initial.hex", false, Version1, rfcDCID, nil, 2, clientHello},
		{"RFC 9369 A.2 client", "rfc9369_a2_client_initial.hex", false, Version2, rfcDCID, nil, 2, clientHello},
		{"RFC 9001 A.3 server", "rfc9001_a3_server_initial.hex", true, Version1, nil, serverSCID, 1, serverHello},
		{"RFC 9369 A.3 server", "rfc9369_a3_server_initial.hex", true, Version2, nil, serverSCID, 1, serverHello},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkt := readHex(t, tt.file)
			orig := bytes.Clone(pkt)
			var got []Initial
			var err error
			if tt.server {
				got, err = ParseDatagramServer(pkt, rfcDCID)
			} else {
				got, err = ParseDatagram(pkt)
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d Initials, want 1", len(got))
			}
			in := got[0]
			if in.Version != tt.version || !bytes.Equal(in.DCID, tt.dcid) || !bytes.Equal(in.SCID, tt.scid) || in.PacketNumber != tt.pn || len(in.Token) != 0 || in.Close != nil {
				t.Errorf("got version %#x DCID %x SCID %x pn %d token %x close %v", in.Version, in.DCID, in.SCID, in.PacketNumber, in.Token, in.Close)
			}
			if len(in.Crypto) != 1 || in.Crypto[0].Offset != 0 || !bytes.Equal(in.Crypto[0].Data, tt.data) {
				t.Fatalf("CRYPTO frames %+v, want one at offset 0 with %x", in.Crypto, tt.data)
			}
			if !bytes.Equal(pkt, orig) {
				t.Error("the caller's datagram was modified")
			}
			// Nothing returned may alias the caller's buffer.
			for i := range pkt {
				pkt[i] ^= 0xff
			}
			if !bytes.Equal(in.Crypto[0].Data, tt.data) || (tt.dcid != nil && !bytes.Equal(in.DCID, tt.dcid)) {
				t.Error("the result aliases the caller's datagram")
			}
		})
	}
}

func TestParseDatagramWrongSide(t *testing.T) {
	client := readHex(t, "rfc9001_a2_client_initial.hex")
	server := readHex(t, "rfc9001_a3_server_initial.hex")
	if _, err := ParseDatagram(server); !errors.Is(err, ErrDecrypt) {
		t.Errorf("server Initial with client keys: %v, want ErrDecrypt", err)
	}
	if _, err := ParseDatagramServer(client, rfcDCID); !errors.Is(err, ErrDecrypt) {
		t.Errorf("client Initial with server keys: %v, want ErrDecrypt", err)
	}
	if _, err := ParseDatagramServer(server, mustHex("0001020304050607")); !errors.Is(err, ErrDecrypt) {
		t.Errorf("server Initial with another DCID: %v, want ErrDecrypt", err)
	}
}

// TestParseDatagramErrors mutates the RFC client packet.
func TestParseDatagramErrors(t *testing.T) {
	rfc := readHex(t, "rfc9001_a2_client_initial.hex")
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(rfc)) }
	flip := func(i int) []byte {
		return mutate(func(b []byte) []byte { b[i] ^= 0x01; return b })
	}
	tests := []struct {
		name    string
		in      []byte
		want    error
		wantMsg string
	}{
		{"last tag byte", flip(len(rfc) - 1), ErrDecrypt, "authentication"},
		{"ciphertext byte", flip(600), ErrDecrypt, ""},
		{"sample byte", flip(25), ErrDecrypt, ""},
		{"protected packet number", flip(19), ErrDecrypt, ""},
		{"protected first-byte bits", flip(0), ErrDecrypt, ""},
		{"DCID byte, so other keys", flip(6), ErrDecrypt, ""},
		{"unknown version", mutate(func(b []byte) []byte { copy(b[1:5], []byte{0xff, 0x00, 0x00, 0x1d}); return b }), ErrUnsupportedVersion, "0xff00001d"},
		{"gQUIC version", mutate(func(b []byte) []byte { copy(b[1:5], "Q050"); return b }), ErrUnsupportedVersion, "0x51303530"},
		{"DCID over 20 bytes", mutate(func(b []byte) []byte { b[5] = 21; return b }), ErrMalformed, "destination connection ID"},
		{"Length past the datagram", mutate(func(b []byte) []byte { b[16], b[17] = 0x44, 0x9f; return b }), ErrTruncated, "length 1183"},
		{"Length too short to sample", mutate(func(b []byte) []byte { b[16], b[17] = 0x40, 0x13; return b[:18+0x13] }), ErrMalformed, "sample"},
		{"token past the datagram", mutate(func(b []byte) []byte { b[15] = 0x3f; return b[:40] }), ErrTruncated, "token"},
		{"varint Length cut", mutate(func(b []byte) []byte { return b[:17] }), ErrTruncated, "length"},
		{"one byte", rfc[:1], ErrTruncated, ""},
		{"version cut", rfc[:4], ErrTruncated, "version"},
		{"DCID cut", rfc[:10], ErrTruncated, "destination"},
		{"SCID length missing", rfc[:14], ErrTruncated, "source"},
		{"half a packet", rfc[:600], ErrTruncated, ""},
		{"one byte short", rfc[:len(rfc)-1], ErrTruncated, ""},
		{"all 0xff", bytes.Repeat([]byte{0xff}, 1200), ErrUnsupportedVersion, "0xffffffff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDatagram(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to mention %q", err, tt.wantMsg)
			}
			if len(got) != 0 {
				t.Errorf("%d Initials returned with the error", len(got))
			}
		})
	}
}

// TestParseDatagramSkips covers packets that are not client Initials: they
// are stepped over and reported, never errors.
func TestParseDatagramSkips(t *testing.T) {
	dcid := mustHex("0102030405060708")
	initial := seal(t, sealed{dcid: dcid, pn: 0, payload: cryptoFrame(0, []byte("hello")), padTo: 100})
	handshake := longPacket(Version1, 2, dcid, bytes.Repeat([]byte{0xaa}, 40))
	zeroRTT := longPacket(Version1, 1, dcid, bytes.Repeat([]byte{0xbb}, 30))
	v2Handshake := longPacket(Version2, 3, dcid, bytes.Repeat([]byte{0xcc}, 20))
	retry := concat([]byte{0xf0, 0, 0, 0, 1, 0, 8}, dcid, bytes.Repeat([]byte{0xdd}, 24))
	versionNeg := concat([]byte{0x80, 0, 0, 0, 0, 8}, dcid, []byte{0}, []byte{0, 0, 0, 1})
	short := concat([]byte{0x40}, dcid, bytes.Repeat([]byte{0xee}, 50))
	// A v1 Initial relabelled as version 2 reads as a Retry there (type
	// bits 00), which is skipped, not an error.
	relabelled := bytes.Clone(readHex(t, "rfc9001_a2_client_initial.hex"))
	copy(relabelled[1:5], []byte{0x6b, 0x33, 0x43, 0xcf})

	type skip struct {
		typ     PacketType
		version uint32
		size    int
	}
	tests := []struct {
		name     string
		in       []byte
		initials int
		skipped  []skip
	}{
		{"empty datagram", nil, 0, nil},
		{"short header", short, 0, []skip{{PacketShortHeader, 0, len(short)}}},
		{"zero padding is a short header", make([]byte, 1200), 0, []skip{{PacketShortHeader, 0, 1200}}},
		{"version negotiation", versionNeg, 0, []skip{{PacketVersionNegotiation, 0, len(versionNeg)}}},
		{"retry", retry, 0, []skip{{PacketRetry, Version1, len(retry)}}},
		{"v1 relabelled v2 is a Retry", relabelled, 0, []skip{{PacketRetry, Version2, 1200}}},
		{"Initial, Handshake, 1-RTT", concat(initial, handshake, short), 1, []skip{
			{PacketHandshake, Version1, len(handshake)}, {PacketShortHeader, 0, len(short)},
		}},
		{"0-RTT between Initials", concat(initial, zeroRTT, initial), 2, []skip{{Packet0RTT, Version1, len(zeroRTT)}}},
		{"v2 Handshake", v2Handshake, 0, []skip{{PacketHandshake, Version2, len(v2Handshake)}}},
		{"trailing zeros after the Initial", concat(initial, make([]byte, 300)), 1, []skip{{PacketShortHeader, 0, 300}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseDatagramReport(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Initials) != tt.initials {
				t.Errorf("%d Initials, want %d", len(r.Initials), tt.initials)
			}
			var got []skip
			for _, s := range r.Skipped {
				got = append(got, skip{s.Type, s.Version, s.Size})
			}
			if len(got) != len(tt.skipped) {
				t.Fatalf("skipped %+v, want %+v", got, tt.skipped)
			}
			for i := range got {
				if got[i] != tt.skipped[i] {
					t.Errorf("skipped[%d] = %+v, want %+v", i, got[i], tt.skipped[i])
				}
			}
		})
	}
}

// TestParseDatagramCoalesced puts several Initials in one datagram, with
// token, long Length encodings, another DCID and both versions.
func TestParseDatagramCoalesced(t *testing.T) {
	dcidA := mustHex("0a0a0a0a0a0a0a0a")
	dcidB := mustHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b") // 20 bytes, the maximum
	scid := mustHex("c1c2c3c4")
	token := bytes.Repeat([]byte{0x70}, 100) // needs a 2-byte token length
	p1 := seal(t, sealed{dcid: dcidA, scid: scid, token: token, pn: 0, pnLen: 1, payload: concat([]byte{framePing}, cryptoFrame(0, []byte("abc")))})
	p2 := seal(t, sealed{dcid: dcidA, scid: scid, pn: 1, pnLen: 2, lengthLen: 4, payload: concat(cryptoFrame(3, []byte("def")), []byte{framePadding, framePadding})})
	p3 := seal(t, sealed{version: Version2, dcid: dcidB, pn: 7, pnLen: 3, lengthLen: 8, payload: cryptoFrame(0, []byte("other"))})
	dgram := concat(p1, p2, p3)

	got, err := ParseDatagram(dgram)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		version uint32
		dcid    []byte
		token   []byte
		pn      uint64
		off     uint64
		data    string
	}{
		{Version1, dcidA, token, 0, 0, "abc"},
		{Version1, dcidA, nil, 1, 3, "def"},
		{Version2, dcidB, nil, 7, 0, "other"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d Initials, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Version != w.version || !bytes.Equal(g.DCID, w.dcid) || !bytes.Equal(g.Token, w.token) || g.PacketNumber != w.pn {
			t.Errorf("Initial %d: version %#x DCID %x token %x pn %d", i, g.Version, g.DCID, g.Token, g.PacketNumber)
		}
		if len(g.Crypto) != 1 || g.Crypto[0].Offset != w.off || string(g.Crypto[0].Data) != w.data {
			t.Errorf("Initial %d: CRYPTO %+v, want %q at %d", i, g.Crypto, w.data, w.off)
		}
	}

	// A bad packet after good ones: the good ones come back with the error.
	bad := bytes.Clone(p3)
	bad[len(bad)-1] ^= 0x80
	got, err = ParseDatagram(concat(p1, p2, bad))
	if !errors.Is(err, ErrDecrypt) || len(got) != 2 {
		t.Errorf("got %d Initials and %v, want 2 and ErrDecrypt", len(got), err)
	}
}

// TestParseDatagramFrames runs payloads through a real packet, so each frame
// case also passes through decryption.
func TestParseDatagramFrames(t *testing.T) {
	dcid := mustHex("1112131415161718")
	tests := []struct {
		name    string
		payload []byte
		crypto  []CryptoFrame
		close   *ConnectionClose
		wantErr error
	}{
		{"ACK then CRYPTO then PING", concat(mustHex("0205000000"), cryptoFrame(0, []byte("x")), []byte{framePing}),
			[]CryptoFrame{{0, []byte("x")}}, nil, nil},
		{"ACK ECN", concat(mustHex("030a0001020101 010203"), cryptoFrame(5, []byte("y"))),
			[]CryptoFrame{{5, []byte("y")}}, nil, nil},
		{"two CRYPTO frames kept in packet order", concat(cryptoFrame(9, []byte("later")), cryptoFrame(0, []byte("first"))),
			[]CryptoFrame{{9, []byte("later")}, {0, []byte("first")}}, nil, nil},
		{"CONNECTION_CLOSE", concat(mustHex("1c4128060362616400"), make([]byte, 10)),
			nil, &ConnectionClose{ErrorCode: 0x128, FrameType: 6, Reason: []byte("bad")}, nil},
		{"STREAM frame", concat(mustHex("0800"), make([]byte, 20)), nil, nil, ErrMalformed},
		{"application CONNECTION_CLOSE", concat(mustHex("1d0000"), make([]byte, 20)), nil, nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkt := seal(t, sealed{dcid: dcid, payload: tt.payload, padTo: 20})
			got, err := ParseDatagram(pkt)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if len(got) != 1 {
				t.Fatalf("%d Initials", len(got))
			}
			checkFrames(t, got[0].Crypto, tt.crypto)
			checkClose(t, got[0].Close, tt.close)
		})
	}
}

// TestParseDatagramReservedBits: reserved bits set under header protection
// fail only after authentication, as RFC 9000 §17.2 orders.
func TestParseDatagramReservedBits(t *testing.T) {
	dcid := mustHex("2122232425262728")
	pkt := seal(t, sealed{dcid: dcid, payload: cryptoFrame(0, []byte("z")), padTo: 40, patch: func(hdr []byte) { hdr[0] |= 0x0c }})
	if _, err := ParseDatagram(pkt); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("err = %v, want ErrMalformed for reserved bits", err)
	}
}

func checkFrames(t *testing.T, got, want []CryptoFrame) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("CRYPTO frames %+v, want %+v", got, want)
	}
	for i := range got {
		if got[i].Offset != want[i].Offset || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Errorf("CRYPTO[%d] = {%d %q}, want {%d %q}", i, got[i].Offset, got[i].Data, want[i].Offset, want[i].Data)
		}
	}
}

func checkClose(t *testing.T, got, want *ConnectionClose) {
	t.Helper()
	if (got == nil) != (want == nil) {
		t.Fatalf("CONNECTION_CLOSE %+v, want %+v", got, want)
	}
	if got != nil && (got.ErrorCode != want.ErrorCode || got.FrameType != want.FrameType || !bytes.Equal(got.Reason, want.Reason)) {
		t.Errorf("CONNECTION_CLOSE %+v, want %+v", got, want)
	}
}
