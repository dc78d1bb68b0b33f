package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/customs-dev/customs/internal/grpctest"
	"github.com/customs-dev/customs/proxy/ca"
)

// A gRPC client (the real gRPC library, as Vertex AI's Python and Node clients use it) calls
// Vertex AI through the customs binary with its embedded defaults: an ordinary call goes
// through, one carrying a credential is refused with PERMISSION_DENIED before it reaches the
// vendor, and the record names the API, the model and the finding's path.
func TestServeGRPC(t *testing.T) {
	const host = "us-central1-aiplatform.googleapis.com"
	dir := t.TempDir()
	vca, err := ca.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	leaves := ca.NewLeaves(vca, ca.LeafOptions{})
	vendor := grpctest.StartVendor(t, func(h *tls.ClientHelloInfo) (*tls.Certificate, error) { return leaves.Get(h.ServerName) })
	data := filepath.Join(dir, "data")
	s := startCustoms(t, "--data", data, "--resolve", host+"="+vendor.Addr, "--upstream-ca", filepath.Join(dir, ca.CertFile))

	pem, err := os.ReadFile(filepath.Join(data, ca.CertFile))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	cc := grpctest.Dial(t, s.proxy, host, roots)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	in, out := grpctest.VertexRequest("Summarise the plan in three bullets."), []byte(nil)
	if err := cc.Invoke(ctx, grpctest.Generate, &in, &out); err != nil || string(out) != string(in) {
		t.Fatalf("allowed call: echo %q, %v", out, err)
	}
	const key = "AKIAZ7VQ3KXJ5N2WPLMR"
	in = grpctest.VertexRequest("deploy with " + key)
	err = cc.Invoke(ctx, grpctest.Generate, &in, &out)
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "block-secrets-to-ai") || strings.Contains(err.Error(), key) {
		t.Fatalf("call with a key: %v", err)
	}
	if got := vendor.Received(grpctest.Generate); len(got) != 1 {
		t.Fatalf("the vendor received %d calls, want 1", len(got))
	}

	var list string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		list, _, _ = runCustoms(t, data, "flows", "--json", "--vendor", "google-vertex-ai", "--data", data, "--admin", s.admin)
		if strings.Count(list, "\n") >= 2 {
			break
		}
	}
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 2 || strings.Contains(list, key) {
		t.Fatalf("flows:\n%s", list)
	}
	blocked := 0
	for _, l := range lines {
		var f map[string]any
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatal(err)
		}
		// What a responder reads of the call: the texts customs read, the value masked.
		show, errOut, code := runCustoms(t, data, "flows", "show", f["flow_id"].(string), "--body", "--data", data, "--admin", s.admin)
		t.Log(show)
		if code != 0 || strings.Contains(show, key) || !strings.Contains(show, "contents[0].parts[0].text") {
			t.Errorf("flows show --body (exit %d):\n%s%s", code, show, errOut)
		}
		if f["api"] != "vertex.gemini" || !strings.HasSuffix(f["model"].(string), "gemini-2.0-flash") {
			t.Errorf("flow %s", l)
		}
		if f["action"] == "block" {
			blocked++
			if !strings.Contains(l, "contents[0].parts[0].text") {
				t.Errorf("blocked flow without the finding's path: %s", l)
			}
		}
	}
	if blocked != 1 {
		t.Errorf("%d blocked flows, want 1:\n%s", blocked, list)
	}
}
