package proxy_test

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
)

// TestUpstreamHTTP2: to a vendor that offers HTTP/2, customs speaks it: the vendor sees
// HTTP/2.0, concurrent requests from many client connections share a few upstream connections
// as streams, and a server-sent event stream still arrives event by event.
func TestUpstreamHTTP2(t *testing.T) {
	w := newWorld(t, worldOptions{upstreamH2: true})
	// One request first: until a connection has negotiated HTTP/2, Go's transport dials one
	// per waiting request; once it has, they become its streams.
	resp, err := w.client(true).Get("https://api.openai.com/status/204")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	w.nextFlow()
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := w.client(true) // a client connection of its own each
			body := fmt.Sprintf("stream %d", i)
			resp, err := c.Post("https://api.openai.com/echo", "text/plain", strings.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != body {
				errs <- fmt.Errorf("echo %q, want %q", b, body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for range n {
		w.nextFlow()
	}
	if got := w.seen.countOf("POST /echo HTTP/2.0"); got != n {
		t.Errorf("the vendor saw %d of %d requests over HTTP/2", got, n)
	}
	// Pooled: the streams share the connection (a second may open while the first is busy).
	if conns := w.upstreamConns.Load(); conns > 3 {
		t.Errorf("%d upstream connections for %d requests: HTTP/2 streams are not shared", conns, n)
	}
	assertStreams(t, w, w.client(true), "https://api.openai.com/sse", "[DONE]")
	w.nextFlow()
}
