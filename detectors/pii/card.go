package pii

import "github.com/customs-dev/customs/detectors"

// cardContext raises a bare digit run's confidence.
var cardContext = newContext("card", "visa", "mastercard", "master card", "amex", "american express", "discover",
	"credit", "debit", "cc", "cvv", "cvc", "expir", "payment", "carte", "karte", "tarjeta", "jcb", "maestro", "diners",
	"unionpay", "rupay", "pan", "carta", "kaart", "kort")

func cardDetector(o Options) detectors.Detector {
	return &runScanner{
		meta: detectors.Meta{
			ID:       "pii.card",
			Class:    detectors.PII,
			Severity: detectors.High,
			Description: "Payment card number (PAN): 13–19 digits, bare or in the printed groupings " +
				"(4-4-4-4, Amex 4-6-5, Diners 4-6-4) joined by spaces or dashes, with a known issuer " +
				"range and length (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro, Mir, " +
				"RuPay, …) and a valid Luhn check digit. Well-known test numbers (4111 1111 1111 1111, " +
				"4242 4242 4242 4242, Stripe/Braintree/Adyen test cards) and numbers made of one repeated " +
				"digit are not reported. Confidence 1 when grouped or next to a word such as card/visa/" +
				"cvv, 0.8 for a bare digit run.",
			Examples: detectors.Examples{
				Match: []string{
					"charge it to my visa 4539 1488 0343 6467 please",
					"card_number: 5148-2396-6992-5626",
					"Amex 3785 753508 34375 exp 04/27",
					`{"pan":"6011226698378408","exp":"12/29"}`,
					"the new card is 4716108999716531.",
					"JCB 3530 5206 3525 2901 on file",
					"JCB card 213100482917367",
					"maestro card 6759 6498 2648",
					"Maestro 5018 4829 1735",
				},
				NoMatch: []string{
					"charge it to my visa 4539 1488 0343 6468 please", // Luhn fails
					"test card 4111 1111 1111 1111",                   // documentation number
					"stripe test: 4242424242424242",
					"order id 12345678901234567890",           // too long
					"request 45391488034364671234 failed",     // embedded in a longer run
					"tx_4539148803436467 settled",             // inside an identifier
					"id 550e8400-e29b-41d4-a716-446655440000", // UUID
					"sha1 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
					"timestamp 2024061512304567 logged", // date-shaped 2-series number
					"phone +1 415 555 0132",
					"4539-1488-0343-6467-2211",           // five groups
					"IBAN SE96 5587 5297 5507 6406 4007", // card-shaped groups inside an IBAN
					"order ORD-4539148803436467",
				},
			},
		},
		at: o.cardAt,
		terms: []detectors.RunTerm{term(
			func(p byte, n int) bool {
				return (n == 4 || n >= 12 && n <= 19) && mayStart(p) && p != '+' && p != '$' && p != '#'
			},
			func(c byte, n int) bool { return n != 4 || c == ' ' || c == '-' })},
	}
}

// testCards are published test PANs (Stripe, Braintree, Adyen, PayPal, Worldpay docs): they
// appear in code and documentation, never as a real customer's card.
var testCards = map[string]bool{}

func init() {
	for _, c := range []string{
		"4111111111111111", "4242424242424242", "4012888888881881", "4222222222222", "4000056655665556",
		"5555555555554444", "5200828282828210", "5105105105105100", "2223003122003222", "2222400010000008",
		"378282246310005", "371449635398431", "378734493671000", "6011111111111117", "6011000990139424",
		"6011981111111113", "3056930009020004", "30569309025904", "38520000023237", "36227206271667",
		"3566002020360505", "3530111333300000", "6200000000000005", "6205500000000000004",
		"5454545454545454", "4917610000000000", "4988438843884305", "4035501000000008",
		"4263982640269299", "4917484589897107", "5425233430109903", "2222420000001113",
		"2223000048410010", "374245455400126", "6250941006528599", "3566111111111113",
		"36006666333344", "4012000033330026", "4012000077777777", "4005519200000004",
		"4009348888881881", "4217651111111119", "4500600000000061", "6011000400000000",
		"4000002500003155", "4000002760003184", "4000003800000446", "4000008400001629",
		"4000000760000002", "4000001240000000", "4000004840008001", "5200828282828210",
		"5105105105105100", "4571000000000001", "4462030000000000", "4444333322221111",
		"5500000000000004", "340000000000009", "30000000000004", "6011000000000004",
		"4035501000000008", "4360000001000005", "5404000000000001", "4007000000027",
		"4012888818888", "4917300800000000", "4484070000000000", "6759649826438453",
		"6799990100000000019", "5019717010103742", "6331101999990016", "4988080000000000",
		"3528000700000000", "3569990010095841", "6243030000000001", "6221261111117766",
		"5066991111111118", "4903010000000009", "5100290029002909", "5413330089020011",
	} {
		testCards[c] = true
	}
}

