package corpusgen

// Value generators, written from each format's published rules (vendor documentation, the
// standards behind national identifiers), never from customs' own detectors: a corpus built from
// the detectors' code would only test that the code agrees with itself.

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"math/big"
	"strconv"
	"strings"
)

const (
	digits   = "0123456789"
	upper    = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lower    = "abcdefghijklmnopqrstuvwxyz"
	base62   = digits + upper + lower // GitHub's and npm's checksum alphabet, in this order
	alnum    = base62
	b64chars = upper + lower + digits + "+/"
	b64url   = upper + lower + digits + "-_"
	hexLower = "0123456789abcdef"
	base32   = upper + "234567"
	letters  = upper + lower
)

// str draws n characters from alphabet.
func (g *Generator) str(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

func (g *Generator) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

func (g *Generator) digitsN(n int) string { return g.str(digits, n) }

func (g *Generator) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *Generator) chance(p float64) bool { return g.r.Float64() < p }

// between returns an int in [lo, hi].
func (g *Generator) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }

// ---- checksummed tokens -------------------------------------------------------------------

// Base62CRC32 is the 6-character checksum of GitHub's token formats (2021) and npm's: the
// CRC-32 (IEEE) of the random part, written in base 62 (0-9A-Za-z), most significant digit
// first, left-padded with zeros.
func Base62CRC32(random string) string {
	v := crc32.ChecksumIEEE([]byte(random))
	var b [6]byte
	for i := 5; i >= 0; i-- {
		b[i] = base62[v%62]
		v /= 62
	}
	return string(b[:])
}

// checksummedToken is prefix + random (n-6 base62 characters) + their checksum.
func (g *Generator) checksummedToken(prefix string, n int) string {
	r := g.str(base62, n-6)
	return prefix + r + Base62CRC32(r)
}

// badChecksumToken has the same shape with a checksum that does not match.
func (g *Generator) badChecksumToken(prefix string, n int) string {
	r := g.str(base62, n-6)
	good := Base62CRC32(r)
	for {
		c := g.str(base62, 6)
		if c != good {
			return prefix + r + c
		}
	}
}

// ---- payment cards, IBAN --------------------------------------------------------------------

// LuhnValid reports whether a digit string passes the Luhn check.
func LuhnValid(s string) bool {
	sum, dbl := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if dbl {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		dbl = !dbl
	}
	return sum%10 == 0
}

// luhnDigit is the check digit that makes body+digit Luhn-valid.
func luhnDigit(body string) byte {
	for c := byte('0'); c <= '9'; c++ {
		if LuhnValid(body + string(c)) {
			return c
		}
	}
	panic("unreachable")
}

// cardIIN returns an issuer prefix and the card length, from the networks' published ranges.
func (g *Generator) cardIIN() (iin string, n int, brand string) {
	switch g.r.IntN(8) {
	case 0, 1:
		return "4", 16, "Visa"
	case 2:
		return strconv.Itoa(g.between(51, 55)), 16, "Mastercard"
	case 3:
		return strconv.Itoa(g.between(2221, 2720)), 16, "Mastercard"
	case 4:
		return g.pick("34", "37"), 15, "American Express"
	case 5:
		return g.pick("6011", "65", strconv.Itoa(g.between(644, 649))), 16, "Discover"
	case 6:
		return strconv.Itoa(g.between(3528, 3589)), 16, "JCB"
	default:
		return "36", 14, "Diners Club"
	}
}

func (g *Generator) cardDigits(valid bool) (string, string) {
	iin, n, brand := g.cardIIN()
	body := iin + g.digitsN(n-1-len(iin))
	c := luhnDigit(body)
	if !valid {
		c = '0' + (c-'0'+byte(g.between(1, 9)))%10
	}
	return body + string(c), brand
}

