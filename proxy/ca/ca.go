// Package ca holds the interception CA that customs uses to mint leaf
// certificates for the hosts it opens, and the cache of those leaves.
//
// The CA follows mkcert's choices (cert.go): an ECDSA P-256 key, path length
// zero so a stolen CA key cannot mint intermediates, a subject key ID so leaves
// carry a matching authority key ID, and a key file only its owner can read.
// It uses the standard library only.
package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"time"
)

// File names inside the CA directory.
const (
	CertFile = "ca.pem"
	KeyFile  = "ca-key.pem"
)

const caValidity = 10 * 365 * 24 * time.Hour

// CA is the interception certificate authority.
type CA struct {
	Cert    *x509.Certificate
	Key     crypto.Signer // *ecdsa.PrivateKey for a CA made by Create
	CertPEM []byte        // what clients must trust; what `customs ca export` prints
}

// Create makes a new CA in dir, creating dir (0700) if it is absent, and
// writes dir/ca.pem (0644) and dir/ca-key.pem (0600). It never overwrites an
// existing file: a CA that clients already trust must not be replaced by
// accident.
func Create(dir string) (*CA, error) {
	certPath, keyPath := paths(dir)
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Lstat(p); err == nil {
			return nil, existsError(dir, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("create CA: %w", err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create CA directory %s: %w", dir, err)
	}

	ca, keyPEM, err := newCA(time.Now())
	if err != nil {
		return nil, err
	}

	// The key goes first and with O_EXCL: if another process raced us to it,
	// its key survives and ours is dropped.
	if err := writeExclusive(keyPath, keyPEM, 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, existsError(dir, keyPath)
		}
		return nil, fmt.Errorf("write CA key %s: %w", keyPath, err)
	}
	if err := writeExclusive(certPath, ca.CertPEM, 0o644); err != nil {
		// The key file is ours (O_EXCL), so removing it cannot destroy
		// anyone else's CA; leaving it would block the next Create.
		os.Remove(keyPath)
		if errors.Is(err, fs.ErrExist) {
			return nil, existsError(dir, certPath)
		}
		return nil, fmt.Errorf("write CA certificate %s: %w", certPath, err)
	}
	return ca, nil
}

func existsError(dir, path string) error {
	return fmt.Errorf("create CA: %s already exists: remove %s and %s to make a new CA, or use Load to use the existing one",
		path, filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
}

func paths(dir string) (certPath, keyPath string) {
	return filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
}

// newCA generates the key and the self-signed certificate in memory, so that
// nothing reaches the disk until both exist.
func newCA(now time.Time) (*CA, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate CA key: %w", err)
	}
	skid, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	userHost, host := userAndHostname()
	cn := "customs interception CA"
	if host != "" {
		cn += " " + host
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization:       []string{"customs"},
			OrganizationalUnit: []string{userHost},
			CommonName:         cn,
		},
		SubjectKeyId: skid,
		// An hour back absorbs clock skew between the proxy and its clients.
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("sign CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parse new CA certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode CA key: %w", err)
	}
	ca := &CA{
		Cert:    cert,
		Key:     key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
	}
	return ca, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), nil
}

// subjectKeyID is mkcert's: SHA-1 over the subjectPublicKey bit string (RFC
// 5280 4.2.1.2 method 1), set explicitly so it does not change with the Go
// version's default.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	spkiDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode CA public key: %w", err)
	}
	var spki struct {
		Algorithm        pkix.AlgorithmIdentifier
		SubjectPublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(spkiDER, &spki); err != nil {
		return nil, fmt.Errorf("decode CA public key: %w", err)
	}
	sum := sha1.Sum(spki.SubjectPublicKey.Bytes)
	return sum[:], nil
}

func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	n, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return nil, fmt.Errorf("generate serial number: %w", err)
	}
	// A zero serial is invalid in RFC 5280; the odds are 2^-128 but the
	// cost of the check is nothing.
	if n.Sign() == 0 {
		n.SetInt64(1)
	}
	return n, nil
}

