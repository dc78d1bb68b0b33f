package secrets

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"hash/fnv"
	"math/big"
	"math/rand/v2"
	"strings"
)

// Example values for the detectors' Examples. They are generated from fixed seeds rather than
// written out, so that the source holds no string a secret scanner would take for a live key,
// and so that checksummed formats carry correct (or deliberately wrong) checksums.

const (
	a62   = base62Digits
	aHex  = "0123456789abcdef"
	aHexU = "0123456789ABCDEF"
	aB32  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	aURL  = base62Digits + "-_"
	aStd  = base62Digits + "+/"
	aLow  = "abcdefghijklmnopqrstuvwxyz"
	aLet  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	aNum  = "0123456789"
)

func rng(seed string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(seed))
	return rand.New(rand.NewPCG(h.Sum64(), 0x9e3779b97f4a7c15))
}

// rnd returns n characters of alphabet chosen by a generator seeded with seed.
func rnd(seed, alphabet string, n int) string {
	r := rng(seed)
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func rndBytes(seed string, n int) []byte {
	r := rng(seed)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// ghTok makes a GitHub/npm-format token with a valid checksum.
func ghTok(prefix, seed string, n int) string {
	body := rnd(seed, a62, n)
	c := base62CRC(body)
	return prefix + body + string(c[:])
}

// ghBad makes one with a wrong checksum.
func ghBad(prefix, seed string, n int) string {
	t := ghTok(prefix, seed, n)
	last := t[len(t)-1]
	if last == 'A' {
		return t[:len(t)-1] + "B"
	}
	return t[:len(t)-1] + "A"
}

// atlTok makes an Atlassian-format token: body then upper-hex CRC32 of everything before.
func atlTok(head string) string {
	return head + crcHex(head)
}

// pypiTok makes a PyPI token: a version-2 binary macaroon for pypi.org, base64url.
func pypiTok(seed string, sigLen int) string {
	var m []byte
	field := func(typ byte, data []byte) {
		m = append(m, typ)
		m = binary.AppendUvarint(m, uint64(len(data)))
		m = append(m, data...)
	}
	m = append(m, 2)
	field(1, []byte("pypi.org"))
	id := rnd(seed+"id", aHex, 32)
	field(2, []byte(id[:8]+"-"+id[8:12]+"-"+id[12:16]+"-"+id[16:20]+"-"+id[20:]))
	m = append(m, 0)
	field(2, []byte(`[3,"`+rnd(seed+"p", aHex, 8)+`-0c0d-4e5f-8a9b-`+rnd(seed+"q", aHex, 12)+`"]`))
	m = append(m, 0, 0)
	field(6, rndBytes(seed+"sig", sigLen))
	return "pypi-" + base64.RawURLEncoding.EncodeToString(m)
}

func b64u(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// jwtTok makes an HS256 JWT with the given payload.
func jwtTok(payload, seed string) string {
	return b64u(`{"alg":"HS256","typ":"JWT"}`) + "." + b64u(payload) + "." +
		base64.RawURLEncoding.EncodeToString(rndBytes(seed, 32))
}

// pemWrap armors der as a PEM block with 64-column lines and the given line break (a real
// newline, or the two characters \n of a key inside a JSON string).
func pemWrap(label string, der []byte, nl string) string {
	s := base64.StdEncoding.EncodeToString(der)
	var b strings.Builder
	b.WriteString("-----BEGIN " + label + "-----" + nl)
	for len(s) > 64 {
		b.WriteString(s[:64] + nl)
		s = s[64:]
	}
	b.WriteString(s + nl + "-----END " + label + "-----")
	return b.String()
}

// toyRSA builds the PKCS#1 DER of a small RSA key from deterministic primes (the detectors
// check structure and n = p·q, not key size).
func toyRSA(seed string) []byte {
	r := rng(seed)
	prime := func() *big.Int {
		b := make([]byte, 32)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		b[0] |= 0x80
		b[31] |= 1
		p := new(big.Int).SetBytes(b)
		for !p.ProbablyPrime(12) {
			p.Add(p, big.NewInt(2))
		}
		return p
	}
	e := big.NewInt(65537)
	for {
		p, q := prime(), prime()
		one := big.NewInt(1)
		phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
		d := new(big.Int).ModInverse(e, phi)
		if d == nil || p.Cmp(q) == 0 {
			continue
		}
		k := pkcs1Key{
			N: new(big.Int).Mul(p, q), E: 65537, D: d, P: p, Q: q,
			Dp:   new(big.Int).Mod(d, new(big.Int).Sub(p, one)),
			Dq:   new(big.Int).Mod(d, new(big.Int).Sub(q, one)),
			Qinv: new(big.Int).ModInverse(q, p),
		}
		der, err := asn1.Marshal(k)
		if err != nil {
			panic(err)
		}
		return der
	}
}

func toyPKCS8RSA(seed string) []byte {
	der, err := asn1.Marshal(struct {
		Version int
		Algo    pkix.AlgorithmIdentifier
		Key     []byte
	}{0, pkix.AlgorithmIdentifier{Algorithm: oidRSA, Parameters: asn1.NullRawValue}, toyRSA(seed)})
	if err != nil {
		panic(err)
	}
	return der
}

func ed25519PKCS8(seed string) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(rndBytes(seed, 32)))
	if err != nil {
		panic(err)
	}
	return der
}

func ecSEC1(seed string) []byte {
	b := rndBytes(seed, 32)
	b[0] &= 0x7f // below the group order
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), b)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		panic(err)
	}
	return der
}

