package tlshello

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// ServerHello is what a TLS server chose, and, up to TLS 1.2, the names on the certificate it
// presented.
type ServerHello struct {
	LegacyVersion uint16   // legacy_version: 0x0303 for TLS 1.3 servers too
	Version       uint16   // negotiated: supported_versions (extension 43) if present, else LegacyVersion
	CipherSuite   uint16   // the suite chosen
	Extensions    []uint16 // extension types in wire order
	// ALPN is the protocol selected (extension 16). Only a TLS 1.2 ServerHello carries it; TLS 1.3
	// sends it in the encrypted EncryptedExtensions, so it is "" there.
	ALPN string

	// HelloRetryRequest marks a TLS 1.3 HelloRetryRequest (RFC 8446 4.1.3): the server wants
	// another ClientHello, and its real ServerHello comes later.
	HelloRetryRequest bool

	// CertNames are the DNS names of the leaf certificate — its DNS SANs, else its subject common
	// name — lower-cased. TLS 1.3 encrypts the certificate, so they are empty there; they are
	// also empty when a TLS 1.2 server resumed a session and sent no certificate.
	CertNames []string
}

// helloRetryRandom is the random of a HelloRetryRequest: SHA-256 of "HelloRetryRequest".
var helloRetryRandom = [32]byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// ParseServerHello reads the first bytes a server sent: the ServerHello and, when the version
// negotiated is TLS 1.2 or lower, the Certificate message that follows it in the same flight
// (possibly across records). Errors are those of ParseClientHello, plus ErrAlert when the server
// answered with an alert.
//
// Once the ServerHello itself has parsed, a later failure returns the ServerHello together with
// the error: ErrNeedMore while the certificate is incomplete, a malformed-certificate error when
// it cannot be read. A capture whose buffer ends mid-chain still learns version and suite.
func ParseServerHello(stream []byte) (*ServerHello, error) {
	if len(stream) > 0 && stream[0] == recordAlert {
		return nil, alert(stream)
	}
	f := flight{stream: stream, who: "server hello"}
	msg, err := f.message(typeServerHello)
	if err != nil {
		return nil, err
	}
	sh, err := parseServerHello(msg)
	if err != nil {
		return nil, err
	}
	if sh.Version > VersionTLS12 || sh.HelloRetryRequest {
		return sh, nil
	}
	msg, err = f.message(0)
	var other *otherRecordError
	if errors.As(err, &other) {
		// ChangeCipherSpec straight after the ServerHello: an abbreviated handshake resuming a
		// session, which sends no certificate.
		return sh, nil
	}
	if err != nil {
		return sh, err
	}
	if msg[0] != typeCertificate {
		// Anonymous and PSK suites go straight to ServerKeyExchange or ServerHelloDone.
		return sh, nil
	}
	sh.CertNames, err = certNames(msg)
	return sh, err
}

// alert reads an alert record (RFC 8446 6) sent in place of a ServerHello.
func alert(stream []byte) error {
	if len(stream) >= 2 && stream[1] != 3 {
		return fmt.Errorf("server hello: record version %d.x: %w", stream[1], ErrNotTLS)
	}
	if len(stream) < 7 {
		return ErrNeedMore
	}
	return fmt.Errorf("server hello: %w: level %d, description %d", ErrAlert, stream[5], stream[6])
}

// parseServerHello decodes a whole ServerHello message (RFC 8446 4.1.3, RFC 5246 7.4.1.3).
func parseServerHello(msg []byte) (*ServerHello, error) {
	var err error
	r := newReader(partServerHello, msg, &err)
	sh := &ServerHello{}
	sh.LegacyVersion = uint16(r.u16("legacy_version"))
	sh.HelloRetryRequest = bytes.Equal(r.take("random", 32), helloRetryRandom[:])
	if sid := r.vec("legacy_session_id", 1); len(sid.b) > 32 {
		sid.invalid("legacy_session_id", "length %d, limit 32", len(sid.b))
	}
	sh.CipherSuite = uint16(r.u16("cipher_suite"))
	r.u8("legacy_compression_method")
	var exts reader
	if len(r.b) > 0 {
		exts = r.vec("extensions", 2)
		r.end("extensions")
	}
	sh.Version = sh.LegacyVersion
	n := 0
	for e := exts; len(e.b) > 0; n++ {
		typ := e.u16("extension type")
		body := e.vec("extension data", 2)
		switch typ {
		case extSupportedVersions:
			sh.Version = uint16(body.u16("selected_version"))
			body.end("selected_version")
		case extALPN:
			list := body.vec("protocol_name_list", 2)
			body.end("protocol_name_list")
			name := list.vec("protocol_name", 1)
			list.end("protocol_name_list") // RFC 7301 3.1: exactly one name
			sh.ALPN = string(name.b)
		}
	}
	if err != nil {
		return nil, err
	}
	if n > 0 {
		sh.Extensions = make([]uint16, 0, n)
		for e := exts.b; len(e) >= 4; {
			sh.Extensions = append(sh.Extensions, uint16(e[0])<<8|uint16(e[1]))
			e = e[4+(int(e[2])<<8|int(e[3])):]
		}
	}
	return sh, nil
}

// certNames reads a TLS 1.2 Certificate message (RFC 5246 7.4.2) and returns the names of its
// first, leaf, certificate.
func certNames(msg []byte) ([]string, error) {
	var err error
	r := newReader(partCertificate, msg, &err)
	list := r.vec("certificate_list", 3)
	r.end("certificate_list")
	var leaf reader
	for i := 0; len(list.b) > 0; i++ {
		c := list.vec("ASN.1Cert", 3)
		if i == 0 {
			leaf = c
		}
	}
	if err != nil {
		return nil, err
	}
	if len(leaf.b) == 0 {
		return nil, nil
	}
	// Sliced from msg rather than taken from leaf: a reader handed to x509 would move the error
	// variable its pointer leads to onto the heap.
	cert, perr := x509.ParseCertificate(msg[leaf.off : leaf.off+len(leaf.b)])
	if perr != nil {
		return nil, fmt.Errorf("certificate: leaf at offset %d: %w: %w", leaf.off, ErrMalformed, perr)
	}
	names := cert.DNSNames
	if len(names) == 0 && cert.Subject.CommonName != "" {
		names = []string{cert.Subject.CommonName}
	}
	if len(names) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, strings.ToLower(n))
	}
	return out, nil
}
