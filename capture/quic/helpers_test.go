package quic

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rfcDCID is the client's Destination Connection ID of RFC 9001 Appendix A
// and RFC 9369 Appendix A.
var rfcDCID = mustHex("8394c8f03e515708")

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// readHex loads a testdata file of hex digits; whitespace and lines starting
// with # are ignored.
func readHex(tb testing.TB, name string) []byte {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	var sb strings.Builder
	for line := range strings.Lines(string(raw)) {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		sb.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(sb.String())
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return b
}

// rfcClientHello is the ClientHello of RFC 9001 A.2 (a whole handshake
// message, header included), as carried by its single CRYPTO frame.
func rfcClientHello(tb testing.TB) []byte {
	return readHex(tb, "rfc9001_a2_crypto_frame.hex")[4:]
}

// appendVarint encodes v in exactly n bytes (1, 2, 4 or 8), so tests can
// write the non-minimal encodings real stacks use for Length.
func appendVarint(b []byte, v uint64, n int) []byte {
	prefix := map[int]byte{1: 0x00, 2: 0x40, 4: 0x80, 8: 0xc0}[n]
	var tmp [8]byte
	binary.BigEndian.PutUint64(tmp[:], v)
	out := tmp[8-n:]
	out[0] |= prefix
	return append(b, out...)
}

// sealed describes an Initial packet for seal, the test-only encryptor. It
// shares only the key schedule with the package (held against the RFC's
// values in keys_test.go): header building, packet protection and header
// protection are written here a second time, the sender's way round.
type sealed struct {
	version           uint32
	side              side
	keyDCID           []byte // defaults to dcid
	dcid, scid, token []byte
	pn                uint64
	pnLen             int // defaults to 4
	lengthLen         int // bytes of the Length varint; defaults to 2
	payload           []byte
	padTo             int // pad the payload with PADDING frames to this many bytes
	// patch edits the unprotected header before sealing, to build packets
	// a correct sender never would.
	patch func(hdr []byte)
}

func seal(tb testing.TB, s sealed) []byte {
	tb.Helper()
	if s.version == 0 {
		s.version = Version1
	}
	if s.pnLen == 0 {
		s.pnLen = 4
	}
	if s.lengthLen == 0 {
		s.lengthLen = 2
	}
	if s.keyDCID == nil {
		s.keyDCID = s.dcid
	}
	payload := append([]byte(nil), s.payload...)
	if len(payload) < s.padTo {
		payload = append(payload, make([]byte, s.padTo-len(payload))...)
	}
	p, ok := paramsFor(s.version)
	if !ok {
		tb.Fatalf("seal: version %#x", s.version)
	}
	typeBits := -1
	for i, t := range p.types {
		if t == PacketInitial {
			typeBits = i
		}
	}

	hdr := []byte{0xc0 | byte(typeBits)<<4 | byte(s.pnLen-1)}
	hdr = binary.BigEndian.AppendUint32(hdr, s.version)
	hdr = append(hdr, byte(len(s.dcid)))
	hdr = append(hdr, s.dcid...)
	hdr = append(hdr, byte(len(s.scid)))
	hdr = append(hdr, s.scid...)
	tokenLenLen := 1
	if len(s.token) > 63 {
		tokenLenLen = 2
	}
	hdr = appendVarint(hdr, uint64(len(s.token)), tokenLenLen)
	hdr = append(hdr, s.token...)
	hdr = appendVarint(hdr, uint64(s.pnLen+len(payload)+16), s.lengthLen)
	pnOffset := len(hdr)
	var pn [8]byte
	binary.BigEndian.PutUint64(pn[:], s.pn)
	hdr = append(hdr, pn[8-s.pnLen:]...)
	if s.patch != nil {
		s.patch(hdr)
	}

	sec, err := deriveSecrets(p, s.keyDCID, s.side)
	if err != nil {
		tb.Fatal(err)
	}
	block, err := aes.NewCipher(sec.key)
	if err != nil {
		tb.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		tb.Fatal(err)
	}
	nonce := append([]byte(nil), sec.iv...)
	for i := range 8 {
		nonce[4+i] ^= pn[i]
	}
	ct := gcm.Seal(nil, nonce, payload, hdr)

	sampleAt := 4 - s.pnLen
	if len(ct) < sampleAt+16 {
		tb.Fatalf("seal: payload of %d bytes is too short to sample", len(payload))
	}
	hp, err := aes.NewCipher(sec.hp)
	if err != nil {
		tb.Fatal(err)
	}
	mask := make([]byte, 16)
	hp.Encrypt(mask, ct[sampleAt:sampleAt+16])
	hdr[0] ^= mask[0] & 0x0f
	for i := range s.pnLen {
		hdr[pnOffset+i] ^= mask[1+i]
	}
	return append(hdr, ct...)
}

// cryptoFrame encodes a CRYPTO frame.
func cryptoFrame(offset uint64, data []byte) []byte {
	b := []byte{frameCrypto}
	b = appendVarint(b, offset, 4)
	b = appendVarint(b, uint64(len(data)), 2)
	return append(b, data...)
}

// longPacket builds an unprotected long-header packet of another type; its
// payload is opaque to the parser, which only needs to step over it.
func longPacket(version uint32, typeBits byte, dcid []byte, body []byte) []byte {
	b := []byte{0xc0 | typeBits<<4}
	b = binary.BigEndian.AppendUint32(b, version)
	b = append(b, byte(len(dcid)))
	b = append(b, dcid...)
	b = append(b, 0) // empty SCID
	b = appendVarint(b, uint64(len(body)), 2)
	return append(b, body...)
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
