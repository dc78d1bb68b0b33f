package proxy_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpcgzip "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/status"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/internal/grpctest"
	"github.com/customs-dev/customs/proxy"
	"github.com/customs-dev/customs/proxy/ca"
	"github.com/customs-dev/customs/rules"
)

// gRPC through customs with the real gRPC library on both ends (internal/grpctest): a vendor
// server that speaks gRPC over TLS, HTTP/2 only, as Google's front ends do, and a client that
// reaches it through a CONNECT to customs, trusting customs' CA. The messages are the protobuf
// bytes Vertex AI's SDKs send, built with protowire.

const vertexHost = "us-central1-aiplatform.googleapis.com"

func grpcWorld(t *testing.T, mutate func(*proxy.Options)) (*world, *grpctest.Vendor) {
	return grpcWorldWith(t, "", mutate)
}

// grpcWorldWith is grpcWorld with inspection.incomplete set.
func grpcWorldWith(t *testing.T, incomplete flow.Action, mutate func(*proxy.Options)) (*world, *grpctest.Vendor) {
	t.Helper()
	vca, err := ca.Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	leaves := ca.NewLeaves(vca, ca.LeafOptions{})
	vendor := grpctest.StartVendor(t, func(h *tls.ClientHelloInfo) (*tls.Certificate, error) { return leaves.Get(h.ServerName) })
	set, err := rules.Parse("grpc.yaml", []byte(`policies:
  - id: no-secrets
    when: has_class("secret")
    action: block
    message: no credentials to AI vendors
  - id: redact-pii
    when: has_class("pii")
    action: redact
`))
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, worldOptions{detect: true, rules: set, incomplete: incomplete, resolve: []string{vertexHost + "=" + vendor.Addr, "*=UP"},
		mutate: func(o *proxy.Options) {
			o.HTTP2 = true
			o.RootCAs.AddCert(vca.Cert)
			if mutate != nil {
				mutate(o)
			}
		}})
	return w, vendor
}

const (
	grpcSecret = "aws_access_key_id = AKIAQ3EGRZ7WYH2LXK5N"
	grpcEmail  = "jane.doe@corp-example.org"
	generate   = grpctest.Generate
)

