// Package clienthello reads the first flight of a TLS client — the ClientHello — from the bytes a
// client sends into a CONNECT tunnel, before customs decides whether to open the tunnel. The
// server name it asks for (SNI) is what the client's TLS will authenticate, so it, not the name in
// the CONNECT line, is what the scope decision must trust.
//
// Only parsing lives here: no sockets, no crypto. The parser is strict about lengths and lenient
// about content (unknown extensions and versions are skipped), and never reads past what it was
// given.
package clienthello

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrNeedMore means the bytes so far are a valid prefix of a ClientHello: read more and call
	// Parse again with everything read.
	ErrNeedMore = errors.New("clienthello: incomplete")
	// ErrNotTLS means the stream does not start with a TLS handshake record.
	ErrNotTLS = errors.New("clienthello: not a TLS handshake")
)

// MaxSize bounds how much of a stream Parse will consider. A ClientHello is a handshake message
// with a 24-bit length, but real ones (post-quantum key shares included) stay under 8 KiB; past
// this a "hello" is an attempt to make the proxy buffer.
const MaxSize = 64 << 10

// Hello is what customs needs of a ClientHello.
type Hello struct {
	ServerName string   // the SNI host_name, lower-cased; "" when absent
	ALPN       []string // offered application protocols, in the client's order
	// ECH reports an encrypted_client_hello extension: the ServerName above is then only the
	// outer, public name, and the real destination is hidden from the proxy.
	ECH bool
	// Versions are the supported_versions offered (or the legacy version when the extension is
	// absent).
	Versions []uint16
}

const (
	recordHandshake  = 22
	typeClientHello  = 1
	extServerName    = 0
	extALPN          = 16
	extSupportedVers = 43
	extECH           = 0xfe0d
)

// Parse reads a ClientHello from the start of a client's stream. The hello may be split across
// several TLS records (large post-quantum hellos sometimes are); Parse joins their fragments.
func Parse(stream []byte) (Hello, error) {
	if len(stream) == 0 {
		return Hello{}, ErrNeedMore
	}
	if stream[0] != recordHandshake {
		return Hello{}, ErrNotTLS
	}
	var msg []byte // the handshake message, joined from record fragments
	off := 0
	for {
		if off+5 > len(stream) {
			if off >= MaxSize {
				return Hello{}, fmt.Errorf("clienthello: larger than %d bytes", MaxSize)
			}
			return Hello{}, ErrNeedMore
		}
		h := stream[off : off+5]
		if h[0] != recordHandshake {
			if off == 0 {
				return Hello{}, ErrNotTLS
			}
			return Hello{}, fmt.Errorf("clienthello: record type %d inside the hello", h[0])
		}
		if h[1] != 3 {
			return Hello{}, fmt.Errorf("clienthello: record version %d.%d", h[1], h[2])
		}
		n := int(h[3])<<8 | int(h[4])
		if n == 0 || n > 1<<14+2048 {
			return Hello{}, fmt.Errorf("clienthello: record length %d", n)
		}
		if off+5+n > len(stream) {
			if off+5+n > MaxSize {
				return Hello{}, fmt.Errorf("clienthello: larger than %d bytes", MaxSize)
			}
			// Take what there is of this record only to learn whether the message is complete.
			msg = append(msg, stream[off+5:]...)
			if complete(msg) {
				// The message ends inside a record whose tail has not arrived; the tail cannot
				// change the hello, so there is no need to wait for it.
				break
			}
			return Hello{}, ErrNeedMore
		}
		msg = append(msg, stream[off+5:off+5+n]...)
		off += 5 + n
		if complete(msg) {
			break
		}
		if len(msg) >= 4 && msgLen(msg) > MaxSize {
			return Hello{}, fmt.Errorf("clienthello: handshake message of %d bytes", msgLen(msg))
		}
	}
	if msg[0] != typeClientHello {
		return Hello{}, fmt.Errorf("clienthello: handshake type %d, not a ClientHello", msg[0])
	}
	hello, err := parseBody(msg[4 : 4+msgLen(msg)])
	if err != nil {
		return Hello{}, err
	}
	return hello, nil
}