// formatCard groups a card number the way people write it: 4-4-4-4, Amex 4-6-5, Diners 4-6-4,
// with spaces, dashes or nothing.
func (g *Generator) formatCard(d string) string {
	sep := g.pick(" ", " ", "-", "")
	var groups []int
	switch len(d) {
	case 15:
		groups = []int{4, 6, 5}
	case 14:
		groups = []int{4, 6, 4}
	default:
		groups = []int{4, 4, 4, 4}
	}
	var parts []string
	i := 0
	for _, n := range groups {
		parts = append(parts, d[i:i+n])
		i += n
	}
	return strings.Join(parts, sep)
}

// ibanCountries: BBAN generators per country, from the national formats (SWIFT IBAN registry);
// national check digits are computed where the format has a simple one.
var ibanCountries = []struct {
	cc   string
	bban func(g *Generator) string
}{
	{"DE", func(g *Generator) string { return g.digitsN(18) }},
	{"GB", func(g *Generator) string { return g.pick("NWBK", "BARC", "LOYD", "HBUK", "MIDL") + g.digitsN(14) }},
	{"FR", func(g *Generator) string { return frBBAN(g.digitsN(5), g.digitsN(5), g.digitsN(11)) }},
	{"ES", func(g *Generator) string { return esBBAN(g.digitsN(4), g.digitsN(4), g.digitsN(10)) }},
	{"IT", func(g *Generator) string {
		return g.str(upper, 1) + g.digitsN(5) + g.digitsN(5) + g.digitsN(12)
	}},
	{"NL", func(g *Generator) string { return g.pick("ABNA", "INGB", "RABO", "TRIO", "SNSB") + g.digitsN(10) }},
	{"BE", func(g *Generator) string {
		n := g.digitsN(10)
		v, _ := strconv.ParseInt(n, 10, 64)
		c := v % 97
		if c == 0 {
			c = 97
		}
		return n + fmt.Sprintf("%02d", c)
	}},
	{"CH", func(g *Generator) string { return g.digitsN(5) + g.digitsN(12) }},
	{"AT", func(g *Generator) string { return g.digitsN(16) }},
	{"PL", func(g *Generator) string { return g.digitsN(24) }},
	{"IE", func(g *Generator) string { return g.pick("AIBK", "BOFI", "IPBS") + g.digitsN(14) }},
	{"SE", func(g *Generator) string { return g.digitsN(20) }},
}

// frBBAN appends the RIB key: 97 - ((89*bank + 15*branch + 3*account) mod 97), account letters
// mapped to digits (here the account is digits already).
func frBBAN(bank, branch, account string) string {
	b, _ := new(big.Int).SetString(bank, 10)
	br, _ := new(big.Int).SetString(branch, 10)
	a, _ := new(big.Int).SetString(account, 10)
	s := new(big.Int).Mul(b, big.NewInt(89))
	s.Add(s, new(big.Int).Mul(br, big.NewInt(15)))
	s.Add(s, new(big.Int).Mul(a, big.NewInt(3)))
	k := 97 - new(big.Int).Mod(s, big.NewInt(97)).Int64()
	return bank + branch + account + fmt.Sprintf("%02d", k)
}

// esBBAN inserts the two control digits of the Spanish CCC (weights 1,2,4,8,5,10,9,7,3,6).
func esBBAN(bank, office, account string) string {
	w := []int{1, 2, 4, 8, 5, 10, 9, 7, 3, 6}
	ctl := func(s string) byte {
		sum := 0
		for i := 0; i < len(s); i++ {
			sum += int(s[i]-'0') * w[i]
		}
		d := 11 - sum%11
		switch d {
		case 11:
			d = 0
		case 10:
			d = 1
		}
		return byte('0' + d)
	}
	return bank + office + string(ctl("00"+bank+office)) + string(ctl(account)) + account
}

// IBANMod97 is the ISO 13616 remainder of an IBAN (country and check digits moved to the end,
// letters as 10..35); a valid IBAN gives 1.
func IBANMod97(iban string) int {
	s := iban[4:] + iban[:4]
	r := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			r = (r*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			r = (r*100 + int(c-'A'+10)) % 97
		}
	}
	return r
}

