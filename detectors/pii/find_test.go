package pii

import (
	"fmt"
	"github.com/customs-dev/customs/internal/lineartime"
	"strings"
	"testing"

	"github.com/customs-dev/customs/detectors"
)

func byID(t testing.TB, id string) detectors.Detector {
	t.Helper()
	ds, err := Detectors()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Meta().ID == id {
			return d
		}
	}
	t.Fatalf("no detector %s", id)
	return nil
}

// values returns the matched values of one detector in text.
func values(t testing.TB, id, text string) []string {
	var vs []string
	for _, m := range scan(t, byID(t, id), text) {
		vs = append(vs, text[m.Start:m.End])
	}
	return vs
}

func TestFind(t *testing.T) {
	cases := []struct {
		id, text string
		want     []string // exact values, in order; nil: nothing
	}{
		// Cards
		{"pii.card", "visa 4539 1488 0343 6467, mc 5148-2396-6992-5626.", []string{"4539 1488 0343 6467", "5148-2396-6992-5626"}},
		{"pii.card", "pay 4539148803436467 now", []string{"4539148803436467"}},
		{"pii.card", "4539 1488 0343 6467 12 items", []string{"4539 1488 0343 6467"}},
		{"pii.card", "Amex 3785 753508 34375", []string{"3785 753508 34375"}},
		{"pii.card", "Diners 3685 496676 3508", []string{"3685 496676 3508"}},
		{"pii.card", "5555555555554444 is Stripe's test Mastercard", nil},
		{"pii.card", "4000 0000 0000 0002", nil},
		{"pii.card", "card 4539-1488 0343-6467", nil}, // mixed separators
		{"pii.card", "card 4539  1488  0343  6467", nil},
		{"pii.card", "id=x4539148803436467", nil},
		{"pii.card", "1.4539148803436467", nil},
		{"pii.card", "call 4539148803436467-9", nil},
		{"pii.card", "6011226698378408", []string{"6011226698378408"}},
		{"pii.card", "2720479814875358", []string{"2720479814875358"}},
		{"pii.card", "build 20240615123045672", nil},
		// IBAN
		{"pii.iban", "to DE75 5121 0800 1245 1261 99.", []string{"DE75 5121 0800 1245 1261 99"}},
		{"pii.iban", "(GB08BARC20037841234567)", []string{"GB08BARC20037841234567"}},
		{"pii.iban", "DE75 5121 0800 1245126199", nil},   // inconsistent grouping
		{"pii.iban", "DE75 51210 800 1245 1261 99", nil}, // groups not of four
		{"pii.iban", "NL39 RABO 0300 0652 64", []string{"NL39 RABO 0300 0652 64"}},
		// SSN
		{"pii.ssn", "SSN 536-90-4399, DOB 1980-01-02", []string{"536-90-4399"}},
		{"pii.ssn", "Social Security No. 536904399", []string{"536904399"}},
		{"pii.ssn", "tracking 536904399", nil},
		{"pii.ssn", "536-90-4399-1", nil},
		{"pii.ssn", "phone 536-904-3991", nil},
		// NINO
		{"pii.nino", "NINO: JG103729A; PX 48 19 26 B", []string{"JG103729A", "PX 48 19 26 B"}},
		{"pii.nino", "JG-10-37-29-A", []string{"JG-10-37-29-A"}},
		{"pii.nino", "model JG103729 shipped", nil},
		// FR NIR
		{"pii.fr-nir", "NIR: 1 84 12 76 451 089 46.", []string{"1 84 12 76 451 089 46"}},
		{"pii.fr-nir", "NIR 2.95.10.99.126.111.93", []string{"2.95.10.99.126.111.93"}},
		{"pii.fr-nir", "1 84 12 76 451 089 47", nil},
		// DNI
		{"pii.es-dni", "DNI 98272814-R y NIE Y8519549H", []string{"98272814-R", "Y8519549H"}},
		{"pii.es-dni", "98272814 R", []string{"98272814 R"}},
		{"pii.es-dni", "98272814 Ra", nil},
		// Codice fiscale
		{"pii.it-codice-fiscale", "CF: RCCMNL83S18D969H.", []string{"RCCMNL83S18D969H"}},
		{"pii.it-codice-fiscale", "XRCCMNL83S18D969H", nil},
		{"pii.it-codice-fiscale", "rccmnl83s18d969h", nil},
		// Keyword-anchored national IDs
		{"pii.nl-bsn", "BSN-nummer: 603328222", []string{"603328222"}},
		{"pii.nl-bsn", "603328222 (BSN)", []string{"603328222"}},
		{"pii.nl-bsn", "BSN 603 328 222", []string{"603 328 222"}},
		{"pii.nl-bsn", "BSN 603328222; the partner's BSN is, according to the municipal records of 2019, 648707763",
			[]string{"603328222", "648707763"}},
		{"pii.nl-bsn", "naam,bsn,stad\nAnna,603328222,Utrecht\nBram,648707763,Delft\n\nBSN 330429346", []string{"603328222", "648707763", "330429346"}},
		{"pii.passport", "name\tpassport_no\tcountry\nAnna\t18AV47210\tFR\nBram\tC01X00T47\tDE\n", []string{"18AV47210", "C01X00T47"}},
		{"pii.passport", "Can you check whether U43042241 is the right passport number?", []string{"U43042241"}},
		{"pii.de-steuer-id", "Steuer-IdNr. 23 680 475 183", []string{"23 680 475 183"}},
		{"pii.de-steuer-id", "Steuer-ID 23680475183 und 56172908559", []string{"23680475183", "56172908559"}},
		{"pii.pl-pesel", "PESEL 74092800462", []string{"74092800462"}},
		{"pii.be-national-number", "INSZ 85.07.30-033.28", []string{"85.07.30-033.28"}},
		{"pii.se-personnummer", "personnummer 19811218-9876", []string{"19811218-9876"}},
		{"pii.no-fodselsnummer", "fødselsnummer 15108695088 og 01010750160", []string{"15108695088", "01010750160"}},
		{"pii.no-fodselsnummer", "personnummer 630715-7716", nil}, // Swedish
		{"pii.dk-cpr", "CPR: 010180-1234, tlf. 2406921113", []string{"010180-1234", "2406921113"}},
		{"pii.dk-cpr", "CPR-nummer 010180-1234-5", nil},
		{"pii.ch-ahv", "AHV 756 9217 0769 85", []string{"756 9217 0769 85"}},
		{"pii.ch-ahv", "version 756.9217.0769.85", []string{"756.9217.0769.85"}},
		{"pii.ch-ahv", "7569217076985", nil},
		{"pii.ie-pps", "PPS 6433435F, PPSN 6433435FW", []string{"6433435F", "6433435FW"}},
		{"pii.ie-pps", "apps: 6433435F", nil},
		{"pii.pt-cc", "Cartão de Cidadão 05454679 6 ZY 7", []string{"05454679 6 ZY 7"}},
		{"pii.at-svnr", "SVNR 1237010180", []string{"1237010180"}},
		{"pii.br-cpf", "CPF 390 533 447 05", []string{"390 533 447 05"}},
		{"pii.br-cpf", "CPF 390.533.447/05", nil},
		{"pii.mx-curp", "curp: BOXW310820HNERXN09.", []string{"BOXW310820HNERXN09"}},
		{"pii.mx-curp", "BOXW310820HNERXN09X", nil},
		{"pii.in-aadhaar", "Aadhaar no. 2341-2341-2346", []string{"2341-2341-2346"}},
		{"pii.in-aadhaar", "234123412346", nil}, // never alone
		{"pii.ro-cnp", "CNP 1630615123457", []string{"1630615123457"}},
		{"pii.ee-isikukood", "isikukood 36805280109", []string{"36805280109"}},
		{"pii.es-dni", "NIE x-2482300w", []string{"x-2482300w"}},
		{"pii.es-dni", "NIE X-2482300-W", []string{"X-2482300-W"}},
		{"pii.es-dni", "x-2482300w", nil},
		{"pii.nino", "NINO: hh012345d", []string{"hh012345d"}},
		{"pii.nino", "national insurance HH012345", []string{"HH012345"}},
		{"pii.nino", "hh012345d", nil},
		// Passport
		{"pii.passport", "Passport No: 518203746", []string{"518203746"}},
		{"pii.passport", "passport #A48201936", []string{"A48201936"}},
		{"pii.passport", "passport renewal form", nil},
		// Email
		{"pii.email", "mail bob.smith@globex.io, or alice@initech.co.uk.", []string{"bob.smith@globex.io", "alice@initech.co.uk"}},
		{"pii.email", "<a href=\"mailto:sales@hooli.dev\">", []string{"sales@hooli.dev"}},
		{"pii.email", "x@y", nil},
		{"pii.email", "git@bitbucket.org:team/repo.git", nil},
		{"pii.email", "postgres://app:pw@db.acme.io:5432/x", nil},
		{"pii.email", "a@b.c", nil},
		{"pii.email", "ana@firma.DE and jo@kiwi.nz", []string{"ana@firma.DE", "jo@kiwi.nz"}}, // two-letter TLDs that exist
		{"pii.email", `exports="O;O;O@P.OA?O"`, nil},                                         // packed data: .oa is no country
		{"pii.email", "ops@acme.qq", nil},
		{"pii.email", "foo@bar.com@baz", nil},
		{"pii.email", "pkg@1.2.3", nil},
		{"pii.email", "jane@mail.example.com", nil},
		{"pii.email", "“jane@acme.fr”", []string{"jane@acme.fr"}},
		// Attribution lists are published credits; the same list without such a heading is
		// personal data.
		{"pii.email", "{\n  \"contributors\": [\n    \"Aaron Heckmann <aaron.heckmann@globex.io>\",\n    \"Ciaran Jessup <ciaran@initech.net>\"\n  ],", nil},
		{"pii.email", "\"maintainers\": [\n  {\n    \"name\": \"Ben Lesh\",\n    \"email\": \"ben@hooli.com\"\n  },\n  {\n    \"name\": \"Paul Taylor\",\n    \"email\": \"paul@hooli.com\"\n  }\n]", nil},
		{"pii.email", "License: MIT\nContributors:\n - Titus Wormer <titus@initech.net> (https://initech.net)\n - Blaine Bublitz <blaine@globex.io>\n", nil},
		{"pii.email", "Here are our customers:\n- Jane Roe <jane.roe@globex.io>\n- Bob Smith <bob.smith@initech.net>\n",
			[]string{"jane.roe@globex.io", "bob.smith@initech.net"}},
		{"pii.email", "{\"customers\": [\n  {\"name\": \"Jane Roe\", \"email\": \"jane.roe@globex.io\"},\n  {\"name\": \"Bob Smith\", \"email\": \"bob.smith@initech.net\"}\n]}",
			[]string{"jane.roe@globex.io", "bob.smith@initech.net"}},
		{"pii.email", "Contributors:\n\nOur customers:\n- Jane Roe <jane.roe@globex.io>", []string{"jane.roe@globex.io"}},
		// Phone
		{"pii.phone", "call +1 (415) 867-2309 or +44 (0)20 3946 1234", []string{"+1 (415) 867-2309", "+44 (0)20 3946 1234"}},
		{"pii.phone", "tel 0049 30 2759 4812", []string{"0049 30 2759 4812"}},
		{"pii.phone", "+33612489307", []string{"+33612489307"}},
		{"pii.phone", "01 42 68 53 09", []string{"01 42 68 53 09"}},
		{"pii.phone", "415.867.2309", []string{"415.867.2309"}},
		{"pii.phone", "1-800-867-2309", []string{"1-800-867-2309"}},
		{"pii.phone", "mobile: 4158672309", []string{"4158672309"}},
		{"pii.phone", "2024.01.15", nil},
		{"pii.phone", "+2024-01-15", nil},
		{"pii.phone", "ip 10.10.10.10", nil},
		{"pii.phone", "5.4.3.2.1", nil},
		{"pii.phone", "$415-867-2309", nil},
		{"pii.phone", "+44 7700 900123", nil}, // Ofcom drama
		{"pii.phone", "555-867-2309", nil},
		// Infrastructure
		{"infra.private-ip", "hosts 10.0.3.17, 172.31.255.1 and 192.168.7.20:8080", []string{"10.0.3.17", "172.31.255.1", "192.168.7.20"}},
		{"infra.private-ip", "peer 100.64.0.10", []string{"100.64.0.10"}},
		{"infra.private-ip", "100.128.0.10 172.15.0.1 11.0.0.1", nil},
		{"infra.private-ip", "server 10.1.2.3", nil}, // made-up
		{"infra.private-ip", "server 10.1.23.4", []string{"10.1.23.4"}},
		{"infra.private-ip", "addr fd00:1234::42", []string{"fd00:1234::42"}},
		{"infra.private-ip", "cafe:fd00::1", nil},
		{"infra.internal-hostname", "ssh build-7.corp, then db.eu-west-1.compute.internal:5432", []string{"build-7.corp", "db.eu-west-1.compute.internal"}},
		{"infra.internal-hostname", "http://grafana.monitoring.svc.cluster.local:3000/d", []string{"grafana.monitoring.svc.cluster.local"}},
		{"infra.internal-hostname", "open printer.local in Safari", []string{"printer.local"}},
		{"infra.internal-hostname", "docker-compose.local.yml", nil},
		{"infra.internal-hostname", "mail jane@acme.corp", nil},
	}
	for _, c := range cases {
		got := values(t, c.id, c.text)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s in %q: got %q, want %q", c.id, c.text, got, c.want)
		}
	}
}