// userAndHostname tells an operator who looks at the CA in a trust store
// where it came from. Failures only make the label less helpful.
func userAndHostname() (userHost, host string) {
	host, _ = os.Hostname()
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	h := host
	if h == "" {
		h = "unknown"
	}
	return name + "@" + h, host
}

func writeExclusive(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	// Sync so that a crash right after Create cannot leave a CA that
	// clients were told to trust but that is gone on restart.
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Load reads the CA from dir/ca.pem and dir/ca-key.pem. It refuses a key file
// that group or others can read or write, a key that does not match the
// certificate, a certificate that is not a CA, and an expired one. Every
// error names the file it is about.
func Load(dir string) (*CA, error) {
	return load(dir, time.Now())
}

func load(dir string, now time.Time) (*CA, error) {
	certPath, keyPath := paths(dir)

	cert, certPEM, err := readCert(certPath)
	if err != nil {
		return nil, err
	}
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return nil, fmt.Errorf("CA certificate %s is not a CA certificate (basic constraints CA:TRUE missing)", certPath)
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("CA certificate %s lacks the certificate-signing key usage", certPath)
	}
	if now.After(cert.NotAfter) {
		return nil, fmt.Errorf("CA certificate %s expired on %s: make a new CA (remove %s and %s) and distribute it again",
			certPath, cert.NotAfter.UTC().Format(time.RFC3339), certPath, keyPath)
	}

	key, err := readKey(keyPath)
	if err != nil {
		return nil, err
	}
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return nil, fmt.Errorf("CA key %s does not match the public key of CA certificate %s", keyPath, certPath)
	}
	return &CA{Cert: cert, Key: key, CertPEM: certPEM}, nil
}

func readCert(path string) (*x509.Certificate, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read CA certificate %s: %w", path, err)
	}
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, nil, fmt.Errorf("read CA certificate %s: no PEM CERTIFICATE block found", path)
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("parse CA certificate %s: %w", path, err)
		}
		// Re-encode only the certificate so that export hands out exactly
		// what is trusted, not whatever else shared the file.
		return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes}), nil
	}
}

func readKey(path string) (crypto.Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read CA key %s: %w", path, err)
	}
	defer f.Close()
	// Stat the open file rather than the path, so the mode checked is the
	// mode of the bytes read.
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read CA key %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read CA key %s: not a regular file", path)
	}
	// Windows has no Unix permission bits; os reports 0666 or 0444 there.
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("CA key %s has mode %04o: it must be readable by its owner only (chmod 600 %s)", path, perm, path)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read CA key %s: %w", path, err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("read CA key %s: no PEM block found", path)
	}
	var parsed any
	switch block.Type {
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("read CA key %s: PEM block type %q: want \"PRIVATE KEY\" (PKCS#8) or \"EC PRIVATE KEY\" (SEC 1)", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parse CA key %s: %w", path, err)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("parse CA key %s: %T cannot sign", path, parsed)
	}
	return signer, nil
}

// LoadOrCreate loads the CA in dir, or creates it when neither file exists.
// When only one of the two exists it fails rather than make a new CA next to
// an old certificate or key: that is almost always a half-copied directory,
// and a silently new CA would break every client that trusts the old one.
func LoadOrCreate(dir string) (ca *CA, created bool, err error) {
	certPath, keyPath := paths(dir)
	certExists, err := exists(certPath)
	if err != nil {
		return nil, false, fmt.Errorf("stat CA certificate %s: %w", certPath, err)
	}
	keyExists, err := exists(keyPath)
	if err != nil {
		return nil, false, fmt.Errorf("stat CA key %s: %w", keyPath, err)
	}
	switch {
	case certExists && keyExists:
		ca, err := Load(dir)
		return ca, false, err
	case !certExists && !keyExists:
		ca, err := Create(dir)
		return ca, err == nil, err
	case certExists:
		return nil, false, fmt.Errorf("CA certificate %s exists but its key %s does not: restore the key, or remove %s to make a new CA", certPath, keyPath, certPath)
	default:
		return nil, false, fmt.Errorf("CA key %s exists but its certificate %s does not: restore the certificate, or remove %s to make a new CA", keyPath, certPath, keyPath)
	}
}

func exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, err
}
