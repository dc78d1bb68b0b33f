package edm

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
)

// The fixture generator: deterministic fake customers, written as CSV. TestFixture checks that
// testdata/customers.csv is what it writes (regenerate with -update); BenchmarkBuild10M streams
// ten million rows from it.

var firstNames = strings.Fields(`John James Robert Michael William David Richard Joseph Thomas Charles
Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Daniel Matthew Anthony Mark
Paul Steven Andrew Joshua Kevin Brian Emma Olivia Sophia Isabella Mia Charlotte Amelia Harper Evelyn
Abigail Lucas Mateo Hugo Leo Noah Liam Oscar Arthur Louis Jules Ana Lucia Carmen Sofia Elena Paula
Laura Marta Ines Chloe Camille Manon Lea Zoe Aisha Fatima Omar Yusuf Ali Hannah Lena Mila Jonas Felix
Lukas Finn Priya Arjun Rohan Ananya Wei Jun Mei Hiroshi Yuki Kenji Sven Astrid Ingrid Lars Pierre`)

var lastNames = strings.Fields(`Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez
Hernandez Lopez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores
Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Muller Schmidt Schneider Fischer
Weber Meyer Wagner Becker Schulz Hoffmann Dubois Moreau Laurent Simon Michel Leroy Rossi Russo
Ferrari Esposito Bianchi Romano Kowalski Nowak Jansen Visser Novak Horvat Kumar Patel Singh Sato`)

var syllables = strings.Fields(`ka ren vol di mar sel to bri an cor lin dal fen gar hol is jor kel
mon nor pel quin ras sten tal ul vin wes yar zel ber cas dor el fin gal hen ir jas kor lum`)

var cities = strings.Fields(`London Paris Berlin Madrid Rome Amsterdam Dublin Vienna Lisbon Warsaw
Prague Brussels Stockholm Oslo Copenhagen`)

var domains = []string{"example.com", "example.org", "example.net", "mail.example", "post.example.co.uk"}

// planted rows (0-based data row → record) carry the values the scan tests quote.
var planted = map[int][]string{
	412:  {"Maria Gonzalez", "maria.gonzalez@example.com", "+34 612 345 678", "AC-00412938", "ES91 2100 0418 4502 0005 1332", "1984-07-21", "Madrid"},
	977:  {"Oliver Bennett", "oliver.bennett@example.co.uk", "02079460958", "AC-00977120", "GB29 NWBK 6016 1331 9268 19", "1979-11-02", "London"},
	1203: {"José Müller", "jose.muller@example.de", "+49 30 901820", "AC-01203557", "DE89 3704 0044 0532 0130 00", "03/04/1990", "Berlin"},
	1588: {"Siobhán O'Brien", "siobhan.obrien@example.ie", "+353 1 555 0147", "AC-01588004", "IE29 AIBK 9311 5212 3456 78", "14 March 1979", "Dublin"},
}

const fixtureHeader = "name,email,phone,account_id,iban,dob,city"

// genCustomers writes a header and n rows of fake customers drawn from a PRNG seeded with seed.
func genCustomers(w io.Writer, n int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	fmt.Fprintln(bw, fixtureHeader)
	for i := range n {
		rec, ok := planted[i]
		if !ok {
			rec = genRow(rng, i)
		}
		for j, f := range rec {
			if j > 0 {
				bw.WriteByte(',')
			}
			if strings.ContainsAny(f, ",\"\n") {
				f = `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
			}
			bw.WriteString(f)
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

func genSurname(rng *rand.Rand) string {
	// A fifth of surnames are common ones; the rest are made of three or four syllables, enough
	// that most full names among ten million rows are unique, as an index's worst case.
	if rng.IntN(5) == 0 {
		return lastNames[rng.IntN(len(lastNames))]
	}
	var b strings.Builder
	for range 3 + rng.IntN(2) {
		b.WriteString(syllables[rng.IntN(len(syllables))])
	}
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

// pad appends v in decimal, zero-padded to width digits. The generator writes ten million rows
// for BenchmarkBuild10M, so it avoids fmt on its hot path.
func pad(b []byte, v, width int) []byte {
	var d [20]byte
	n := len(d)
	for v > 0 || n > len(d)-width {
		n--
		d[n] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[n:]...)
}

func genRow(rng *rand.Rand, i int) []string {
	first := firstNames[rng.IntN(len(firstNames))]
	last := genSurname(rng)
	name := first + " " + last
	if rng.IntN(20) == 0 {
		name = last + ", " + first
	}
	b := make([]byte, 0, 160)
	b = append(b, strings.ToLower(first)...)
	b = append(b, '.')
	b = append(b, strings.ToLower(last)...)
	b = strconv.AppendInt(b, int64(i%1000), 10)
	b = append(append(b, '@'), domains[rng.IntN(len(domains))]...)
	email := string(b)
	b = b[:0]
	switch rng.IntN(4) {
	case 0:
		b = pad(append(b, "+44 7700 "...), rng.IntN(1000000), 6)
	case 1:
		b = pad(append(b, '('), 200+rng.IntN(700), 3)
		b = pad(append(b, ") 555-"...), rng.IntN(10000), 4)
	case 2:
		b = append(b, "+33 6"...)
		for range 4 {
			b = pad(append(b, ' '), rng.IntN(100), 2)
		}
	default:
		b = pad(append(b, '0'), 1000000000+rng.IntN(999999999), 10)
	}
	phone := string(b)
	// Account numbers are unique: the row number spread by a multiplier coprime to 10^8.
	account := string(pad([]byte("AC-"), (i*48271+12345)%100000000, 8))
	b = b[:0]
	if rng.IntN(2) == 0 {
		b = pad(b, rng.IntN(100000000), 8)
		b = pad(b, rng.IntN(10000000000), 10)
		b = makeIBAN("DE", b)
	} else {
		b = pad(append(b, "NWBK"...), rng.IntN(1000000), 6)
		b = pad(b, rng.IntN(100000000), 8)
		b = makeIBAN("GB", b)
	}
	iban := string(b)
	if rng.IntN(3) == 0 {
		iban = groupBy4(iban)
	}
	b = pad(b[:0], 1940+rng.IntN(65), 4)
	b = pad(append(b, '-'), 1+rng.IntN(12), 2)
	b = pad(append(b, '-'), 1+rng.IntN(28), 2)
	return []string{name, email, phone, account, iban, string(b), cities[rng.IntN(len(cities))]}
}

// makeIBAN returns country, check digits and bban (which it overwrites).
func makeIBAN(country string, bban []byte) []byte {
	r := 0
	for _, c := range append(bban, country[0], country[1], '0', '0') {
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A'+10)) % 97
		}
	}
	out := make([]byte, 0, len(bban)+4)
	out = append(out, country...)
	out = pad(out, 98-r, 2)
	return append(out, bban...)
}

func groupBy4(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}
