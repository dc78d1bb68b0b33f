package secrets

import (
	"net/url"
	"strings"

	"github.com/customs-dev/customs/detectors"
)

// Cloud-provider credentials whose shape alone is not enough: AWS secret keys and session
// tokens, GCP service-account keys, Azure SAS signatures and AD client secrets.

// awsSecret finds 40-character AWS secret access keys next to their name
// (aws_secret_access_key, SecretAccessKey, …) or near an access key ID (AKIA…/ASIA…).
type awsSecret struct{ m detectors.Meta }

var _ detectors.Detector = (*awsSecret)(nil)

func (a *awsSecret) Meta() detectors.Meta { return a.m }

const awsSecretNear = 160 // bytes after an access key ID searched for its secret

func (a *awsSecret) Find(text string, hits []int, emit func(detectors.Match)) {
	last := 0 // end of the last report: a name or ID before it has had its value
	for _, h := range hits {
		if h < last || h >= len(text) {
			continue
		}
		var from, to int
		conf, nearID := 0.9, false
		if c := text[h]; c == 'A' || c == 'a' {
			if strings.HasPrefix(text[h:], "AKIA") || strings.HasPrefix(text[h:], "ASIA") {
				// An access key ID: its secret is usually on a neighbouring line.
				e := h + 20
				if !leftOK(text, h) || e > len(text) || !rightOK(text, e, base32U) || !allIn(text[h+4:e], base32U) {
					continue
				}
				// After it, either right next to it (CSV, "id:secret") or after the word "secret".
				from, to, conf = e, min(len(text), e+awsSecretNear), 0.85
				nearID = true
			} else if strings.HasPrefix(strings.ToLower(text[h:min(len(text), h+10)]), "aws_secret") {
				from, to = identEnd(text, h), min(len(text), identEnd(text, h)+80)
			} else {
				continue
			}
		} else {
			// secret_access_key, SecretAccessKey, "secret access key": the value follows.
			from = identEnd(text, h)
			if text[h] == 's' || text[h] == 'S' {
				if strings.HasPrefix(strings.ToLower(text[h:min(len(text), h+18)]), "secret access key") {
					from = h + 17
				}
			}
			to = min(len(text), from+80)
		}
		for i := from; i < to; i++ {
			if !b64std[text[i]] || i > 0 && (b64std[text[i-1]] && !escBefore(text, i) || wordBefore(text, i)) || escBefore(text, i+1) {
				continue
			}
			j := i
			for j < len(text) && j-i <= 40 && b64std[text[j]] {
				j++
			}
			if j-i == 40 && rightOK(text, j, b64stdEq) && awsSecretShape(text[i:j]) {
				if nearID && i-from > 12 && !strings.Contains(strings.ToLower(text[from:i]), "secret") {
					break // some other 40-character value further on
				}
				emit(detectors.Match{Start: i, End: j, Confidence: conf})
				last = j
				break
			}
			i = j
		}
	}
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
// with "type": "service_account" whose "private_key" is a PKCS#8 PEM block that parses.
type gcpServiceAccount struct{ m detectors.Meta }

var _ detectors.Detector = (*gcpServiceAccount)(nil)

func (g *gcpServiceAccount) Meta() detectors.Meta { return g.m }

const gcpWindow = 4096

func (g *gcpServiceAccount) Find(text string, hits []int, emit func(detectors.Match)) {
	const begin, end = "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----"
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
			j := strings.Index(text[s+len(begin):min(len(text), s+maxPEMBlock)], end)
			if j < 0 {
				break
			}
			e := s + len(begin) + j + len(end)
			if inGCPServiceAccount(text, s, e) && PrivateKeyBlockOK(text[s:e]) {
				emit(detectors.Match{Start: s, End: e, Confidence: 1})
			}
			s, done = e, e // a BEGIN inside a failed block is not retried: linear time
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