func msgLen(msg []byte) int { return int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3]) }

func complete(msg []byte) bool { return len(msg) >= 4 && len(msg) >= 4+msgLen(msg) }

// reader walks a byte slice; any read past its end sets bad instead of panicking, so the parser
// checks once per structure rather than before every field.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u8() int {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := int(r.b[0])
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() int {
	if len(r.b) < 2 {
		r.bad = true
		return 0
	}
	v := int(r.b[0])<<8 | int(r.b[1])
	r.b = r.b[2:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.bad = true
		r.b = nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func parseBody(body []byte) (Hello, error) {
	r := &reader{b: body}
	legacy := r.u16()
	r.bytes(32)       // random
	r.bytes(r.u8())   // legacy_session_id
	suites := r.u16() // cipher_suites
	r.bytes(suites)   //
	r.bytes(r.u8())   // legacy_compression_methods
	if r.bad || suites%2 != 0 {
		return Hello{}, errors.New("clienthello: malformed hello")
	}
	var h Hello
	if len(r.b) == 0 {
		// No extensions at all (SSL 3.0-era clients): no SNI.
		h.Versions = []uint16{uint16(legacy)}
		return h, nil
	}
	exts := &reader{b: r.bytes(r.u16())}
	if r.bad {
		return Hello{}, errors.New("clienthello: malformed extensions")
	}
	seen := map[int]bool{}
	for len(exts.b) > 0 {
		typ := exts.u16()
		data := &reader{b: exts.bytes(exts.u16())}
		if exts.bad {
			return Hello{}, errors.New("clienthello: malformed extension")
		}
		if seen[typ] {
			// RFC 8446 4.2: duplicate extensions are illegal; a server (and so the vendor)
			// would refuse the hello, and a proxy must not pick one of two SNIs.
			return Hello{}, fmt.Errorf("clienthello: extension %d repeated", typ)
		}
		seen[typ] = true
		switch typ {
		case extServerName:
			name, err := serverName(data)
			if err != nil {
				return Hello{}, err
			}
			h.ServerName = name
		case extALPN:
			list := &reader{b: data.bytes(data.u16())}
			for len(list.b) > 0 && !list.bad {
				p := list.bytes(list.u8())
				if len(p) == 0 {
					list.bad = true
					break
				}
				h.ALPN = append(h.ALPN, string(p))
			}
			if data.bad || list.bad {
				return Hello{}, errors.New("clienthello: malformed ALPN")
			}
		case extSupportedVers:
			list := &reader{b: data.bytes(data.u8())}
			for len(list.b) > 0 && !list.bad {
				h.Versions = append(h.Versions, uint16(list.u16()))
			}
			if data.bad || list.bad {
				return Hello{}, errors.New("clienthello: malformed supported_versions")
			}
		case extECH:
			h.ECH = true
		}
	}
	if len(h.Versions) == 0 {
		h.Versions = []uint16{uint16(legacy)}
	}
	return h, nil
}

// serverName reads the server_name extension (RFC 6066 3): a list holding at most one host_name.
func serverName(data *reader) (string, error) {
	list := &reader{b: data.bytes(data.u16())}
	if data.bad {
		return "", errors.New("clienthello: malformed server_name")
	}
	name := ""
	for len(list.b) > 0 {
		typ := list.u8()
		v := list.bytes(list.u16())
		if list.bad {
			return "", errors.New("clienthello: malformed server_name")
		}
		if typ != 0 {
			continue // not host_name: no other type is defined
		}
		if name != "" {
			return "", errors.New("clienthello: two host names in server_name")
		}
		if len(v) == 0 {
			return "", errors.New("clienthello: empty host name in server_name")
		}
		for _, c := range v {
			// A host name is ASCII (RFC 6066: IDNs in A-label form); anything else would reach
			// logs and certificates.
			if c <= ' ' || c >= 0x7f {
				return "", fmt.Errorf("clienthello: byte %#x in host name", c)
			}
		}
		name = strings.ToLower(strings.TrimSuffix(string(v), "."))
		if name == "" {
			return "", errors.New("clienthello: empty host name in server_name")
		}
	}
	return name, nil
}
