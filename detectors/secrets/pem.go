package secrets

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"math/big"
	"strings"
	"sync"

	"github.com/customs-dev/customs/detectors"
)

// Private keys in PEM and OpenPGP armor. A PEM block is reported whole, from its BEGIN line to
// its END line (or to the end of its body when the END line is missing):
//   - at confidence 1 when its body decodes and parses as the key type its label names;
//   - at damagedKeyConf when it does not parse but is still a key's text: the body begins as
//     its label's structure begins (a DER SEQUENCE, the openssh-key-v1 magic, or the headers
//     of a legacy encrypted key) and carries at least a PEM line of random-looking base64.
//     Truncated, partly pasted, re-wrapped or half-escaped keys look like that, and each one
//     leaks key material.
//
// Elided ("MIIE..."), masked ("MIIE…xxxxxxxx") and made-up bodies are documentation, not keys,
// and are not reported. OpenPGP blocks must parse (armor CRC-24 and a secret-key packet first).

const (
	pemBegin     = "-----BEGIN "
	pemEnd       = "-----END "
	maxPEMBlock  = 32 << 10  // a 16384-bit RSA key is ~12 KiB of PEM
	maxPGPBlock  = 256 << 10 // armored secret keyrings are larger
	gcpKeyWindow = 1200
	// damagedKeyConf is the confidence of a key block whose body does not parse.
	damagedKeyConf = 0.7
	// minKeyMaterial is the base64 a damaged body must carry: one 64-column PEM line, as much as
	// a whole Ed25519 key or a P-256 key's private scalar. Documentation elides to less.
	minKeyMaterial = 64
	// minKeyEntropy is the least entropy of a damaged body's base64, bits per character: one
	// line of a real key has about 5; the fixed first line of every OpenSSH key (public, and
	// mostly 'A') has 4.
	minKeyEntropy = 4.5
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
	nextEnd := -1 // PGP: cached index of the next "-----END " at or after the current body
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
		if !isPGP {
			b := scanPEMBody(text, bodyStart, label)
			last = b.stop // a BEGIN inside a body that was read is not retried: linear time
			if b.conf == 0 || label == "PRIVATE KEY" && inGCPServiceAccount(text, h, b.end) {
				continue // not a key, or secret.gcp-service-account-key reports it
			}
			emit(detectors.Match{Start: h, End: b.end, Confidence: b.conf})
			continue
		}
		if nextEnd < bodyStart {
			if i := strings.Index(text[bodyStart:], pemEnd); i >= 0 {
				nextEnd = bodyStart + i
			} else {
				nextEnd = len(text) // none: no later block can close either
			}
		}
		if nextEnd >= len(text) || nextEnd-bodyStart > maxPGPBlock {
			continue
		}
		endLine := pemEnd + label + "-----"
		if !strings.HasPrefix(text[nextEnd:], endLine) {
			continue
		}
		end := nextEnd + len(endLine)
		last = end // a BEGIN inside a block is not retried, whether it parsed or not: linear time
		if PrivateKeyBlockOK(text[h:end]) {
			emit(detectors.Match{Start: h, End: end, Confidence: 1})
		}
	}
}

// inGCPServiceAccount: the block is the "private_key" value of a GCP service-account JSON
// (escaped or not).
func inGCPServiceAccount(text string, start, end int) bool {
	if !gcpKeyBefore(text, start) {
		return false
	}
	w := text[max(0, start-gcpKeyWindow):min(len(text), end+gcpKeyWindow)]
	return strings.Contains(w, "service_account")
}

// gcpKeyBefore: the block at start is the value of a JSON "private_key" (escaped or not), the
// first half of inGCPServiceAccount.
func gcpKeyBefore(text string, start int) bool {
	b := strings.TrimRight(text[max(0, start-40):start], " \t\"\\")
	b = strings.TrimRight(strings.TrimSuffix(b, ":"), " \t\"\\")
	return strings.HasSuffix(b, "private_key") && len(b) >= 12 && b[len(b)-12] == '"'
}

// pemBody is what scanPEMBody read of a PEM block.
type pemBody struct {
	end  int     // end of the block as reported: after its END line, or after its body's last chunk
	stop int     // where reading stopped; the text before it belongs to this block
	conf float64 // 1 (parses), damagedKeyConf (a key that does not parse) or 0 (not a key)
}

