package corpusgen

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus from the generator")

const corpusDir = "../../../testdata/corpus"

// The committed corpus is exactly what the generator produces with the default seed: it cannot
// drift from the code that documents how it was made.
func TestCommittedCorpusIsGenerated(t *testing.T) {
	c := Generate(DefaultSeed, DefaultDocs)
	if *update {
		if err := c.WriteDir(corpusDir); err != nil {
			t.Fatal(err)
		}
	}
	var docs, labels bytes.Buffer
	if err := c.Encode(&docs, &labels); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name string
		want []byte
	}{{DocsFile, docs.Bytes()}, {LabelsFile, labels.Bytes()}} {
		got, err := os.ReadFile(filepath.Join(corpusDir, f.name))
		if err != nil {
			t.Fatalf("%v (regenerate: go run ./detectors/internal/corpusgen/cmd -out testdata/corpus)", err)
		}
		if !bytes.Equal(got, f.want) {
			t.Errorf("%s differs from the generator's output (%d bytes committed, %d generated); regenerate with go run ./detectors/internal/corpusgen/cmd -out testdata/corpus, or go test ./detectors/internal/corpusgen -update", f.name, len(got), len(f.want))
		}
	}
	if _, err := ReadDir(corpusDir); err != nil {
		t.Error(err)
	}
}

func TestDeterministic(t *testing.T) {
	a, b := Generate(7, 60), Generate(7, 60)
	var ad, al, bd, bl bytes.Buffer
	_ = a.Encode(&ad, &al)
	_ = b.Encode(&bd, &bl)
	if !bytes.Equal(ad.Bytes(), bd.Bytes()) || !bytes.Equal(al.Bytes(), bl.Bytes()) {
		t.Fatal("same seed, different corpus")
	}
	c := Generate(8, 60)
	if c.Docs[0].Text == a.Docs[0].Text {
		t.Error("different seeds, same first document")
	}
}

// GitHub's published format, checked against tokens that other scanners' tests treat as valid
// (google/osv-scalibr veles/secrets/github/token): CRC-32 of everything between the prefix and
// the last six characters, in base 62.
func TestBase62CRC32Vectors(t *testing.T) {
	for _, tc := range []struct {
		tok  string
		want bool
	}{
		{"gh" + "u_aGgfQsQ52sImE9zwWxKcjt2nhESfYG1U2FhX", true},
		{"gh" + "r_OWOCPzqKuy3J4w53QpkLfffjBUJSh5yLnFHj7wiyR0NDadVOcykNkoqhoYYXM1yy2sOpAu0lG8fw", true},
		{"gh" + "r_OWOCPzqKuy3J4w53QpkLfffjBUJSh5yLnFHj7wiyR0NDadVOcykNkoqhoYYXM1yy2sOpAu0lG1fw", false},
	} {
		body := tc.tok[4 : len(tc.tok)-6]
		if got := Base62CRC32(body) == tc.tok[len(tc.tok)-6:]; got != tc.want {
			t.Errorf("%s: checksum valid = %v, want %v", tc.tok, got, tc.want)
		}
	}
}

func TestNationalIDVectors(t *testing.T) {
	// Published examples: Agenzia delle Entrate's RSSMRA85T10A562S, the Bundeszentralamt's
	// 86095742719, a Dutch BSN 111222333, the Spanish ministry's 12345678Z.
	if c := CodiceFiscaleCheck("RSSMRA85T10A562"); c != 'S' {
		t.Errorf("codice fiscale check = %c, want S", c)
	}
	if c := mod1110("8609574271"); c != 9 {
		t.Errorf("Steuer-ID check = %d, want 9", c)
	}
	if dniLetters[12345678%23] != 'Z' {
		t.Error("DNI letter")
	}
	if !LuhnValid("4111111111111111") || LuhnValid("4111111111111112") {
		t.Error("Luhn")
	}
	if IBANMod97("GB82WEST12345698765432") != 1 || IBANMod97("DE89370400440532013000") != 1 {
		t.Error("IBAN mod 97")
	}
}

