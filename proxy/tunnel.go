package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/customs-dev/customs/flow"
)

// tunnel relays a CONNECT it does not open, counting bytes for the metadata-only flow. The
// client already has its 200 and upstream is dialled; first is what customs read of the client
// while deciding, sent on first.
// Policies see the tunnel's metadata (vendor, marks such as ip-target or no-sni) before any byte
// goes upstream, and may refuse it.
func (s *Server) tunnel(r *http.Request, client, upstream net.Conn, info *connInfo, first []byte) {
	// A tunnel is not counted as in flight: customs cannot see whether a request is under way
	// inside it, and idle pooled tunnels would otherwise hold every shutdown for the whole drain.
	// Shutdown closes tunnels after the requests it can see have finished.
	defer client.Close()
	defer upstream.Close()
	f := s.newFlow(r, info, flow.Tunnelled)
	s.opts.Pipeline.Classify(f)
	defer func() {
		f.End = time.Now()
		if f.Verdict.Action == "" {
			f.Verdict.Action = flow.Allow // let through: a decision like any other
		}
		_ = s.record(f)
	}()
	if v := s.opts.Pipeline.Decide(r.Context(), f); v.Action == flow.Block {
		f.Verdict, f.Status = v, http.StatusForbidden
		if len(first) > 0 && first[0] == 22 {
			_, _ = client.Write([]byte{21, 3, 3, 0, 2, 2, 49}) // fatal access_denied
		}
		return
	} else if v.Action == flow.Alert {
		f.Verdict = v
	}

	if len(first) > 0 {
		if _, err := upstream.Write(first); err != nil {
			f.Error, f.ErrorKind = "upstream: "+err.Error(), "upstream"
			return
		}
	}
	f.Status = http.StatusOK
	var up, down atomic.Int64
	up.Add(int64(len(first)))
	var wg sync.WaitGroup
	wg.Add(2)
	go relay(&wg, upstream, client, &up)
	go relay(&wg, client, upstream, &down)
	wg.Wait()
	f.RequestBytes, f.ResponseBytes = up.Load(), down.Load()
}

// relay copies src to dst, then half-closes dst so the other direction can finish its last bytes
// (a TLS close_notify, a final response) instead of being cut.
func relay(wg *sync.WaitGroup, dst, src net.Conn, n *atomic.Int64) {
	defer wg.Done()
	c, err := io.Copy(dst, src)
	n.Add(c)
	if hc, ok := dst.(interface{ CloseWrite() error }); ok && err == nil {
		_ = hc.CloseWrite()
		return
	}
	// An error on one side ends both: closing unblocks the other copy.
	_ = dst.Close()
	_ = src.Close()
}

func connectResponseLine(r *http.Request) string {
	major, minor := r.ProtoMajor, r.ProtoMinor
	if major == 0 {
		major, minor = 1, 1
	}
	return fmt.Sprintf("HTTP/%d.%d 200 Connection established\r\n\r\n", major, minor)
}

// classifyUpstreamError turns a dial, TLS or round-trip error into a kind for metrics and a
// message that tells the client what went wrong without exposing customs' internals.
func classifyUpstreamError(host string, err error) (kind, msg string) {
	var (
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalid     x509.CertificateInvalidError
		verify      *tls.CertificateVerificationError
		netErr      net.Error
		opErr       *net.OpError
	)
	switch {
	case errors.As(err, &verify), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalid):
		return "tls", fmt.Sprintf("customs: upstream %s presented a certificate customs does not trust: %v", host, rootCause(err))
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout", fmt.Sprintf("customs: upstream %s timed out: %v", host, rootCause(err))
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "dial", fmt.Sprintf("customs: cannot connect to upstream %s: %v", host, rootCause(err))
	default:
		return "upstream", fmt.Sprintf("customs: upstream %s failed: %v", host, rootCause(err))
	}
}

// rootCause drops the url.Error wrapping ("Post \"https://...\": ") that repeats the URL, which
// may carry query-string secrets.
func rootCause(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		if _, isURL := err.(*url.Error); !isURL {
			return err
		}
		err = u.Unwrap()
	}
}