// scanPEMBody reads the body of a PEM block with the given label from bodyStart (just after the
// BEGIN line's closing dashes) and judges it. The body is base64 in chunks, with whatever its
// rendering put between them: line breaks real or escaped as in JSON and shell strings (\n,
// \\n, \r; \/ and \u002B are escaped base64), blanks (indentation, a key folded onto one line),
// the quotes, commas and '+' of a string concatenated in code, "> " of a quoted e-mail, the
// comment markers '#', '//', '--', '*', and "...", "…", "[...]" where a paste was cut. It ends at the
// END line, at a blank line, at prose (short words side by side on one line), or at any other
// byte. Only the BEGIN line is required: a key cut off before its END line is still a key.
func scanPEMBody(text string, bodyStart int, label string) pemBody {
	limit := min(len(text), bodyStart+maxPEMBlock)
	sc := pemScratchPool.Get().(*pemScratch)
	defer pemScratchPool.Put(sc)
	mat := sc.mat[:0] // the base64, unescaped
	defer func() { sc.mat = mat[:0] }()
	var (
		i                  = bodyStart
		lastEnd            = bodyStart // end in text of the last chunk
		lastLen            = 0         // length of the last chunk
		lastFirst          = false     // the last chunk began its line
		lastN0, lastEnd0   = 0, 0      // len(mat) and lastEnd before the last chunk
		broke              = false     // a line break since the last chunk
		blankLine          = false     // an empty line since the last chunk
		prevBreak          = byte(0)   // kind of the last line break: 'n' real, '\\' escaped
		onlyBlank          = false     // nothing but blanks since that line break
		lineStart          = true      // nothing but blanks since the start of the line
		encrypted, dekInfo bool        // legacy encrypted PEM headers
		hasEnd             bool
		endAt              int
		endLine            = pemEnd + label + "-----"
		lineBreak          = func(kind byte) {
			// Two breaks of one kind with only blanks between make an empty line; an escaped
			// break directly followed by a real one ("\n" at the end of a line) is one break.
			if onlyBlank && prevBreak == kind {
				blankLine = true
			}
			prevBreak, onlyBlank, broke, lineStart = kind, true, true, true
		}
		gap = func() { onlyBlank, lineStart = false, false }
	)
scan:
	for i < limit {
		c := text[i]
		switch {
		case c == '\n':
			lineBreak('n')
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '\\':
			k := i
			for k < limit && text[k] == '\\' {
				k++
			}
			if k < limit && (text[k] == 'n' || text[k] == 'r' || text[k] == 't') {
				if text[k] == 'n' {
					lineBreak('\\')
				}
				i = k + 1
				continue
			}
			if _, ok := escapedB64(text, i, limit); !ok {
				break scan
			}
			fallthrough // \/ or \u002B: base64 begins here
		case b64stdEq[c] && !(c == '+' && plusOperator(text, i, limit)) && !(c == '/' && lineStart && commentMarker(text[i:], "//")):
			if len(mat) == 0 && lineStart && headerLine(text, i, limit) {
				// An RFC 1421 header (Proc-Type: 4,ENCRYPTED, DEK-Info: …) before the base64.
				e := i
				for e < limit && e-i < 256 && text[e] != '\n' && !(text[e] == '\\' && e+1 < limit && text[e+1] == 'n') {
					e++
				}
				h := text[i:e]
				encrypted = encrypted || strings.HasPrefix(h, "Proc-Type:") && strings.Contains(h, "ENCRYPTED")
				dekInfo = dekInfo || strings.HasPrefix(h, "DEK-Info:")
				gap()
				i = e
				continue
			}
			if len(mat) > 0 && (blankLine || mat[len(mat)-1] == '=') {
				break scan // an empty line ends the body (it may only follow the headers); so does padding
			}
			n0 := len(mat)
			j := i
			for j < limit {
				if b64stdEq[text[j]] {
					mat = append(mat, text[j])
					j++
				} else if b, ok := escapedB64(text, j, limit); ok {
					mat = append(mat, b)
					j += escapedB64Len(text, j)
				} else {
					break
				}
			}
			n := len(mat) - n0
			// Chunks side by side on one line: a key folded onto one line has long ones (its
			// lines); prose has short words. The last chunk of a folded key may be short. A
			// chunk glued to a byte no rendering puts after a line (client_email, Thanks!) is
			// a word of what follows the key, and so is one with '=' inside (PORT=8080):
			// base64 pads only at its end.
			if n0 > 0 && !broke && (lastLen < 32 || n < 32 && !endFollows(text, j, limit)) || j < limit && !pemLineEnd(text[j]) ||
				padInside(mat[n0:]) {
				mat = mat[:n0]
				if n0 > 0 && !broke && lastLen < 32 && lastFirst {
					// The last chunk was the first word of a line of prose.
					mat, lastEnd = mat[:lastN0], lastEnd0
				}
				break scan
			}
			lastN0, lastEnd0, lastFirst = n0, lastEnd, broke || n0 == 0
			lastEnd, lastLen, i = j, n, j
			broke, blankLine, prevBreak, onlyBlank, lineStart = false, false, 0, false, false
		case c == '-':
			if strings.HasPrefix(text[i:], pemEnd) {
				if strings.HasPrefix(text[i:], endLine) {
					hasEnd, endAt = true, i+len(endLine)
				}
				break scan
			}
			if !lineStart || !commentMarker(text[i:], "--") {
				break scan
			}
			gap() // an SQL or Lua comment marker
			i += 2
		case c == '/': // a "// " comment marker at the start of a line
			gap()
			i += 2
		case strings.IndexByte("+\"'`,.>#*;|()[]", c) >= 0:
			gap()
			i++
		case c == 0xe2 && strings.HasPrefix(text[i:], "…"):
			gap()
			i += len("…")
		default:
			break scan
		}
	}
	b := pemBody{end: lastEnd, stop: i}
	if hasEnd {
		b.end, b.stop = endAt, endAt
	}
	if len(mat) == 0 {
		return b
	}
	// decodeB64(string(mat)) into the scratch buffer: mat holds only standard base64 and '='.
	src := bytes.TrimRight(mat, "=")
	if n := base64.RawStdEncoding.DecodedLen(len(src)); cap(sc.der) < n {
		sc.der = make([]byte, n)
	}
	der := sc.der[:base64.RawStdEncoding.DecodedLen(len(src))]
	n, err := base64.RawStdEncoding.Decode(der, src)
	if der = der[:n]; err == nil && len(der) >= 32 && derKeyOK(label, der, encrypted) {
		b.conf = 1
	} else if damagedKeyOK(label, mat, encrypted && dekInfo) {
		b.conf = damagedKeyConf
	}
	return b
}

