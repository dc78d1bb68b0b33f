package capture

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/customs-dev/customs/flow"
)

// TestServerOnlyConnection: a capture that holds only the server's side of a connection to a
// vendor (an asymmetric tap) reports it, incomplete, rather than nothing.
func TestServerOnlyConnection(t *testing.T) {
	w := newCapWriter(t, layers.LinkTypeEthernet)
	w.dnsAnswer(netip.MustParseAddrPort("10.0.0.7:40000"), netip.MustParseAddrPort("10.0.0.1:53"), "api.openai.com", netip.MustParseAddr("104.18.7.192"))
	c := w.tcp(netip.MustParseAddrPort("10.0.0.7:51544"), netip.MustParseAddrPort("104.18.7.192:443"))
	c.open()
	c.send(toClient, []byte("\x16\x03\x03\x00\x10 server hello bytes"))
	var flows []*flow.Flow
	r := NewReader(Options{Pipeline: testPipeline(t)}, func(f *flow.Flow) { flows = append(flows, f) })
	for _, fr := range w.frames {
		r.Packet(fr.data, gopacket.CaptureInfo{Timestamp: fr.ts, CaptureLength: len(fr.data), Length: len(fr.data)}, layers.LinkTypeEthernet)
	}
	r.Flush()
	if len(flows) != 1 || flows[0].Vendor.ID != "openai" || strings.Join(flows[0].Incomplete, ",") != "client-bytes-missing" ||
		flows[0].Verdict.Action == flow.Allow {
		t.Fatalf("flows %+v", flows)
	}
}

// TestHTTPStreamsFailClosed: what the HTTP parser cannot read in a plaintext connection is a
// flow with a reason, never dropped — above all after a request it could read, where an
// attacker would hide the next one behind a malformed header.
func TestHTTPStreamsFailClosed(t *testing.T) {
	const secret = "AKIAZ7VQ3KXJ5N2WPLMR"
	good := "GET /decide HTTP/1.1\r\nHost: api.mixpanel.com\r\n\r\n"
	cases := []struct {
		name, client string
		flows        int
		unreadable   string // the incomplete reason the last flow carries ("" none)
	}{
		{"two good requests", good + good, 2, ""},
		{"a malformed one after a good one", good + "POST /track HTTP/1.1\r\nHost: api.mixpanel.com\r\nContent-Length: ten\r\n\r\n" + secret, 2, "capture-unreadable"},
		{"garbage after a good one", good + "\x00\x01" + secret, 2, "capture-unreadable"},
		{"malformed first", "POST /track HTTP/1.1\r\nHost api.mixpanel.com\r\n\r\n" + secret, 1, "capture-unreadable"},
	}
	p := testPipeline(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newCapWriter(t, layers.LinkTypeEthernet)
			c := w.tcp(netip.MustParseAddrPort("10.0.0.7:51544"), netip.MustParseAddrPort("35.190.25.25:80"))
			c.open()
			c.send(toServer, []byte(tc.client))
			c.close()
			var flows []*flow.Flow
			r := NewReader(Options{Pipeline: p}, func(f *flow.Flow) { flows = append(flows, f) })
			for _, fr := range w.frames {
				r.Packet(fr.data, gopacket.CaptureInfo{Timestamp: fr.ts, CaptureLength: len(fr.data), Length: len(fr.data)}, layers.LinkTypeEthernet)
			}
			r.Flush()
			if len(flows) != tc.flows {
				t.Fatalf("%d flows, want %d", len(flows), tc.flows)
			}
			last := flows[len(flows)-1]
			if got := strings.Join(last.Incomplete, ","); got != tc.unreadable {
				t.Fatalf("last flow incomplete %q, want %q", got, tc.unreadable)
			}
			if tc.unreadable != "" && (tc.flows > 1 && last.Vendor.ID != "mixpanel" || last.Verdict.Action == flow.Allow) {
				t.Fatalf("the unreadable rest: vendor %q action %s; want mixpanel's, not allowed", last.Vendor.ID, last.Verdict.Action)
			}
		})
	}
}
