package secrets

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"math/big"
	"strings"

	"github.com/customs-dev/customs/detectors"
)

// Private keys in PEM and OpenPGP armor. A block is reported whole (BEGIN line to END line)
// when its body decodes and parses as the key type its label names; truncated, elided
// ("MIIE...") or made-up bodies are documentation, not keys, and are not reported.

const (
	pemBegin     = "-----BEGIN "
	pemEnd       = "-----END "
	maxPEMBlock  = 32 << 10  // a 16384-bit RSA key is ~12 KiB of PEM
	maxPGPBlock  = 256 << 10 // armored secret keyrings are larger
	gcpKeyWindow = 1200
)

// pemKey finds PEM private keys (pgp == false) or OpenPGP private key blocks (pgp == true).
type pemKey struct {
	m   detectors.Meta
	pgp bool
}

var _ detectors.Detector = (*pemKey)(nil)

func (k *pemKey) Meta() detectors.Meta { return k.m }

func (k *pemKey) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	nextEnd := -1 // cached index of the next "-----END " at or after the current body
	for _, h := range hits {
		if h < 0 || h >= len(text) {
			continue
		}
		if h < last || !strings.HasPrefix(text[h:], pemBegin) {
			continue
		}
		ls := h + len(pemBegin)
		le := strings.Index(text[ls:min(len(text), ls+48)], "-----")
		if le < 0 {
			continue
		}
		label := text[ls : ls+le]
		isPGP := label == "PGP PRIVATE KEY BLOCK"
		if isPGP != k.pgp || !isPGP && !strings.HasSuffix(label, "PRIVATE KEY") {
			continue
		}
		bodyStart := ls + le + 5
		if nextEnd < bodyStart {
			if i := strings.Index(text[bodyStart:], pemEnd); i >= 0 {
				nextEnd = bodyStart + i
			} else {
				nextEnd = len(text) // none: no later block can close either
			}
		}
		limit := maxPEMBlock
		if isPGP {
			limit = maxPGPBlock
		}
		if nextEnd >= len(text) || nextEnd-bodyStart > limit {
			continue
		}
		endLine := pemEnd + label + "-----"
		if !strings.HasPrefix(text[nextEnd:], endLine) {
			continue
		}
		end := nextEnd + len(endLine)
		block := text[h:end]
		if !PrivateKeyBlockOK(block) {
			last = end // a BEGIN inside a block that failed is not retried: linear time
			continue
		}
		if !isPGP && inGCPServiceAccount(text, h, end) {
			last = end // secret.gcp-service-account-key reports this one
			continue
		}
		emit(detectors.Match{Start: h, End: end, Confidence: 1})
		last = end
	}
}

// inGCPServiceAccount: the block is the "private_key" value of a GCP service-account JSON
// (escaped or not).
func inGCPServiceAccount(text string, start, end int) bool {
	b := strings.TrimRight(text[max(0, start-40):start], " \t\"\\")
	b = strings.TrimRight(strings.TrimSuffix(b, ":"), " \t\"\\")
	if !strings.HasSuffix(b, "private_key") || len(b) < 12 || b[len(b)-12] != '"' {
		return false
	}
	w := text[max(0, start-gcpKeyWindow):min(len(text), end+gcpKeyWindow)]
	return strings.Contains(w, "service_account")
}

// pemLines splits a PEM or armor body into trimmed lines. Besides real newlines it accepts the
// escaped forms a key has inside a JSON string, an env var or a JSON body that carries such a
// string: "\n", "\\n", … (any run of backslashes before n or r).
func pemLines(body string) []string {
	var b strings.Builder
	b.Grow(len(body))
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		for i+1 < len(body) && body[i+1] == '\\' {
			i++
		}
		if i+1 < len(body) {
			switch body[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
			case 'r', 't':
				i++
			}
		}
	}
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.Trim(l, " \t\r\"")
	}
	return lines
}