func TestConfidence(t *testing.T) {
	conf := func(id, text string) float64 {
		ms := scan(t, byID(t, id), text)
		if len(ms) != 1 {
			t.Fatalf("%s in %q: %d matches", id, text, len(ms))
		}
		return ms[0].Confidence
	}
	for _, c := range []struct {
		id, text string
		want     float64
	}{
		{"pii.card", "4539 1488 0343 6467", 1},
		{"pii.card", "ref 4539148803436467", 0.8},
		{"pii.card", "visa 4539148803436467", 1},
		{"pii.ssn", "applicant 536-90-4399", 0.9},
		{"pii.ssn", "SSN 536-90-4399", 1},
		{"pii.ssn", "id 536 90 4399", 0.6},
		{"pii.nino", "JG103729A", 0.85},
		{"pii.nino", "NINO JG103729A", 1},
		{"pii.fr-nir", "184127645108946", 0.9},
		{"pii.phone", "415-867-2309", 0.7},
		{"pii.phone", "call 415-867-2309", 0.9},
		{"pii.phone", "+44 7911 123456", 0.9},
		{"infra.private-ip", "10.20.4.17", 1},
		{"infra.internal-hostname", "ping nas.lan", 0.6},
		{"infra.internal-hostname", "nas-2.lan", 0.9},
	} {
		if got := conf(c.id, c.text); got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("%s in %q: confidence %.2f, want %.2f", c.id, c.text, got, c.want)
		}
	}
}