// Every label holds what it claims: positives satisfy their format's rules and decoys break
// them (so a detector finding a decoy is wrong, not the corpus).
func TestLabelsFollowFormatRules(t *testing.T) {
	c := Generate(DefaultSeed, 400)
	digitsOnly := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
	}
	compact := func(s string) string { return strings.ReplaceAll(s, " ", "") }
	ssnOK := regexp.MustCompile(`^(\d{3})-(\d{2})-(\d{4})$`)
	counts := map[string]int{}
	for _, l := range c.Labels {
		v := c.Docs[l.Doc].Text[l.Start:l.End]
		name := l.Detector + l.Decoy
		counts[name]++
		fail := func(why string) { t.Errorf("doc %d %s %q: %s", l.Doc, name, v, why) }
		if l.Encoding != "" {
			continue
		}
		switch name {
		case idGitHubClassic, idGitHubOAuth, idGitHubU2S, idGitHubS2S, idGitHubRefresh, idNPM:
			if Base62CRC32(v[4:len(v)-6]) != v[len(v)-6:] {
				fail("bad checksum")
			}
		case "github-bad-checksum", "npm-bad-checksum":
			if Base62CRC32(v[4:len(v)-6]) == v[len(v)-6:] {
				fail("checksum is valid")
			}
		case idCard:
			if !LuhnValid(digitsOnly(v)) {
				fail("Luhn")
			}
		case "card-luhn-invalid":
			if LuhnValid(digitsOnly(v)) {
				fail("Luhn-valid")
			}
		case idIBAN:
			if IBANMod97(compact(v)) != 1 {
				fail("mod 97")
			}
		case "iban-bad-checksum":
			if IBANMod97(compact(v)) == 1 {
				fail("mod 97 valid")
			}
		case idSSN, "ssn-invalid":
			m := ssnOK.FindStringSubmatch(v)
			if m == nil {
				fail("shape")
				continue
			}
			area, _ := strconv.Atoi(m[1])
			valid := area != 0 && area != 666 && area < 900 && m[2] != "00" && m[3] != "0000"
			if valid != (name == idSSN) {
				fail("validity")
			}
		case idBSN, "bsn-bad-check":
			sum := 0
			for i := 0; i < 8; i++ {
				sum += (9 - i) * int(v[i]-'0')
			}
			if ((sum-int(v[8]-'0'))%11 == 0) != (name == idBSN) {
				fail("eleven-test")
			}
		case idCodiceFiscale, "codice-fiscale-bad-check":
			if (CodiceFiscaleCheck(v) == v[15]) != (name == idCodiceFiscale) {
				fail("check character")
			}
		case idSteuerID, "steuer-id-bad-check":
			d := compact(v)
			if (mod1110(d[:10]) == int(d[10]-'0')) != (name == idSteuerID) {
				fail("check digit")
			}
		case idPrivateKey, idPGPKey:
			if checkKey(t, l.Doc, v) {
				counts["parsed-key"]++
			} else {
				counts["damaged-key"]++
			}
		case idJWT:
			h, err := base64.RawURLEncoding.DecodeString(v[:strings.IndexByte(v, '.')])
			var hdr map[string]any
			if err != nil || json.Unmarshal(h, &hdr) != nil || hdr["alg"] == nil {
				fail("header is not JSON with alg")
			}
		}
	}
	for _, want := range []string{idCard, idIBAN, idGitHubClassic, idPrivateKey, "card-luhn-invalid", "iban-bad-checksum", "github-bad-checksum", idSSN, "ssn-invalid",
		"parsed-key", "damaged-key", "private-key-placeholder", "masked-secret"} {
		if counts[want] == 0 {
			t.Errorf("no %s labels in 400 documents", want)
		}
	}
}