// PrivateKeyBlockOK reports whether block — from "-----BEGIN <label>-----" to
// "-----END <label>-----" — holds a private key that parses as its label says: PKCS#1 RSA (with
// n = p·q checked), SEC 1 EC, PKCS#8 (RSA checked the same way, others by crypto/x509), DSA,
// encrypted PKCS#8 and legacy encrypted PEM (structure), OpenSSH (openssh-key-v1 layout and
// lengths) and OpenPGP armor (CRC-24 and a secret-key packet first).
func PrivateKeyBlockOK(block string) bool {
	if !strings.HasPrefix(block, pemBegin) {
		return false
	}
	rest := block[len(pemBegin):]
	le := strings.Index(rest, "-----")
	if le < 0 {
		return false
	}
	label := rest[:le]
	if !strings.HasSuffix(label, "PRIVATE KEY") && label != "PGP PRIVATE KEY BLOCK" {
		return false
	}
	endLine := pemEnd + label + "-----"
	if !strings.HasSuffix(rest, endLine) || len(rest)-len(endLine) < le+5 {
		return false
	}
	body := rest[le+5 : len(rest)-len(endLine)]
	if label == "PGP PRIVATE KEY BLOCK" {
		return pgpArmorOK(body)
	}
	lines := pemLines(body)
	var b64 strings.Builder
	encrypted := false
	for _, l := range lines {
		if k, v, ok := strings.Cut(l, ":"); ok {
			if k == "Proc-Type" && strings.Contains(v, "ENCRYPTED") {
				encrypted = true
			}
			continue // RFC 1421 header
		}
		b64.WriteString(l)
	}
	der, ok := decodeB64(b64.String())
	if !ok || len(der) < 32 {
		return false
	}
	switch label {
	case "RSA PRIVATE KEY":
		if encrypted {
			return len(der)%8 == 0 // CBC ciphertext of the PKCS#1 structure
		}
		return pkcs1OK(der)
	case "EC PRIVATE KEY":
		if encrypted {
			return len(der)%8 == 0
		}
		return ecKeyOK(der, nil)
	case "DSA PRIVATE KEY":
		if encrypted {
			return len(der)%8 == 0
		}
		var k struct{ V, P, Q, G, Y, X *big.Int }
		rest, err := asn1.Unmarshal(der, &k)
		return err == nil && len(rest) == 0 && k.P.Sign() > 0 && k.X.Sign() > 0
	case "PRIVATE KEY":
		return pkcs8OK(der)
	case "ENCRYPTED PRIVATE KEY":
		var k struct {
			Algo pkix.AlgorithmIdentifier
			Data []byte
		}
		rest, err := asn1.Unmarshal(der, &k)
		return err == nil && len(rest) == 0 && len(k.Data) >= 16
	case "OPENSSH PRIVATE KEY":
		return opensshOK(der)
	default: // other "... PRIVATE KEY" labels: an ASN.1 structure or an SSH key at least
		var raw asn1.RawValue
		rest, err := asn1.Unmarshal(der, &raw)
		return err == nil && len(rest) == 0 || opensshOK(der)
	}
}

type pkcs1Key struct {
	Version               int
	N                     *big.Int
	E                     int
	D, P, Q, Dp, Dq, Qinv *big.Int
	Other                 []asn1.RawValue `asn1:"optional"`
}

// pkcs1OK parses an RSA key's structure and checks n = p·q: cheap, and unlike
// x509.ParsePKCS1PrivateKey it does not spend milliseconds on a full key check per candidate.
func pkcs1OK(der []byte) bool {
	var k pkcs1Key
	rest, err := asn1.Unmarshal(der, &k)
	if err != nil || len(rest) != 0 || k.N == nil || k.P == nil || k.Q == nil || k.D == nil {
		return false
	}
	if k.N.Sign() <= 0 || k.P.Cmp(big.NewInt(1)) <= 0 || k.Q.Cmp(big.NewInt(1)) <= 0 || k.E < 3 || k.D.Sign() <= 0 {
		return false
	}
	return new(big.Int).Mul(k.P, k.Q).Cmp(k.N) == 0
}

var oidRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}

func pkcs8OK(der []byte) bool {
	var k struct {
		Version int
		Algo    pkix.AlgorithmIdentifier
		Key     []byte
		Rest    []asn1.RawValue `asn1:"optional"`
	}
	rest, err := asn1.Unmarshal(der, &k)
	if err != nil || len(rest) != 0 {
		return false
	}
	switch {
	case k.Algo.Algorithm.Equal(oidRSA):
		return pkcs1OK(k.Key)
	case k.Algo.Algorithm.Equal(oidEC):
		var curve asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(k.Algo.Parameters.FullBytes, &curve); err != nil {
			return false
		}
		return ecKeyOK(k.Key, curve)
	case k.Algo.Algorithm.Equal(oidEd25519), k.Algo.Algorithm.Equal(oidX25519):
		var seed []byte
		rest, err := asn1.Unmarshal(k.Key, &seed)
		return err == nil && len(rest) == 0 && len(seed) == 32
	}
	_, err = x509.ParsePKCS8PrivateKey(der)
	return err == nil
}

var (
	oidEC      = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidX25519  = asn1.ObjectIdentifier{1, 3, 101, 110}
	// Curves by OID and the byte length of their private scalars.
	ecCurves = []struct {
		oid  asn1.ObjectIdentifier
		size int
	}{
		{asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, 32}, // P-256
		{asn1.ObjectIdentifier{1, 3, 132, 0, 34}, 48},          // P-384
		{asn1.ObjectIdentifier{1, 3, 132, 0, 35}, 66},          // P-521
		{asn1.ObjectIdentifier{1, 3, 132, 0, 33}, 28},          // P-224
		{asn1.ObjectIdentifier{1, 3, 132, 0, 10}, 32},          // secp256k1
	}
)

