package secrets

import (
	"encoding/base64"
	"net/url"
	"strings"

	"github.com/customs-dev/customs/detectors"
)

// Cloud-provider credentials whose shape alone is not enough: AWS secret keys and session
// tokens, GCP service-account keys, Azure SAS signatures and AD client secrets.

// awsSecret finds 40-character AWS secret access keys after a name that says so, in any
// spelling — aws_secret_access_key, SecretAccessKey, awsSecretKey, AWS_SECRET, aws.secret-key,
// "the AWS secret key is …" — or near an access key ID (AKIA…/ASIA…). The value may also be
// stored base64-encoded under its name, as a Kubernetes Secret's data holds it.
type awsSecret struct{ m detectors.Meta }

var _ detectors.Detector = (*awsSecret)(nil)

func (a *awsSecret) Meta() detectors.Meta { return a.m }

const awsSecretNear = 160 // bytes after an access key ID searched for its secret

var awsSecretLen = []int{40}

func (a *awsSecret) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0 // end of the last report: a name or ID before it has had its value
	for _, h := range hits {
		if h < last || h >= len(text) {
			continue
		}
		var from, to int
		conf, nearID := 0.9, false
		if strings.HasPrefix(text[h:], "AKIA") || strings.HasPrefix(text[h:], "ASIA") {
			// An access key ID: its secret is usually on a neighbouring line.
			e := h + 20
			if !leftOK(text, h) || e > len(text) || !rightOK(text, e, base32U) || !allIn(text[h+4:e], base32U) {
				continue
			}
			// After it, either right next to it (CSV, "id:secret") or after the word "secret".
			from, to, conf = e, min(len(text), e+awsSecretNear), 0.85
			nearID = true
		} else {
			var ok bool
			if from, ok = awsSecretName(text, h); !ok {
				continue
			}
			to = min(len(text), from+80)
		}
		onlySep := true // after a name: nothing but separators yet, so the value may be on the next line
		for i := from; i < to; i++ {
			if !nearID {
				if text[i] == '\n' {
					if !onlySep {
						break // the value belongs on its name's line
					}
					onlySep = false
				} else if onlySep && strings.IndexByte(" \t\r:=\"'{[", text[i]) < 0 {
					onlySep = false
				}
			}
			if !b64std[text[i]] || i > 0 && (b64std[text[i-1]] && !escBefore(text, i) || wordBefore(text, i)) || escBefore(text, i+1) {
				continue
			}
			j := i
			for j < len(text) && j-i <= 40 && b64std[text[j]] {
				j++
			}
			vs, ve, vconf := i, j, conf
			ok := j-i == 40 && rightOK(text, j, b64stdEq) && awsSecretShape(text[i:j])
			if !ok && j-i > 40 && !nearID {
				// Longer: the key base64-encoded under its name (a Kubernetes Secret's data).
				if v, e, dec := encodedValue(text, i, awsSecretLen); dec && len(v) == 40 && allIn(v, b64std) && awsSecretShape(v) {
					ve, vconf, ok = e, conf-0.05, true
				}
			}
			if ok {
				if nearID && i-from > 12 && !containsFold(text[from:i], "secret") {
					break // some other 40-character value further on
				}
				emit(detectors.Match{Start: vs, End: ve, Confidence: vconf})
				last = ve
				break
			}
			i = j
		}
	}
}