// pemScratch holds scanPEMBody's buffers between calls: the base64 of a body and its DER.
// Nothing that derKeyOK or damagedKeyOK returns refers to them.
type pemScratch struct{ mat, der []byte }

var pemScratchPool = sync.Pool{New: func() any { return new(pemScratch) }}

// commentMarker: s begins with the comment marker m and a blank. (A line of base64 may begin
// with "//": the blank tells them apart.)
func commentMarker(s, m string) bool {
	return len(s) > len(m) && strings.HasPrefix(s, m) && (s[len(m)] == ' ' || s[len(m)] == '\t')
}

// padInside: a chunk has base64 padding ('=') before its end.
func padInside(c []byte) bool {
	for i := 0; i+1 < len(c); i++ {
		if c[i] == '=' && c[i+1] != '=' {
			return true
		}
	}
	return false
}

// pemLineEnd: c may follow a line of a PEM body in some rendering of it.
func pemLineEnd(c byte) bool {
	switch c {
	case '\n', '\r', ' ', '\t', '\\', '"', '\'', '`', ',', '.', ';', ')', ']', '-', '|', '*', '#', 0xe2:
		return true
	}
	return false
}

// escapedB64 decodes an escaped base64 character at i: "\/" (JSON may escape '/') or
// "\u002B"-style escapes of '+', '/' and '=' (some JSON encoders escape those), after any
// run of backslashes (JSON inside JSON).
func escapedB64(text string, i, limit int) (byte, bool) {
	k := i
	for k < limit && text[k] == '\\' {
		k++
	}
	if k == i || k >= limit {
		return 0, false
	}
	if text[k] == '/' {
		return '/', true
	}
	if text[k] != 'u' || k+5 > limit || text[k+1] != '0' || text[k+2] != '0' {
		return 0, false
	}
	hi, lo := unhex(text[k+3]), unhex(text[k+4])
	if hi < 0 || lo < 0 {
		return 0, false
	}
	b := byte(hi<<4 | lo)
	return b, b64stdEq[b]
}

