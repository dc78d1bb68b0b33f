package quic

import (
	"encoding/binary"
	"fmt"
)

const (
	sampleOffset = 4  // RFC 9001 §5.4.2: the sample assumes a 4-byte packet number
	sampleLen    = 16 // one AES block
	tagLen       = 16 // AES-128-GCM
)

// opened is an Initial packet with both protections removed.
type opened struct {
	pn    uint64
	plain []byte
}

// open removes header protection (RFC 9001 §5.4) and packet protection (§5.3)
// from the Initial packet pkt described by h. The plaintext is appended to
// dst; aad is scratch space for the unprotected header. pkt is not modified,
// because it belongs to the caller.
func (k *initialKeys) open(dst, aad, pkt []byte, h header) (opened, []byte, error) {
	if h.size-h.pnOffset < sampleOffset+sampleLen {
		// Senders pad short payloads so the sample exists; a packet
		// without one cannot be unprotected by anyone.
		return opened{}, aad, fmt.Errorf("quic initial: %d bytes after the header, too few for the header protection sample: %w", h.size-h.pnOffset, ErrMalformed)
	}
	var mask [sampleLen]byte
	sample := pkt[h.pnOffset+sampleOffset : h.pnOffset+sampleOffset+sampleLen]
	k.hp.Encrypt(mask[:], sample)

	first := pkt[0] ^ mask[0]&0x0f // long header: only the low 4 bits are protected
	pnLen := int(first&0x03) + 1
	hdrLen := h.pnOffset + pnLen

	aad = append(aad[:0], pkt[:hdrLen]...)
	aad[0] = first
	var truncated uint64
	for i := range pnLen {
		aad[h.pnOffset+i] ^= mask[1+i]
		truncated = truncated<<8 | uint64(aad[h.pnOffset+i])
	}
	// Without the connection's history the largest packet seen is unknown;
	// Initial packet numbers start at 0 and stay small, so decoding against
	// "none seen yet" recovers them.
	pn := decodePacketNumber(-1, truncated, pnLen)

	var nonce [12]byte
	copy(nonce[:], k.iv[:])
	var pnBytes [8]byte
	binary.BigEndian.PutUint64(pnBytes[:], pn)
	for i := range pnBytes {
		nonce[4+i] ^= pnBytes[i]
	}
	plain, err := k.aead.Open(dst, nonce[:], pkt[hdrLen:h.size], aad)
	if err != nil {
		return opened{}, aad, fmt.Errorf("quic initial: packet %d: %w", pn, ErrDecrypt)
	}
	// Checked only now: before authentication these bits are noise.
	if first&0x0c != 0 {
		return opened{}, aad, fmt.Errorf("quic initial: packet %d: reserved header bits set: %w", pn, ErrMalformed)
	}
	return opened{pn: pn, plain: plain[len(dst):]}, aad, nil
}

// decodePacketNumber expands a truncated packet number of pnLen bytes to the
// full one closest to largest+1, the algorithm of RFC 9000 Appendix A.3.
// largest is -1 when no packet of the space has been seen.
func decodePacketNumber(largest int64, truncated uint64, pnLen int) uint64 {
	expected := largest + 1
	win := int64(1) << (8 * pnLen)
	hwin := win / 2
	candidate := expected&^(win-1) | int64(truncated)
	switch {
	case candidate <= expected-hwin && candidate < maxVarint+1-win:
		return uint64(candidate + win)
	case candidate > expected+hwin && candidate >= win:
		return uint64(candidate - win)
	}
	return uint64(candidate)
}