// awsSecretName reports whether the keyword hit at h begins a name for an AWS secret access
// key, and where its value may start. Such a name is an identifier that holds the sub-word
// "aws" followed by "secret" (awsSecretKey, AWS_SECRET, aws.credentials.secret-key,
// AWSSecretKey, MY_AWS_SECRET), or "secret" and "access key" (SecretAccessKey,
// secret_access_key); or, in prose, the word "AWS" with the word "secret" a few words after it
// ("the AWS secret key is …", "AWS account's secret: …"), or "secret access key". Names of things
// about the key (aws_secret_name, AWS_SECRET_ARN, awsSecretId, AWS_SECRET_ACCESS_KEY_FILE) and
// of Secrets Manager are not.
//
// The spelling is left open on purpose: the generic detectors leave every name that mentions
// AWS to this one (ownedNames), so a spelling this one did not know was reported by neither.
// The hits are "aws" rather than "secret", which prompts use far more often for other things.
func awsSecretName(text string, h int) (int, bool) {
	s := h
	for s > 0 && h-s < maxIdent && isIdentByte(text[s-1]) && !escBefore(text, s) { // "\nawsSecretKey" in JSON
		s--
	}
	e := h
	for e < len(text) && e-h < maxIdent && isIdentByte(text[e]) {
		e++
	}
	for e > h && text[e-1] == '.' { // a sentence's full stop
		e--
	}
	if awsAt(text, h) {
		// "aws" must start a sub-word (not laws, draws) and not run on into a lower-case word
		// other than "secret" (awssecretkey).
		if h > 0 && isLetterByte(text[h-1]) && !escBefore(text, h) && !(text[h-1] >= 'a' && text[h-1] <= 'z' && text[h] == 'A') {
			return 0, false
		}
		if a := h + 3; a < len(text) && text[a] >= 'a' && text[a] <= 'z' && !hasFoldPrefix(text[a:], "secret") {
			return 0, false
		}
		if k := indexFold(text[h+3:e], "secret"); k >= 0 {
			name := text[s:e]
			if nonSecretName(name) || containsFold(name, "secretsmanager") || containsFold(name, "secretmanager") {
				return 0, false
			}
			return e, true
		}
		if e-h != 3 && !(e-h == 5 && hasFoldPrefix(text[h+3:e], "'s")) {
			return 0, false // aws_access_key_id, awscli
		}
		return awsProse(text, e)
	}
	// secret_access_key, secretaccesskey, secret-access-key, "secret access key" (or a hit of
	// "akia" or "asia" that is no key ID: Asia).
	if !hasFoldPrefix(text[h:], "secret") || h+len("secret") >= len(text) {
		return 0, false
	}
	if text[h+len("secret")] == ' ' {
		return h + len("secret access key"), true
	}
	return e, !nonSecretName(text[s:e])
}

// awsProse: after the word "AWS" ending at e, the word "secret" comes within a few words on
// the same line (words, blanks, hyphens and apostrophes between); its end is where the value
// may start.
func awsProse(text string, e int) (int, bool) {
	lim := min(len(text), e+40)
	for i := e; i < lim; i++ {
		c := text[i]
		if !(isWord(c) || c == ' ' || c == '-' || c == '\'' || c == '\t') || escBefore(text, i+1) {
			return 0, false
		}
		if c|0x20 == 's' && !isWord(text[i-1]) && hasFoldPrefix(text[i:], "secret") {
			if j := i + len("secret"); j >= len(text) || !isWord(text[j]) { // not "secrets"
				return j, true
			}
			return 0, false
		}
	}
	return 0, false
}

// indexFold returns the index of the lower-case ASCII sub in s, ignoring case, or -1.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i]|0x20 == sub[0] && hasFoldPrefix(s[i:], sub) {
			return i
		}
	}
	return -1
}

// lastSubword is the end of name after its last '_', '-', '.' or lower-to-upper case change
// (token_created_ns → ns, tokenExpiresAt → At).
func lastSubword(name string) string {
	i := len(name)
	for i > 0 {
		c := name[i-1]
		if c == '_' || c == '-' || c == '.' || i < len(name) && c >= 'a' && c <= 'z' && name[i] >= 'A' && name[i] <= 'Z' {
			break
		}
		i--
	}
	return name[i:]
}

// nonSecretName: the last sub-word of name says it holds something about a credential, not
// the credential (see nonSecretSuffix). It lower-cases into a buffer: no allocation.
func nonSecretName(name string) bool {
	var buf [32]byte
	w := lastSubword(name)
	if len(w) > len(buf) {
		return false
	}
	for k := 0; k < len(w); k++ {
		c := w[k]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[k] = c
	}
	return nonSecretSuffix[string(buf[:len(w)])]
}

// awsAt: s[i:] begins with "aws" in any case. (Bytes | 0x20 equal to a lower-case letter are
// that letter in either case.)
func awsAt(s string, i int) bool {
	return i+3 <= len(s) && s[i]|0x20 == 'a' && s[i+1]|0x20 == 'w' && s[i+2]|0x20 == 's'
}

// containsFold reports whether s contains the lower-case ASCII sub, ignoring case, without
// allocating.
func containsFold(s, sub string) bool { return indexFold(s, sub) >= 0 }

