package capture

import (
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"
)

// Directions of a connection, from the client's side.
const (
	toServer = 0
	toClient = 1
)

// helloLimit is the most bytes kept of each direction's start while its handshake is not
// complete: a ClientHello with post-quantum key shares takes two segments, a TLS 1.2 server's
// certificate chain a few more; a handshake message larger than this is not one customs reads.
const helloLimit = 64 << 10

// factory makes a tcpConn for each new connection the reassembler sees.
type factory struct{ r *Reader }

func (f *factory) New(netFlow, tcpFlow gopacket.Flow, tcp *layers.TCP, ac reassembly.AssemblerContext) reassembly.Stream {
	r := f.r
	r.conns++
	src, _ := netip.AddrFromSlice(netFlow.Src().Raw())
	dst, _ := netip.AddrFromSlice(netFlow.Dst().Raw())
	a := netip.AddrPortFrom(src.Unmap(), uint16(tcp.SrcPort))
	b := netip.AddrPortFrom(dst.Unmap(), uint16(tcp.DstPort))
	c := &tcpConn{r: r, start: ac.GetCaptureInfo().Timestamp}
	c.last = c.start
	// The side that sends the first SYN is the client. Without a handshake in the capture
	// (it began mid-connection), the side on the well-known port (or the lower one) is the
	// server.
	switch {
	case tcp.SYN && !tcp.ACK:
		c.client, c.server, c.sawSYN = a, b, true
	case tcp.SYN && tcp.ACK:
		c.client, c.server, c.swapped, c.sawSYN = b, a, true, true
	case serverPort(b.Port(), a.Port()):
		c.client, c.server = a, b
	default:
		c.client, c.server, c.swapped = b, a, true
	}
	return c
}

// serverPort reports whether p (rather than other) looks like the server's port.
func serverPort(p, other uint16) bool {
	switch {
	case wellKnown(p) && !wellKnown(other):
		return true
	case wellKnown(other) && !wellKnown(p):
		return false
	}
	return p < other
}

func wellKnown(p uint16) bool {
	switch p {
	case 80, 443, 8080, 8443, 8000, 3128, 53:
		return true
	}
	return p < 1024
}

// tcpConn is one TCP connection: what both sides sent first, and how much.
type tcpConn struct {
	r              *Reader
	client, server netip.AddrPort
	swapped        bool // the reassembler's first direction is the server's
	sawSYN         bool
	start, last    time.Time
	bytes          [2]int64
	head           [2][]byte // the start of each direction, while it is read
	headDone       [2]bool   // no more bytes are kept for that direction
	gap            bool      // bytes were missing somewhere
	cut            bool      // the memory budget or a limit stopped keeping bytes
	kind           connKind
	tls            tlsState
	http           httpState
	done           bool // reported (at a reset, before the reassembler lets go of it)
}

type connKind uint8

const (
	kindUnknown connKind = iota
	kindTLS
	kindHTTP
	kindOther
)

func (c *tcpConn) Accept(tcp *layers.TCP, ci gopacket.CaptureInfo, dir reassembly.TCPFlowDirection, nextSeq reassembly.Sequence, start *bool, ac reassembly.AssemblerContext) bool {
	// A capture that began mid-connection still has its bytes to count and, often, a
	// request to read: start without a SYN.
	*start = true
	if ts := ci.Timestamp; ts.After(c.last) {
		c.last = ts
	}
	if tcp.RST && !c.done {
		// A reset ends both directions, but the reassembler closes only the sender's half
		// and would keep the connection until it goes idle: report it now.
		c.finish()
	}
	return true
}

func (c *tcpConn) ReassembledSG(sg reassembly.ScatterGather, ac reassembly.AssemblerContext) {
	if c.done {
		return
	}
	dir, _, _, skip := sg.Info()
	d := toServer
	if (dir == reassembly.TCPDirServerToClient) != c.swapped {
		d = toClient
	}
	if skip != 0 {
		c.gap = true
	}
	n, _ := sg.Lengths()
	if n == 0 {
		return
	}
	c.bytes[d] += int64(n)
	if c.headDone[d] {
		return
	}
	if skip > 0 && len(c.head[d]) > 0 || skip > 0 && c.kind == kindHTTP {
		// A hole in what was being read: what follows cannot be parsed with what came before.
		c.stop(d)
		return
	}
	c.keep(d, sg.Fetch(n))
}

// keep adds data to the start of direction d, within the limits, then lets the connection's
// kind read it.
func (c *tcpConn) keep(d int, data []byte) {
	limit := helloLimit
	if c.kind == kindHTTP {
		limit = c.r.opts.HTTPLimit
	}
	room := limit - len(c.head[d])
	take := min(room, len(data))
	if take > 0 && !c.r.take(take) {
		c.r.stats.fail("memory-limit")
		c.cut = true
		c.stop(d)
		return
	}
	c.head[d] = append(c.head[d], data[:take]...)
	if take < len(data) {
		c.cut = true
	}
	c.read(d)
	if take < len(data) && !c.headDone[d] {
		c.stop(d)
	}
}

// stop keeps no more of direction d.
func (c *tcpConn) stop(d int) {
	if c.kind == kindHTTP && !c.headDone[d] {
		c.http.truncated[d] = true
	}
	c.headDone[d] = true
	if c.kind != kindHTTP {
		c.release(d)
	}
}

// release gives direction d's kept bytes back to the budget.
func (c *tcpConn) release(d int) {
	c.r.give(len(c.head[d]))
	c.head[d] = nil
}

// read lets the connection's kind look at what direction d holds so far.
func (c *tcpConn) read(d int) {
	if c.kind == kindUnknown && d == toServer && len(c.head[d]) > 0 {
		c.kind = classify(c.head[d])
		if c.kind == kindOther {
			c.stop(toServer)
			c.stop(toClient)
			return
		}
	}
	switch c.kind {
	case kindTLS:
		c.readTLS(d)
	case kindUnknown:
		// The server spoke first (or the client's bytes are missing): keep its start, within
		// the handshake limit, in case the client's first bytes follow.
		if d == toClient && len(c.head[d]) >= helloLimit {
			c.stop(d)
		}
	}
}

// classify says what a connection is from the client's first bytes.
func classify(b []byte) connKind {
	if b[0] == 0x16 {
		return kindTLS
	}
	if isHTTPStart(b) {
		return kindHTTP
	}
	return kindOther
}

func (c *tcpConn) ReassemblyComplete(ac reassembly.AssemblerContext) bool {
	c.r.conns--
	if !c.done {
		c.finish()
	}
	return true
}

// finish reports the connection and gives back what it kept.
func (c *tcpConn) finish() {
	c.done = true
	if c.sawSYN || c.bytes[toServer]+c.bytes[toClient] > 0 {
		// (The last ACK of a closed connection makes the reassembler start another, empty
		// one: not a connection.)
		c.r.stats.TCPConns++
	}
	c.r.finishTCP(c)
	c.release(toServer)
	c.release(toClient)
}
