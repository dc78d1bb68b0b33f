package corpusgen

// Real private keys, generated deterministically. Since Go 1.26 crypto's key generators ignore
// the io.Reader they are given, so the keys are derived here from the seeded source: RSA primes
// with math/big, EC and Ed25519 keys from raw scalars and seeds. Every key parses with
// crypto/x509 (or is a well-formed OpenSSH / OpenPGP / encrypted PKCS#8 container).

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"math/big"
	"math/rand/v2"
	"strings"
	"sync"
)

// keyPool caches the expensive RSA keys: the benchmark corpus reuses a few of them.
type keyPool struct {
	mu  sync.Mutex
	rsa map[uint64]*rsa.PrivateKey
}

var pool = keyPool{rsa: map[uint64]*rsa.PrivateKey{}}

// rsaKey returns RSA key number i of the deterministic pool (2048 bits).
func rsaKey(i uint64) *rsa.PrivateKey {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if k, ok := pool.rsa[i]; ok {
		return k
	}
	r := rand.New(rand.NewPCG(0x5253414b, i))
	prime := func() *big.Int {
		for {
			b := make([]byte, 128)
			for j := range b {
				b[j] = byte(r.Uint32())
			}
			b[0] |= 0xc0
			b[127] |= 1
			p := new(big.Int).SetBytes(b)
			for k := 0; k < 4000; k++ {
				if p.ProbablyPrime(20) {
					return p
				}
				p.Add(p, big.NewInt(2))
			}
		}
	}
	e := big.NewInt(65537)
	one := big.NewInt(1)
	for {
		p, q := prime(), prime()
		if p.Cmp(q) == 0 {
			continue
		}
		pm, qm := new(big.Int).Sub(p, one), new(big.Int).Sub(q, one)
		phi := new(big.Int).Mul(pm, qm)
		d := new(big.Int).ModInverse(e, phi)
		if d == nil {
			continue
		}
		k := &rsa.PrivateKey{
			PublicKey: rsa.PublicKey{N: new(big.Int).Mul(p, q), E: 65537},
			D:         d,
			Primes:    []*big.Int{p, q},
		}
		k.Precompute()
		if k.Validate() != nil {
			continue
		}
		pool.rsa[i] = k
		return k
	}
}

func (g *Generator) ecKey() *ecdsa.PrivateKey {
	curve := elliptic.P256()
	if g.chance(0.3) {
		curve = elliptic.P384()
	}
	n := (curve.Params().BitSize + 7) / 8
	for {
		k, err := ecdsa.ParseRawPrivateKey(curve, g.bytes(n))
		if err == nil {
			return k
		}
	}
}

func pemBlock(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// privateKeyPEM returns a PEM (or OpenSSH) private key, ending in a newline.
func (g *Generator) privateKeyPEM() string {
	switch g.r.IntN(6) {
	case 0: // PKCS#1 RSA
		return pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey(uint64(g.r.IntN(g.rsaPool)))))
	case 1: // PKCS#8 RSA
		der, _ := x509.MarshalPKCS8PrivateKey(rsaKey(uint64(g.r.IntN(g.rsaPool))))
		return pemBlock("PRIVATE KEY", der)
	case 2: // SEC 1 EC
		der, _ := x509.MarshalECPrivateKey(g.ecKey())
		return pemBlock("EC PRIVATE KEY", der)
	case 3: // PKCS#8 EC or Ed25519
		var der []byte
		if g.chance(0.5) {
			der, _ = x509.MarshalPKCS8PrivateKey(g.ecKey())
		} else {
			der, _ = x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(g.bytes(32)))
		}
		return pemBlock("PRIVATE KEY", der)
	case 4:
		return g.opensshKey()
	default:
		return g.encryptedPKCS8()
	}
}

// opensshKey writes an unencrypted openssh-key-v1 Ed25519 key (PROTOCOL.key in OpenSSH).
func (g *Generator) opensshKey() string {
	priv := ed25519.NewKeyFromSeed(g.bytes(32))
	pub := priv.Public().(ed25519.PublicKey)
	str := func(b []byte) []byte { return binary.BigEndian.AppendUint32(nil, uint32(len(b))) }
	var pubBlob []byte
	pubBlob = append(append(pubBlob, str([]byte("ssh-ed25519"))...), "ssh-ed25519"...)
	pubBlob = append(append(pubBlob, str(pub)...), pub...)

	check := g.r.Uint32()
	var sec []byte
	sec = binary.BigEndian.AppendUint32(sec, check)
	sec = binary.BigEndian.AppendUint32(sec, check)
	sec = append(append(sec, str([]byte("ssh-ed25519"))...), "ssh-ed25519"...)
	sec = append(append(sec, str(pub)...), pub...)
	sec = append(append(sec, str(priv)...), priv...)
	comment := []byte(g.userName() + "@" + g.pick("laptop", "build-01", "MacBook-Pro.local", "devbox"))
	sec = append(append(sec, str(comment)...), comment...)
	for i := byte(1); len(sec)%8 != 0; i++ {
		sec = append(sec, i)
	}

	var b []byte
	b = append(b, "openssh-key-v1\x00"...)
	for _, s := range []string{"none", "none", ""} {
		b = append(append(b, str([]byte(s))...), s...)
	}
	b = binary.BigEndian.AppendUint32(b, 1)
	b = append(append(b, str(pubBlob)...), pubBlob...)
	b = append(append(b, str(sec)...), sec...)
	return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + wrap(b64(b), 70) + "-----END OPENSSH PRIVATE KEY-----\n"
}

