package pii

import (
	"strings"
	"testing"

	"github.com/customs-dev/customs/detectors"
)

// fuzzDetectors runs the named detectors over any bytes: no panic, every span inside the text.
func fuzzDetectors(t *testing.T, text string, ids ...string) {
	for _, id := range ids {
		d := byID(t, id)
		d.Find(text, keywordHits(text, d.Meta().Keywords), func(m detectors.Match) {
			if m.Start < 0 || m.End > len(text) || m.Start >= m.End || m.Confidence <= 0 || m.Confidence > 1 {
				t.Fatalf("%s: bad match %+v in %q", id, m, text)
			}
		})
	}
}

func seeds(f *testing.F, ids ...string) {
	for _, id := range ids {
		m := byID(f, id).Meta()
		for _, s := range append(m.Examples.Match, m.Examples.NoMatch...) {
			f.Add(s)
		}
	}
	f.Add("")
	f.Add("\xff\xfe\x00\x80")
	f.Add(strings.Repeat("1", 100))
	f.Add(strings.Repeat("1 ", 50))
}

func FuzzCard(f *testing.F) {
	seeds(f, "pii.card")
	f.Fuzz(func(t *testing.T, s string) {
		fuzzDetectors(t, s, "pii.card")
		// A reported card is Luhn-valid with a known IIN.
		for _, m := range scan(t, byID(t, "pii.card"), s) {
			var d []byte
			for _, c := range []byte(s[m.Start:m.End]) {
				if isDigit(c) {
					d = append(d, c)
				}
			}
			if !luhn(d) || !iinOK(d) {
				t.Fatalf("reported invalid card %q", s[m.Start:m.End])
			}
		}
	})
}

func FuzzIBAN(f *testing.F) {
	seeds(f, "pii.iban")
	f.Fuzz(func(t *testing.T, s string) {
		fuzzDetectors(t, s, "pii.iban")
		for _, m := range scan(t, byID(t, "pii.iban"), s) {
			if v := strings.ToUpper(strings.ReplaceAll(s[m.Start:m.End], " ", "")); !IBANValid(v) {
				t.Fatalf("reported invalid IBAN %q", v)
			}
		}
	})
}

func FuzzEmail(f *testing.F) {
	seeds(f, "pii.email")
	f.Fuzz(func(t *testing.T, s string) {
		fuzzDetectors(t, s, "pii.email")
		for _, m := range scan(t, byID(t, "pii.email"), s) {
			if strings.Count(s[m.Start:m.End], "@") != 1 {
				t.Fatalf("reported %q", s[m.Start:m.End])
			}
		}
	})
}

func FuzzPhone(f *testing.F) {
	seeds(f, "pii.phone")
	f.Fuzz(func(t *testing.T, s string) { fuzzDetectors(t, s, "pii.phone") })
}

func FuzzNationalIDs(f *testing.F) {
	ids := []string{"pii.ssn", "pii.nino", "pii.fr-nir", "pii.de-steuer-id", "pii.es-dni", "pii.it-codice-fiscale",
		"pii.nl-bsn", "pii.pl-pesel", "pii.be-national-number", "pii.se-personnummer", "pii.passport", "pii.no-fodselsnummer",
		"pii.dk-cpr", "pii.ch-ahv", "pii.ie-pps", "pii.pt-cc", "pii.at-svnr", "pii.br-cpf", "pii.mx-curp", "pii.in-aadhaar",
		"pii.ro-cnp", "pii.ee-isikukood"}
	seeds(f, ids...)
	f.Fuzz(func(t *testing.T, s string) {
		fuzzDetectors(t, s, ids...)
		// The validators take any string, and accept only their formats' lengths (9 for SSN,
		// DNI and BSN … 34 for the longest IBAN; 8 for a PPS number, 10 for CPR and SVNR).
		for _, valid := range []func(string) bool{PPSValid, CPRValid, SVNRValid} {
			if valid(s) && (len(s) < 8 || len(s) > 10) {
				t.Fatalf("validator accepted %q", s)
			}
		}
		for k, valid := range []func(string) bool{SSNValid, NIRValid, SteuerIDValid, DNIValid, CodiceFiscaleValid,
			BSNValid, PESELValid, BENationalNumberValid, PersonnummerValid, IBANValid, FodselsnummerValid, AHVValid,
			PTCCValid, CPFValid, CURPValid, AadhaarValid, CNPValid, IsikukoodValid} {
			if valid(s) && (len(s) < 9 || len(s) > 34) {
				t.Fatalf("validator %d accepted %q", k, s)
			}
		}
	})
}

func FuzzInfra(f *testing.F) {
	seeds(f, "infra.private-ip", "infra.internal-hostname")
	f.Fuzz(func(t *testing.T, s string) { fuzzDetectors(t, s, "infra.private-ip", "infra.internal-hostname") })
}
