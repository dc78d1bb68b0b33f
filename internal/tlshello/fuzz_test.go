package tlshello_test

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/customs-dev/customs/internal/tlshello"
)

var ja4Shape = regexp.MustCompile(`^t(13|12|11|10|s3|s2|d1|d2|d3|00)[di][0-9]{4}[0-9A-Za-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$`)

// checkClient holds for whatever ParseClientHello or ParseClientHelloMessage returned for b.
func checkClient(t *testing.T, b []byte, ch *tlshello.ClientHello, err error) {
	t.Helper()
	if err != nil {
		if ch != nil {
			t.Fatalf("a hello with error %v", err)
		}
		if !errors.Is(err, tlshello.ErrNeedMore) && !errors.Is(err, tlshello.ErrNotTLS) &&
			!errors.Is(err, tlshello.ErrMalformed) && !errors.Is(err, tlshello.ErrTooLarge) {
			t.Fatalf("error %v wraps no sentinel", err)
		}
		return
	}
	if ch.MessageLen > len(b) || ch.MessageLen > tlshello.MaxMessageSize {
		t.Fatalf("message of %d bytes from %d", ch.MessageLen, len(b))
	}
	n := len(ch.CipherSuites) + len(ch.Extensions) + len(ch.SignatureAlgorithms) + len(ch.SupportedGroups) + len(ch.SupportedVersions)
	if 2*n > ch.MessageLen {
		t.Fatalf("%d values from a %d-byte message", n, ch.MessageLen)
	}
	if ch.SNI != "" && (ch.BadSNI || len(ch.SNI) > 253 || strings.Trim(ch.SNI, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != "") {
		t.Fatalf("SNI %q, bad %v", ch.SNI, ch.BadSNI)
	}
	if (ch.SNI != "" || ch.BadSNI) != ch.HasExtension(0) {
		t.Fatalf("SNI %q, bad %v, extension present %v", ch.SNI, ch.BadSNI, ch.HasExtension(0))
	}
	ja4 := tlshello.JA4(ch, tlshello.TransportTCP)
	if !ja4Shape.MatchString(ja4) {
		t.Fatalf("JA4 %q", ja4)
	}
	if want := hashRaw(tlshello.JA4Raw(ch, tlshello.TransportTCP)); ja4 != want {
		t.Fatalf("JA4 %s, from JA4_r %s", ja4, want)
	}
}

func FuzzParseClientHello(f *testing.F) {
	for _, c := range clientCases {
		if c.quic {
			continue
		}
		b := fixture(f, "client/"+c.name+".hex", nil)
		f.Add(b)
		f.Add(refragment(b, 61))
	}
	f.Add(records(clientHelloMsg(0x0303, []uint16{0x0a0a, 0x1301}, sniExt("api.openai.com"), alpnExt("h2"), listExt(43, 1, 0x0304)), 20))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: api.openai.com\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		b = slices.Clip(b)
		ch, err := tlshello.ParseClientHello(b)
		checkClient(t, b, ch, err)
		mch, merr := tlshello.ParseClientHelloMessage(b)
		checkClient(t, b, mch, merr)
		if err != nil {
			return
		}
		want := describeClient(ch, nil)
		// More bytes after a hello change nothing; fewer give "need more" or the same hello.
		if got := describeClient(tlshello.ParseClientHello(append(b, 22, 3, 3, 0, 1))); got != want {
			t.Fatalf("with trailing bytes: %s, want %s", got, want)
		}
		for _, i := range []int{0, 5, 9, len(b) / 2, len(b) - 1} {
			if i < 0 || i >= len(b) {
				continue
			}
			p, err := tlshello.ParseClientHello(b[:i])
			if errors.Is(err, tlshello.ErrNeedMore) {
				continue
			}
			if got := describeClient(p, err); got != want {
				t.Fatalf("prefix %d of %d: %s, want need more or %s", i, len(b), got, want)
			}
		}
	})
}

func FuzzParseServerHello(f *testing.F) {
	for _, c := range serverCases {
		b := fixture(f, "server/"+c.name+".hex", nil)
		f.Add(b)
		f.Add(refragment(b, 97))
	}
	tls12 := serverHelloMsg(0x0303, 0xc02f, nil, ext{0xff01, []byte{0}}, alpnExt("h2"))
	f.Add(append(records(tls12, 1<<14), 20, 3, 3, 0, 1, 1))
	f.Add(records(append(tls12, certificateMsg([]byte{0x30, 3, 1, 2, 3})...), 40))
	f.Add([]byte{21, 3, 3, 0, 2, 2, 40})
	f.Fuzz(func(t *testing.T, b []byte) {
		b = slices.Clip(b)
		sh, err := tlshello.ParseServerHello(b)
		if err == nil && sh == nil {
			t.Fatal("no hello and no error")
		}
		if err != nil && !errors.Is(err, tlshello.ErrNeedMore) && !errors.Is(err, tlshello.ErrNotTLS) &&
			!errors.Is(err, tlshello.ErrMalformed) && !errors.Is(err, tlshello.ErrTooLarge) && !errors.Is(err, tlshello.ErrAlert) {
			t.Fatalf("error %v wraps no sentinel", err)
		}
		if sh != nil && len(sh.Extensions)*4 > len(b) {
			t.Fatalf("%d extensions from %d bytes", len(sh.Extensions), len(b))
		}
		if err != nil {
			return
		}
		want := describeServer(sh, nil)
		if got := describeServer(tlshello.ParseServerHello(append(b, 22, 3, 3, 0, 1))); got != want {
			t.Fatalf("with trailing bytes: %s, want %s", got, want)
		}
		for _, i := range []int{0, 5, 9, len(b) / 2, len(b) - 1} {
			if i < 0 || i >= len(b) {
				continue
			}
			p, err := tlshello.ParseServerHello(b[:i])
			if errors.Is(err, tlshello.ErrNeedMore) {
				continue
			}
			if got := describeServer(p, err); got != want {
				t.Fatalf("prefix %d of %d: %s, want need more or %s", i, len(b), got, want)
			}
		}
	})
}
