package capture

import (
	"errors"
	"net/netip"
	"time"

	"github.com/customs-dev/customs/capture/quic"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/internal/tlshello"
)

// udpKey names a UDP conversation from its client's side.
type udpKey struct{ client, server netip.AddrPort }

// udpConn is a QUIC connection on UDP 443: its sizes, and the client's CRYPTO stream until the
// ClientHello in it is read.
type udpConn struct {
	key         udpKey
	start, last time.Time
	bytes       [2]int64
	crypto      *quic.CryptoStream
	dcid        string // the client's first Destination Connection ID, which keys its Initials
	version     uint32
	hello       *tlshello.ClientHello
	err         string
}

// quicCryptoLimit bounds the CRYPTO stream kept per connection: a ClientHello fits many times.
const quicCryptoLimit = 64 << 10

func (r *Reader) udpPacket(p packet, ts time.Time) {
	src, _ := netip.AddrFromSlice(p.src)
	dst, _ := netip.AddrFromSlice(p.dst)
	a := netip.AddrPortFrom(src.Unmap(), uint16(p.udp.SrcPort))
	b := netip.AddrPortFrom(dst.Unmap(), uint16(p.udp.DstPort))
	switch {
	case a.Port() == 53 || b.Port() == 53 || a.Port() == 5353:
		if n, ok := r.dns.answer(p.payload); ok {
			r.stats.DNSAnswers += n
		} else {
			r.stats.fail("dns-malformed")
		}
	case b.Port() == 443:
		r.quicPacket(udpKey{client: a, server: b}, toServer, p.payload, ts)
	case a.Port() == 443:
		r.quicPacket(udpKey{client: b, server: a}, toClient, p.payload, ts)
	}
}

// quicPacket counts a datagram of a QUIC connection and, from the client, reads its Initials.
func (r *Reader) quicPacket(k udpKey, d int, payload []byte, ts time.Time) {
	u := r.udp[k]
	if u == nil {
		// Either side may be the first seen (a capture that began mid-connection).
		u = &udpConn{key: k, start: ts}
		r.udp[k] = u
		r.stats.UDPConns++
	}
	if ts.After(u.last) {
		u.last = ts
	}
	u.bytes[d] += int64(len(payload))
	if d != toServer || u.hello != nil || u.err != "" {
		return
	}
	inits, err := quic.ParseDatagram(payload)
	if err != nil && len(inits) == 0 {
		// An unknown version is final; anything else (a packet that only looks like an
		// Initial, a corrupt one) leaves later packets to carry the ClientHello.
		if errors.Is(err, quic.ErrUnsupportedVersion) {
			u.err = "quic-version"
		}
		return
	}
	for _, in := range inits {
		if u.dcid == "" {
			u.dcid, u.version = string(in.DCID), in.Version
			u.crypto = quic.NewCryptoStream(quicCryptoLimit)
		}
		if string(in.DCID) != u.dcid {
			continue // a new connection attempt on the same addresses keeps its own keys
		}
		for _, cf := range in.Crypto {
			if err := u.crypto.Add(cf.Offset, cf.Data); err != nil {
				u.err = "quic-crypto"
				u.crypto = nil
				return
			}
		}
	}
	if u.crypto == nil {
		return
	}
	if msg, ok := quic.ClientHelloBytes(u.crypto); ok {
		ch, err := tlshello.ParseClientHelloMessage(msg)
		if err != nil {
			u.err = "quic-client-hello-malformed"
		} else {
			u.hello = ch
		}
		u.crypto = nil // read: its bytes are not needed any more
	}
}

// finishUDP reports a QUIC connection.
func (r *Reader) finishUDP(u *udpConn) {
	f := r.newFlow(u.start, u.last, u.key.client, u.key.server, flow.QUIC)
	f.RequestBytes, f.ResponseBytes = u.bytes[toServer], u.bytes[toClient]
	f.ALPN = "h3"
	if ch := u.hello; ch != nil {
		r.stats.QUIC++
		helloOnto(f, ch, tlshello.TransportQUIC)
		f.TLSVersion = "TLS 1.3" // QUIC carries TLS 1.3 only (RFC 9001)
	} else {
		reason := u.err
		if reason == "" {
			reason = "quic-no-initial"
		}
		r.stats.fail(reason)
		f.MarkIncompleteReason(reason)
	}
	f.Host = r.hostOf(u.key.server.Addr(), f.SNI)
	if f.SNI == "" {
		f.Mark(flow.MarkNoSNI)
	}
	if isDoH(f.Host, u.key.server) {
		f.Mark(flow.MarkDoH)
	}
	r.report(f, false)
}
