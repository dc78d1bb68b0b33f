package wsframe

import (
	"fmt"
	"strings"
)

// Extension is the negotiated permessage-deflate (from the server's Sec-WebSocket-Extensions
// response header). The zero value is "no extension"; a window size of 0 means 15.
type Extension struct {
	Deflate                                          bool
	ClientNoContextTakeover, ServerNoContextTakeover bool
	ClientMaxWindowBits, ServerMaxWindowBits         int // 8..15; 15 when not given
}

// Takeover reports whether compressed messages written by role share one compression context
// (RFC 7692 section 7.2.1): then rewriting one of them means re-encoding every later message of
// that direction (see the package documentation).
func (x Extension) Takeover(role Role) bool {
	if !x.Deflate {
		return false
	}
	if role == Client {
		return !x.ClientNoContextTakeover
	}
	return !x.ServerNoContextTakeover
}

// window returns the LZ77 window in bytes that role's compressor may use.
func (x Extension) window(role Role) int {
	b := x.ServerMaxWindowBits
	if role == Client {
		b = x.ClientMaxWindowBits
	}
	switch {
	case b <= 0 || b > 15:
		b = 15
	case b < 8:
		b = 8
	}
	return 1 << b
}

// ParseExtensions reads a Sec-WebSocket-Extensions value (as the server answered it; possibly
// several header lines joined with ", ") and returns what was negotiated. An extension other
// than permessage-deflate that the server accepted, or malformed params, is an error (the proxy
// cannot read such a stream and will refuse it).
//
// It is strict where RFC 7692 section 7.1 is (unknown or repeated parameters, values outside
// 8..15, a value on a no_context_takeover flag, the extension twice) and lenient where reading
// the stream is unaffected: empty list elements, letter case of names, quoted values, and a
// client_max_window_bits without a value (which a server should not send) read as 15.
func ParseExtensions(values []string) (Extension, error) {
	x := Extension{ClientMaxWindowBits: 15, ServerMaxWindowBits: 15}
	elems, err := splitList(strings.Join(values, ","))
	if err != nil {
		return Extension{}, err
	}
	for _, elem := range elems {
		name, params := elem[0], elem[1:]
		if !strings.EqualFold(name.key, "permessage-deflate") {
			return Extension{}, fmt.Errorf("websocket extension %q was accepted by the server and cannot be read", name.key)
		}
		if x.Deflate {
			return Extension{}, fmt.Errorf("websocket extension permessage-deflate accepted twice")
		}
		x.Deflate = true
		seen := map[string]bool{}
		for _, p := range params {
			key := strings.ToLower(p.key)
			if seen[key] {
				return Extension{}, fmt.Errorf("permessage-deflate: parameter %s given twice", key)
			}
			seen[key] = true
			switch key {
			case "client_no_context_takeover", "server_no_context_takeover":
				if p.hasValue {
					return Extension{}, fmt.Errorf("permessage-deflate: %s takes no value", key)
				}
				if key == "client_no_context_takeover" {
					x.ClientNoContextTakeover = true
				} else {
					x.ServerNoContextTakeover = true
				}
			case "client_max_window_bits", "server_max_window_bits":
				bits := 15
				if p.hasValue || key == "server_max_window_bits" {
					if bits, err = windowBits(p.value); err != nil {
						return Extension{}, fmt.Errorf("permessage-deflate: %s: %w", key, err)
					}
				}
				if key == "client_max_window_bits" {
					x.ClientMaxWindowBits = bits
				} else {
					x.ServerMaxWindowBits = bits
				}
			default:
				return Extension{}, fmt.Errorf("permessage-deflate: unknown parameter %q", p.key)
			}
		}
	}
	return x, nil
}

// windowBits is RFC 7692 section 7.1.2: a decimal 8..15 without leading zeros.
func windowBits(v string) (int, error) {
	if len(v) < 1 || len(v) > 2 || v[0] == '0' {
		return 0, fmt.Errorf("window bits %q are not a number from 8 to 15", v)
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("window bits %q are not a number from 8 to 15", v)
		}
		n = n*10 + int(c-'0')
	}
	if n < 8 || n > 15 {
		return 0, fmt.Errorf("window bits %d are not from 8 to 15", n)
	}
	return n, nil
}

// param is one `key[=value]` of an extension element; the element's first param is its name.
type param struct {
	key, value string
	hasValue   bool
}

// splitList parses RFC 6455 section 9.1: extension *( ";" param ), separated by commas, where a
// value is a token or a quoted-string. Empty elements are skipped (RFC 9110 section 5.6.1).
func splitList(s string) ([][]param, error) {
	var (
		out  [][]param
		elem []param
		i    int
	)
	skipOWS := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	for {
		skipOWS()
		if i == len(s) {
			break
		}
		if s[i] == ',' {
			if len(elem) > 0 {
				out = append(out, elem)
				elem = nil
			}
			i++
			continue
		}
		if len(elem) > 0 {
			if s[i] != ';' {
				return nil, fmt.Errorf("websocket extensions: unexpected %q at offset %d", s[i], i)
			}
			i++
			skipOWS()
		}
		start := i
		for i < len(s) && isTokenChar(s[i]) {
			i++
		}
		if i == start {
			return nil, fmt.Errorf("websocket extensions: expected a name at offset %d", i)
		}
		p := param{key: s[start:i]}
		skipOWS()
		if i < len(s) && s[i] == '=' {
			if len(elem) == 0 {
				return nil, fmt.Errorf("websocket extensions: extension name %q has a value", p.key)
			}
			i++
			skipOWS()
			v, n, err := readValue(s[i:])
			if err != nil {
				return nil, fmt.Errorf("websocket extensions: parameter %s: %w", p.key, err)
			}
			p.value, p.hasValue = v, true
			i += n
		}
		elem = append(elem, p)
	}
	if len(elem) > 0 {
		out = append(out, elem)
	}
	return out, nil
}

// readValue reads a token or a quoted-string at the start of s; RFC 6455 section 9.1 wants a
// quoted value to be a token once unquoted.
func readValue(s string) (string, int, error) {
	if s == "" || s[0] != '"' {
		n := 0
		for n < len(s) && isTokenChar(s[n]) {
			n++
		}
		if n == 0 {
			return "", 0, fmt.Errorf("empty value")
		}
		return s[:n], n, nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			v := b.String()
			if v == "" {
				return "", 0, fmt.Errorf("empty value")
			}
			for j := 0; j < len(v); j++ {
				if !isTokenChar(v[j]) {
					return "", 0, fmt.Errorf("quoted value %q is not a token", v)
				}
			}
			return v, i + 1, nil
		case '\\':
			i++
			if i == len(s) {
				return "", 0, fmt.Errorf("unterminated quoted value")
			}
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated quoted value")
}

// isTokenChar is RFC 9110 tchar.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
