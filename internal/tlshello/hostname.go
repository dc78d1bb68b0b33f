package tlshello

import "strings"

// hostName returns b as a lower-case DNS host name without its trailing dot, or false when it is
// not one: RFC 6066 3 wants an ASCII host name (IDNs as A-labels) and no IP literal. Underscores
// are let through because real names carry them and clients send them; anything else outside
// letters, digits, hyphens and dots would end up verbatim in reports and logs.
func hostName(b []byte) (string, bool) {
	if len(b) > 0 && b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	if len(b) == 0 || len(b) > 253 {
		return "", false
	}
	label, digits := 0, true // current label's length; whether it is all digits so far
	for i, c := range b {
		switch {
		case c == '.':
			if label == 0 || b[i-1] == '-' {
				return "", false
			}
			label, digits = 0, true
			continue
		case c == '-':
			if label == 0 {
				return "", false
			}
			digits = false
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
			digits = false
		default:
			return "", false
		}
		label++
		if label > 63 {
			return "", false
		}
	}
	if label == 0 || b[len(b)-1] == '-' || digits {
		// No top-level domain is all digits: "10.0.0.1" is an IPv4 literal, which RFC 6066
		// forbids in SNI (IPv6 literals already failed on ':').
		return "", false
	}
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			return strings.ToLower(string(b)), true
		}
	}
	return string(b), true
}