func TestGRPCUnary(t *testing.T) {
	w, vendor := grpcWorld(t, nil)
	cc := w.grpcDial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("allowed", func(t *testing.T) {
		in, out := grpctest.VertexRequest("Summarise the quarterly plan."), []byte(nil)
		if err := cc.Invoke(ctx, generate, &in, &out); err != nil {
			t.Fatal(err)
		}
		if string(out) != string(in) {
			t.Fatalf("echo %q", out)
		}
		f := w.nextFlow()
		if f.API != "vertex.gemini" || f.Verdict.Action != flow.Allow || f.Messages != 1 || !strings.HasSuffix(f.Model, "gemini-2.0-flash") {
			t.Fatalf("api %q verdict %+v messages %d model %q", f.API, f.Verdict, f.Messages, f.Model)
		}
		if !hasSegment(f, "contents[0].parts[0].text", "Summarise the quarterly plan.") {
			t.Fatalf("segments %v", segmentPaths(f))
		}
	})
	t.Run("blocked", func(t *testing.T) {
		before := len(vendor.Received(generate))
		in, out := grpctest.VertexRequest("deploy with "+grpcSecret+" please"), []byte(nil)
		err := cc.Invoke(ctx, generate, &in, &out)
		if status.Code(err) != codes.PermissionDenied || !strings.Contains(status.Convert(err).Message(), "no credentials to AI vendors") ||
			strings.Contains(err.Error(), grpcSecret) {
			t.Fatalf("error %v", err)
		}
		if len(vendor.Received(generate)) != before {
			t.Fatal("the blocked call reached the vendor")
		}
		f := w.nextFlow()
		if f.Verdict.Action != flow.Block || f.Verdict.Policy != "no-secrets" || !hasFinding(f, "secret.aws-access-key-id", "contents[0].parts[0].text") {
			t.Fatalf("verdict %+v findings %v", f.Verdict, f.Findings)
		}
	})
	t.Run("blocked inside a gzip-compressed message", func(t *testing.T) {
		before := len(vendor.Received(generate))
		in, out := grpctest.VertexRequest("deploy with "+grpcSecret+" please"), []byte(nil)
		err := cc.Invoke(ctx, generate, &in, &out, grpc.UseCompressor(grpcgzip.Name))
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("error %v", err)
		}
		if len(vendor.Received(generate)) != before {
			t.Fatal("the blocked call reached the vendor")
		}
		f := w.nextFlow()
		if f.Verdict.Action != flow.Block || !hasFinding(f, "secret.aws-access-key-id", "contents[0].parts[0].text") || f.RequestHeader.Get("Grpc-Encoding") != "gzip" {
			t.Fatalf("verdict %+v findings %v", f.Verdict, f.Findings)
		}
	})
	t.Run("redacted inside a gzip-compressed message", func(t *testing.T) {
		in, out := grpctest.VertexRequest("mail "+grpcEmail+" the plan"), []byte(nil)
		if err := cc.Invoke(ctx, generate, &in, &out, grpc.UseCompressor(grpcgzip.Name)); err != nil {
			t.Fatal(err)
		}
		got := vendor.Received(generate)
		if txt := grpctest.Texts(got[len(got)-1], 2, 2, 1); len(txt) != 1 || txt[0] != "mail [REDACTED:pii.email#1] the plan" {
			t.Fatalf("the vendor read %q", txt)
		}
		if f := w.nextFlow(); f.Verdict.Action != flow.Redact {
			t.Fatalf("verdict %+v", f.Verdict)
		}
	})
	t.Run("redacted", func(t *testing.T) {
		in, out := grpctest.VertexRequest("mail "+grpcEmail+" the plan"), []byte(nil)
		if err := cc.Invoke(ctx, generate, &in, &out); err != nil {
			t.Fatal(err)
		}
		got := vendor.Received(generate)
		sent := got[len(got)-1]
		if txt := grpctest.Texts(sent, 2, 2, 1); len(txt) != 1 || txt[0] != "mail [REDACTED:pii.email#1] the plan" {
			t.Fatalf("the vendor read %q", txt)
		}
		if m := grpctest.Texts(sent, 5); len(m) != 1 || !strings.HasSuffix(m[0], "gemini-2.0-flash") {
			t.Fatalf("model %q after redaction", m)
		}
		f := w.nextFlow()
		if f.Verdict.Action != flow.Redact {
			t.Fatalf("verdict %+v", f.Verdict)
		}
	})
	t.Run("vendor status passes", func(t *testing.T) {
		in, out := grpctest.VertexRequest("hello"), []byte(nil)
		err := cc.Invoke(ctx, "/google.cloud.aiplatform.v1.PredictionService/NotFound", &in, &out)
		if status.Code(err) != codes.NotFound || status.Convert(err).Message() != "no such model" {
			t.Fatalf("error %v", err)
		}
		w.nextFlow()
	})
	t.Run("server stream", func(t *testing.T) {
		desc := &grpc.StreamDesc{ServerStreams: true}
		st, err := cc.NewStream(ctx, desc, "/google.cloud.aiplatform.v1.PredictionService/StreamGenerateContent")
		if err != nil {
			t.Fatal(err)
		}
		in := grpctest.VertexRequest("stream me a poem")
		if err := st.SendMsg(&in); err != nil {
			t.Fatal(err)
		}
		if err := st.CloseSend(); err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			var m []byte
			if err := st.RecvMsg(&m); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
			got = append(got, grpctest.Texts(m, 2, 1, 2, 1)...)
		}
		if strings.Join(got, ",") != "chunk 0,chunk 1,chunk 2" {
			t.Fatalf("answers %q", got)
		}
		f := w.nextFlow()
		if f.API != "vertex.gemini" || f.Verdict.Action != flow.Allow || f.Messages != 1 {
			t.Fatalf("api %q verdict %+v messages %d", f.API, f.Verdict, f.Messages)
		}
	})
}

// A bidirectional stream whose client waits for each answer before sending the next message:
// customs must inspect and pass each message on its own (reading the whole body first would
// hang the call), and a message with a secret ends the call with PERMISSION_DENIED after the
// vendor has answered the earlier ones.
func TestGRPCBidiStream(t *testing.T) {
	w, vendor := grpcWorld(t, nil)
	st := w.converse(t)
	send := func(text string) []byte {
		msg := grpctest.Field(3, []byte(text))
		if err := st.SendMsg(&msg); err != nil {
			t.Fatal(err)
		}
		return msg
	}
	for i, text := range []string{"first turn", "second turn, mail " + grpcEmail} {
		send(text)
		var echo []byte
		if err := st.RecvMsg(&echo); err != nil {
			t.Fatalf("turn %d: %v", i, err)
		}
		want := strings.ReplaceAll(text, grpcEmail, "[REDACTED:pii.email#1]")
		if txt := grpctest.Texts(echo, 3); len(txt) != 1 || txt[0] != want {
			t.Fatalf("turn %d: the vendor read %q", i, txt)
		}
	}
	send("third turn: " + grpcSecret)
	var echo []byte
	err := st.RecvMsg(&echo)
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(status.Convert(err).Message(), "no credentials to AI vendors") {
		t.Fatalf("third turn: %v", err)
	}
	if got := vendor.Received(converseMethod); len(got) != 2 {
		t.Fatalf("the vendor received %d messages, want 2", len(got))
	}
	f := w.nextFlow()
	if f.Verdict.Action != flow.Block || f.Messages != 3 {
		t.Fatalf("verdict %+v messages %d", f.Verdict, f.Messages)
	}
	if !hasFinding(f, "secret.aws-access-key-id", "grpc:/test.Chat/Converse[2]/3") || !hasFinding(f, "pii.email", "grpc:/test.Chat/Converse[1]/3") {
		t.Fatalf("findings %v", f.Findings)
	}
}

