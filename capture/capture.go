// Package capture is customs' passive eye: it reads packet captures (pcap and pcapng files,
// and live interfaces) and turns what it sees into flows, so that a security team sees every
// conversation with an AI vendor, not only those that chose to go through the proxy.
//
// For each TCP connection the client's TLS ClientHello gives the server name, the ALPN offer
// and a JA4 fingerprint (which TLS stack sent it: a Python SDK, a browser, curl), the server's
// answer the negotiated version and, up to TLS 1.2, the certificate's names. Plaintext HTTP is
// parsed into requests and answers and inspected like the proxy's. QUIC Initial packets are
// decrypted with their public keys to read the ClientHello of HTTP/3. DNS answers seen earlier
// name a server that a ClientHello does not.
//
// It is the only package that imports gopacket; its types do not leave it.
//
// Memory is bounded: out-of-order TCP data by the reassembler's page limits, the bytes kept
// per connection (a handshake, or a plaintext HTTP exchange up to Options.HTTPLimit) by a
// budget shared by every connection (Options.MemoryLimit), and the number of connections
// tracked by Options.MaxConnections. What the limits cut is counted and marked on the flow.
package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
)

// Options tune a Reader. The zero value reads with the defaults.
type Options struct {
	// Pipeline classifies flows (catalog), inspects plaintext HTTP and applies the policies.
	// nil leaves flows unclassified.
	Pipeline *inspect.Pipeline
	// HTTPLimit is the most bytes of a plaintext HTTP connection kept per direction for
	// inspection (default 4 MiB); past it the flow is marked oversize.
	HTTPLimit int
	// MemoryLimit bounds the bytes kept by all connections together (default 256 MiB);
	// connections that find it spent keep counting bytes but stop keeping them.
	MemoryLimit int
	// MaxConnections bounds the connections tracked at once (default 1,000,000); past it the
	// idlest are closed and reported as they are.
	MaxConnections int
	// Idle is how long a connection may stay silent (in capture time) before it is reported as
	// it is (default 2 minutes).
	Idle time.Duration
	// Known, when set, keeps only flows to catalog vendors (and DNS-over-HTTPS resolvers).
	Known bool
	// Live, when set, is called once a live capture reads: its ring and filter are set.
	Live func(iface string)
	// Bypass, when set, is asked for each flow to a vendor whether the proxy saw the client in
	// the flow's window; false marks the flow bypass.
	// An error leaves the flow unjudged, with a note saying so.
	Bypass func(ctx context.Context, client netip.Addr, from, to time.Time) (bool, error)
}

func (o *Options) defaults() {
	if o.HTTPLimit <= 0 {
		o.HTTPLimit = 4 << 20
	}
	if o.MemoryLimit <= 0 {
		o.MemoryLimit = 256 << 20
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = 1_000_000
	}
	if o.Idle <= 0 {
		o.Idle = 2 * time.Minute
	}
}

// Stats count what a read saw and what it could not read, per reason.
type Stats struct {
	Packets     int64
	Bytes       int64 // bytes of the frames as captured
	TCPConns    int
	UDPConns    int // QUIC connections (UDP 443)
	TLS         int // connections with a ClientHello read
	HTTP        int // plaintext HTTP requests read
	QUIC        int // QUIC connections with a ClientHello read
	DNSAnswers  int
	Flows       int // flows reported
	Vendors     map[string]int
	Unreadable  map[string]int // why packets or connections could not be read
	First, Last time.Time      // capture time of the first and last packet
}

func (s *Stats) fail(reason string) {
	if s.Unreadable == nil {
		s.Unreadable = map[string]int{}
	}
	s.Unreadable[reason]++
}

// Reasons lists the unreadable reasons in order, for reports.
func (s *Stats) Reasons() []string {
	var rs []string
	for r := range s.Unreadable {
		rs = append(rs, r)
	}
	sort.Strings(rs)
	return rs
}

// gapWait is how long (capture time) out-of-order data waits for a missing segment.
const gapWait = 2 * time.Second

// Reader turns packets into flows. It is not safe for concurrent use: one Reader reads one
// capture (or one interface) at a time, and emit is called on the reading goroutine.
type Reader struct {
	opts  Options
	emit  func(*flow.Flow)
	ctx   context.Context
	stats Stats

	dec    *decoder
	pool   *reassembly.StreamPool
	asm    *reassembly.Assembler
	conns  int // TCP connections tracked now
	memory int // bytes kept by connections now

	dns  *dnsCache
	udp  map[udpKey]*udpConn
	last time.Time // capture time of the latest packet
	// flushAt is the capture time of the next idle sweep.
	flushAt time.Time
}

// NewReader returns a Reader that calls emit with each flow as it completes.
func NewReader(opts Options, emit func(*flow.Flow)) *Reader {
	opts.defaults()
	r := &Reader{opts: opts, emit: emit, ctx: context.Background(), dec: newDecoder(), dns: newDNSCache(),
		udp: map[udpKey]*udpConn{}}
	r.pool = reassembly.NewStreamPool(&factory{r: r})
	r.asm = reassembly.NewAssembler(r.pool)
	// Out-of-order data waits in pages of 1,900 bytes: 64 per connection (about 120 KB) and
	// 32,768 in all (about 60 MB) before the reassembler gives up waiting for a gap.
	r.asm.MaxBufferedPagesPerConnection = 64
	r.asm.MaxBufferedPagesTotal = 32768
	return r
}

// Stats returns what the reader has counted so far.
func (r *Reader) Stats() Stats { return r.stats }

