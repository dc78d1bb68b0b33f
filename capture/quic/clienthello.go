package quic

// handshakeClientHello is the TLS HandshakeType of a ClientHello (RFC 8446
// §4).
const handshakeClientHello = 1

// ClientHelloBytes returns the complete ClientHello handshake message — its
// 4-byte header (type 1, 24-bit length) and body — once the contiguous prefix
// of the client's CRYPTO stream holds all of it. It reports false while bytes
// are missing and for a stream that does not start with a ClientHello; it
// reads nothing past the header, leaving the message itself to a TLS parser.
// The returned slice is the stream's memory and must not be modified.
func ClientHelloBytes(c *CryptoStream) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	p := c.Contiguous()
	if len(p) < 4 || p[0] != handshakeClientHello {
		return nil, false
	}
	n := 4 + (int(p[1])<<16 | int(p[2])<<8 | int(p[3]))
	if len(p) < n {
		return nil, false
	}
	return p[:n:n], true
}