func hasSegment(f *flow.Flow, path, text string) bool {
	for _, s := range f.Segments {
		if s.Path == path && s.Text == text {
			return true
		}
	}
	return false
}

func segmentPaths(f *flow.Flow) []string {
	var out []string
	for _, s := range f.Segments {
		out = append(out, s.Path)
	}
	return out
}

func hasFinding(f *flow.Flow, detector, path string) bool {
	for _, x := range f.Findings {
		if x.Detector == detector && x.Path == path {
			return true
		}
	}
	return false
}

// Bad input on a gRPC call is closed with a status and recorded with its reason; the next call
// on the same proxy is served as if nothing happened.
func TestGRPCBadInput(t *testing.T) {
	w, vendor := grpcWorld(t, func(o *proxy.Options) { o.InspectLimit = 4 << 10 })
	c := w.h2client()
	envelope := func(flags byte, size int, msg []byte) []byte {
		return append([]byte{flags, byte(size >> 24), byte(size >> 16), byte(size >> 8), byte(size)}, msg...)
	}
	for _, tc := range []struct {
		name     string
		body     []byte
		encoding string
		reason   string // in the flow's incomplete reasons
	}{
		{"length prefix lies", envelope(0, 1000, []byte("\x0a\x05short")), "", "extraction-limit:unreadable"},
		{"garbage protobuf", envelope(0, 12, []byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x0f")), "", "extraction-limit:unreadable"},
		{"unknown compression", envelope(1, 6, []byte("\x0a\x04abcd")), "br", "extraction-limit:unreadable"},
		{"message over the limit", envelope(0, 8<<10, make([]byte, 8<<10)), "", "grpc-message-oversize"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(vendor.Received(generate))
			req, err := http.NewRequest(http.MethodPost, "https://"+vertexHost+generate, strings.NewReader(string(tc.body)))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/grpc")
			req.Header.Set("Te", "trailers")
			if tc.encoding != "" {
				req.Header.Set("Grpc-Encoding", tc.encoding)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Grpc-Status") != "7" || resp.Header.Get("Content-Type") != "application/grpc" {
				t.Fatalf("status %d headers %v", resp.StatusCode, resp.Header)
			}
			f := w.nextFlow()
			if f.Verdict.Action != flow.Block || !strings.Contains(strings.Join(f.Incomplete, " "), tc.reason) {
				t.Fatalf("verdict %+v incomplete %v notes %v", f.Verdict, f.Incomplete, f.Notes)
			}
			if len(vendor.Received(generate)) != before {
				t.Fatal("the call reached the vendor")
			}
		})
	}
	t.Run("broken HTTP/2 preface", func(t *testing.T) {
		raw, br := connectRaw(t, w, vertexHost+":443")
		pool := x509.NewCertPool()
		pool.AddCert(w.customsCA.Cert)
		conn := tls.Client(bufConn{raw, br}, &tls.Config{ServerName: vertexHost, RootCAs: pool, NextProtos: []string{"h2"}})
		if err := conn.Handshake(); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: "+vertexHost+"\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if n, err := conn.Read(make([]byte, 1)); err == nil {
			t.Fatalf("read %d bytes from a connection that should be closed", n)
		}
		f := w.nextFlow()
		if f.ErrorKind != "client" || !strings.Contains(f.Error, "not the HTTP/2 preface") {
			t.Fatalf("error %q (%s)", f.Error, f.ErrorKind)
		}
	})
	t.Run("the next call is served", func(t *testing.T) {
		cc := w.grpcDial(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		in, out := grpctest.VertexRequest("all good"), []byte(nil)
		if err := cc.Invoke(ctx, generate, &in, &out); err != nil || string(out) != string(in) {
			t.Fatalf("echo %q, %v", out, err)
		}
		w.nextFlow()
	})
}

func (w *world) grpcDial(t *testing.T) *grpc.ClientConn {
	pool := x509.NewCertPool()
	pool.AddCert(w.customsCA.Cert)
	return grpctest.Dial(t, w.proxyURL.Host, vertexHost, pool)
}

// Ways to have a call the vendor reads as gRPC read here as something else (found in review):
// a content type gRPC servers accept that customs did not, and two Content-Type or
// grpc-encoding lines of which servers read another than the first. Each must end inspected or
// refused, never forwarded unread.
func TestGRPCContentTypeTricks(t *testing.T) {
	w, vendor := grpcWorld(t, nil)
	c := w.h2client()
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, _ = zw.Write(grpctest.VertexRequest("deploy with " + grpcSecret + " please"))
	_ = zw.Close()
	msg := zb.Bytes()
	body := append([]byte{1, byte(len(msg) >> 24), byte(len(msg) >> 16), byte(len(msg) >> 8), byte(len(msg))}, msg...)
	for _, tc := range []struct {
		name         string
		contentType  []string
		encoding     []string
		status, grpc string
	}{
		{"application/grpc+ is a call", []string{"application/grpc+"}, []string{"gzip"}, "200", "7"},
		{"application/grpc; is a call", []string{"application/grpc;"}, []string{"gzip"}, "200", "7"},
		{"two content types", []string{"application/octet-stream", "application/grpc"}, []string{"gzip"}, "400", ""},
		{"two encodings", []string{"application/grpc"}, []string{"identity", "gzip"}, "200", "3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, "https://"+vertexHost+generate, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header["Content-Type"] = tc.contentType
			req.Header["Grpc-Encoding"] = tc.encoding
			req.Header.Set("Te", "trailers")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if fmt.Sprint(resp.StatusCode) != tc.status || resp.Header.Get("Grpc-Status") != tc.grpc {
				t.Errorf("status %d grpc-status %q, want %s and %q", resp.StatusCode, resp.Header.Get("Grpc-Status"), tc.status, tc.grpc)
			}
			if f := w.nextFlow(); f.Verdict.Action != flow.Block && f.Status != http.StatusBadRequest {
				t.Errorf("verdict %+v status %d", f.Verdict, f.Status)
			}
			if got := vendor.Received(generate); len(got) > 0 {
				t.Fatalf("the vendor received %d message(s)", len(got))
			}
		})
	}
}

// A message over the inspection limit, let through unread by the operator's choice, is that
// message only: the next is inspected as any other (found in review: the rest of the call went
// unread). With body.oversize: block, the oversize message itself is refused.
func TestGRPCLaterOversizeMessage(t *testing.T) {
	for _, tc := range []struct {
		name          string
		blockOversize bool
		wantMessages  int // the vendor's
	}{
		{"let through unread, the next inspected", false, 2},
		{"refused with body.oversize: block", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, vendor := grpcWorldWith(t, flow.Alert, func(o *proxy.Options) { o.InspectLimit = 4 << 10; o.BlockOversize = tc.blockOversize })
			st := w.converse(t)
			var last error
			for _, text := range []string{"hello", strings.Repeat("x", 8<<10), "third turn: " + grpcSecret} {
				msg := grpctest.Field(3, []byte(text))
				if err := st.SendMsg(&msg); err != nil {
					break
				}
				var echo []byte
				if last = st.RecvMsg(&echo); last != nil {
					break
				}
			}
			if status.Code(last) != codes.PermissionDenied {
				t.Fatalf("the call ended with %v, want PERMISSION_DENIED", last)
			}
			got := vendor.Received(converseMethod)
			for _, m := range got {
				if bytes.Contains(m, []byte("AKIA")) {
					t.Fatal("the vendor received the secret after an oversize message")
				}
			}
			if len(got) != tc.wantMessages {
				t.Errorf("the vendor received %d messages, want %d", len(got), tc.wantMessages)
			}
			if f := w.nextFlow(); f.Verdict.Action != flow.Block || !slices.Contains(f.Incomplete, "grpc-message-oversize") {
				t.Errorf("verdict %+v incomplete %v", f.Verdict, f.Incomplete)
			}
		})
	}
}

// converseMethod is a bidirectional method of no known schema.
const converseMethod = "/test.Chat/Converse"

// converse opens a bidirectional stream to converseMethod through customs; it ends with the test.
func (w *world) converse(t *testing.T) grpc.ClientStream {
	t.Helper()
	cc := w.grpcDial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	st, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, converseMethod)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