var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

// encryptedPKCS8 encrypts a real PKCS#8 EC key with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), as
// `openssl pkcs8 -topk8 -v2 aes-256-cbc` does.
func (g *Generator) encryptedPKCS8() string {
	der, _ := x509.MarshalPKCS8PrivateKey(g.ecKey())
	salt, iv := g.bytes(16), g.bytes(16)
	iter := 2048
	key, _ := pbkdf2.Key(sha256.New, g.str(alnum, 16), salt, iter, 32)
	pad := 16 - len(der)%16
	for range pad {
		der = append(der, byte(pad))
	}
	blk, _ := aes.NewCipher(key)
	ct := make([]byte, len(der))
	cipher.NewCBCEncrypter(blk, iv).CryptBlocks(ct, der)

	type prf struct {
		Algorithm asn1.ObjectIdentifier
		Params    asn1.RawValue
	}
	type kdfParams struct {
		Salt       []byte
		Iterations int
		PRF        prf
	}
	kdf, _ := asn1.Marshal(kdfParams{salt, iter, prf{oidHMACSHA256, asn1.NullRawValue}})
	ivDER, _ := asn1.Marshal(iv)
	type algo struct {
		Algorithm asn1.ObjectIdentifier
		Params    asn1.RawValue
	}
	type pbes2 struct {
		KDF algo
		Enc algo
	}
	params, _ := asn1.Marshal(pbes2{algo{oidPBKDF2, asn1.RawValue{FullBytes: kdf}}, algo{oidAES256CBC, asn1.RawValue{FullBytes: ivDER}}})
	type epki struct {
		Algo pkix.AlgorithmIdentifier
		Data []byte
	}
	out, _ := asn1.Marshal(epki{pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}}, ct})
	return pemBlock("ENCRYPTED PRIVATE KEY", out)
}

// pgpKey writes an ASCII-armored OpenPGP secret key (RFC 4880 / 6637 / draft-bis EdDSA): an
// unencrypted v4 EdDSA secret-key packet and a user ID packet, with the armor's CRC-24.
func (g *Generator) pgpKey() string {
	priv := ed25519.NewKeyFromSeed(g.bytes(32))
	pub := priv.Public().(ed25519.PublicKey)
	mpi := func(b []byte) []byte {
		for len(b) > 0 && b[0] == 0 {
			b = b[1:]
		}
		bits := len(b) * 8
		if len(b) > 0 {
			for m := byte(0x80); m > 0 && b[0]&m == 0; m >>= 1 {
				bits--
			}
		}
		return append(binary.BigEndian.AppendUint16(nil, uint16(bits)), b...)
	}
	var body []byte
	body = append(body, 4)
	body = binary.BigEndian.AppendUint32(body, uint32(1600000000+g.r.IntN(150000000)))
	body = append(body, 22, 9, 0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x0F, 0x01)
	body = append(body, mpi(append([]byte{0x40}, pub...))...)
	body = append(body, 0) // S2K usage: unencrypted
	secret := mpi(priv.Seed())
	body = append(body, secret...)
	var sum uint16
	for _, c := range secret {
		sum += uint16(c)
	}
	body = binary.BigEndian.AppendUint16(body, sum)
	packet := func(tag byte, b []byte) []byte {
		return append([]byte{0xC0 | tag, byte(len(b))}, b...) // bodies here stay under 192 bytes
	}
	uid := []byte(g.fullName() + " <" + g.email() + ">")
	data := append(packet(5, body), packet(13, uid)...)
	crc := crc24(data)
	sumB64 := b64([]byte{byte(crc >> 16), byte(crc >> 8), byte(crc)})
	return "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + wrap(b64(data), 64) + "=" + sumB64 + "\n-----END PGP PRIVATE KEY BLOCK-----\n"
}

func crc24(b []byte) uint32 {
	crc := uint32(0xB704CE)
	for _, c := range b {
		crc ^= uint32(c) << 16
		for range 8 {
			crc <<= 1
			if crc&0x1000000 != 0 {
				crc ^= 0x1864CFB
			}
		}
	}
	return crc & 0xFFFFFF
}