// ecKeyOK checks an RFC 5915 ECPrivateKey's structure: version 1, a private scalar of its
// curve's size (curve from the key's own parameters or, in PKCS#8, from the algorithm), and a
// well-formed public key if present. x509.ParseECPrivateKey would also derive the public key,
// a scalar multiplication per candidate that was a tenth of all detector time on key-heavy text.
func ecKeyOK(der []byte, curve asn1.ObjectIdentifier) bool {
	var k struct {
		Version    int
		PrivateKey []byte
		Curve      asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
		PublicKey  asn1.BitString        `asn1:"optional,explicit,tag:1"`
	}
	rest, err := asn1.Unmarshal(der, &k)
	if err != nil || len(rest) != 0 || k.Version != 1 {
		return false
	}
	if len(k.Curve) > 0 {
		curve = k.Curve
	}
	for _, c := range ecCurves {
		if c.oid.Equal(curve) {
			// Leading zero bytes may be dropped by some encoders; the public point, when
			// present, is uncompressed (04 X Y) or compressed (02/03 X).
			pub := k.PublicKey.Bytes
			return len(k.PrivateKey) <= c.size && len(k.PrivateKey) >= c.size-2 && !allZero(k.PrivateKey) &&
				(len(pub) == 0 || pub[0] == 4 && len(pub) == 1+2*c.size || (pub[0] == 2 || pub[0] == 3) && len(pub) == 1+c.size)
		}
	}
	return false
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// opensshOK checks the openssh-key-v1 container: magic, cipher, KDF and options strings, one
// or more public keys and a private section whose lengths all fit; unencrypted sections must
// start with two equal check words.
func opensshOK(b []byte) bool {
	const magic = "openssh-key-v1\x00"
	if len(b) < len(magic) || string(b[:len(magic)]) != magic {
		return false
	}
	p := b[len(magic):]
	str := func() ([]byte, bool) {
		if len(p) < 4 {
			return nil, false
		}
		n := binary.BigEndian.Uint32(p)
		if uint64(n) > uint64(len(p)-4) {
			return nil, false
		}
		s := p[4 : 4+n]
		p = p[4+n:]
		return s, true
	}
	cipher, ok1 := str()
	_, ok2 := str() // kdf name
	_, ok3 := str() // kdf options
	if !ok1 || !ok2 || !ok3 || len(p) < 4 {
		return false
	}
	nkeys := binary.BigEndian.Uint32(p)
	p = p[4:]
	if nkeys == 0 || nkeys > 16 {
		return false
	}
	for i := uint32(0); i < nkeys; i++ {
		if pub, ok := str(); !ok || len(pub) < 16 {
			return false
		}
	}
	priv, ok := str()
	if !ok || len(priv) < 8 || len(p) != 0 {
		return false
	}
	if string(cipher) == "none" {
		return binary.BigEndian.Uint32(priv) == binary.BigEndian.Uint32(priv[4:])
	}
	return len(priv)%8 == 0
}

// pgpArmorOK checks an ASCII-armored OpenPGP private key block: optional armor headers, a
// base64 body whose first packet is a secret key (tag 5) and, when present, the CRC-24 line.
func pgpArmorOK(body string) bool {
	lines := pemLines(body)
	var b64 strings.Builder
	crc := ""
	inHeaders := true
	for _, l := range lines {
		switch {
		case inHeaders && strings.Contains(l, ": "):
			continue
		case l == "":
			inHeaders = false
			continue
		case len(l) == 5 && l[0] == '=':
			crc = l[1:]
			continue
		}
		inHeaders = false
		b64.WriteString(l)
	}
	data, ok := decodeB64(b64.String())
	if !ok || len(data) < 16 {
		return false
	}
	if crc != "" {
		want, ok := decodeB64(crc)
		if !ok || len(want) != 3 || crc24(data) != uint32(want[0])<<16|uint32(want[1])<<8|uint32(want[2]) {
			return false
		}
	}
	tag := -1
	switch c := data[0]; {
	case c&0xc0 == 0xc0: // new format
		tag = int(c & 0x3f)
	case c&0x80 == 0x80: // old format
		tag = int(c>>2) & 0x0f
	}
	return tag == 5
}

// crc24 is the OpenPGP armor checksum (RFC 4880 §6.1).
func crc24(b []byte) uint32 {
	crc := uint32(0xB704CE)
	for _, c := range b {
		crc ^= uint32(c) << 16
		for i := 0; i < 8; i++ {
			crc <<= 1
			if crc&0x1000000 != 0 {
				crc ^= 0x1864CFB
			}
		}
	}
	return crc & 0xFFFFFF
}
