package capture

import (
	"net/netip"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// dnsCacheLimit bounds the addresses remembered from DNS answers; past it the cache starts
// over (a name seen again is learnt again).
const dnsCacheLimit = 1 << 18

// dnsCache maps the addresses in DNS answers to the name the client asked for, so that a
// connection without SNI (or a QUIC one whose Initial could not be read) is still named.
type dnsCache struct {
	names  map[netip.Addr]string
	parser *gopacket.DecodingLayerParser
	msg    layers.DNS
	types  []gopacket.LayerType
}

func newDNSCache() *dnsCache {
	c := &dnsCache{names: map[netip.Addr]string{}}
	c.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeDNS, &c.msg)
	c.parser.IgnoreUnsupported = true
	return c
}

func (c *dnsCache) name(a netip.Addr) (string, bool) {
	n, ok := c.names[a]
	return n, ok
}

// answer learns the addresses of a DNS response; false when payload is not one.
func (c *dnsCache) answer(payload []byte) (int, bool) {
	if err := c.parser.DecodeLayers(payload, &c.types); err != nil || len(c.types) == 0 {
		return 0, false
	}
	m := &c.msg
	if !m.QR || len(m.Questions) == 0 {
		return 0, true
	}
	// The question is what the application asked for (api.openai.com); the answers may go
	// through CNAMEs to a CDN's names first.
	q := strings.ToLower(strings.TrimSuffix(string(m.Questions[0].Name), "."))
	n := 0
	for _, a := range m.Answers {
		if a.Type != layers.DNSTypeA && a.Type != layers.DNSTypeAAAA {
			continue
		}
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		if len(c.names) >= dnsCacheLimit {
			clear(c.names)
		}
		c.names[ip.Unmap()] = q
		n++
	}
	return n, true
}