func (g *Generator) ibanRaw(valid bool) string {
	c := ibanCountries[g.r.IntN(len(ibanCountries))]
	bban := c.bban(g)
	rem := IBANMod97(c.cc + "00" + bban)
	check := 98 - rem
	if !valid {
		for {
			bad := g.between(2, 98)
			if bad != check {
				check = bad
				break
			}
		}
	}
	return fmt.Sprintf("%s%02d%s", c.cc, check, bban)
}

// formatIBAN writes an IBAN compact or in the printed form (groups of four).
func (g *Generator) formatIBAN(s string) string {
	if g.chance(0.4) {
		return s
	}
	var parts []string
	for i := 0; i < len(s); i += 4 {
		parts = append(parts, s[i:min(i+4, len(s))])
	}
	return strings.Join(parts, " ")
}

// ---- national identifiers -----------------------------------------------------------------

// ssn: area 001-899 except 666, group 01-99, serial 0001-9999 (SSA's rules since 2011).
func (g *Generator) ssn(valid bool) string {
	if valid {
		area := g.between(1, 899)
		for area == 666 {
			area = g.between(1, 899)
		}
		return fmt.Sprintf("%03d-%02d-%04d", area, g.between(1, 99), g.between(1, 9999))
	}
	switch g.r.IntN(5) {
	case 0:
		return fmt.Sprintf("000-%02d-%04d", g.between(1, 99), g.between(1, 9999))
	case 1:
		return fmt.Sprintf("666-%02d-%04d", g.between(1, 99), g.between(1, 9999))
	case 2, 3:
		return fmt.Sprintf("%03d-%02d-%04d", g.between(900, 999), g.between(1, 99), g.between(1, 9999))
	default:
		if g.chance(0.5) {
			return fmt.Sprintf("%03d-00-%04d", g.between(1, 665), g.between(1, 9999))
		}
		return fmt.Sprintf("%03d-%02d-0000", g.between(1, 665), g.between(1, 99))
	}
}

// nino: UK National Insurance number. First letter not D F I Q U V, second not D F I O Q U V,
// prefixes BG GB KN NK NT TN ZZ never issued, suffix A-D.
func (g *Generator) nino(valid bool) string {
	const first = "ABCEGHJKLMNOPRSTWXYZ"
	const second = "ABCEGHJKLMNPRSTWXYZ"
	var p string
	if valid {
		for {
			p = g.str(first, 1) + g.str(second, 1)
			switch p {
			case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
				continue
			}
			break
		}
	} else {
		p = g.pick("QQ", "DA", "FY", "IV", "UA", "VB", "BG", "GB", "NK", "TN", "ZZ", "AO", "CD")
	}
	d := g.digitsN(6)
	s := g.str("ABCD", 1)
	if g.chance(0.5) {
		return p + " " + d[:2] + " " + d[2:4] + " " + d[4:] + " " + s
	}
	return p + d + s
}

// nir: French NIR (numéro de sécurité sociale): sex, year, month, département, commune,
// order, and the key 97 - (number mod 97), Corsica's 2A/2B counted as 19/18.
func (g *Generator) nir(valid bool) string {
	sex := g.pick("1", "2")
	yy := fmt.Sprintf("%02d", g.between(0, 99))
	mm := fmt.Sprintf("%02d", g.between(1, 12))
	dep := fmt.Sprintf("%02d", g.between(1, 95))
	for dep == "20" {
		dep = fmt.Sprintf("%02d", g.between(1, 95))
	}
	if g.chance(0.05) {
		dep = g.pick("2A", "2B")
	}
	com := fmt.Sprintf("%03d", g.between(1, 990))
	ord := fmt.Sprintf("%03d", g.between(1, 999))
	body := sex + yy + mm + dep + com + ord
	num := strings.NewReplacer("2A", "19", "2B", "18").Replace(body)
	v, _ := strconv.ParseInt(num, 10, 64)
	key := 97 - v%97
	if !valid {
		key = (key+int64(g.between(1, 96))-1)%97 + 1
	}
	k := fmt.Sprintf("%02d", key)
	if g.chance(0.5) {
		return sex + " " + yy + " " + mm + " " + dep + " " + com + " " + ord + " " + k
	}
	return body + k
}

