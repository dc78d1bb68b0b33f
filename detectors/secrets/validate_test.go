package secrets

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"hash/crc32"
	mrand "math/rand/v2"
	"strings"
	"testing"
)

// Independent implementations used to make test vectors: a bitwise CRC-32 (IEEE, reflected
// polynomial 0xEDB88320) and a base62 encoder built from its own alphabet.

func refCRC32(s string) uint32 {
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc ^= uint32(s[i])
		for k := 0; k < 8; k++ {
			if crc&1 == 1 {
				crc = crc>>1 ^ 0xEDB88320
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}

func refBase62(n uint32, width int) string {
	var alphabet []byte
	for c := '0'; c <= '9'; c++ {
		alphabet = append(alphabet, byte(c))
	}
	for c := 'A'; c <= 'Z'; c++ {
		alphabet = append(alphabet, byte(c))
	}
	for c := 'a'; c <= 'z'; c++ {
		alphabet = append(alphabet, byte(c))
	}
	s := ""
	for n > 0 {
		s = string(alphabet[n%62]) + s
		n /= 62
	}
	for len(s) < width {
		s = "0" + s
	}
	return s
}

func refGitHubToken(prefix, entropy string) string {
	return prefix + entropy + refBase62(refCRC32(entropy), 6)
}

func randString(r *mrand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func TestGitHubChecksumOK(t *testing.T) {
	// The example token of the base62-token write-up of GitHub's format (the checksum of
	// "zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ" is "0mLq17").
	if !GitHubChecksumOK("ghp_" + "zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ" + "0mLq17") {
		t.Error("published example rejected")
	}
	if refGitHubToken("ghp_", "zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ") != "ghp_"+"zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ"+"0mLq17" {
		t.Fatal("reference implementation disagrees with the published example")
	}
	r := mrand.New(mrand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		prefix := []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "npm_"}[i%6]
		n := 30
		if i%7 == 0 {
			n = 70 // 76-character refresh tokens
		}
		body := randString(r, a62, n)
		good := refGitHubToken(prefix, body)
		if !GitHubChecksumOK(good) {
			t.Fatalf("valid token rejected: %s", good)
		}
		// Any single-character change is caught by a CRC.
		b := []byte(good)
		k := len(prefix) + r.IntN(len(b)-len(prefix))
		orig := b[k]
		for b[k] == orig {
			b[k] = a62[r.IntN(62)]
		}
		if GitHubChecksumOK(string(b)) {
			t.Fatalf("corrupted token accepted: %s", b)
		}
	}
	for _, bad := range []string{"", "ghp_", "ghp_abc", "ghp_" + strings.Repeat("a", 36), "ghp_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq1-",
		"ghp_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq18", "ghp_zQWBuTSOoRi4A9spHcVY5ncnsDkxk.0mLq17"} {
		if GitHubChecksumOK(bad) {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestAtlassianChecksumOK(t *testing.T) {
	r := mrand.New(mrand.NewPCG(3, 4))
	for i := 0; i < 200; i++ {
		var head string
		switch i % 3 {
		case 0:
			head = "ATBB" + randString(r, a62, 24)
		case 1:
			head = "ATATT3xFfGF0" + randString(r, aURL, 171) + "="
		default:
			head = "ATCTT3xFfGN0" + randString(r, aURL, 160) + "="
		}
		good := head + fmt.Sprintf("%08X", refCRC32(head))
		if !AtlassianChecksumOK(good) {
			t.Fatalf("valid token rejected: %s", good)
		}
		if AtlassianChecksumOK(head + fmt.Sprintf("%08x", refCRC32(head)+1)) {
			t.Fatalf("wrong checksum accepted")
		}
		if AtlassianChecksumOK(strings.ToLower(good[:len(good)-8]) + good[len(good)-8:]) {
			t.Fatalf("case-changed token accepted")
		}
	}
	for _, bad := range []string{"", "ATBB", "ATBB12345678", "ATBBxxxxxxxxxxxxxxxxxxxxxxxxZZZZZZZZ"} {
		if AtlassianChecksumOK(bad) {
			t.Errorf("accepted %q", bad)
		}
	}
}

// refMacaroon writes a v2 binary macaroon field by field.
func refMacaroon(location string, caveats []string, sig []byte, version byte) string {
	var b []byte
	put := func(typ byte, data string) {
		b = append(b, typ, byte(len(data))) // all test fields are shorter than 128 bytes
		b = append(b, data...)
	}
	b = append(b, version)
	put(1, location)
	put(2, "5c9e1b0e-8d1a-4d4f-9d8e-0f3a6b7c8d9e")
	b = append(b, 0)
	for _, c := range caveats {
		put(2, c)
		b = append(b, 0)
	}
	b = append(b, 0)
	put(6, string(sig))
	return "pypi-" + base64.RawURLEncoding.EncodeToString(b)
}

func TestPyPITokenOK(t *testing.T) {
	sig := make([]byte, 32)
	for i := range sig {
		sig[i] = byte(i * 7)
	}
	good := []string{
		refMacaroon("pypi.org", []string{`{"version": 1, "permissions": "user"}`}, sig, 2),
		refMacaroon("pypi.org", []string{`[3,"d80b686e-981b-4a10-8d6e-82e686f64743"]`, `[1,["ledger"]]`}, sig, 2),
		refMacaroon("test.pypi.org", nil, sig, 2),
		pypiTok("t", 32),
	}
	for _, g := range good {
		if !PyPITokenOK(g) {
			t.Errorf("valid token rejected: %s", g)
		}
	}
	bad := []string{
		refMacaroon("pypi.org", nil, sig[:31], 2),
		refMacaroon("evil.org", nil, sig, 2),
		refMacaroon("pypi.org", nil, sig, 1),
		good[0][:len(good[0])-10],
		good[0] + "AAAA",
		"pypi-AgEIcHlwaS5vcmc",
		"pypi-AgEIcHlwaS5vcmc" + strings.Repeat("A", 150),
		"pypi-!!!!",
		"AgEIcHlwaS5vcmc",
	}
	for _, b := range bad {
		if PyPITokenOK(b) {
			t.Errorf("accepted %s", b)
		}
	}
}

func TestJWTOK(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	sig := enc([]byte("0123456789abcdef0123456789abcdef"))
	h := enc([]byte(`{"alg":"RS256","kid":"k1"}`))
	p := enc([]byte(`{"sub":"42","exp":1900000000}`))
	tests := []struct {
		tok  string
		want bool
	}{
		{h + "." + p + "." + sig, true},
		{base64.URLEncoding.EncodeToString([]byte(`{"alg":"HS512"}`)) + "." + p + "." + sig, true}, // padded header
		{enc([]byte(`{"alg":"none"}`)) + "." + p + "." + sig, false},
		{enc([]byte(`{"typ":"JWT"}`)) + "." + p + "." + sig, false},
		{enc([]byte(`{"alg":5}`)) + "." + p + "." + sig, false},
		{enc([]byte(`not json`)) + "." + p + "." + sig, false},
		{h + "." + enc([]byte(`[1,2]`)) + "." + sig, false},
		{h + "." + enc([]byte(`{"sub":`)) + "." + sig, false},
		{h + "." + p + ".", false},
		{h + "." + p, false},
		{h + "." + p + "." + sig + "." + sig, false},
		{h + "." + p + ".***", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := JWTOK(tc.tok); got != tc.want {
			t.Errorf("JWTOK(%q) = %v", tc.tok, got)
		}
	}
}

func TestSentryOrgTokenOK(t *testing.T) {
	payload := base64.StdEncoding.EncodeToString([]byte(`{"iat":1700000000.1,"url":"https://sentry.io","org":"acme"}`))
	secret := strings.Repeat("Ab3/", 10) + "Zz9"
	if !SentryOrgTokenOK("sntrys_" + payload + "_" + secret) {
		t.Error("valid token rejected")
	}
	noIat := base64.StdEncoding.EncodeToString([]byte(`{"url":"https://sentry.io"}`))
	for _, bad := range []string{"sntrys_" + noIat + "_" + secret, "sntrys_" + payload + "_" + secret[:40], "sntrys_eyJpYXQiOjE3OTE1MTc2NzJ9_abcdef", "sntrys_"} {
		if SentryOrgTokenOK(bad) {
			t.Errorf("accepted %q", bad)
		}
	}
}

func pemString(typ string, der []byte) string {
	return strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})))
}

func TestPrivateKeyBlockOK(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p8rsa, _ := x509.MarshalPKCS8PrivateKey(rk)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(ek)
	p8ec, _ := x509.MarshalPKCS8PrivateKey(ek)
	_, edk, _ := ed25519.GenerateKey(rand.Reader)
	p8ed, _ := x509.MarshalPKCS8PrivateKey(edk)
	ek384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	sec384, _ := x509.MarshalECPrivateKey(ek384)
	ek521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	p8ec521, _ := x509.MarshalPKCS8PrivateKey(ek521)
	// A P-256 key whose curve OID says P-384: the scalar and point sizes no longer fit.
	wrongCurve := bytes.Replace(sec1, []byte{0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07},
		[]byte{0xa0, 0x07, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}, 1)
	wrongCurve[1] -= 3
	if len(wrongCurve) != len(sec1)-3 {
		t.Fatal("the curve OID was not found in the SEC 1 key")
	}
	if !ecKeyOK(bytes.Replace(wrongCurve, []byte{0x2b, 0x81, 0x04, 0x00, 0x22}, []byte{0x2b, 0x81, 0x04, 0x00, 0x0a}, 1), nil) {
		t.Fatal("the rewritten key does not parse: the mismatch case would test nothing") // secp256k1 has P-256's sizes
	}
	pub, _ := x509.MarshalPKIXPublicKey(&rk.PublicKey)

	// An OpenSSH container written field by field.
	sshStr := func(b []byte, s string) []byte {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		return append(b, s...)
	}
	pubBlob := string(sshStr(sshStr(nil, "ssh-ed25519"), string(edk.Public().(ed25519.PublicKey))))
	sec := []byte{1, 2, 3, 4, 1, 2, 3, 4}
	sec = sshStr(sec, "ssh-ed25519")
	sec = sshStr(sec, string(edk.Public().(ed25519.PublicKey)))
	sec = sshStr(sec, string(edk))
	sec = sshStr(sec, "me@host")
	for i := byte(1); len(sec)%8 != 0; i++ {
		sec = append(sec, i)
	}
	ssh := []byte("openssh-key-v1\x00")
	ssh = sshStr(ssh, "none")
	ssh = sshStr(ssh, "none")
	ssh = sshStr(ssh, "")
	ssh = binary.BigEndian.AppendUint32(ssh, 1)
	ssh = sshStr(ssh, pubBlob)
	ssh = sshStr(ssh, string(sec))

	pkcs1 := pemString("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk))
	good := map[string]string{
		"pkcs1":         pkcs1,
		"pkcs8 rsa":     pemString("PRIVATE KEY", p8rsa),
		"sec1":          pemString("EC PRIVATE KEY", sec1),
		"pkcs8 ec":      pemString("PRIVATE KEY", p8ec),
		"sec1 p384":     pemString("EC PRIVATE KEY", sec384),
		"pkcs8 ec p521": pemString("PRIVATE KEY", p8ec521),
		"pkcs8 ed25519": pemString("PRIVATE KEY", p8ed),
		"openssh":       pemString("OPENSSH PRIVATE KEY", ssh),
		"encrypted":     pemString("ENCRYPTED PRIVATE KEY", encryptedPKCS8("t")),
		"json escaped":  strings.ReplaceAll(pkcs1, "\n", `\n`),
		"crlf":          strings.ReplaceAll(pkcs1, "\n", "\r\n"),
		"folded":        strings.ReplaceAll(pkcs1, "\n", " "),
		"indented":      strings.ReplaceAll(pkcs1, "\n", "\n    "),
		"json slashes":  strings.ReplaceAll(strings.ReplaceAll(pkcs1, "\n", `\n`), "/", `\/`),
		"legacy encrypted": "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF\n\n" +
			base64.StdEncoding.EncodeToString(make([]byte, 640)) + "\n-----END RSA PRIVATE KEY-----",
		"pgp": pgpBlock("t", true),
	}
	for name, block := range good {
		if !PrivateKeyBlockOK(block) {
			t.Errorf("%s: valid key rejected", name)
		}
	}
	// A modulus that is not p·q: flip a byte of n inside the DER.
	der := x509.MarshalPKCS1PrivateKey(rk)
	der[20] ^= 0x40
	lines := strings.Split(pkcs1, "\n")
	bad := map[string]string{
		"n != p*q":          pemString("RSA PRIVATE KEY", der),
		"truncated":         strings.Join(append(lines[:4:4], lines[len(lines)-1]), "\n"),
		"elided":            "-----BEGIN RSA PRIVATE KEY-----\nMIICXAIBAAKBgQC...\n-----END RSA PRIVATE KEY-----",
		"random":            "-----BEGIN PRIVATE KEY-----\n" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("random bytes ", 20))) + "\n-----END PRIVATE KEY-----",
		"label swap":        strings.Replace(pemString("EC PRIVATE KEY", sec1), "BEGIN EC", "BEGIN RSA", 1),
		"public key":        pemString("PUBLIC KEY", pub),
		"wrong type":        pemString("EC PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk)),
		"ec curve mismatch": pemString("EC PRIVATE KEY", wrongCurve),
		"ec zero scalar":    pemString("EC PRIVATE KEY", bytes.Replace(sec1, ecScalar(t, ek), make([]byte, 32), 1)),
		"ssh garbage":       pemString("OPENSSH PRIVATE KEY", append([]byte("openssh-key-v1\x00"), 0, 0, 0, 200, 1, 2, 3)),
		"pgp bad crc":       pgpBlock("t", false),
		"empty":             "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----",
		"no end":            "-----BEGIN PRIVATE KEY-----\nMIIB",
	}
	for name, block := range bad {
		if PrivateKeyBlockOK(block) {
			t.Errorf("%s: accepted", name)
		}
	}
	// The detector reports the whole block, found in a prompt.
	d := byID(t, "secret.private-key")
	text := "Why does this fail?\n\n" + good["pkcs8 ec"] + "\n\nThanks."
	got := find(d, text)
	if len(got) != 1 || text[got[0].Start:got[0].End] != good["pkcs8 ec"] {
		t.Errorf("private-key span: %v", got)
	}
}

func ecScalar(t *testing.T, k *ecdsa.PrivateKey) []byte {
	b, err := k.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// isCommonValue lower-cases into a 32-byte buffer; a longer or upper-case entry would never match.
func TestCommonValuesFitTheLookup(t *testing.T) {
	for v := range commonValues {
		if len(v) > 32 || v != strings.ToLower(v) || !isCommonValue(strings.ToUpper(v)) {
			t.Errorf("common value %q cannot be found by isCommonValue", v)
		}
	}
}

// decodeB64To and crc32IEEE are allocation-free stand-ins for decodeB64 and hash/crc32: they
// must agree with them on every input.
func TestDecodeB64ToCRCAgree(t *testing.T) {
	r := mrand.New(mrand.NewPCG(3, 4))
	const alpha = "ABCxyz019+/-_=\n\r .!"
	for i := 0; i < 200000; i++ {
		b := make([]byte, r.IntN(40))
		for k := range b {
			b[k] = alpha[r.IntN(len(alpha))]
		}
		s := string(b)
		want, wok := decodeB64(s)
		var buf [64]byte
		got, gok := decodeB64To(buf[:0], s)
		if wok != gok || wok && string(want) != string(got) {
			t.Fatalf("decodeB64To(%q) = %q, %v; decodeB64: %q, %v", s, got, gok, want, wok)
		}
		if c := crc32IEEE(s); c != crc32.ChecksumIEEE(b) {
			t.Fatalf("crc32IEEE(%q) = %08x, want %08x", s, c, crc32.ChecksumIEEE(b))
		}
	}
}
