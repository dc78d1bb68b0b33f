package quic

import (
	"bytes"
	"fmt"
)

// Initial is one decrypted Initial packet. Its slices point into memory the
// parse allocated, never into the caller's datagram, so a capture library may
// reuse its buffer.
type Initial struct {
	Version      uint32
	DCID, SCID   []byte
	Token        []byte // from a Retry or NEW_TOKEN; empty in a server's Initial
	PacketNumber uint64
	Crypto       []CryptoFrame    // in packet order, not stream order
	Close        *ConnectionClose // the first CONNECTION_CLOSE, if any
}

// SkippedPacket is a packet of the datagram that was not an Initial of the
// requested side: it cannot be read with Initial keys and is not an error.
type SkippedPacket struct {
	Type    PacketType
	Version uint32 // 0 for short-header and Version Negotiation packets
	Size    int    // bytes of the datagram it spans
}

// Report is everything read from one UDP datagram.
type Report struct {
	Initials []Initial
	Skipped  []SkippedPacket
}

// ParseDatagram decrypts the client Initial packets in one UDP payload. A
// datagram may hold several coalesced packets (RFC 9000 §12.2); each Initial
// is opened with the keys of its own Destination Connection ID, and other
// packets are skipped (see ParseDatagramReport to learn which).
//
// On error, the Initials read before the failing packet are returned with
// it: RFC 9000 lets a receiver keep the packets of a datagram that precede a
// bad one. Errors wrap ErrUnsupportedVersion, ErrDecrypt, ErrTruncated or
// ErrMalformed.
func ParseDatagram(udpPayload []byte) ([]Initial, error) {
	r, err := parseDatagram(udpPayload, sideClient, nil)
	return r.Initials, err
}

// ParseDatagramReport is ParseDatagram that also says what it skipped, so a
// caller can count 1-RTT and Handshake traffic it cannot read.
func ParseDatagramReport(udpPayload []byte) (Report, error) {
	return parseDatagram(udpPayload, sideClient, nil)
}

// ParseDatagramServer decrypts the server Initial packets in one UDP payload.
// Their keys come from the Destination Connection ID of the client's first
// Initial (originalDCID), not from the DCID the server's packets carry, so
// the caller has to have seen the client's packet first. Client Initials in
// the datagram fail with ErrDecrypt.
func ParseDatagramServer(udpPayload, originalDCID []byte) ([]Initial, error) {
	r, err := parseDatagram(udpPayload, sideServer, originalDCID)
	return r.Initials, err
}

func parseDatagram(b []byte, s side, originalDCID []byte) (Report, error) {
	var r Report
	// arena holds every byte handed back: plaintexts and copied header
	// fields. Per packet they add up to less than the packet, so one
	// allocation of the rest of the datagram suffices. It is made at the
	// first Initial: most datagrams of a capture are 1-RTT and need none.
	var arena, aad []byte
	var keys *initialKeys
	for len(b) > 0 {
		h, err := parseHeader(b)
		if err != nil {
			return r, err
		}
		pkt, rest := b[:h.size], len(b)
		b = b[h.size:]
		if h.typ != PacketInitial {
			r.Skipped = append(r.Skipped, SkippedPacket{Type: h.typ, Version: h.version, Size: h.size})
			continue
		}

		keyID := h.dcid
		if s == sideServer {
			keyID = originalDCID
		}
		if keys == nil || keys.version != h.version || !bytes.Equal(keys.dcid, keyID) {
			if keys, err = newInitialKeys(h.version, h.params, keyID, s); err != nil {
				return r, err
			}
		}

		if cap(arena)-len(arena) < h.size {
			arena = make([]byte, 0, rest)
		}
		var o opened
		o, aad, err = keys.open(arena[len(arena):], aad, pkt, h)
		if err != nil {
			return r, err
		}
		arena = arena[:len(arena)+len(o.plain)]
		f, err := parseFrames(o.plain)
		if err != nil {
			return r, fmt.Errorf("quic initial: packet %d: %w", o.pn, err)
		}
		in := Initial{
			Version:      h.version,
			PacketNumber: o.pn,
			Crypto:       f.crypto,
			Close:        f.close,
		}
		in.DCID, arena = keep(arena, h.dcid)
		in.SCID, arena = keep(arena, h.scid)
		in.Token, arena = keep(arena, h.token)
		r.Initials = append(r.Initials, in)
	}
	return r, nil
}

// keep copies src to the end of arena and returns the copy, capped so that
// appending to it cannot overwrite what follows.
func keep(arena, src []byte) (kept, grown []byte) {
	if len(src) == 0 {
		return nil, arena
	}
	start := len(arena)
	arena = append(arena, src...)
	return arena[start:len(arena):len(arena)], arena
}
