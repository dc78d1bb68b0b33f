// Package quic reads the TLS ClientHello out of QUIC Initial packets seen on
// the wire.
//
// Browsers reach Google's AI endpoints (and, increasingly, other vendors')
// over HTTP/3, so an egress checkpoint that only looks at TCP misses them.
// QUIC encrypts even its first packets, but the keys of an Initial packet are
// derived from a public salt and the Destination Connection ID carried in the
// clear (RFC 9001 §5.2): they protect against tampering and ossification, not
// against observers. A passive observer can therefore read the ClientHello —
// its SNI and ALPN say which vendor the browser is about to talk to — and
// nothing after it, because the Handshake and 1-RTT keys come from the TLS key
// exchange.
//
// The package is deliberately narrow: it decrypts Initial packets of QUIC
// version 1 (RFC 9000/9001) and version 2 (RFC 9369), returns their CRYPTO
// frames, and reassembles the client's CRYPTO stream. Parsing the ClientHello
// itself is left to the caller. It is written for hostile input: every length
// is checked, the work done is linear in the input, and it never panics.
//
// Where the RFCs let an endpoint choose between dropping and accepting, the
// parser accepts: an observer that is stricter than the server it watches can
// be evaded by packets the server still takes.
package quic