// keywordHits finds keyword starts case-insensitively, as the engine does (without it, so that
// a fuzz run exercises Find with every kind of hit list).
func keywordHits(text string, kws []string) []int {
	if len(kws) == 0 {
		return nil
	}
	lt := strings.ToLower(text)
	if len(lt) != len(text) { // ToLower changed byte lengths (invalid UTF-8): lower ASCII only
		b := []byte(text)
		for i, c := range b {
			if c >= 'A' && c <= 'Z' {
				b[i] = c + 32
			}
		}
		lt = string(b)
	}
	var hits []int
	for i := 0; i < len(lt); i++ {
		for _, k := range kws {
			if strings.HasPrefix(lt[i:], k) {
				hits = append(hits, i)
				break
			}
		}
	}
	return hits
}

var raceFactor = 1

// Pathological inputs are linear: 10 MB of one character, of digits, of near-matches.
func TestHugeInputs(t *testing.T) {
	if testing.Short() && raceFactor > 1 {
		t.Skip("slow under -race -short")
	}
	ds, err := Detectors()
	if err != nil {
		t.Fatal(err)
	}
	e, err := detectors.New(ds)
	if err != nil {
		t.Fatal(err)
	}
	const size = 10 << 20
	for _, c := range []struct{ name, unit string }{
		{"ones", "1"}, {"at", "@"}, {"a", "a"}, {"digit-space", "1 "}, {"digit-dash", "12-"},
		{"ip", "10."}, {"hex-colon", "fd:"}, {"upper-digit", "A1"}, {"dot-local", ".local"},
		{"plus-digits", "+4"}, {"emailish", "a.b@c"}, {"card-groups", "4539 "},
	} {
		lineartime.Check(t, c.name, size/lineartime.Growth/raceFactor, func(n int) func() {
			text := strings.Repeat(c.unit, n/len(c.unit))
			return func() { e.Scan(text, func(detectors.Detector, detectors.Match) {}) }
		})
	}
}

