package quic

import (
	"encoding/binary"
	"fmt"
)

// PacketType is the kind of a QUIC packet as far as this package tells them
// apart.
type PacketType uint8

// Packet types. The long-header ones are named by meaning, not by their wire
// bits, which differ between versions.
const (
	PacketInitial PacketType = iota + 1
	Packet0RTT
	PacketHandshake
	PacketRetry
	PacketVersionNegotiation
	PacketShortHeader
)

func (t PacketType) String() string {
	switch t {
	case PacketInitial:
		return "Initial"
	case Packet0RTT:
		return "0-RTT"
	case PacketHandshake:
		return "Handshake"
	case PacketRetry:
		return "Retry"
	case PacketVersionNegotiation:
		return "VersionNegotiation"
	case PacketShortHeader:
		return "1-RTT"
	}
	return fmt.Sprintf("PacketType(%d)", uint8(t))
}

// maxConnIDLen is the connection ID limit of versions 1 and 2 (RFC 9000
// §17.2); servers drop packets beyond it, so the parser can too.
const maxConnIDLen = 20

// header is the part of a packet readable without keys.
type header struct {
	typ               PacketType
	version           uint32
	params            versionParams // zero unless version is supported
	dcid, scid, token []byte        // alias the datagram
	pnOffset          int           // where the protected packet number starts
	size              int           // bytes of the datagram the packet spans
}

// parseHeader reads the header of the packet at the front of b. Packets
// without a Length field — short-header, Retry and Version Negotiation —
// span the rest of the datagram (RFC 9000 §12.2).
func parseHeader(b []byte) (header, error) {
	var h header
	if len(b) == 0 {
		return h, fmt.Errorf("quic: empty packet: %w", ErrTruncated)
	}
	if b[0]&0x80 == 0 {
		// Without the connection's 1-RTT keys and DCID length there is
		// nothing to read; the fixed bit is not checked because RFC 9287
		// lets peers grease it.
		h.typ, h.size = PacketShortHeader, len(b)
		return h, nil
	}
	if len(b) < 5 {
		return h, fmt.Errorf("quic: long header: version: %w", ErrTruncated)
	}
	h.version = binary.BigEndian.Uint32(b[1:5])
	if h.version == 0 {
		h.typ, h.size = PacketVersionNegotiation, len(b)
		return h, nil
	}
	p, ok := paramsFor(h.version)
	if !ok {
		return h, fmt.Errorf("quic: version %#08x: %w", h.version, ErrUnsupportedVersion)
	}
	h.params = p
	h.typ = p.types[(b[0]>>4)&0x03]

	off := 5
	var err error
	if h.dcid, off, err = readConnID(b, off); err != nil {
		return h, fmt.Errorf("quic: long header: destination connection ID: %w", err)
	}
	if h.scid, off, err = readConnID(b, off); err != nil {
		return h, fmt.Errorf("quic: long header: source connection ID: %w", err)
	}
	switch h.typ {
	case PacketRetry:
		h.size = len(b)
		return h, nil
	case PacketInitial:
		tokenLen, n := readVarint(b[off:])
		if n == 0 {
			return h, fmt.Errorf("quic initial: token length: %w", ErrTruncated)
		}
		off += n
		if tokenLen > uint64(len(b)-off) {
			return h, fmt.Errorf("quic initial: token of %d bytes: %w", tokenLen, ErrTruncated)
		}
		h.token = b[off : off+int(tokenLen)]
		off += int(tokenLen)
	}
	length, n := readVarint(b[off:])
	if n == 0 {
		return h, fmt.Errorf("quic %s: length: %w", h.typ, ErrTruncated)
	}
	off += n
	if length > uint64(len(b)-off) {
		return h, fmt.Errorf("quic %s: length %d with %d bytes left: %w", h.typ, length, len(b)-off, ErrTruncated)
	}
	h.pnOffset = off
	h.size = off + int(length)
	return h, nil
}

func readConnID(b []byte, off int) (id []byte, next int, err error) {
	if off >= len(b) {
		return nil, off, ErrTruncated
	}
	l := int(b[off])
	off++
	if l > maxConnIDLen {
		return nil, off, fmt.Errorf("length %d over %d: %w", l, maxConnIDLen, ErrMalformed)
	}
	if l > len(b)-off {
		return nil, off, ErrTruncated
	}
	return b[off : off+l], off + l, nil
}