// escapedB64Len is the length in text of the escape escapedB64 decoded at i.
func escapedB64Len(text string, i int) int {
	k := i
	for k < len(text) && text[k] == '\\' {
		k++
	}
	if text[k] == '/' {
		return k + 1 - i
	}
	return k + 5 - i
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// plusOperator: the '+' at i joins two string literals ("…\n" +), it is not base64: blanks or
// a quote on both sides.
func plusOperator(text string, i, limit int) bool {
	sep := func(c byte) bool {
		return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '`'
	}
	return i > 0 && sep(text[i-1]) && (i+1 >= limit || sep(text[i+1]))
}

// headerLine: an RFC 1421 header starts at i ("Proc-Type:", "DEK-Info:").
func headerLine(text string, i, limit int) bool {
	k := i
	for k < limit && k-i < 32 && (isLetterByte(text[k]) || text[k] == '-') {
		k++
	}
	return k-i >= 3 && k < limit && text[k] == ':'
}

// endFollows: after j, past blanks, quotes and escaped line breaks, comes an END line.
func endFollows(text string, j, limit int) bool {
	for k := j; k < limit && k-j < 16; k++ {
		switch text[k] {
		case ' ', '\t', '\r', '\n', '"', '\'', '\\', 'n':
			continue
		case '-':
			return strings.HasPrefix(text[k:], pemEnd)
		}
		return false
	}
	return false
}

// damagedKeyOK judges the base64 of a body that does not parse: a key's text (truncated,
// partly pasted, mangled) or documentation. A key's body begins as its structure begins and
// carries at least a PEM line of random-looking base64; documentation elides, masks or invents.
// Legacy encrypted PEM (Proc-Type and DEK-Info headers, checked by the caller) is ciphertext
// with no structure to see: its headers are the evidence.
func damagedKeyOK(label string, mat []byte, legacyEncrypted bool) bool {
	for len(mat) > 0 && mat[len(mat)-1] == '=' {
		mat = mat[:len(mat)-1]
	}
	if len(mat) < minKeyMaterial {
		return false
	}
	m := string(mat)
	if xMask(m) || consecutiveRun(m, 7) || sameRun(m, 16) || detectors.Entropy(m) < minKeyEntropy {
		return false
	}
	switch {
	case legacyEncrypted:
		return true
	case label == "OPENSSH PRIVATE KEY":
		return strings.HasPrefix(m, "b3BlbnNzaC1rZXktdjEA") // openssh-key-v1\0
	}
	head, ok := decodeB64(m[:8])
	return ok && derKeyHead(head)
}

// derKeyHead: b begins an ASN.1 DER SEQUENCE of at least 32 bytes whose first element is an
// INTEGER (the version of PKCS#1, SEC 1, DSA and PKCS#8 keys) or a SEQUENCE (the algorithm of
// an encrypted PKCS#8 key).
func derKeyHead(b []byte) bool {
	if len(b) < 6 || b[0] != 0x30 {
		return false
	}
	var first int
	switch l := b[1]; {
	case l >= 0x20 && l < 0x80:
		first = 2
	case l >= 0x81 && l <= 0x83:
		first = 2 + int(l&0x7f)
	default:
		return false
	}
	return b[first] == 0x02 || b[first] == 0x30
}

// sameRun: v holds n copies of one byte in a row.
func sameRun(v string, n int) bool {
	run := 1
	for i := 1; i < len(v); i++ {
		if v[i] == v[i-1] {
			run++
			if run >= n {
				return true
			}
		} else {
			run = 1
		}
	}
	return false
}

// pemLines splits an OpenPGP armor body into trimmed lines. Besides real newlines it accepts
// the escaped forms a key has inside a JSON string, an env var or a JSON body that carries such
// a string: "\n", "\\n", … (any run of backslashes before n or r).
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
// lengths) and OpenPGP armor (CRC-24 and a secret-key packet first). The body may be rendered
// as scanPEMBody reads it (escaped, indented, folded onto one line).
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
	if label == "PGP PRIVATE KEY BLOCK" {
		return pgpArmorOK(rest[le+5 : len(rest)-len(endLine)])
	}
	b := scanPEMBody(block, len(pemBegin)+le+5, label)
	return b.conf == 1 && b.end == len(block)
}

// derKeyOK parses a PEM body's DER as its label says (see PrivateKeyBlockOK).
func derKeyOK(label string, der []byte, encrypted bool) bool {
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
	if !derWholeSeq(der) {
		return false
	}
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

// derWholeSeq: b's header is a SEQUENCE's whose length is the rest of b. Without it,
// asn1.Unmarshal into a struct fails or leaves bytes over: a damaged or truncated body is
// rejected before reflection and big-number parsing.
func derWholeSeq(b []byte) bool {
	if len(b) < 2 || b[0] != 0x30 {
		return false
	}
	l, hdr := int(b[1]), 2
	if l >= 0x80 {
		n := l & 0x7f
		if n == 0 || n > 4 || len(b) < 2+n {
			return false // indefinite (not DER), longer than any key, or cut
		}
		l = 0
		for _, c := range b[2 : 2+n] {
			l = l<<8 | int(c)
		}
		hdr += n
	}
	return l == len(b)-hdr
}

var oidRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}

func pkcs8OK(der []byte) bool {
	if !derWholeSeq(der) {
		return false
	}
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
	if !derWholeSeq(der) {
		return false
	}
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