// TestOnesAndAts is the pair of pathological inputs the issue names, on the scanners alone.
func TestOnesAndAts(t *testing.T) {
	ds, _ := Detectors()
	for _, unit := range []string{"1", "@"} {
		lineartime.Check(t, fmt.Sprintf("%q in every detector", unit), (10<<20)/lineartime.Growth/raceFactor, func(n int) func() {
			text := strings.Repeat(unit, n)
			hits := make([][]int, len(ds))
			for i, d := range ds {
				hits[i] = keywordHitsFast(text, d.Meta().Keywords)
			}
			return func() {
				for i, d := range ds {
					d.Find(text, hits[i], func(detectors.Match) {})
				}
			}
		})
	}
}

// keywordHitsFast: hits of one-byte keywords (enough for the inputs above).
func keywordHitsFast(text string, kws []string) []int {
	var hits []int
	for _, k := range kws {
		if len(k) != 1 {
			continue
		}
		for i := 0; i < len(text); i++ {
			if text[i] == k[0] {
				hits = append(hits, i)
			}
		}
	}
	return hits
}

func TestNationalPhones(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"mobile 07911 123456", "07911 123456"},            // UK
		{"Tel: 020 3946 1234", "020 3946 1234"},            // UK London
		{"Telefon 030 2759481", "030 2759481"},             // DE
		{"Handy: 0151 28394765", "0151 28394765"},          // DE mobile
		{"portable : 06 12 48 93 07", "06 12 48 93 07"},    // FR
		{"teléfono 612 483 907", "612 483 907"},            // ES
		{"móvil 612483907", "612483907"},                   // ES bare
		{"cellulare 312 483 9076", "312 483 9076"},         // IT
		{"telefoon 06-12489307", "06-12489307"},            // NL
		{"telefon 070-248 93 07", "070-248 93 07"},         // SE
		{"phone (212) 867-2309", "(212) 867-2309"},         // US
		{"telefon 512 483 907", "512 483 907"},             // PL
		{"GSM 0470 24 89 30", "0470 24 89 30"},             // BE
		{"puhelin 040 248 9307", "040 248 9307"},           // FI
		{"order 612 483 907 shipped", ""},                  // no context
		{"tel 50 4b 06 01 05 05 07 ff", ""},                // hex bytes
		{"phone 0x06 01 05 05 07", ""},                     // byte table
		{"tel 0000150 54 62 11 bf 36 78", ""},              // od dump, hex letters next
		{"Telefon 030 2759481 ab heute", "030 2759481"},    // a word of hex letters alone
		{"tel {00020000-0000-0000-C000-000000000046}", ""}, // GUID
	} {
		got := values(t, "pii.phone", c.text)
		if c.want == "" && len(got) != 0 || c.want != "" && (len(got) != 1 || got[0] != c.want) {
			t.Errorf("%q: got %q, want %q", c.text, got, c.want)
		}
	}
}