// ReadFile reads a pcap or pcapng file (gzip-compressed too) to its end; the flows of
// connections still open at the end are reported as they are. A file cut short is read up to
// the cut and counted, not an error.
func (r *Reader) ReadFile(ctx context.Context, path string) error {
	src, err := openFile(path)
	if err != nil {
		return err
	}
	defer src.close()
	err = r.read(ctx, src)
	r.Flush()
	return err
}

// read feeds every packet of src to the reader until its end or ctx ends.
func (r *Reader) read(ctx context.Context, src packetSource) error {
	r.ctx = ctx
	for n := 0; ; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		data, ci, lt, err := src.next()
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			return nil
		case errors.Is(err, io.ErrUnexpectedEOF):
			r.stats.fail("file-truncated")
			return nil
		default:
			if isTimeout(err) {
				// A live source's poll timeout: look at ctx, and report connections gone idle
				// while nothing arrived.
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if now := time.Now(); !r.flushAt.IsZero() && now.After(r.flushAt) {
					r.flushIdle(now) // live packets carry the wall clock's time
				}
				continue
			}
			r.stats.fail("file-corrupt")
			return fmt.Errorf("packet %d: %w", r.stats.Packets+1, err)
		}
		r.Packet(data, ci, lt)
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// Packet feeds one captured frame to the reader.
func (r *Reader) Packet(data []byte, ci gopacket.CaptureInfo, lt layers.LinkType) {
	r.stats.Packets++
	r.stats.Bytes += int64(len(data))
	ts := ci.Timestamp
	if r.stats.First.IsZero() || ts.Before(r.stats.First) {
		r.stats.First = ts
	}
	if ts.After(r.last) {
		r.last = ts
		r.stats.Last = ts
	}
	p, reason := r.dec.decode(data, lt)
	if reason != "" {
		r.stats.fail(reason)
		return
	}
	if ci.CaptureLength < ci.Length {
		r.stats.fail("snaplen-cut")
	}
	switch {
	case p.tcp != nil:
		r.asm.AssembleWithContext(p.netFlow, p.tcp, &asmContext{ci: ci})
	case p.udp != nil:
		r.udpPacket(p, ts)
	}
	if r.flushAt.IsZero() {
		r.flushAt = ts.Add(min(r.opts.Idle/4, time.Second))
	}
	if ts.After(r.flushAt) {
		r.flushIdle(ts)
	}
	if r.conns+len(r.udp) > r.opts.MaxConnections {
		r.shed(ts)
	}
}

// shed closes the idlest connections until the tracked ones fit MaxConnections again: halving
// the silence that counts as idle, down to a millisecond.
func (r *Reader) shed(now time.Time) {
	r.stats.fail("connection-limit")
	for d := r.opts.Idle / 2; d >= time.Millisecond && r.conns+len(r.udp) > r.opts.MaxConnections; d /= 2 {
		r.asm.FlushCloseOlderThan(now.Add(-d))
		for k, u := range r.udp {
			if now.Sub(u.last) > d {
				r.finishUDP(u)
				delete(r.udp, k)
			}
		}
	}
}

// flushIdle reports the connections silent for longer than Options.Idle, and, past
// MaxConnections, the idlest ones.
func (r *Reader) flushIdle(now time.Time) {
	r.flushAt = now.Add(min(r.opts.Idle/4, time.Second))
	// Data waiting more than gapWait for a missing segment is pushed through (the segment
	// was lost, or the capture missed it); connections silent for Idle are closed.
	r.asm.FlushWithOptions(reassembly.FlushOptions{T: now.Add(-gapWait), TC: now.Add(-r.opts.Idle)})
	for k, u := range r.udp {
		if now.Sub(u.last) > r.opts.Idle {
			r.finishUDP(u)
			delete(r.udp, k)
		}
	}
}

// Flush reports every connection still open, as it is: at the end of a file, or when a live
// capture stops.
func (r *Reader) Flush() {
	r.asm.FlushAll()
	for k, u := range r.udp {
		r.finishUDP(u)
		delete(r.udp, k)
	}
}

// report finishes a flow: catalog, bypass, policies; then hands it on.
func (r *Reader) report(f *flow.Flow, inspectIt bool) {
	p := r.opts.Pipeline
	if p != nil {
		p.Classify(f)
	}
	if r.opts.Known && f.Vendor.ID == "" && !f.HasMark(flow.MarkDoH) {
		return
	}
	if f.Vendor.ID != "" && r.opts.Bypass != nil {
		if ip, err := netip.ParseAddrPort(f.Client.Addr); err == nil {
			switch seen, err := r.opts.Bypass(r.ctx, ip.Addr().Unmap(), f.Start, f.End); {
			case err != nil:
				f.Notes = append(f.Notes, "capture: bypass not judged: "+err.Error())
			case !seen:
				f.Mark(flow.MarkBypass)
			}
		}
	}
	if p != nil {
		if inspectIt {
			p.Inspect(r.ctx, f)
		} else {
			f.Verdict = p.Decide(r.ctx, f)
		}
	}
	r.stats.Flows++
	if f.Vendor.ID != "" {
		if r.stats.Vendors == nil {
			r.stats.Vendors = map[string]int{}
		}
		r.stats.Vendors[f.Vendor.ID]++
	}
	r.emit(f)
}

// take reserves n bytes of the shared memory budget; false when it is spent.
func (r *Reader) take(n int) bool {
	if r.memory+n > r.opts.MemoryLimit {
		return false
	}
	r.memory += n
	return true
}

func (r *Reader) give(n int) { r.memory -= n }

type asmContext struct{ ci gopacket.CaptureInfo }

func (c *asmContext) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }
