package proxy_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/proxy"
)

// HTTP/2 clients (curl, Go, gRPC-style SDKs) are intercepted through goproxy's h2 path, which
// calls the same handler: every behaviour below must hold there as it does over HTTP/1.1.
func TestHTTP2Clients(t *testing.T) {
	boom := stageFunc(func(_ context.Context, r *inspect.Request) error {
		if bytes.Equal(r.Body, []byte("poison")) {
			panic("detector bug")
		}
		return nil
	})
	w := newWorld(t, worldOptions{stages: []inspect.Stage{boom}, mutate: func(o *proxy.Options) {
		o.HTTP2 = true
		o.InspectLimit = 1 << 10
	}})
	c := w.h2client()

	t.Run("echo", func(t *testing.T) {
		resp, err := c.Post("https://api.openai.com/echo", "text/plain", strings.NewReader("over h2"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || string(b) != "over h2" {
			t.Fatalf("proto %s body %q", resp.Proto, b)
		}
		f := w.nextFlow()
		if f.Mode != flow.Intercepted || f.Vendor.ID != "openai" || f.RequestBytes != 7 || f.ResponseBytes != 7 || string(f.RequestBody) != "over h2" {
			t.Errorf("flow mode %s vendor %q out %d in %d body %q", f.Mode, f.Vendor.ID, f.RequestBytes, f.ResponseBytes, f.RequestBody)
		}
	})
	t.Run("hop-by-hop response headers stripped", func(t *testing.T) {
		resp, err := c.Get("https://api.openai.com/hop")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "hop ok" || resp.Header.Get("X-End-To-End") != "kept" || resp.Header.Get("X-Hop") != "" || resp.Header.Get("Keep-Alive") != "" {
			t.Fatalf("body %q headers %v", b, resp.Header)
		}
		w.nextFlow()
	})
	t.Run("sse streams", func(t *testing.T) {
		assertStreams(t, w, c, "https://api.openai.com/sse", "[DONE]")
		w.nextFlow()
	})
	t.Run("oversize streams whole", func(t *testing.T) {
		body := bytes.Repeat([]byte("y"), 100<<10)
		resp, err := c.Post("https://api.openai.com/count", "text/plain", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != strconv.Itoa(len(body)) {
			t.Fatalf("upstream got %s bytes", b)
		}
		if f := w.nextFlow(); !f.HasMark(flow.MarkOversize) || f.RequestBytes != int64(len(body)) {
			t.Errorf("marks %v sent %d", f.Marks, f.RequestBytes)
		}
	})
	t.Run("204", func(t *testing.T) {
		resp, err := c.Get("https://api.openai.com/status/204")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 204 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		w.nextFlow()
	})
	t.Run("panic fails one stream only", func(t *testing.T) {
		resp, err := c.Post("https://api.openai.com/echo", "text/plain", strings.NewReader("poison"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("status %d", resp.StatusCode)
		}
		w.nextFlow()
		resp, err = c.Post("https://api.openai.com/echo", "text/plain", strings.NewReader("fine"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
			t.Fatalf("after the panic: %s %d", resp.Proto, resp.StatusCode)
		}
		w.nextFlow()
	})
}