// checkKey parses a planted private key as it appears in the text (indented, quoted in an
// e-mail, folded onto one line, or with \n escapes in JSON) after undoing those renderings. A
// damaged key (cut short, lines left out, a character mistyped: issue 14) need not parse, but
// must still be a key's text: the BEGIN line of a private key and a body that begins as that
// key type begins (a DER SEQUENCE, the openssh-key-v1 magic) with a 64-character line of it
// or more. It reports whether the key parsed.
func checkKey(t *testing.T, doc int, v string) bool {
	t.Helper()
	s := strings.ReplaceAll(strings.ReplaceAll(v, `\\n`, "\n"), `\n`, "\n")
	bi := strings.Index(s, "-----BEGIN ")
	if bi < 0 {
		t.Errorf("doc %d: key without a BEGIN line: %.80q", doc, v)
		return false
	}
	rest := s[bi+len("-----BEGIN "):]
	le := strings.Index(rest, "-----")
	if le < 0 {
		t.Errorf("doc %d: key without a BEGIN line: %.80q", doc, v)
		return false
	}
	label, body := rest[:le], rest[le+5:]
	hasEnd := false
	if ei := strings.Index(body, "-----END "+label+"-----"); ei >= 0 {
		body, hasEnd = body[:ei], true
	}
	if label == "PGP PRIVATE KEY BLOCK" {
		if !hasEnd {
			t.Errorf("doc %d: armored key without an end line", doc)
		}
		return true
	}
	if !strings.HasSuffix(label, "PRIVATE KEY") {
		t.Errorf("doc %d: not a private key: %s", doc, label)
		return false
	}
	// The base64, with line breaks, blanks, e-mail quote marks and elision marks taken out.
	for _, mark := range []string{"(truncated)", "[...]", "...", "…", "> "} {
		body = strings.ReplaceAll(body, mark, " ")
	}
	mat := strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '/' || r == '=' {
			return r
		}
		return -1
	}, body)
	if der, err := base64.StdEncoding.DecodeString(mat); err == nil && hasEnd {
		switch label {
		case "RSA PRIVATE KEY":
			_, err = x509.ParsePKCS1PrivateKey(der)
		case "EC PRIVATE KEY":
			_, err = x509.ParseECPrivateKey(der)
		case "PRIVATE KEY":
			_, err = x509.ParsePKCS8PrivateKey(der)
		case "ENCRYPTED PRIVATE KEY":
			// Only the ASN.1 container is checked; the password is not kept.
			var raw asn1.RawValue
			_, err = asn1.Unmarshal(der, &raw)
		case "OPENSSH PRIVATE KEY":
			if !bytes.HasPrefix(der, []byte("openssh-key-v1\x00")) {
				err = errors.New("no openssh-key-v1 magic")
			}
		default:
			t.Errorf("doc %d: unexpected PEM type %s", doc, label)
		}
		if err == nil {
			return true
		}
	}
	// Damaged.
	head, err := base64.StdEncoding.DecodeString(mat[:min(len(mat), 8)])
	if len(mat) < 64 || err != nil || len(head) == 0 || !(head[0] == 0x30 || strings.HasPrefix(mat, "b3BlbnNzaC1rZXktdjEA")) {
		t.Errorf("doc %d: %s is neither a key that parses nor a line or more of one: %.120q", doc, label, v)
	}
	return false
}

func TestPromptSize(t *testing.T) {
	g := New(1)
	for range 20 {
		p, ls := g.Prompt(4096, 2)
		if len(p) != 4096 {
			t.Fatalf("prompt is %d bytes", len(p))
		}
		n := 0
		for _, l := range ls {
			if strings.HasPrefix(l.Detector, "secret.") {
				n++
			}
			if l.End > len(p) {
				t.Fatalf("label %+v beyond the prompt", l)
			}
		}
		if n < 2 {
			t.Fatalf("prompt carries %d secrets", n)
		}
	}
}