// steuerID: German tax identification number. Eleven digits, the first not 0; in the first ten
// one digit appears twice or three times (never three in a row), the others at most once; the
// last is the ISO 7064 MOD 11,10 check digit.
func (g *Generator) steuerID(valid bool) string {
	for {
		perm := g.r.Perm(10)
		d := make([]int, 0, 10)
		triple := g.chance(0.3)
		// nine (or eight) distinct digits, one of them repeated.
		n := 9
		if triple {
			n = 8
		}
		d = append(d, perm[:n]...)
		rep := d[g.r.IntN(n)]
		d = append(d, rep)
		if triple {
			d = append(d, rep)
		}
		g.r.Shuffle(len(d), func(i, j int) { d[i], d[j] = d[j], d[i] })
		if d[0] == 0 {
			continue
		}
		bad := false
		for i := 2; i < len(d); i++ {
			if d[i] == d[i-1] && d[i] == d[i-2] {
				bad = true
			}
		}
		if bad {
			continue
		}
		var b strings.Builder
		for _, x := range d {
			b.WriteByte(byte('0' + x))
		}
		c := mod1110(b.String())
		if !valid {
			c = (c + g.between(1, 9)) % 10
		}
		b.WriteByte(byte('0' + c))
		s := b.String()
		if g.chance(0.3) {
			return s[:2] + " " + s[2:5] + " " + s[5:8] + " " + s[8:]
		}
		return s
	}
}

func mod1110(s string) int {
	p := 10
	for i := 0; i < len(s); i++ {
		sum := (int(s[i]-'0') + p) % 10
		if sum == 0 {
			sum = 10
		}
		p = sum * 2 % 11
	}
	c := 11 - p
	if c == 10 {
		c = 0
	}
	return c
}

const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// dni: Spanish DNI (8 digits and the letter of their value mod 23) or NIE (X/Y/Z counted as
// 0/1/2, 7 digits, letter).
func (g *Generator) dni(valid bool) string {
	var s string
	var n int
	if g.chance(0.3) {
		p := g.r.IntN(3)
		d := g.digitsN(7)
		n, _ = strconv.Atoi(strconv.Itoa(p) + d)
		s = string("XYZ"[p]) + d
	} else {
		d := fmt.Sprintf("%08d", g.between(1000000, 99999999))
		n, _ = strconv.Atoi(d)
		s = d
	}
	l := dniLetters[n%23]
	if !valid {
		l = dniLetters[(n%23+g.between(1, 22))%23]
	}
	if g.chance(0.2) {
		return s + "-" + string(l)
	}
	return s + string(l)
}

var (
	itSurnames = []string{"ROSSI", "RUSSO", "FERRARI", "ESPOSITO", "BIANCHI", "ROMANO", "COLOMBO", "RICCI", "MARINO", "GRECO", "BRUNO", "GALLO", "CONTI", "DE LUCA", "COSTA", "GIORDANO", "MANCINI", "RIZZO", "LOMBARDI", "MORETTI", "FO", "LI"}
	itNames    = []string{"MARIO", "GIUSEPPE", "FRANCESCA", "GIULIA", "LUCA", "MARCO", "ANNA", "SOFIA", "ALESSANDRO", "CHIARA", "MATTEO", "ELENA", "PAOLO", "SARA", "ANDREA", "EVA"}
	itPlaces   = []string{"H501", "F205", "L219", "A944", "G273", "D612", "F839", "L736", "B354", "C351", "E506", "Z404", "Z112"}
	itMonths   = "ABCDEHLMPRST"
	cfOdd      = map[byte]int{
		'0': 1, '1': 0, '2': 5, '3': 7, '4': 9, '5': 13, '6': 15, '7': 17, '8': 19, '9': 21,
		'A': 1, 'B': 0, 'C': 5, 'D': 7, 'E': 9, 'F': 13, 'G': 15, 'H': 17, 'I': 19, 'J': 21,
		'K': 2, 'L': 4, 'M': 18, 'N': 20, 'O': 11, 'P': 3, 'Q': 6, 'R': 8, 'S': 12, 'T': 14,
		'U': 16, 'V': 10, 'W': 22, 'X': 25, 'Y': 24, 'Z': 23,
	}
)

