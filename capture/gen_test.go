package capture

import (
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// The test suite writes its own captures (TestCaptures -update): real TLS handshakes from
// crypto/tls, plaintext HTTP, DNS and QUIC, cut into TCP segments and frames with gopacket's
// serializers and written with its pcap and pcapng writers.

// frame is one captured frame.
type frame struct {
	ts   time.Time
	data []byte
}

// capWriter accumulates frames of one link type.
type capWriter struct {
	t      testing.TB
	link   layers.LinkType
	vlan   uint16 // Ethernet frames carry this 802.1Q tag when set
	frames []frame
	clock  time.Time
	// snaplen, when set, cuts each written frame to that many bytes (the frame's length
	// stays), as tcpdump -s does.
	snaplen int
}

func newCapWriter(t testing.TB, link layers.LinkType) *capWriter {
	return &capWriter{t: t, link: link, clock: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
}

// tick advances the capture clock.
func (w *capWriter) tick() time.Time {
	w.clock = w.clock.Add(1500 * time.Microsecond)
	return w.clock
}

// packet serializes an IP packet carrying l4 (a TCP or UDP layer) and payload between a and b.
func (w *capWriter) packet(a, b netip.AddrPort, l4 gopacket.SerializableLayer, payload []byte) []byte {
	var ls []gopacket.SerializableLayer
	var ip gopacket.NetworkLayer
	v6 := a.Addr().Is6()
	ethType := layers.EthernetTypeIPv4
	if v6 {
		ethType = layers.EthernetTypeIPv6
		ip = &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: a.Addr().AsSlice(), DstIP: b.Addr().AsSlice(), NextHeader: proto(l4)}
	} else {
		ip = &layers.IPv4{Version: 4, TTL: 64, SrcIP: a.Addr().AsSlice(), DstIP: b.Addr().AsSlice(), Protocol: proto(l4)}
	}
	switch w.link {
	case layers.LinkTypeEthernet:
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: ethType}
		if w.vlan != 0 {
			eth.EthernetType = layers.EthernetTypeDot1Q
			ls = append(ls, eth, &layers.Dot1Q{VLANIdentifier: w.vlan, Type: ethType})
		} else {
			ls = append(ls, eth)
		}
	case layers.LinkTypeLinuxSLL:
		ls = append(ls, &linuxSLL{proto: ethType})
	case layers.LinkTypeLinuxSLL2:
		ls = append(ls, &linuxSLL2{proto: ethType})
	}
	ls = append(ls, ip.(gopacket.SerializableLayer))
	switch l := l4.(type) {
	case *layers.TCP:
		l.SetNetworkLayerForChecksum(ip)
	case *layers.UDP:
		l.SetNetworkLayerForChecksum(ip)
	}
	ls = append(ls, l4, gopacket.Payload(payload))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		w.t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func proto(l gopacket.SerializableLayer) layers.IPProtocol {
	if _, ok := l.(*layers.UDP); ok {
		return layers.IPProtocolUDP
	}
	return layers.IPProtocolTCP
}

// linuxSLL serializes a Linux cooked header (gopacket decodes it but does not write it).
type linuxSLL struct{ proto layers.EthernetType }

func (l *linuxSLL) LayerType() gopacket.LayerType { return layers.LayerTypeLinuxSLL }
func (l *linuxSLL) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	h, err := b.PrependBytes(16)
	if err != nil {
		return err
	}
	binary.BigEndian.PutUint16(h[0:], 4) // sent by us
	binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:], 6)
	copy(h[6:], []byte{2, 0, 0, 0, 0, 1, 0, 0})
	binary.BigEndian.PutUint16(h[14:], uint16(l.proto))
	return nil
}

// linuxSLL2 serializes the second Linux cooked header (tcpdump -i any since 4.99).
type linuxSLL2 struct{ proto layers.EthernetType }

func (l *linuxSLL2) LayerType() gopacket.LayerType { return layers.LayerTypeLinuxSLL2 }
func (l *linuxSLL2) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	h, err := b.PrependBytes(20)
	if err != nil {
		return err
	}
	binary.BigEndian.PutUint16(h[0:], uint16(l.proto))
	binary.BigEndian.PutUint32(h[4:], 2) // interface index
	binary.BigEndian.PutUint16(h[8:], 1) // ARPHRD_ETHER
	h[10] = 4                            // sent by us
	h[11] = 6
	copy(h[12:], []byte{2, 0, 0, 0, 0, 1, 0, 0})
	return nil
}

