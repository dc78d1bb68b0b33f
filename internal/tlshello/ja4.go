package tlshello

import (
	"crypto/sha256"
	"slices"
)

// JA4 implementation notes: the rules followed are those of FoxIO's specification,
// technical_details/JA4.md in github.com/FoxIO-LLC/ja4, and checked against the published
// examples of that document and of FoxIO's test data (see ja4_test.go).
//
//   - GREASE values (RFC 8701) are ignored everywhere: in the counts, the lists, the version and
//     the signature algorithms.
//   - Version: the highest non-GREASE value of supported_versions when that extension is present
//     (an extension with no such value gives "00", as in s2n-tls), else legacy_version; the
//     record-layer version is never used. 0x0304 "13", 0x0303 "12", 0x0302 "11", 0x0301 "10",
//     0x0300 "s3", 0x0002 "s2", 0xfeff "d1", 0xfefd "d2", 0xfefc "d3", anything else "00".
//   - 'd' when a server_name extension is present, whatever it holds; 'i' otherwise.
//   - Counts of cipher suites and of extensions (SNI and ALPN included), two digits, capped at 99.
//   - ALPN: the first and last byte of the first protocol name (a one-byte name gives its byte
//     twice); when either byte is not ASCII alphanumeric, the first hex digit of the first byte
//     and the last hex digit of the last byte instead; "00" with no ALPN, no names or an empty
//     first name.
//   - b: SHA-256 of the sorted 4-hex-digit cipher suites, comma-joined, first 12 hex digits;
//     "000000000000" when there are none.
//   - c: SHA-256 of the sorted extensions without SNI (0000) and ALPN (0010), then "_" and the
//     signature algorithms in wire order; no "_" when there are no signature algorithms;
//     "000000000000" when the sorted extension list is empty.

// Transports for the first character of a JA4 fingerprint.
const (
	TransportTCP  byte = 't'
	TransportQUIC byte = 'q'
	TransportDTLS byte = 'd'
)

// stackValues is how many list entries JA4 sorts and formats without allocating; real hellos
// carry well under this, and larger ones still work, from the heap.
const stackValues = 128

// JA4 returns the JA4 fingerprint of ch, e.g. "t13d1516h2_8daaf6152771_e5627efa2ab1". transport
// is TransportTCP, TransportQUIC or TransportDTLS. A nil ch gives "".
func JA4(ch *ClientHello, transport byte) string {
	if ch == nil {
		return ""
	}
	var out [10 + 1 + 12 + 1 + 12]byte
	ja4A((*[10]byte)(out[:10]), ch, transport)
	out[10], out[23] = '_', '_'

	var vals [stackValues]uint16
	var text [stackValues * 5]byte
	ciphers := sortedCiphers(vals[:0], ch)
	hash12((*[12]byte)(out[11:23]), appendList(text[:0], ciphers))
	exts := sortedExtensions(vals[:0], ch)
	if len(exts) == 0 {
		hash12((*[12]byte)(out[24:]), nil)
	} else {
		hash12((*[12]byte)(out[24:]), appendSignatures(appendList(text[:0], exts), ch))
	}
	return string(out[:])
}

// JA4Raw returns the raw form of the fingerprint ("JA4_r"): part a, then the sorted cipher
// suites, the sorted extensions and the signature algorithms in the clear, as hashed by JA4.
func JA4Raw(ch *ClientHello, transport byte) string {
	if ch == nil {
		return ""
	}
	var a [10]byte
	ja4A(&a, ch, transport)
	var vals [stackValues]uint16
	var text [stackValues * 5]byte
	out := append(text[:0], a[:]...)
	out = append(out, '_')
	out = appendList(out, sortedCiphers(vals[:0], ch))
	out = append(out, '_')
	out = appendSignatures(appendList(out, sortedExtensions(vals[:0], ch)), ch)
	return string(out)
}

func ja4A(a *[10]byte, ch *ClientHello, transport byte) {
	a[0] = transport
	v := ja4Version(ch)
	a[1], a[2] = v[0], v[1]
	a[3] = 'i'
	if ch.HasExtension(extServerName) {
		a[3] = 'd'
	}
	count2(a[4:6], ch.CipherSuites)
	count2(a[6:8], ch.Extensions)
	a[8], a[9] = ja4ALPN(ch.ALPN)
}

func ja4Version(ch *ClientHello) string {
	v := ch.LegacyVersion
	if ch.HasExtension(extSupportedVersions) {
		v = 0
		for _, sv := range ch.SupportedVersions {
			if !IsGREASE(sv) && sv > v {
				v = sv
			}
		}
	}
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

// count2 writes the number of non-GREASE values as two digits, 99 at most.
func count2(dst []byte, vals []uint16) {
	n := 0
	for _, v := range vals {
		if !IsGREASE(v) {
			n++
		}
	}
	n = min(n, 99)
	dst[0], dst[1] = byte('0'+n/10), byte('0'+n%10)
}

func ja4ALPN(alpn []string) (byte, byte) {
	if len(alpn) == 0 || alpn[0] == "" {
		return '0', '0'
	}
	first, last := alpn[0][0], alpn[0][len(alpn[0])-1]
	if isAlnum(first) && isAlnum(last) {
		return first, last
	}
	return hexDigits[first>>4], hexDigits[last&0x0f]
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func sortedCiphers(dst []uint16, ch *ClientHello) []uint16 {
	for _, v := range ch.CipherSuites {
		if !IsGREASE(v) {
			dst = append(dst, v)
		}
	}
	slices.Sort(dst)
	return dst
}

func sortedExtensions(dst []uint16, ch *ClientHello) []uint16 {
	for _, v := range ch.Extensions {
		if !IsGREASE(v) && v != extServerName && v != extALPN {
			dst = append(dst, v)
		}
	}
	slices.Sort(dst)
	return dst
}

// appendSignatures appends "_" and the non-GREASE signature algorithms in wire order, or nothing
// when there are none.
func appendSignatures(dst []byte, ch *ClientHello) []byte {
	sep := byte('_')
	for _, v := range ch.SignatureAlgorithms {
		if IsGREASE(v) {
			continue
		}
		dst = appendHex4(append(dst, sep), v)
		sep = ','
	}
	return dst
}

// appendList appends vals as comma-separated 4-digit lower-case hex.
func appendList(dst []byte, vals []uint16) []byte {
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendHex4(dst, v)
	}
	return dst
}

const hexDigits = "0123456789abcdef"

func appendHex4(dst []byte, v uint16) []byte {
	return append(dst, hexDigits[v>>12], hexDigits[v>>8&0xf], hexDigits[v>>4&0xf], hexDigits[v&0xf])
}

// hash12 writes the first 12 hex digits of the SHA-256 of text, or twelve zeros for an empty
// text: JA4 marks an empty list that way rather than hashing nothing.
func hash12(dst *[12]byte, text []byte) {
	if len(text) == 0 {
		copy(dst[:], "000000000000")
		return
	}
	sum := sha256.Sum256(text)
	for i := range 6 {
		dst[2*i], dst[2*i+1] = hexDigits[sum[i]>>4], hexDigits[sum[i]&0xf]
	}
}
