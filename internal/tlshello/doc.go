// Package tlshello parses the first flight of each side of a TLS connection, as `customs capture`
// reads them out of packet captures: the client's ClientHello (from a TCP stream, or from a QUIC
// CRYPTO stream) and the server's ServerHello with, up to TLS 1.2, the certificate that follows it.
//
// The point is attributing traffic customs did not proxy and cannot decrypt. The server name says
// where a connection goes; the JA4 fingerprint of the ClientHello says what made it. A Python SDK
// (urllib3 or httpx over OpenSSL), a browser (BoringSSL or NSS, with GREASE and a shuffled
// extension order), curl and a Go program each offer their own cipher suites, extensions and
// signature algorithms, and JA4 folds those lists into a short string that stays the same across
// connections, destinations and extension shuffling. The server's certificate names, visible until
// TLS 1.3 encrypts them, confirm or contradict the name the client asked for.
//
// Everything here is parsing of bytes the caller already holds: no sockets, no gopacket, no
// decryption. The parsers are strict about lengths (an overrun is a descriptive error, never a
// panic or a read past the input), lenient about what they do not interpret (unknown extensions,
// suites and versions are kept as numbers), and bounded: work is linear in the input, and a
// handshake message announcing more than MaxMessageSize bytes is refused instead of waited for.
package tlshello