func cfPart(s string, name bool) string {
	var cons, vow []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.IndexByte("AEIOU", c) >= 0:
			vow = append(vow, c)
		case c >= 'A' && c <= 'Z':
			cons = append(cons, c)
		}
	}
	if name && len(cons) >= 4 {
		return string([]byte{cons[0], cons[2], cons[3]})
	}
	out := append(append(cons, vow...), 'X', 'X', 'X')
	return string(out[:3])
}

// CodiceFiscaleCheck computes the control character of the first 15 characters.
func CodiceFiscaleCheck(s string) byte {
	sum := 0
	for i := 0; i < 15; i++ {
		c := s[i]
		if i%2 == 0 { // odd positions, 1-based
			sum += cfOdd[c]
		} else if c >= '0' && c <= '9' {
			sum += int(c - '0')
		} else {
			sum += int(c - 'A')
		}
	}
	return byte('A' + sum%26)
}

// codiceFiscale: Italian tax code: surname and name codes, birth year, month letter, day (+40
// for women), Belfiore place code, control character.
func (g *Generator) codiceFiscale(valid bool) string {
	day := g.between(1, 28)
	if g.chance(0.5) {
		day += 40
	}
	s := cfPart(g.pick(itSurnames...), false) + cfPart(g.pick(itNames...), true) +
		fmt.Sprintf("%02d", g.between(0, 99)) + string(itMonths[g.r.IntN(12)]) +
		fmt.Sprintf("%02d", day) + g.pick(itPlaces...)
	c := CodiceFiscaleCheck(s)
	if !valid {
		c = byte('A' + (int(c-'A')+g.between(1, 25))%26)
	}
	return s + string(c)
}

// bsn: Dutch citizen service number, nine digits passing the eleven-test
// (9·d1 + 8·d2 + … + 2·d8 − d9 ≡ 0 mod 11).
func (g *Generator) bsn(valid bool) string {
	for {
		d := g.str("123456789", 1) + g.digitsN(7)
		sum := 0
		for i := 0; i < 8; i++ {
			sum += (9 - i) * int(d[i]-'0')
		}
		c := sum % 11
		if c == 10 {
			continue
		}
		if !valid {
			c = (c + g.between(1, 9)) % 10
			if (sum-c)%11 == 0 {
				continue
			}
		}
		return d + string(byte('0'+c))
	}
}

