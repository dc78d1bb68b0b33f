package fleet

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/customs-dev/customs/internal/natstest"
)

// selfSigned is a certificate for 127.0.0.1 and its file, for the client's CA.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "natstest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, path
}

func writeSecret(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The ways into a locked-down fleet server: a password from a file, an NKey seed, JWT
// credentials, and TLS that is always verified.
func TestAuthAndTLS(t *testing.T) {
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := user.Seed()
	pub, _ := user.PublicKey()
	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()
	cert, caFile := selfSigned(t)
	_, wrongCA := selfSigned(t)

	pwURL := natstest.StartSecure(t, natstest.Secure{User: "customs", Password: "s3cret-pw"})
	nkURL := natstest.StartSecure(t, natstest.Secure{NKey: pub})
	tlsURL := natstest.StartSecure(t, natstest.Secure{TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}})
	jwtURL, credsFile := natstest.StartOperator(t)
	for _, tc := range []struct {
		name    string
		opts    Options
		wantErr string // "" connects and creates the stream
	}{
		{name: "password from a file", opts: Options{Servers: []string{pwURL}, User: "customs", PasswordFile: writeSecret(t, "pw", "s3cret-pw\n")}},
		{name: "wrong password", opts: Options{Servers: []string{pwURL}, User: "customs", PasswordFile: writeSecret(t, "pw", "guess")}, wantErr: "uthorization"},
		{name: "no credentials", opts: Options{Servers: []string{pwURL}}, wantErr: "uthorization"},
		{name: "missing password file", opts: Options{Servers: []string{pwURL}, User: "customs", PasswordFile: "/nonexistent/pw"}, wantErr: "password file"},
		{name: "NKey seed", opts: Options{Servers: []string{nkURL}, NKey: writeSecret(t, "user.nk", string(seed))}},
		{name: "another NKey", opts: Options{Servers: []string{nkURL}, NKey: writeSecret(t, "other.nk", string(otherSeed))}, wantErr: "uthorization"},
		{name: "creds and nkey together", opts: Options{Servers: []string{nkURL}, NKey: "a", Creds: "b"}, wantErr: "exclusive"},
		{name: "JWT credentials (operator mode)", opts: Options{Servers: []string{jwtURL}, Creds: credsFile}},
		{name: "operator mode without credentials", opts: Options{Servers: []string{jwtURL}}, wantErr: "uthorization"},
		{name: "TLS verified with the CA", opts: Options{Servers: []string{tlsURL}, CA: caFile}},
		{name: "TLS with another CA", opts: Options{Servers: []string{tlsURL}, CA: wrongCA}, wantErr: "certificate"},
		{name: "TLS against the system roots", opts: Options{Servers: []string{tlsURL}}, wantErr: "certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := Dial(tc.opts, false)
			if err == nil {
				defer conn.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err = conn.EnsureStream(ctx)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("want a connection and a stream: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v; want one saying %q", err, tc.wantErr)
			}
		})
	}
}
