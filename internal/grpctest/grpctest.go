// Package grpctest gives tests a real gRPC vendor and client (google.golang.org/grpc) that pass
// messages as raw protobuf bytes, so that a test builds exactly the bytes a vendor's SDK sends
// (with protowire) and reads exactly what the vendor received, without generated code.
package grpctest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

// Generate is Vertex AI's unary GenerateContent method.
const Generate = "/google.cloud.aiplatform.v1.PredictionService/GenerateContent"

// rawCodec carries messages as the bytes they are on the wire. Its name is "proto", so calls say
// application/grpc+proto as the SDKs' do.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }
func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("grpctest codec: %T", v)
	}
	return *b, nil
}
func (rawCodec) Unmarshal(data []byte, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("grpctest codec: %T", v)
	}
	*b = append((*b)[:0], data...)
	return nil
}

// Vendor is a fake gRPC vendor over TLS (HTTP/2 only, as Google's front ends are). It answers
// any method: unary and streaming methods echo each message; a method ending in
// /StreamGenerateContent answers one message with three Candidate answers ("chunk 0".."chunk 2");
// one ending in /NotFound fails with NOT_FOUND "no such model".
type Vendor struct {
	Addr string // 127.0.0.1:port

	mu  sync.Mutex
	got map[string][][]byte // method -> messages received
}

// StartVendor serves on a loopback port until the test ends; cert gives the TLS leaf for a
// ClientHello (a leaf for the vendor's host name, from a CA the proxy under test trusts).
func StartVendor(t testing.TB, cert func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *Vendor {
	t.Helper()
	v := &Vendor{got: map[string][][]byte{}}
	creds := credentials.NewTLS(&tls.Config{GetCertificate: cert})
	srv := grpc.NewServer(grpc.Creds(creds), grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(v.handle))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	v.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return v
}

func (v *Vendor) handle(_ any, stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	if strings.HasSuffix(method, "/NotFound") {
		return status.Error(codes.NotFound, "no such model")
	}
	for {
		var msg []byte
		if err := stream.RecvMsg(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		v.mu.Lock()
		v.got[method] = append(v.got[method], msg)
		v.mu.Unlock()
		if strings.HasSuffix(method, "/StreamGenerateContent") {
			for i := range 3 {
				out := Candidate(fmt.Sprintf("chunk %d", i))
				if err := stream.SendMsg(&out); err != nil {
					return err
				}
			}
			return nil
		}
		if err := stream.SendMsg(&msg); err != nil {
			return err
		}
	}
}

// Received returns the messages the vendor received on method, in order.
func (v *Vendor) Received(method string) [][]byte {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([][]byte(nil), v.got[method]...)
}

// VertexRequest is a google.cloud.aiplatform.v1.GenerateContentRequest: model (5) and one user
// content (contents 2: role 1, parts 2: text 1).
func VertexRequest(text string) []byte {
	var part, content, req []byte
	part = protowire.AppendTag(part, 1, protowire.BytesType)
	part = protowire.AppendString(part, text)
	content = protowire.AppendTag(content, 1, protowire.BytesType)
	content = protowire.AppendString(content, "user")
	content = protowire.AppendTag(content, 2, protowire.BytesType)
	content = protowire.AppendBytes(content, part)
	req = protowire.AppendTag(req, 5, protowire.BytesType)
	req = protowire.AppendString(req, "projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash")
	req = protowire.AppendTag(req, 2, protowire.BytesType)
	req = protowire.AppendBytes(req, content)
	return req
}

// Candidate is a GenerateContentResponse: candidates (2) { content (1) { parts (2) { text (1) } } }.
func Candidate(text string) []byte {
	var part, content, cand, resp []byte
	part = protowire.AppendTag(part, 1, protowire.BytesType)
	part = protowire.AppendString(part, text)
	content = protowire.AppendTag(content, 2, protowire.BytesType)
	content = protowire.AppendBytes(content, part)
	cand = protowire.AppendTag(cand, 1, protowire.BytesType)
	cand = protowire.AppendBytes(cand, content)
	resp = protowire.AppendTag(resp, 2, protowire.BytesType)
	resp = protowire.AppendBytes(resp, cand)
	return resp
}

// Field returns one length-delimited field: tag and value.
func Field(num int, value []byte) []byte {
	b := protowire.AppendTag(nil, protowire.Number(num), protowire.BytesType)
	return protowire.AppendBytes(b, value)
}

// Texts returns every string at the field path nums (repeated fields: every element), or
// "!malformed" where msg does not parse.
func Texts(msg []byte, nums ...int) []string {
	var out []string
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return append(out, "!malformed")
		}
		msg = msg[n:]
		m := protowire.ConsumeFieldValue(num, typ, msg)
		if m < 0 {
			return append(out, "!malformed")
		}
		if typ == protowire.BytesType && int(num) == nums[0] {
			val, _ := protowire.ConsumeBytes(msg)
			if len(nums) == 1 {
				out = append(out, string(val))
			} else {
				out = append(out, Texts(val, nums[1:]...)...)
			}
		}
		msg = msg[m:]
	}
	return out
}

// Dial opens a client connection to host:443 through the HTTP proxy at proxyAddr (a CONNECT),
// trusting roots only, as an SDK configured for a proxy does.
func Dial(t testing.TB, proxyAddr, host string, roots *x509.CertPool) *grpc.ClientConn {
	t.Helper()
	dial := func(ctx context.Context, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", proxyAddr)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", addr, addr)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			c.Close()
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			c.Close()
			return nil, fmt.Errorf("CONNECT %s: %s", addr, resp.Status)
		}
		if br.Buffered() > 0 {
			c.Close()
			return nil, fmt.Errorf("CONNECT %s: bytes after the 200", addr)
		}
		return c, nil
	}
	cc, err := grpc.NewClient("passthrough:///"+host+":443",
		grpc.WithContextDialer(dial),
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: roots})),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}