func (o Options) cardAt(text string, i, j int, emit func(detectors.Match)) int {
	// Fast rejects: PANs start with 1-6, 8 or 9; a bare one is a run of 12-19 digits, a printed
	// one starts with a group of four joined to the next by a space or a dash.
	if l := j - i; l < 12 && (l != 4 || j+1 >= len(text) || text[j] != ' ' && text[j] != '-' || !isDigit(text[j+1])) ||
		l > 19 || text[i] < '1' || text[i] == '7' {
		return j
	}
	if j-i == 4 {
		// The second group of a printed PAN has four digits, or six (Amex 3782 822463 10005):
		// years in dates and times (2024-01-15, 2024 10:30) end here, before reading any groups.
		k := j + 1
		for k < len(text) && k-j <= 7 && isDigit(text[k]) {
			k++
		}
		if l := k - j - 1; l != 4 && l != 6 {
			return j
		}
	}
	if !startOK(text, i) || i > 0 && (text[i-1] == '+' || text[i-1] == '$' || text[i-1] == '#') {
		return j
	}
	if afterGroup(text, i) {
		return j
	}
	g := readGroups(text, i, " -", 19)
	var buf [24]byte
	for k := g.n; k >= 1; k-- {
		if k < g.n && g.sep[k-1] != ' ' {
			// "4539-1488-0343-6467-2211": a dash-joined number ends where it ends.
			break
		}
		if !g.sameSep(k) || !cardGrouping(&g, k) {
			continue
		}
		if k > 1 && k < g.n && g.len(k) == 4 {
			continue // "6479 0234 5139 7079": the groups of four go on; a prefix is no card
		}
		end := g.end(k)
		if k == g.n && g.more && g.moreSep != ' ' || !endOK(text, end) {
			continue
		}
		d := g.compact(text, k, buf[:0])
		// A listed test card is judged by the list alone: 4111 1111 1111 1111 would fail the
		// placeholder gates, and ReportTestValues promises to report it.
		listed := testCards[string(d)]
		if len(d) < 12 || len(d) > 19 || !iinOK(d) || !luhn(d) || o.known(listed) ||
			!listed && (mostlyOneDigit(d, 4) || sequential(d, 10)) {
			continue
		}
		if k == 1 && numberList(text, i, end) {
			continue
		}
		conf := 1.0
		if k == 1 {
			ctx := cardContext.around(text, i, end, 48, 8)
			if d[0] == '2' && dateLike(d) && !ctx || len(d) == 12 && !ctx {
				continue // a timestamp-based ID; twelve bare digits (Maestro) need the word card
			}
			if len(d) == 15 && NIRValid(string(d)) && nirContext.around(text, i, end, 48, 8) && !ctx {
				continue // a French NIR that also passes Luhn: the NIR detector reports it
			}
			if !cardContext.around(text, i, end, 48, 8) {
				conf = 0.8
			}
		}
		emit(detectors.Match{Start: i, End: end, Confidence: conf})
		return end
	}
	return j
}

// cardGrouping reports whether the first k groups are a printed PAN layout: one run, groups of
// four with a shorter last group (4-4-4-4, 4-4-4-4-3, 4-4-4-1), or Amex/Diners 4-6-5 and 4-6-4.
func cardGrouping(g *groups, k int) bool {
	if k == 1 {
		return true
	}
	if k < 3 || g.len(0) != 4 {
		return false
	}
	if k == 3 && g.len(1) == 6 && (g.len(2) == 5 || g.len(2) == 4) {
		return true
	}
	for x := 1; x < k-1; x++ {
		if g.len(x) != 4 {
			return false
		}
	}
	return g.len(k-1) <= 4
}

// dateLike: a 2-series number that starts with a calendar date (20240615…) is a timestamp-based
// ID, not a Mastercard.
func dateLike(d []byte) bool {
	if len(d) < 8 || d[0] != '2' || d[1] != '0' {
		return false
	}
	m, day := atoi2(d[4:6]), atoi2(d[6:8])
	return m >= 1 && m <= 12 && day >= 1 && day <= 31
}

// iinRule: card numbers whose first plen digits are in [lo, hi] have one of the lengths in lens
// (bit n set for length n).
type iinRule struct {
	plen   int
	lo, hi int
	lens   uint32
}

func lens(ls ...int) uint32 {
	var m uint32
	for _, l := range ls {
		m |= 1 << l
	}
	return m
}

var (
	len16   = lens(16)
	len1619 = lens(16, 17, 18, 19)
)