// encodedValue reads the run of standard base64 (padding optional) at i as a value stored
// encoded under its name — a Kubernetes Secret's data, a base64 environment variable — and
// returns the decoded value (without the line break that "echo … | base64" adds) and the end of
// the run. Only runs as long as the encoding of a value of one of lengths are decoded, and the
// value must be printable ASCII.
func encodedValue(text string, i int, lengths []int) (string, int, bool) {
	encMax := (maxInt(lengths) + 2 + 2) / 3 * 4 // + "\r\n"
	j := i
	for j < len(text) && j-i <= encMax && b64stdEq[text[j]] {
		j++
	}
	if n := j - i; n > encMax || !rightOK(text, j, b64stdEq) || !encodedLength(n, lengths) {
		return "", 0, false
	}
	b, ok := decodeB64(text[i:j])
	if !ok {
		return "", 0, false
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	for k := 0; k < len(v); k++ {
		if v[k] < 0x21 || v[k] > 0x7e {
			return "", 0, false
		}
	}
	return v, j, true
}

// encodedLength: n is the length of the base64 (padded or not) of a value of one of lengths,
// with or without a trailing line break ("\n" or "\r\n").
func encodedLength(n int, lengths []int) bool {
	for _, l := range lengths {
		for _, m := range []int{l, l + 1, l + 2} {
			if n == (m+2)/3*4 || n == (4*m+2)/3 {
				return true
			}
		}
	}
	return false
}

func allIn(s string, c *charset) bool {
	for i := 0; i < len(s); i++ {
		if !c[s[i]] {
			return false
		}
	}
	return true
}

// awsSecretShape: 40 base64 characters that look random (not a hex digest, not a word run,
// not a documentation key).
func awsSecretShape(v string) bool {
	l, u, d, _ := classes(v)
	return l && u && d && !placeholder(v) && detectors.Entropy(v) >= 4.2
}

// awsSession finds AWS STS session tokens: their base64 starts with a fixed serialization
// header (FwoGZXIvYXdz…, IQoJb3JpZ2lu…, older AQoDYXdz…), or they follow aws_session_token.
type awsSession struct{ m detectors.Meta }

var _ detectors.Detector = (*awsSession)(nil)

func (a *awsSession) Meta() detectors.Meta { return a.m }

var awsSessionPrefixes = []string{"FwoGZXIvYXdz", "IQoJb3JpZ2lu", "AQoDYXdz"}

func (a *awsSession) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < last || h >= len(text) {
			continue
		}
		var from, to int
		anyValue := false
		switch {
		case hasAnyPrefix(text[h:], awsSessionPrefixes):
			from, to = h, h+1
		case hasFoldPrefix(text[h:], "sessiontoken"):
			from = identEnd(text, h)
			to = min(len(text), from+40)
		case hasFoldPrefix(text[h:], "aws_session_token") || hasFoldPrefix(text[h:], "aws_security_token") || hasFoldPrefix(text[h:], "x-amz-security-token"):
			// Only an AWS-specific name vouches for a value without the STS header.
			from = identEnd(text, h)
			to = min(len(text), from+40)
			anyValue = true
		default:
			continue
		}
		for i := from; i < to; i++ {
			if !b64std[text[i]] || i > 0 && (b64std[text[i-1]] && !escBefore(text, i) || wordBefore(text, i)) || escBefore(text, i+1) {
				continue
			}
			j := i
			for j < len(text) && j-i < 4096 && b64stdEq[text[j]] {
				j++
			}
			last = j // hits inside this run are the same candidate
			v := text[i:j]
			if j-i >= 100 && (anyValue || hasAnyPrefix(v, awsSessionPrefixes)) && rightOK(text, j, b64stdEq) &&
				!strings.Contains(strings.ToUpper(v), "EXAMPLE") && detectors.Entropy(v) >= 4.5 {
				// (Real STS tokens contain runs of '/', so the repeated-character placeholder rule
				// does not apply here; AWS's documentation tokens say EXAMPLE.)
				emit(detectors.Match{Start: i, End: j, Confidence: 1})
			}
			break
		}
	}
}

