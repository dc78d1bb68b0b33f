package natstest

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
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

// StartOperator runs one JetStream server in operator mode — accounts and users as JWTs signed
// by an operator key, the way NATS deployments hand out credentials — and returns its URL and a
// user's credentials file (the JWT and its seed, as nsc writes them).
func StartOperator(t testing.TB) (url, credsFile string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	okp, err := nkeys.CreateOperator()
	must(err)
	opub, _ := okp.PublicKey()
	newAccount := func(name string, js bool) (nkeys.KeyPair, string, string) {
		kp, err := nkeys.CreateAccount()
		must(err)
		pub, _ := kp.PublicKey()
		ac := jwt.NewAccountClaims(pub)
		ac.Name = name
		if js {
			ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
		}
		tok, err := ac.Encode(okp)
		must(err)
		return kp, pub, tok
	}
	_, sysPub, sysJWT := newAccount("SYS", false)
	akp, apub, aJWT := newAccount("CUSTOMS", true)
	oc := jwt.NewOperatorClaims(opub)
	oc.Name = "natstest"
	oc.SystemAccount = sysPub
	ukp, err := nkeys.CreateUser()
	must(err)
	upub, _ := ukp.PublicKey()
	uc := jwt.NewUserClaims(upub)
	uc.Name = "customs"
	uJWT, err := uc.Encode(akp)
	must(err)
	useed, _ := ukp.Seed()
	creds, err := jwt.FormatUserConfig(uJWT, useed)
	must(err)
	credsFile = filepath.Join(t.TempDir(), "customs.creds")
	must(os.WriteFile(credsFile, creds, 0o600))

	resolver := &server.MemAccResolver{}
	must(resolver.Store(sysPub, sysJWT))
	must(resolver.Store(apub, aJWT))
	ports, err := freePorts(1)
	must(err)
	o := &server.Options{Host: host, Port: ports[0], JetStream: true, StoreDir: t.TempDir(),
		JetStreamMaxMemory: maxMemory, JetStreamMaxStore: maxStore, NoLog: true, NoSigs: true,
		TrustedOperators: []*jwt.OperatorClaims{oc}, SystemAccount: sysPub, AccountResolver: resolver}
	srv, err := server.NewServer(o)
	must(err)
	srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(readyTimeout) {
		t.Fatalf("natstest: operator-mode server not ready on port %d", ports[0])
	}
	return "nats://" + net.JoinHostPort(host, strconv.Itoa(ports[0])), credsFile
}