func (w *capWriter) add(data []byte) { w.frames = append(w.frames, frame{ts: w.tick(), data: data}) }

// tcpConv writes one TCP conversation: handshake, each side's segments, close.
type tcpConv struct {
	w              *capWriter
	client, server netip.AddrPort
	seq            [2]uint32
	mss            int
}

func (w *capWriter) tcp(client, server netip.AddrPort) *tcpConv {
	return &tcpConv{w: w, client: client, server: server, seq: [2]uint32{1000, 50000}, mss: 1400}
}

func (c *tcpConv) seg(d int, flags string, payload []byte) []byte {
	a, b := c.client, c.server
	if d == toClient {
		a, b = b, a
	}
	t := &layers.TCP{SrcPort: layers.TCPPort(a.Port()), DstPort: layers.TCPPort(b.Port()), Seq: c.seq[d], Window: 65535}
	if c.seq[1-d] != 0 {
		t.Ack = c.seq[1-d]
	}
	for _, f := range flags {
		switch f {
		case 'S':
			t.SYN = true
		case 'A':
			t.ACK = true
		case 'F':
			t.FIN = true
		case 'P':
			t.PSH = true
		case 'R':
			t.RST = true
		}
	}
	return c.w.packet(a, b, t, payload)
}

func (c *tcpConv) open() {
	c.w.add(c.seg(toServer, "S", nil))
	c.seq[toServer]++
	c.w.add(c.seg(toClient, "SA", nil))
	c.seq[toClient]++
	c.w.add(c.seg(toServer, "A", nil))
}

// send sends data from side d in segments of at most mss bytes.
func (c *tcpConv) send(d int, data []byte) {
	for len(data) > 0 {
		n := min(c.mss, len(data))
		c.w.add(c.seg(d, "PA", data[:n]))
		c.seq[d] += uint32(n)
		data = data[n:]
	}
}

// segments returns data from side d cut at the given offsets, without writing them.
func (c *tcpConv) segments(d int, data []byte, cuts ...int) [][]byte {
	var out [][]byte
	prev := 0
	for _, k := range append(cuts, len(data)) {
		out = append(out, c.seg(d, "PA", data[prev:k]))
		c.seq[d] += uint32(k - prev)
		prev = k
	}
	return out
}

func (c *tcpConv) close() {
	c.w.add(c.seg(toServer, "FA", nil))
	c.seq[toServer]++
	c.w.add(c.seg(toClient, "FA", nil))
	c.seq[toClient]++
	c.w.add(c.seg(toServer, "A", nil))
}

// udp writes one datagram.
func (w *capWriter) udp(a, b netip.AddrPort, payload []byte) {
	u := &layers.UDP{SrcPort: layers.UDPPort(a.Port()), DstPort: layers.UDPPort(b.Port())}
	w.add(w.packet(a, b, u, payload))
}

// dnsAnswer writes a DNS response naming ip for name.
func (w *capWriter) dnsAnswer(client, resolver netip.AddrPort, name string, ip netip.Addr) {
	typ := layers.DNSTypeA
	if ip.Is6() {
		typ = layers.DNSTypeAAAA
	}
	d := &layers.DNS{ID: 7, QR: true, RD: true, RA: true, OpCode: layers.DNSOpCodeQuery,
		Questions: []layers.DNSQuestion{{Name: []byte(name), Type: typ, Class: layers.DNSClassIN}},
		Answers:   []layers.DNSResourceRecord{{Name: []byte(name), Type: typ, Class: layers.DNSClassIN, TTL: 60, IP: ip.AsSlice()}}}
	buf := gopacket.NewSerializeBuffer()
	if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		w.t.Fatal(err)
	}
	w.udp(resolver, client, buf.Bytes())
}