func hasAnyPrefix(s string, ps []string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// gcpServiceAccount reports the private key of a GCP service-account key file: a JSON object
// with "type": "service_account" whose "private_key" is a PKCS#8 PEM block — at confidence 1
// when it parses, lower when it is a damaged key (see scanPEMBody).
type gcpServiceAccount struct{ m detectors.Meta }

var _ detectors.Detector = (*gcpServiceAccount)(nil)

func (g *gcpServiceAccount) Meta() detectors.Meta { return g.m }

const gcpWindow = 4096

func (g *gcpServiceAccount) Find(text string, hits []int, emit func(detectors.Match)) {
	const begin = "-----BEGIN PRIVATE KEY-----"
	last, done := 0, 0 // done: text before it has been looked at for keys
	for _, h := range hits {
		if h < 0 || h >= len(text) {
			continue
		}
		if h < last {
			continue
		}
		last = h + gcpWindow/2
		s, wEnd := max(done, h-gcpWindow), min(len(text), h+gcpWindow)
		for s < wEnd {
			i := strings.Index(text[s:wEnd], begin)
			if i < 0 {
				break
			}
			s += i
			if !gcpKeyBefore(text, s) {
				// Not a "private_key" value: no need to read the block. The next BEGIN is past
				// its body anyway (a body stops at a '-' that starts no comment marker).
				s += len(begin)
				done = s
				continue
			}
			b := scanPEMBody(text, s+len(begin), "PRIVATE KEY")
			if b.conf > 0 && inGCPServiceAccount(text, s, b.end) {
				emit(detectors.Match{Start: s, End: b.end, Confidence: b.conf})
			}
			s = b.stop // a BEGIN inside a body that was read is not retried: linear time
			done = s
		}
	}
}

// azureSAS finds the signature of an Azure shared access signature: sig=… (URL-encoded base64
// of an HMAC-SHA256, 32 bytes) in a query string that also carries sv= and se= or sp=.
type azureSAS struct{ m detectors.Meta }

var _ detectors.Detector = (*azureSAS)(nil)

func (a *azureSAS) Meta() detectors.Meta { return a.m }

var sasValue = cs("A-Za-z0-9%+/=")

func (a *azureSAS) Find(text string, hits []int, emit func(detectors.Match)) {
	for _, h := range hits {
		if h < 0 || h >= len(text) {
			continue
		}
		if h+4 > len(text) || text[h:h+4] != "sig=" || h > 0 && (wordBefore(text, h) || text[h-1] == '-') {
			continue
		}
		s := h + 4
		j := s
		for j < len(text) && j-s < 128 && sasValue[text[j]] {
			j++
		}
		if j-s < 43 || j-s > 120 || j < len(text) && isWord(text[j]) {
			continue
		}
		raw, err := url.PathUnescape(text[s:j])
		if err != nil || !base64Len(raw, 32) {
			continue
		}
		q := text[max(0, h-400):min(len(text), j+400)]
		if !strings.Contains(q, "sv=") || !strings.Contains(q, "se=") && !strings.Contains(q, "sp=") {
			continue
		}
		emit(detectors.Match{Start: s, End: j, Confidence: 1})
	}
}

// azureADSecret finds Azure AD (Entra ID) client secrets: three characters, a digit, "Q~",
// then 31–34 characters (40 in all). Keywords are the digit and "q~".
type azureADSecret struct{ m detectors.Meta }

var _ detectors.Detector = (*azureADSecret)(nil)

func (a *azureADSecret) Meta() detectors.Meta { return a.m }

var (
	adHead = cs("A-Za-z0-9_~.")
	adTail = cs("A-Za-z0-9_~.-")
)

func (a *azureADSecret) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < 0 || h >= len(text) {
			continue
		}
		s := h - 3
		if s < last || s < 0 || h+3 > len(text) || text[h+1] != 'Q' || text[h+2] != '~' {
			continue
		}
		if !allIn(text[s:h], adHead) || s > 0 && (adTail[text[s-1]] || isWord(text[s-1])) && !escBefore(text, s) {
			continue
		}
		b := h + 3
		j := b
		for j < len(text) && j-b <= 36 && adTail[text[j]] {
			j++
		}
		for j-b > 34 && text[j-1] == '.' { // a sentence's full stop
			j--
		}
		if n := j - b; n < 31 || n > 34 || j < len(text) && isWord(text[j]) {
			continue
		}
		v := text[s:j]
		l, u, d, _ := classes(v)
		if !(l && u && d) || placeholder(v) || detectors.Entropy(v) < 3.8 {
			continue
		}
		emit(detectors.Match{Start: s, End: j, Confidence: 0.9})
		last = j
	}
}