// jwt returns a signed JWT: a JSON header with alg (and typ/kid), JSON claims, and a signature
// (a real HMAC for HS256; random bytes of the right size for RS256 and ES256).
func (g *Generator) jwt() string {
	alg := g.pick("HS256", "RS256", "RS256", "ES256")
	header := `{"alg":"` + alg + `","typ":"JWT"}`
	if alg != "HS256" && g.chance(0.6) {
		header = `{"alg":"` + alg + `","kid":"` + g.str(b64url, 22) + `","typ":"JWT"}`
	}
	iat := 1700000000 + g.r.IntN(60000000)
	claims := `{"sub":"` + g.pick("user_", "auth0|", "") + g.str(alnum, 16) + `","iss":"https://` +
		g.pick("auth.acme-corp.com", "login.globex.io", "accounts.initech.net", "id.hooli.com") + `/","aud":"` +
		g.pick("api", "https://api.acme-corp.com", "mobile-app") + `","iat":` + itoa(iat) + `,"exp":` + itoa(iat+3600*g.between(1, 24))
	if g.chance(0.5) {
		claims += `,"scope":"` + g.pick("read:orders write:orders", "openid profile email", "admin") + `"`
	}
	claims += "}"
	signing := b64u([]byte(header)) + "." + b64u([]byte(claims))
	var sig []byte
	switch alg {
	case "HS256":
		m := hmac.New(sha256.New, g.bytes(32))
		m.Write([]byte(signing))
		sig = m.Sum(nil)
	case "RS256":
		sig = g.bytes(256)
	default:
		sig = g.bytes(64)
	}
	return signing + "." + b64u(sig)
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// pemToJSON renders a PEM the way a JSON file holds it: newlines as the two characters \n.
func pemToJSON(p string) string { return strings.ReplaceAll(p, "\n", `\n`) }

func marshalPKCS8(k any) ([]byte, error) { return x509.MarshalPKCS8PrivateKey(k) }

// damagedKeyPEM returns a private key the way a paste goes wrong (issue 14): cut short, with or
// without its END line, cut in the middle of a line, with lines left out behind an elision
// mark, with a character mistyped, folded onto one line, or quoted as in an e-mail reply. Every
// variant keeps two lines or more of a real key: a leak, whether or not it still parses.
func (g *Generator) damagedKeyPEM() string {
	var begin, end string
	var body []string
	for len(body) < 3 { // a key of three lines or more (not a one-line Ed25519 PKCS#8 key)
		ls := strings.Split(strings.TrimSuffix(g.privateKeyPEM(), "\n"), "\n")
		begin, body, end = ls[0], ls[1:len(ls)-1], ls[len(ls)-1]
	}
	join := func(ls ...string) string { return strings.Join(ls, "\n") }
	keep := g.between(2, len(body)-1) // body lines kept by a cut
	switch g.r.IntN(8) {
	case 0: // cut short, the END line pasted after it
		return join(append(append([]string{begin}, body[:keep]...), end)...)
	case 1: // cut short, no END line
		return join(append([]string{begin}, body[:keep]...)...)
	case 2: // cut in the middle of a line
		last := body[keep]
		return join(append(append([]string{begin}, body[:keep]...), last[:g.between(1, len(last)-1)])...)
	case 3: // lines left out behind an elision mark
		tail := g.between(1, max(1, len(body)-keep-1))
		ls := append([]string{begin}, body[:keep]...)
		ls = append(ls, g.pick("...", "…", "[...]", "(truncated)", "  ..."))
		return join(append(append(ls, body[len(body)-tail:]...), end)...)
	case 4: // one character mistyped in a middle line
		i := len(body) / 2
		l := []byte(body[i])
		j := g.r.IntN(len(l))
		for c := l[j]; l[j] == c; {
			l[j] = b64chars[g.r.IntN(62)]
		}
		body[i] = string(l)
		return join(append(append([]string{begin}, body...), end)...)
	case 5: // a line left out
		i := g.between(1, len(body)-2)
		return join(append(append(append([]string{begin}, body[:i]...), body[i+1:]...), end)...)
	case 6: // folded onto one line, as a form field or a shell variable keeps it
		return strings.Join(append(append([]string{begin}, body...), end), " ")
	default: // quoted in an e-mail reply
		return "> " + strings.Join(append(append([]string{begin}, body...), end), "\n> ")
	}
}

// stsToken is an AWS STS session token: base64 of a binary blob whose first bytes are fixed.
func (g *Generator) stsToken() string {
	tok := "IQoJb3JpZ2luX2Vj" + g.pick("E", "EA", "EI", "EH") + g.str(letters, 1)
	if g.chance(0.4) {
		tok += "//////////wEa"
	} else {
		tok += "aCXVzLWVhc3QtMSJHMEUCIQ"
	}
	return tok + g.str(b64chars, 4*g.between(90, 180))
}