// iinRules: issuer identification number ranges and lengths (ISO/IEC 7812; card network
// documentation as summarised by Wikipedia's "Payment card number" table).
var iinRules = []iinRule{
	{1, 4, 4, lens(13, 16, 19)},                       // Visa (incl. Electron)
	{2, 51, 55, len16},                                // Mastercard
	{4, 2221, 2720, len16},                            // Mastercard 2-series
	{2, 34, 34, lens(15)},                             // American Express
	{2, 37, 37, lens(15)},                             // American Express
	{4, 6011, 6011, len1619},                          // Discover
	{3, 644, 649, len1619},                            // Discover
	{2, 65, 65, len1619},                              // Discover / RuPay
	{6, 622126, 622925, len1619},                      // Discover co-branded China UnionPay
	{4, 3528, 3589, len1619},                          // JCB
	{4, 1800, 1800, lens(15)},                         // JCB (15 digits)
	{4, 2131, 2131, lens(15)},                         // JCB (15 digits)
	{2, 50, 50, lens(12, 13, 14, 15, 16, 17, 18, 19)}, // Maestro
	{2, 56, 69, lens(12, 13, 14, 15, 16, 17, 18, 19)}, // Maestro (56–69, after the ranges above)
	{3, 300, 305, lens(14, 15, 16, 17, 18, 19)},       // Diners Club International / Carte Blanche
	{4, 3095, 3095, lens(14, 15, 16, 17, 18, 19)},
	{2, 36, 36, lens(14, 15, 16, 17, 18, 19)},
	{2, 38, 39, lens(14, 15, 16, 17, 18, 19)},
	{2, 62, 62, len1619},                                  // China UnionPay
	{4, 8100, 8171, len1619},                              // China UnionPay 81
	{4, 2200, 2204, len1619},                              // Mir
	{4, 2205, 2205, len16},                                // BORICA
	{4, 5018, 5018, lens(12, 13, 14, 15, 16, 17, 18, 19)}, // Maestro
	{4, 5020, 5020, lens(12, 13, 14, 15, 16, 17, 18, 19)}, // Maestro
	{4, 5038, 5038, lens(12, 13, 14, 15, 16, 17, 18, 19)}, // Maestro
	{4, 5893, 5893, lens(12, 13, 14, 15, 16, 17, 18, 19)}, // Maestro
	{4, 6304, 6304, lens(12, 13, 14, 15, 16, 17, 18, 19)}, // Maestro
	{4, 6759, 6759, lens(12, 13, 14, 15, 16, 17, 18, 19)}, // Maestro UK
	{4, 6761, 6763, lens(12, 13, 14, 15, 16, 17, 18, 19)}, // Maestro
	{4, 6799, 6799, len1619},                              // Maestro (test range, kept for shape)
	{4, 5019, 5019, len16},                                // Dankort
	{2, 60, 60, len16},                                    // RuPay
	{2, 81, 82, len16},                                    // RuPay
	{3, 508, 508, len16},                                  // RuPay
	{6, 506099, 506198, lens(16, 18, 19)},                 // Verve
	{6, 650002, 650027, lens(16, 18, 19)},                 // Verve
	{6, 507865, 507964, lens(16, 18, 19)},                 // Verve
	{3, 636, 636, len1619},                                // InterPayment
	{3, 637, 639, len16},                                  // InstaPayment
	{4, 9792, 9792, len16},                                // Troy
	{4, 8600, 8600, len16},                                // UzCard
	{4, 9860, 9860, len16},                                // Humo
}

// iinOK reports whether the digits start with a known issuer range and have a length that
// issuer uses.
func iinOK(d []byte) bool {
	for _, r := range iinRules {
		if len(d) < r.plen || r.lens&(1<<len(d)) == 0 {
			continue
		}
		p := atoi(d[:r.plen])
		if p >= r.lo && p <= r.hi {
			return true
		}
	}
	return false
}

// numberList reports whether the bare number text[s:e] is one of a list of long numbers (a
// table of constants, random seeds, test vectors: "-4181792142133755926, 4576…, 1395…"): a
// negative number, or one whose neighbours on both sides are numbers of six digits or more.
func numberList(text string, s, e int) bool {
	if s >= 2 && text[s-1] == '-' && !isAlnum(text[s-2]) {
		return true
	}
	return longNumberBefore(text, s) && longNumberAfter(text, e)
}

func isListSep(c byte) bool {
	return c == ' ' || c == ',' || c == '\t' || c == '\n' || c == '\r' || c == '-' || c == '+' || c == ';' || c == '|' ||
		c == '{' || c == '}' || c == '(' || c == ')' || c == '[' || c == ']'
}

func longNumberBefore(text string, s int) bool {
	p := s
	for p > 0 && s-p < 8 && isListSep(text[p-1]) {
		p--
	}
	if p == s {
		return false
	}
	// The number before, with a fraction (2251799813685250.5): its longest digit run.
	best, run := 0, 0
	for q := p; q > 0 && p-q < 32 && (isDigit(text[q-1]) || text[q-1] == '.'); q-- {
		if text[q-1] == '.' {
			run = 0
			continue
		}
		run++
		best = max(best, run)
	}
	return best >= 6
}

func longNumberAfter(text string, e int) bool {
	p := e
	for p < len(text) && p-e < 8 && isListSep(text[p]) {
		p++
	}
	if p == e {
		return false
	}
	q := p
	for q < len(text) && q-p < 7 && isDigit(text[q]) {
		q++
	}
	return q-p >= 6
}
