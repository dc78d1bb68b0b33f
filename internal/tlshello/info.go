package tlshello

import (
	"crypto/tls"
	"strings"
)

// FromClientHelloInfo rebuilds what JA4 needs from the ClientHelloInfo crypto/tls hands a
// server (Go 1.24 on lists the extensions in wire order), so that a connection customs
// terminates is fingerprinted like one it only observes.
func FromClientHelloInfo(h *tls.ClientHelloInfo) *ClientHello {
	ch := &ClientHello{
		LegacyVersion:     tls.VersionTLS12,
		SupportedVersions: h.SupportedVersions,
		CipherSuites:      h.CipherSuites,
		Extensions:        h.Extensions,
		ALPN:              h.SupportedProtos,
		SNI:               strings.ToLower(h.ServerName),
	}
	for _, s := range h.SignatureSchemes {
		ch.SignatureAlgorithms = append(ch.SignatureAlgorithms, uint16(s))
	}
	for _, g := range h.SupportedCurves {
		ch.SupportedGroups = append(ch.SupportedGroups, uint16(g))
	}
	for _, e := range h.Extensions {
		if e == extECH {
			ch.ECH = true
		}
	}
	return ch
}

// DuplicateExtension reports an extension type the hello carries twice, which RFC 8446 §4.2
// forbids: a gate refuses such a hello rather than guess which copy the server will read.
func (ch *ClientHello) DuplicateExtension() (uint16, bool) {
	for i, e := range ch.Extensions {
		for _, f := range ch.Extensions[:i] {
			if e == f && !IsGREASE(e) {
				return e, true
			}
		}
	}
	return 0, false
}