// writePcap writes the frames as a pcap file (gzip-compressed when gz).
func (w *capWriter) writePcap(path string, gz bool) {
	var buf bytes.Buffer
	var out io.Writer = &buf
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		out = zw
	}
	pw := pcapgo.NewWriterNanos(out)
	if err := pw.WriteFileHeader(65535, w.link); err != nil {
		w.t.Fatal(err)
	}
	for _, f := range w.frames {
		data := f.data
		if w.snaplen > 0 && len(data) > w.snaplen {
			data = data[:w.snaplen]
		}
		ci := gopacket.CaptureInfo{Timestamp: f.ts, CaptureLength: len(data), Length: len(f.data)}
		if err := pw.WritePacket(ci, data); err != nil {
			w.t.Fatal(err)
		}
	}
	if zw != nil {
		zw.Close()
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// writePcapng writes the frames as a pcapng file.
func (w *capWriter) writePcapng(path string) {
	var buf bytes.Buffer
	nw, err := pcapgo.NewNgWriter(&buf, w.link)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, f := range w.frames {
		ci := gopacket.CaptureInfo{Timestamp: f.ts, CaptureLength: len(f.data), Length: len(f.data)}
		if err := nw.WritePacket(ci, f.data); err != nil {
			w.t.Fatal(err)
		}
	}
	if err := nw.Flush(); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// handshake runs a real TLS handshake between crypto/tls client and server over an in-memory
// pipe and returns what each side wrote first: the client's flight(s) and the server's.
func handshake(t testing.TB, sni string, alpn []string, maxVersion uint16, certName string) (client, server []byte) {
	t.Helper()
	cert := selfSigned(t, certName)
	c1, c2 := net.Pipe()
	rc := &recConn{Conn: c1}
	rs := &recConn{Conn: c2}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := tls.Server(rs, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: alpn, MaxVersion: maxVersion})
		_ = s.Handshake()
	}()
	cl := tls.Client(rc, &tls.Config{ServerName: sni, NextProtos: alpn, InsecureSkipVerify: true, MaxVersion: maxVersion})
	_ = cl.SetDeadline(time.Now().Add(10 * time.Second))
	if err := cl.Handshake(); err != nil {
		t.Fatal(err)
	}
	// The raw pipe, not the TLS close: a close_notify would wait for a reader.
	wg.Wait()
	_ = c1.Close()
	_ = c2.Close()
	return rc.buf.Bytes(), rs.buf.Bytes()
}

type recConn struct {
	net.Conn
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *recConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.buf.Write(p)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func selfSigned(t testing.TB, name string) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// clientHelloOnly returns the first TLS record(s) of a client flight holding the ClientHello.
func clientHelloOnly(t testing.TB, flight []byte) []byte {
	// The ClientHello is the first handshake message; its records are the first ones.
	n := 0
	need := -1
	got := 0
	for n+5 <= len(flight) && flight[n] == 0x16 {
		l := int(binary.BigEndian.Uint16(flight[n+3:]))
		body := flight[n+5 : n+5+l]
		if need < 0 {
			need = 4 + int(body[1])<<16 | int(body[2])<<8 | int(body[3])
		}
		got += l
		n += 5 + l
		if got >= need {
			return flight[:n]
		}
	}
	t.Fatal("no ClientHello in the client's flight")
	return nil
}

// withECH adds an encrypted_client_hello extension (0xfe0d) to a ClientHello of one record and
// fixes the lengths: what a browser with ECH sends, as far as the outer hello shows.
func withECH(t testing.TB, rec []byte) []byte {
	ext := []byte{0xfe, 0x0d, 0, 8, 0, 0, 1, 0, 1, 0x2a, 0, 0} // outer ECH: type, suite, config id, enc len, payload len
	msg := append([]byte(nil), rec[5:]...)
	// Walk to the extensions length: type(1) len(3) version(2) random(32) session id,
	// cipher suites, compression methods.
	p := 4 + 2 + 32
	p += 1 + int(msg[p])
	p += 2 + int(binary.BigEndian.Uint16(msg[p:]))
	p += 1 + int(msg[p])
	extLen := int(binary.BigEndian.Uint16(msg[p:]))
	binary.BigEndian.PutUint16(msg[p:], uint16(extLen+len(ext)))
	msg = append(msg, ext...)
	hl := len(msg) - 4
	msg[1], msg[2], msg[3] = byte(hl>>16), byte(hl>>8), byte(hl)
	out := append([]byte{0x16, 3, 1, 0, 0}, msg...)
	binary.BigEndian.PutUint16(out[3:], uint16(len(msg)))
	if len(rec) != 5+int(binary.BigEndian.Uint16(rec[3:])) {
		t.Fatal("withECH wants a ClientHello of one record")
	}
	return out
}
