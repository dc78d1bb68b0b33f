package capture

import (
	"net/netip"
	"time"

	"github.com/customs-dev/customs/flow"
)

// newFlow starts a capture flow between client and server.
func (r *Reader) newFlow(start, end time.Time, client, server netip.AddrPort, mode flow.Mode) *flow.Flow {
	return &flow.Flow{
		ID:     flow.NewID(start),
		Start:  start,
		End:    end,
		Source: flow.SourceCapture,
		Mode:   mode,
		Client: flow.Client{Addr: client.String()},
		Server: server.String(),
	}
}

// finishTCP reports what a connection carried, once the reassembler is done with it.
func (r *Reader) finishTCP(c *tcpConn) {
	switch c.kind {
	case kindHTTP:
		r.httpFlows(c)
	case kindTLS:
		r.tlsFlow(c)
	case kindUnknown:
		if c.bytes[toClient] > 0 {
			// The server spoke and the client's bytes are not in the capture (an asymmetric
			// tap, or the capture began late): what went to the server cannot be read.
			r.stats.fail("client-bytes-missing")
			f := r.newFlow(c.start, c.last, c.client, c.server, flow.TLS)
			f.Host = r.hostOf(c.server.Addr(), "")
			f.ResponseBytes = c.bytes[toClient]
			f.Mark(flow.MarkPartial)
			f.MarkIncompleteReason("client-bytes-missing")
			r.report(f, false)
		}
	case kindOther:
		if c.server.Port() == 443 {
			// Something that is neither TLS nor HTTP on the HTTPS port: a tunnel, a covert
			// channel or garbage. Reported, so that it is seen.
			r.stats.fail("not-tls-on-443")
			f := r.newFlow(c.start, c.last, c.client, c.server, flow.TLS)
			f.Host = r.hostOf(c.server.Addr(), "")
			f.RequestBytes, f.ResponseBytes = c.bytes[toServer], c.bytes[toClient]
			f.Mark(flow.MarkNotTLS)
			r.report(f, false)
		}
	}
}

// tlsFlow reports a TLS connection: its names, fingerprint and sizes.
func (r *Reader) tlsFlow(c *tcpConn) {
	f := r.newFlow(c.start, c.last, c.client, c.server, flow.TLS)
	f.RequestBytes, f.ResponseBytes = c.bytes[toServer], c.bytes[toClient]
	c.tls.describe(f)
	if c.tls.hello == nil {
		reason := "client-hello-cut"
		if c.tls.err != "" {
			reason = c.tls.err
		}
		r.stats.fail(reason)
		f.MarkIncompleteReason(reason)
	} else {
		r.stats.TLS++
	}
	f.Host = r.hostOf(c.server.Addr(), f.SNI)
	if f.SNI == "" {
		f.Mark(flow.MarkNoSNI)
	}
	if c.gap || !c.sawSYN {
		f.Mark(flow.MarkPartial)
	}
	if isDoH(f.Host, c.server) {
		f.Mark(flow.MarkDoH)
	}
	r.report(f, false)
}

// hostOf names a server: the ClientHello's name when there is one, else the name a DNS answer
// earlier in the capture gave its address, else the address.
func (r *Reader) hostOf(addr netip.Addr, sni string) string {
	if sni != "" {
		return sni
	}
	if name, ok := r.dns.name(addr); ok {
		return name
	}
	return addr.String()
}

// dohHosts are well-known DNS-over-HTTPS resolvers: a connection to one hides the names the
// client looks up from the network (and from this capture's DNS view).
var dohHosts = map[string]bool{
	"dns.google": true, "dns.google.com": true, "8.8.8.8": true, "8.8.4.4": true,
	"cloudflare-dns.com": true, "mozilla.cloudflare-dns.com": true, "one.one.one.one": true,
	"1dot1dot1dot1.cloudflare-dns.com": true, "security.cloudflare-dns.com": true, "family.cloudflare-dns.com": true,
	"1.1.1.1": true, "1.0.0.1": true,
	"dns.quad9.net": true, "dns9.quad9.net": true, "dns10.quad9.net": true, "dns11.quad9.net": true,
	"9.9.9.9": true, "149.112.112.112": true,
	"doh.opendns.com": true, "dns.opendns.com": true, "doh.familyshield.opendns.com": true,
	"dns.adguard.com": true, "dns.adguard-dns.com": true, "unfiltered.adguard-dns.com": true,
	"doh.cleanbrowsing.org": true, "dns.nextdns.io": true, "doh.dns.sb": true, "dns.alidns.com": true,
	"doh.pub": true, "dns.controld.com": true, "freedns.controld.com": true, "doh.mullvad.net": true,
	"dns.mullvad.net": true, "wikimedia-dns.org": true,
	"2001:4860:4860::8888": true, "2001:4860:4860::8844": true, "2606:4700:4700::1111": true,
	"2606:4700:4700::1001": true, "2620:fe::fe": true, "2620:fe::9": true,
}

func isDoH(host string, server netip.AddrPort) bool {
	if server.Port() != 443 {
		return false
	}
	return dohHosts[host] || dohHosts[server.Addr().String()]
}