// phone: E.164 numbers and common national renderings, with numbering-plan-valid prefixes.
func (g *Generator) phone() string {
	switch g.r.IntN(8) {
	case 0, 1: // NANP: NPA and NXX start 2-9, not N11, avoiding the fictional 555 exchange
		npa := fmt.Sprintf("%d%d%d", g.between(2, 9), g.between(0, 8), g.between(0, 9))
		nxx := fmt.Sprintf("%d%02d", g.between(2, 9), g.between(0, 99))
		if nxx == "555" || nxx[1:] == "11" || npa[1:] == "11" {
			nxx = "734"
		}
		line := g.digitsN(4)
		return g.pick("+1 "+npa+" "+nxx+" "+line, "+1"+npa+nxx+line, "+1 ("+npa+") "+nxx+"-"+line, "+1-"+npa+"-"+nxx+"-"+line)
	case 2:
		d := "7" + g.str("1345789", 1) + g.digitsN(8)
		return g.pick("+44 "+d[:4]+" "+d[4:], "+44"+d, "+44 (0)"+d[:4]+" "+d[4:])
	case 3:
		d := g.pick("151", "152", "157", "160", "170", "171", "172", "176") + g.digitsN(8)
		return g.pick("+49 "+d[:3]+" "+d[3:], "+49"+d, "+49 "+d[:3]+" "+d[3:7]+" "+d[7:])
	case 4:
		d := g.pick("6", "7") + g.digitsN(8)
		return g.pick("+33 "+d[:1]+" "+d[1:3]+" "+d[3:5]+" "+d[5:7]+" "+d[7:], "+33"+d)
	case 5:
		d := g.pick("6", "7") + g.digitsN(8)
		return g.pick("+34 "+d[:3]+" "+d[3:6]+" "+d[6:], "+34"+d)
	case 6:
		d := "3" + g.digitsN(9)
		return g.pick("+39 "+d[:3]+" "+d[3:], "+39"+d)
	default:
		d := "6" + g.digitsN(8)
		return g.pick("+31 "+d[:1]+" "+d[1:], "+31"+d)
	}
}

// ---- encodings ----------------------------------------------------------------------------

func b64(b []byte) string  { return base64.StdEncoding.EncodeToString(b) }
func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
func hexs(b []byte) string { return hex.EncodeToString(b) }
func wrap(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s); i += n {
		b.WriteString(s[i:min(i+n, len(s))])
		b.WriteByte('\n')
	}
	return b.String()
}

// pesel: Polish PESEL: YYMMDD (month +20 for 2000-2099), serial, sex digit, and the check
// digit (10 − Σ wᵢdᵢ mod 10) mod 10 with weights 1 3 7 9 1 3 7 9 1 3.
func (g *Generator) pesel(valid bool) string {
	y := g.between(1940, 2015)
	m := g.between(1, 12)
	if y >= 2000 {
		m += 20
	}
	d := fmt.Sprintf("%02d%02d%02d", y%100, m, g.between(1, 28)) + g.digitsN(4)
	w := []int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3}
	sum := 0
	for i := range 10 {
		sum += w[i] * int(d[i]-'0')
	}
	c := (10 - sum%10) % 10
	if !valid {
		c = (c + g.between(1, 9)) % 10
	}
	return d + string(byte('0'+c))
}

// beNationalNumber: Belgian national register number YY.MM.DD-SSS.CC, check 97 − (n mod 97)
// over the first nine digits (prefixed with 2 for people born from 2000).
func (g *Generator) beNationalNumber(valid bool) string {
	y := g.between(1945, 2015)
	body := fmt.Sprintf("%02d%02d%02d%03d", y%100, g.between(1, 12), g.between(1, 28), g.between(1, 997))
	n, _ := strconv.ParseInt(body, 10, 64)
	if y >= 2000 {
		n += 2000000000
	}
	c := 97 - n%97
	if !valid {
		c = (c+int64(g.between(1, 95)))%97 + 1
		if c == 97-n%97 {
			c = c%97 + 1
		}
	}
	s := body + fmt.Sprintf("%02d", c)
	if g.chance(0.5) {
		return s[:2] + "." + s[2:4] + "." + s[4:6] + "-" + s[6:9] + "." + s[9:]
	}
	return s
}

// personnummer: Swedish YYMMDD-NNNC with the Luhn digit over the ten digits.
func (g *Generator) personnummer(valid bool) string {
	y := g.between(1940, 2015)
	body := fmt.Sprintf("%02d%02d%02d", y%100, g.between(1, 12), g.between(1, 28)) + g.digitsN(3)
	c := luhnDigit(body)
	if !valid {
		c = '0' + (c-'0'+byte(g.between(1, 9)))%10
	}
	if g.chance(0.3) {
		return fmt.Sprintf("%d", y/100) + body[:6] + "-" + body[6:] + string(c)
	}
	return body[:6] + "-" + body[6:] + string(c)
}
