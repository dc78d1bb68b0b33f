package natstest

import (
	"crypto/tls"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Secure says how a server started by StartSecure lets clients in.
type Secure struct {
	// User and Password, when set, is the one user/password account.
	User, Password string
	// NKey, when set, is the public key (U…) of the one NKey user.
	NKey string
	// TLS, when set, is the server's TLS: clients must verify its certificate.
	TLS *tls.Config
}

// StartSecure runs one JetStream server on 127.0.0.1 that only lets in the clients s says, and
// returns its URL (tls:// when s.TLS is set). Readiness is checked inside the process: the
// test's own client may not get in. t.Cleanup shuts it down.
func StartSecure(t testing.TB, s Secure) string {
	t.Helper()
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	o := &server.Options{Host: host, Port: ports[0], JetStream: true, StoreDir: t.TempDir(),
		JetStreamMaxMemory: maxMemory, JetStreamMaxStore: maxStore, NoLog: true, NoSigs: true}
	if s.User != "" {
		o.Users = []*server.User{{Username: s.User, Password: s.Password}}
	}
	if s.NKey != "" {
		o.Nkeys = []*server.NkeyUser{{Nkey: s.NKey}}
	}
	scheme := "nats"
	if s.TLS != nil {
		o.TLSConfig, o.TLS, o.TLSVerify = s.TLS, true, false
		o.TLSTimeout = 5
		scheme = "tls"
	}
	srv, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(readyTimeout) {
		t.Fatalf("natstest: secure server not ready on port %d", ports[0])
	}
	deadline := time.Now().Add(10 * time.Second)
	for !srv.JetStreamEnabled() {
		if time.Now().After(deadline) {
			t.Fatal("natstest: JetStream did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(ports[0]))
}