func encryptedPKCS8(seed string) []byte {
	der, err := asn1.Marshal(struct {
		Algo pkix.AlgorithmIdentifier
		Data []byte
	}{pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}}, rndBytes(seed, 1216)})
	if err != nil {
		panic(err)
	}
	return der
}

// opensshEd25519 builds an unencrypted openssh-key-v1 container for an Ed25519 key.
func opensshEd25519(seed string) []byte {
	priv := ed25519.NewKeyFromSeed(rndBytes(seed, 32))
	pub := priv.Public().(ed25519.PublicKey)
	str := func(b []byte, s []byte) []byte {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		return append(b, s...)
	}
	pubBlob := str(str(nil, []byte("ssh-ed25519")), pub)
	check := binary.BigEndian.Uint32(rndBytes(seed+"check", 4))
	var sec []byte
	sec = binary.BigEndian.AppendUint32(sec, check)
	sec = binary.BigEndian.AppendUint32(sec, check)
	sec = str(sec, []byte("ssh-ed25519"))
	sec = str(sec, pub)
	sec = str(sec, priv)
	sec = str(sec, []byte("deploy@build-7"))
	for i := byte(1); len(sec)%8 != 0; i++ {
		sec = append(sec, i)
	}
	b := []byte("openssh-key-v1\x00")
	b = str(b, []byte("none"))
	b = str(b, []byte("none"))
	b = str(b, nil)
	b = binary.BigEndian.AppendUint32(b, 1)
	b = str(b, pubBlob)
	return str(b, sec)
}

// pgpBlock armors a packet stream that starts with a (new-format) secret-key packet.
func pgpBlock(seed string, goodCRC bool) string {
	body := rndBytes(seed, 150)
	body[0] = 4 // version
	pkt := append([]byte{0xC5, byte(len(body))}, body...)
	crc := crc24(pkt)
	if !goodCRC {
		crc ^= 1
	}
	s := base64.StdEncoding.EncodeToString(pkt)
	var b strings.Builder
	b.WriteString("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n")
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	b.WriteString(s + "\n=" + base64.StdEncoding.EncodeToString([]byte{byte(crc >> 16), byte(crc >> 8), byte(crc)}) + "\n")
	b.WriteString("-----END PGP PRIVATE KEY BLOCK-----")
	return b.String()
}

// gcpJSON is a service-account key file around the given (JSON-escaped) private key.
func gcpJSON(key string, typ string) string {
	return `{
  "type": "` + typ + `",
  "project_id": "ledger-prod-4821",
  "private_key_id": "` + rnd("gcp-kid", aHex, 40) + `",
  "private_key": "` + key + `\n",
  "client_email": "exporter@ledger-prod-4821.iam.gserviceaccount.com",
  "client_id": "` + rnd("gcp-cid", aNum, 21) + `",
  "token_uri": "https://oauth2.googleapis.com/token"
}`
}

// withRun overwrites the middle of s with run: a random body that happens to hold x's.
func withRun(s, run string) string {
	i := len(s) / 2
	return s[:i] + run + s[i+len(run):]
}

// ghTokRun makes a GitHub/npm-format token whose random part holds run, with a valid checksum.
func ghTokRun(prefix, seed string, n int, run string) string {
	body := withRun(rnd(seed, a62, n), run)
	c := base62CRC(body)
	return prefix + body + string(c[:])
}

// Damaged renderings of a PEM block made by pemWrap with real newlines, as keys are pasted:
// cut short (with or without the END line), with lines left out, folded onto one line.

func pemSplit(block string) (begin string, body []string, end string) {
	ls := strings.Split(block, "\n")
	return ls[0], ls[1 : len(ls)-1], ls[len(ls)-1]
}

// pemCut keeps the first n body lines, and the END line if withEnd.
func pemCut(block string, n int, withEnd bool) string {
	begin, body, end := pemSplit(block)
	s := begin + "\n" + strings.Join(body[:n], "\n")
	if withEnd {
		s += "\n" + end
	}
	return s
}

// pemElided keeps head body lines, an elision line, the last tail lines and the END line.
func pemElided(block string, head, tail int, elision string) string {
	begin, body, end := pemSplit(block)
	return begin + "\n" + strings.Join(body[:head], "\n") + "\n" + elision + "\n" + strings.Join(body[len(body)-tail:], "\n") + "\n" + end
}
