package ca

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCreateLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	created, err := Create(dir)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	loaded, err := Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !bytes.Equal(created.Cert.Raw, loaded.Cert.Raw) {
		t.Error("loaded certificate differs from the created one")
	}
	if !bytes.Equal(created.CertPEM, loaded.CertPEM) {
		t.Errorf("CertPEM differs:\ncreated %q\nloaded  %q", created.CertPEM, loaded.CertPEM)
	}
	if !created.Key.Public().(*ecdsa.PublicKey).Equal(loaded.Key.Public()) {
		t.Error("loaded key differs from the created one")
	}
	if _, ok := loaded.Key.(*ecdsa.PrivateKey); !ok {
		t.Errorf("loaded key is %T, want *ecdsa.PrivateKey", loaded.Key)
	}
	onDisk, err := os.ReadFile(filepath.Join(dir, CertFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, created.CertPEM) {
		t.Error("ca.pem on disk differs from CertPEM")
	}
}

func TestCreateCertProperties(t *testing.T) {
	before := time.Now()
	ca, err := Create(t.TempDir())
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	c := ca.Cert
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("public key %T, want ECDSA P-256", c.PublicKey)
	}
	wantSKID, err := subjectKeyID(pub)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"IsCA", c.IsCA},
		{"BasicConstraintsValid", c.BasicConstraintsValid},
		{"MaxPathLen 0", c.MaxPathLen == 0},
		{"MaxPathLenZero", c.MaxPathLenZero},
		{"KeyUsage CertSign|CRLSign|DigitalSignature", c.KeyUsage == x509.KeyUsageCertSign|x509.KeyUsageCRLSign|x509.KeyUsageDigitalSignature},
		{"SKID is SHA-1 of the public key (20 bytes)", len(c.SubjectKeyId) == 20 && bytes.Equal(c.SubjectKeyId, wantSKID)},
		{"self-signed", c.CheckSignatureFrom(c) == nil},
		{"signed with ECDSA-SHA256", c.SignatureAlgorithm == x509.ECDSAWithSHA256},
		{"serial positive, at most 128 bits", c.SerialNumber.Sign() > 0 && c.SerialNumber.BitLen() <= 128},
		{"NotBefore about an hour back", within(c.NotBefore, before.Add(-time.Hour), time.Minute)},
		{"NotAfter about ten years on", within(c.NotAfter, before.Add(10*365*24*time.Hour), time.Minute)},
		{"O customs", len(c.Subject.Organization) == 1 && c.Subject.Organization[0] == "customs"},
		{"OU user@host", len(c.Subject.OrganizationalUnit) == 1 && strings.Contains(c.Subject.OrganizationalUnit[0], "@")},
		{"CN names customs", strings.HasPrefix(c.Subject.CommonName, "customs interception CA")},
	}
	for _, ck := range checks {
		if !ck.ok {
			t.Errorf("CA certificate: want %s", ck.name)
		}
	}
	if t.Failed() {
		t.Logf("certificate: subject %v, serial %v, validity %v..%v, key usage %v, SKID %x",
			c.Subject, c.SerialNumber, c.NotBefore, c.NotAfter, c.KeyUsage, c.SubjectKeyId)
	}

	// Two CAs must never share a serial or a key.
	other, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if other.Cert.SerialNumber.Cmp(c.SerialNumber) == 0 || bytes.Equal(other.Cert.SubjectKeyId, c.SubjectKeyId) {
		t.Error("two Create calls produced the same serial or key")
	}
}

func within(got, want time.Time, slack time.Duration) bool {
	d := got.Sub(want)
	return -slack <= d && d <= slack
}

func TestCreateFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	dir := filepath.Join(t.TempDir(), "nested", "data")
	if _, err := Create(dir); err != nil {
		t.Fatalf("Create: %v", err)
	}
	tests := []struct {
		path string
		want os.FileMode
		mask os.FileMode // bits the umask cannot add
	}{
		{filepath.Join(dir, KeyFile), 0o600, 0o777},
		{dir, 0o700, 0o777},
		{filepath.Join(dir, CertFile), 0o644, 0o700}, // umask may strip group/other read
	}
	for _, tt := range tests {
		fi, err := os.Stat(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm() & tt.mask; got != tt.want&tt.mask {
			t.Errorf("%s: mode %04o, want %04o", tt.path, fi.Mode().Perm(), tt.want)
		}
	}
}

func TestLoadKeyMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	dir := t.TempDir()
	if _, err := Create(dir); err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, KeyFile)
	tests := []struct {
		mode    os.FileMode
		wantErr bool
	}{
		{0o600, false},
		{0o400, false},
		{0o700, false},
		{0o640, true},
		{0o644, true},
		{0o604, true},
		{0o620, true},
		{0o602, true},
		{0o666, true},
	}
	for _, tt := range tests {
		t.Run(modeName(tt.mode), func(t *testing.T) {
			if err := os.Chmod(keyPath, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Load with key mode %04o: %v", tt.mode, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load accepted a key file with mode %04o", tt.mode)
			}
			want := "CA key " + keyPath + " has mode " + modeName(tt.mode) +
				": it must be readable by its owner only (chmod 600 " + keyPath + ")"
			if err.Error() != want {
				t.Errorf("error:\n got %q\nwant %q", err, want)
			}
		})
	}
}

func modeName(m os.FileMode) string {
	const digits = "01234567"
	return string([]byte{'0', digits[m>>6&7], digits[m>>3&7], digits[m&7]})
}

func TestCreateRefusesExisting(t *testing.T) {
	tests := []struct {
		name     string
		files    []string
		wantName string
	}{
		{"both", []string{CertFile, KeyFile}, CertFile},
		{"only cert", []string{CertFile}, CertFile},
		{"only key", []string{KeyFile}, KeyFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, f), []byte("old "+f), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Create(dir)
			if err == nil {
				t.Fatal("Create overwrote an existing CA")
			}
			for _, want := range []string{filepath.Join(dir, tt.wantName), "already exists", "remove", "Load"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			for _, f := range []string{CertFile, KeyFile} {
				data, err := os.ReadFile(filepath.Join(dir, f))
				existed := contains(tt.files, f)
				switch {
				case existed && string(data) != "old "+f:
					t.Errorf("%s was changed to %q", f, data)
				case !existed && err == nil:
					t.Errorf("%s was created next to an existing file", f)
				}
			}
		})
	}
}

// TestCreateConcurrent pins the O_EXCL write: when several processes race to
// create the CA, one wins and the files on disk are its certificate and key,
// never a cert from one and a key from another.
func TestCreateConcurrent(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	cas := make([]*CA, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cas[i], errs[i] = Create(dir)
		}()
	}
	wg.Wait()
	var winner *CA
	for i, err := range errs {
		if err == nil {
			if winner != nil {
				t.Fatal("more than one concurrent Create succeeded")
			}
			winner = cas[i]
		} else if !strings.Contains(err.Error(), "already exists") {
			t.Errorf("losing Create: %v", err)
		}
	}
	if winner == nil {
		t.Fatal("no concurrent Create succeeded")
	}
	loaded, err := Load(dir)
	if err != nil {
		t.Fatalf("Load after the race: %v", err)
	}
	if !bytes.Equal(loaded.Cert.Raw, winner.Cert.Raw) {
		t.Error("the CA on disk is not the one the winning Create returned")
	}
}

func TestWriteExclusiveNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, KeyFile, []byte("precious"), 0o600)
	err := writeExclusive(filepath.Join(dir, KeyFile), []byte("new"), 0o600)
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("writeExclusive over an existing file: err = %v, want ErrExist", err)
	}
	if got := read(t, dir, KeyFile); string(got) != "precious" {
		t.Errorf("existing file now holds %q", got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first, created, err := LoadOrCreate(dir)
	if err != nil || !created {
		t.Fatalf("LoadOrCreate on an empty dir: created=%v err=%v", created, err)
	}
	again, created, err := LoadOrCreate(dir)
	if err != nil || created {
		t.Fatalf("second LoadOrCreate: created=%v err=%v", created, err)
	}
	if !bytes.Equal(first.Cert.Raw, again.Cert.Raw) {
		t.Error("second LoadOrCreate returned a different CA")
	}

	for _, only := range []string{CertFile, KeyFile} {
		t.Run("only "+only, func(t *testing.T) {
			half := t.TempDir()
			data, err := os.ReadFile(filepath.Join(dir, only))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(half, only), data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, created, err := LoadOrCreate(half)
			if err == nil || created {
				t.Fatalf("LoadOrCreate with only %s: created=%v err=%v", only, created, err)
			}
			if !strings.Contains(err.Error(), filepath.Join(half, only)) {
				t.Errorf("error %q does not name %s", err, only)
			}
			entries, _ := os.ReadDir(half)
			if len(entries) != 1 {
				t.Errorf("LoadOrCreate left %d files, want the 1 that was there", len(entries))
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	otherKey := mustECKey(t)
	tests := []struct {
		name     string
		setup    func(t *testing.T, dir string)
		now      time.Time // zero: time.Now()
		wantFile string
		want     string
	}{
		{
			name:     "missing cert",
			setup:    func(t *testing.T, dir string) { rm(t, dir, CertFile) },
			wantFile: CertFile,
			want:     "no such file",
		},
		{
			name:     "missing key",
			setup:    func(t *testing.T, dir string) { rm(t, dir, KeyFile) },
			wantFile: KeyFile,
			want:     "no such file",
		},
		{
			name:     "cert not PEM",
			setup:    func(t *testing.T, dir string) { write(t, dir, CertFile, []byte("not a certificate\n"), 0o644) },
			wantFile: CertFile,
			want:     "no PEM CERTIFICATE block",
		},
		{
			name: "cert PEM with garbage DER",
			setup: func(t *testing.T, dir string) {
				write(t, dir, CertFile, pemBytes("CERTIFICATE", []byte("garbage")), 0o644)
			},
			wantFile: CertFile,
			want:     "parse CA certificate",
		},
		{
			name: "truncated cert PEM",
			setup: func(t *testing.T, dir string) {
				data := read(t, dir, CertFile)
				write(t, dir, CertFile, data[:len(data)/2], 0o644)
			},
			wantFile: CertFile,
			want:     "no PEM CERTIFICATE block",
		},
		{
			name:     "key not PEM",
			setup:    func(t *testing.T, dir string) { write(t, dir, KeyFile, []byte("not a key\n"), 0o600) },
			wantFile: KeyFile,
			want:     "no PEM block",
		},
		{
			name: "key PEM with garbage DER",
			setup: func(t *testing.T, dir string) {
				write(t, dir, KeyFile, pemBytes("PRIVATE KEY", []byte("garbage")), 0o600)
			},
			wantFile: KeyFile,
			want:     "parse CA key",
		},
		{
			name: "key of an unsupported PEM type",
			setup: func(t *testing.T, dir string) {
				write(t, dir, KeyFile, pemBytes("RSA PRIVATE KEY", []byte("x")), 0o600)
			},
			wantFile: KeyFile,
			want:     `"RSA PRIVATE KEY"`,
		},
		{
			name: "mismatched key",
			setup: func(t *testing.T, dir string) {
				der, err := x509.MarshalPKCS8PrivateKey(otherKey)
				if err != nil {
					t.Fatal(err)
				}
				write(t, dir, KeyFile, pemBytes("PRIVATE KEY", der), 0o600)
			},
			wantFile: KeyFile,
			want:     "does not match",
		},
		{
			name: "certificate is not a CA",
			setup: func(t *testing.T, dir string) {
				writeSelfSigned(t, dir, func(c *x509.Certificate) { c.IsCA = false })
			},
			wantFile: CertFile,
			want:     "not a CA",
		},
		{
			name:     "expired",
			setup:    func(t *testing.T, dir string) {},
			now:      time.Now().Add(11 * 365 * 24 * time.Hour),
			wantFile: CertFile,
			want:     "expired",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := Create(dir); err != nil {
				t.Fatal(err)
			}
			tt.setup(t, dir)
			now := tt.now
			if now.IsZero() {
				now = time.Now()
			}
			ca, err := load(dir, now)
			if err == nil {
				t.Fatalf("load succeeded (CA %v), want an error", ca.Cert.Subject)
			}
			if p := filepath.Join(dir, tt.wantFile); !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name %s", err, p)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadSEC1Key(t *testing.T) {
	dir := t.TempDir()
	created, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(created.Key.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, KeyFile, pemBytes("EC PRIVATE KEY", der), 0o600)
	loaded, err := Load(dir)
	if err != nil {
		t.Fatalf("Load with a SEC 1 key: %v", err)
	}
	if !created.Key.Public().(*ecdsa.PublicKey).Equal(loaded.Key.Public()) {
		t.Error("SEC 1 key loaded as a different key")
	}
}

// writeSelfSigned replaces the CA in dir with one built from a CA-like
// template after edit, with a matching key.
func writeSelfSigned(t *testing.T, dir string, edit func(*x509.Certificate)) {
	t.Helper()
	key := mustECKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(42),
		Subject:               pkix.Name{CommonName: "test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	edit(tmpl)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, CertFile, pemBytes("CERTIFICATE", der), 0o644)
	write(t, dir, KeyFile, pemBytes("PRIVATE KEY", keyDER), 0o600)
}

func mustECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pemBytes(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func write(t *testing.T, dir, name string, data []byte, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	// WriteFile keeps the mode of an existing file.
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, dir, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func rm(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}
