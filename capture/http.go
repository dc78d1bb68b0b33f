package capture

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/customs-dev/customs/flow"
)

// httpState is what a plaintext HTTP connection could not keep.
type httpState struct {
	truncated [2]bool // a direction was cut (HTTPLimit, the memory budget, a hole)
}

var httpMethods = [...]string{"GET ", "POST ", "PUT ", "PATCH ", "DELETE ", "HEAD ", "OPTIONS ", "TRACE ", "CONNECT "}

// isHTTPStart reports whether b begins like an HTTP/1.x request.
func isHTTPStart(b []byte) bool {
	for _, m := range httpMethods {
		if len(b) >= len(m) && string(b[:len(m)]) == m || len(b) < len(m) && string(b) == m[:len(b)] {
			return true
		}
	}
	return false
}

// httpFlows reads the requests a plaintext connection carried, each with its answer when the
// capture holds it, and reports each as a flow inspected like the proxy's.
func (r *Reader) httpFlows(c *tcpConn) {
	src := bytes.NewReader(c.head[toServer])
	reqs := bufio.NewReader(src)
	resps := bufio.NewReader(bytes.NewReader(c.head[toClient]))
	host := ""
	for {
		req, err := http.ReadRequest(reqs)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.badHTTP(c, host, int64(src.Len()+reqs.Buffered()), err)
			}
			return
		}
		host = req.Host
		body, berr := io.ReadAll(req.Body)
		f := r.httpFlow(c, req, body)
		if berr != nil {
			// The body was cut: by the capture's end, a hole, or the limit.
			f.Mark(flow.MarkOversize)
			f.MarkIncompleteReason("capture-cut")
			f.Notes = append(f.Notes, "capture: request body cut: "+berr.Error())
		}
		var respBody []byte
		var resp *http.Response
		if len(c.head[toClient]) > 0 {
			if resp, err = http.ReadResponse(resps, req); err == nil {
				respBody, err = io.ReadAll(resp.Body)
				if err != nil {
					f.Notes = append(f.Notes, "capture: answer body cut: "+err.Error())
				}
				f.Status = resp.StatusCode
				f.ResponseHeader = resp.Header
				f.ResponseBody = respBody
				f.ResponseBytes = int64(len(respBody))
			} else if !errors.Is(err, io.EOF) {
				f.Notes = append(f.Notes, "capture: answer: "+err.Error())
			}
		}
		r.stats.HTTP++
		r.report(f, true)
		if resp != nil && r.opts.Pipeline != nil {
			r.opts.Pipeline.InspectResponse(f, resp.Header, respBody)
		}
		if berr != nil {
			return
		}
	}
}

func (r *Reader) httpFlow(c *tcpConn, req *http.Request, body []byte) *flow.Flow {
	host := normalHost(req.Host)
	if host == "" {
		host = c.server.Addr().String()
	}
	f := r.newFlow(c.start, c.last, c.client, c.server, flow.Plain)
	f.Host = host
	f.Method = req.Method
	f.URL = "http://" + req.Host + req.RequestURI
	f.RequestHeader = req.Header
	f.RequestBody = body
	f.RequestBytes = int64(len(body))
	f.ContentEncoding = req.Header.Get("Content-Encoding")
	if c.gap {
		f.Mark(flow.MarkPartial)
	}
	if c.http.truncated[toServer] {
		f.Mark(flow.MarkOversize)
		f.MarkIncompleteReason("capture-limit")
	}
	return f
}

// badHTTP reports what of a plaintext connection the HTTP parser could not read, from the
// first unreadable request on (rest bytes, up to the capture's limit): a flow that policies
// decide on, never dropped — a malformed request after good ones is where a secret would
// hide. host is the last readable request's Host ("" when none was readable).
func (r *Reader) badHTTP(c *tcpConn, host string, rest int64, err error) {
	r.stats.fail("http-request")
	f := r.newFlow(c.start, c.last, c.client, c.server, flow.Plain)
	f.Host = normalHost(host)
	if f.Host == "" {
		f.Host = r.hostOf(c.server.Addr(), "")
	}
	f.RequestBytes = rest
	f.Notes = append(f.Notes, "capture: plaintext HTTP request could not be read: "+err.Error())
	f.MarkIncompleteReason("capture-unreadable")
	r.report(f, false)
}

// normalHost is a Host header's host, lower-cased, without its port.
func normalHost(h string) string {
	h = strings.ToLower(h)
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	return h
}