// bedrockKey finds Amazon Bedrock API keys, both kinds, by their structure (BedrockKeyOK).
type bedrockKey struct{ m detectors.Meta }

var _ detectors.Detector = (*bedrockKey)(nil)

func (b *bedrockKey) Meta() detectors.Meta { return b.m }

const (
	bedrockLongPrefix  = "ABSK"
	bedrockShortPrefix = "bedrock-api-key-"
)

func (b *bedrockKey) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0
	for _, h := range hits {
		if h < last || h >= len(text) {
			continue
		}
		from := h
		switch {
		case strings.HasPrefix(text[h:], bedrockLongPrefix):
			from += len(bedrockLongPrefix)
			if h > 0 && b64std[text[h-1]] {
				continue // inside a longer base64 run
			}
		case strings.HasPrefix(text[h:], bedrockShortPrefix):
			from += len(bedrockShortPrefix)
		default:
			continue
		}
		if !leftOK(text, h) {
			continue
		}
		j := from
		for j < len(text) && j-from < 8192 && b64stdEq[text[j]] {
			j++
		}
		last = j
		if !rightOK(text, j, b64stdEq) {
			continue
		}
		switch v := text[h:j]; {
		case BedrockKeyOK(v):
			emit(detectors.Match{Start: h, End: j, Confidence: 1})
		case bedrockConsoleShape(v):
			emit(detectors.Match{Start: h, End: j, Confidence: 0.8})
		}
	}
}

// bedrockConsolePrefix is "ABSK" and the base64 of "BedrockAPIKey-", the name the console gives
// the key's IAM user.
const bedrockConsolePrefix = "ABSKQmVkcm9ja0FQSUtleS"

// bedrockConsoleShape accepts a long-term key of a console-made user by its shape when its
// decoded credential is not as BedrockKeyOK expects: the prefix is the key's alone, so
// base64 characters of a key's length after it are reported, at lower confidence.
func bedrockConsoleShape(v string) bool {
	body := v[len(bedrockLongPrefix):]
	if !strings.HasPrefix(v, bedrockConsolePrefix) || len(body) < 100 || len(body) > 300 {
		return false
	}
	// A body that does not decode (a character lost or added in a copy) is still the key's:
	// the prefix says so.
	rest := v[len(bedrockConsolePrefix):]
	return detectors.Entropy(rest) >= 4 && !detectors.IsPlaceholder(rest) && !strings.Contains(strings.ToUpper(rest), "EXAMPLE")
}

// BedrockKeyOK reports whether tok has the structure of an Amazon Bedrock API key. A long-term
// key is "ABSK" and the base64 of an IAM service-specific credential, "<user>-at-<12-digit
// account>:<password>" (the console's users are named BedrockAPIKey-xxxx). A short-term key is
// "bedrock-api-key-" and the base64 of a SigV4-presigned URL,
// "bedrock.amazonaws.com/?Action=CallWithBearerToken&…X-Amz-Signature=…". A prefix alone, or
// random characters after it, carries no credential.
func BedrockKeyOK(tok string) bool {
	var body string
	long := strings.HasPrefix(tok, bedrockLongPrefix)
	switch {
	case long:
		body = tok[len(bedrockLongPrefix):]
	case strings.HasPrefix(tok, bedrockShortPrefix):
		body = tok[len(bedrockShortPrefix):]
	default:
		return false
	}
	if len(body) < 24 || len(body) > 8192 {
		return false
	}
	dec, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(body, "="))
	if err != nil {
		return false
	}
	s := string(dec)
	for k := 0; k < len(s); k++ {
		if s[k] < 0x21 || s[k] > 0x7e {
			return false // printable ASCII without spaces, in both kinds
		}
	}
	if !long {
		return strings.HasPrefix(s, "bedrock.amazonaws.com/?Action=CallWithBearerToken") &&
			strings.Contains(s, "X-Amz-Credential=") && strings.Contains(s, "X-Amz-Signature=")
	}
	at := strings.Index(s, "-at-")
	if at < 1 || len(s) < at+4+12+1 {
		return false
	}
	acct := s[at+4 : at+16]
	for k := 0; k < len(acct); k++ {
		if acct[k] < '0' || acct[k] > '9' {
			return false
		}
	}
	pw := s[at+17:]
	return s[at+16] == ':' && len(pw) >= 20 && detectors.Entropy(pw) >= 3.5 && !detectors.IsPlaceholder(pw)
}
