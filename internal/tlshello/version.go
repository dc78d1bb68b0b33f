package tlshello

import "fmt"

// Protocol versions as they appear on the wire.
const (
	VersionSSL30 uint16 = 0x0300
	VersionTLS10 uint16 = 0x0301
	VersionTLS11 uint16 = 0x0302
	VersionTLS12 uint16 = 0x0303
	VersionTLS13 uint16 = 0x0304
)

// VersionName names a protocol version for reports: "TLS 1.3", "SSL 3.0", "GREASE 0x1a1a",
// "0x7f17" for what it does not know.
func VersionName(v uint16) string {
	switch v {
	case VersionTLS13:
		return "TLS 1.3"
	case VersionTLS12:
		return "TLS 1.2"
	case VersionTLS11:
		return "TLS 1.1"
	case VersionTLS10:
		return "TLS 1.0"
	case VersionSSL30:
		return "SSL 3.0"
	case 0x0002:
		return "SSL 2.0"
	case 0xfeff:
		return "DTLS 1.0"
	case 0xfefd:
		return "DTLS 1.2"
	case 0xfefc:
		return "DTLS 1.3"
	}
	if IsGREASE(v) {
		return fmt.Sprintf("GREASE %#04x", v)
	}
	return fmt.Sprintf("%#04x", v)
}

// IsGREASE reports whether v is one of the sixteen reserved values of RFC 8701 (0x0a0a, 0x1a1a,
// … 0xfafa) that clients sprinkle into lists so that servers keep tolerating unknown values.
func IsGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}
