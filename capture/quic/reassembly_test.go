package quic

import (
	"bytes"
	"testing"
)

// TestClientHelloAcrossPackets is the path `customs capture` takes: the
// ClientHello cut into CRYPTO frames that come out of order, duplicated and
// overlapping, in several Initial packets of several datagrams, read back
// with ParseDatagram and a CryptoStream.
func TestClientHelloAcrossPackets(t *testing.T) {
	hello := rfcClientHello(t)
	dcid := mustHex("9a9b9c9d9e9fa0a1")
	scid := mustHex("5151")
	frag := func(from, to int) []byte { return cryptoFrame(uint64(from), hello[from:to]) }
	pkt := func(version uint32, pn uint64, frames ...[]byte) []byte {
		return seal(t, sealed{version: version, dcid: dcid, scid: scid, pn: pn, payload: concat(frames...), padTo: 300})
	}
	tests := []struct {
		name      string
		datagrams func(version uint32) [][]byte
	}{
		{"two packets, one datagram", func(v uint32) [][]byte {
			return [][]byte{concat(pkt(v, 0, frag(120, 241)), pkt(v, 1, frag(0, 120)))}
		}},
		{"two datagrams, second half first", func(v uint32) [][]byte {
			return [][]byte{pkt(v, 0, frag(120, 241), []byte{framePing}), pkt(v, 1, frag(0, 120))}
		}},
		{"scrambled like Chrome", func(v uint32) [][]byte {
			return [][]byte{
				pkt(v, 0, frag(200, 241), []byte{framePing}, frag(50, 90), []byte{framePadding, framePadding}, frag(0, 10)),
				pkt(v, 1, frag(90, 130), frag(10, 50)),
				concat(pkt(v, 2, frag(130, 200)), pkt(v, 3, frag(0, 241))), // a full retransmission on top
			}
		}},
		{"overlapping retransmissions", func(v uint32) [][]byte {
			return [][]byte{pkt(v, 0, frag(0, 100)), pkt(v, 1, frag(60, 180)), pkt(v, 2, frag(150, 241)), pkt(v, 3, frag(0, 241))}
		}},
	}
	for _, tt := range tests {
		for _, v := range []uint32{Version1, Version2} {
			t.Run(tt.name, func(t *testing.T) {
				var stream CryptoStream
				for i, d := range tt.datagrams(v) {
					initials, err := ParseDatagram(d)
					if err != nil {
						t.Fatalf("datagram %d: %v", i, err)
					}
					for _, in := range initials {
						if !bytes.Equal(in.DCID, dcid) || !bytes.Equal(in.SCID, scid) || in.Version != v {
							t.Fatalf("datagram %d: DCID %x SCID %x version %#x", i, in.DCID, in.SCID, in.Version)
						}
						for _, f := range in.Crypto {
							if err := stream.Add(f.Offset, f.Data); err != nil {
								t.Fatalf("datagram %d: %v", i, err)
							}
						}
					}
				}
				got, ok := ClientHelloBytes(&stream)
				if !ok || !bytes.Equal(got, hello) {
					t.Errorf("ClientHelloBytes = %x, %v; want the RFC ClientHello", got, ok)
				}
			})
		}
	}

	// Until the last piece arrives there is no ClientHello.
	var stream CryptoStream
	initials, err := ParseDatagram(pkt(Version1, 0, frag(120, 241)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range initials[0].Crypto {
		_ = stream.Add(f.Offset, f.Data)
	}
	if _, ok := ClientHelloBytes(&stream); ok {
		t.Error("ClientHello reported with its first 120 bytes missing")
	}
}
