package capture

import (
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// packet is what the reader needs of one frame.
type packet struct {
	netFlow gopacket.Flow
	src     []byte // IP addresses as decoded (4 or 16 bytes)
	dst     []byte
	tcp     *layers.TCP
	udp     *layers.UDP
	payload []byte
}

// decoder decodes frames with gopacket's DecodingLayerParser: preallocated layers, no
// allocation per packet. There is one parser per first layer, since a capture's link type
// (and, for raw IP, each packet's version) says where decoding starts.
type decoder struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	sll     layers.LinuxSLL
	sll2    layers.LinuxSLL2
	loop    layers.Loopback
	ip4     layers.IPv4
	ip6     layers.IPv6
	ip6ext  layers.IPv6ExtensionSkipper
	tcp     layers.TCP
	udp     layers.UDP
	payload gopacket.Payload

	parsers map[gopacket.LayerType]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func newDecoder() *decoder {
	d := &decoder{parsers: map[gopacket.LayerType]*gopacket.DecodingLayerParser{}, decoded: make([]gopacket.LayerType, 0, 8)}
	all := []gopacket.DecodingLayer{&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.loop, &d.ip4, &d.ip6, &d.ip6ext, &d.tcp, &d.udp, &d.payload}
	for _, first := range []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeLinuxSLL, layers.LayerTypeLinuxSLL2,
		layers.LayerTypeLoopback, layers.LayerTypeIPv4, layers.LayerTypeIPv6} {
		p := gopacket.NewDecodingLayerParser(first, all...)
		// A layer gopacket does not decode here (ARP, ICMP, …) ends decoding without an error.
		p.IgnoreUnsupported = true
		d.parsers[first] = p
	}
	return d
}

// firstLayer is where a link type's frames start; 0 for a link type customs does not read.
func firstLayer(lt layers.LinkType, data []byte) gopacket.LayerType {
	switch lt {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12 /* DLT_RAW on some systems */, 14:
		if len(data) > 0 && data[0]>>4 == 6 {
			return layers.LayerTypeIPv6
		}
		return layers.LayerTypeIPv4
	}
	return 0
}

// decode returns the frame's transport layer, or why it cannot be read ("" when it can; a
// frame of a protocol customs does not read, such as ARP, is neither).
func (d *decoder) decode(data []byte, lt layers.LinkType) (packet, string) {
	first := firstLayer(lt, data)
	if first == 0 {
		return packet{}, "link-type-" + lt.String()
	}
	p := d.parsers[first]
	err := p.DecodeLayers(data, &d.decoded)
	var pk packet
	var haveIP bool
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			if d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 {
				return packet{}, "ip-fragment"
			}
			pk.netFlow, pk.src, pk.dst, haveIP = d.ip4.NetworkFlow(), d.ip4.SrcIP, d.ip4.DstIP, true
		case layers.LayerTypeIPv6:
			pk.netFlow, pk.src, pk.dst, haveIP = d.ip6.NetworkFlow(), d.ip6.SrcIP, d.ip6.DstIP, true
		case layers.LayerTypeTCP:
			pk.tcp = &d.tcp
			pk.payload = d.tcp.Payload
		case layers.LayerTypeUDP:
			pk.udp = &d.udp
			pk.payload = d.udp.Payload
		}
	}
	if err != nil {
		var unsupported gopacket.UnsupportedLayerType
		if !errors.As(err, &unsupported) && (pk.tcp == nil && pk.udp == nil) {
			return packet{}, "malformed-packet"
		}
	}
	if !haveIP {
		pk.tcp, pk.udp = nil, nil
	}
	return pk, ""
}
