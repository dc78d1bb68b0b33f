package pii

import "testing"

func TestLuhn(t *testing.T) {
	for _, c := range []struct {
		d    string
		want bool
	}{
		{"4539148803436467", true},
		{"4539148803436468", false},
		{"378282246310005", true},
		{"79927398713", true}, // the textbook example
		{"79927398710", false},
		{"0", true},
		{"", false},
		{"5148239669925626", true},
		{"5148239669925627", false},
	} {
		if got := luhn([]byte(c.d)); got != c.want {
			t.Errorf("luhn(%s) = %v, want %v", c.d, got, c.want)
		}
	}
}

func TestIIN(t *testing.T) {
	for _, c := range []struct {
		d    string
		want bool
	}{
		{"4539148803436467", true},    // Visa 16
		{"4222222222222", true},       // Visa 13
		{"4539148803436467123", true}, // Visa 19
		{"453914880343646", false},    // Visa 15
		{"5148239669925626", true},    // Mastercard 51
		{"5548239669925626", true},    // Mastercard 55
		{"5648239669925626", true},    // Maestro 56–69
		{"7648239669925626", false},   // no issuer starts with 7
		{"2221009669925626", true},    // Mastercard 2-series low end
		{"2720479814875358", true},    // Mastercard 2-series high end
		{"2721479814875358", false},   // past the 2-series
		{"378575350834375", true},     // Amex 15
		{"3785753508343751", false},   // Amex 16
		{"341111111111111", true},     // Amex 34
		{"6011226698378408", true},    // Discover
		{"6445226698378408", true},    // Discover 644-649
		{"6545226698378408", true},    // Discover 65
		{"3530520635252901", true},    // JCB
		{"3527520635252901", false},   // below JCB
		{"36854966763508", true},      // Diners 14
		{"30554966763508", true},      // Diners 300-305
		{"6295502800091387", true},    // UnionPay
		{"6759649826438453", true},    // Maestro UK
		{"2200123412341234", true},    // Mir
		{"1234567890123456", false},
		{"7234567890123456", false},
		{"0234567890123456", false},
	} {
		if got := iinOK([]byte(c.d)); got != c.want {
			t.Errorf("iinOK(%s) = %v, want %v", c.d, got, c.want)
		}
	}
}

// Published example IBANs (Wikipedia, the ECBS and SWIFT registry examples) are valid; we test
// the validator on them even though the detector does not report these documentation values.
func TestIBANValid(t *testing.T) {
	valid := []string{
		"DE89370400440532013000", "GB82WEST12345698765432", "GB29NWBK60161331926819",
		"FR1420041010050500013M02606", "NL91ABNA0417164300", "BE68539007547034", "CH9300762011623852957",
		"ES9121000418450200051332", "IT60X0542811101000000123456", "AT611904300234573201",
		"PL61109010140000071219812874", "SE4550000000058398257466", "DK5000400440116243", "FI2112345600000785",
		"NO9386011117947", "PT50000201231234567890154", "IE29AIBK93115212345678", "LU280019400644750000",
		"SA0380000000608010167519", "MT84MALT011000012345MTLCAST001S", "GR1601101250000000012300695",
		"HU42117730161111101800000000", "CZ6508000000192000145399", "SK3112000000198742637541",
		"RO49AAAA1B31007593840000", "HR1210010051863000160", "SI56263300012039086", "BG80BNBG96611020345678",
		"LT121000011101001000", "LV80BANK0000435195001", "EE382200221020145685", "CY17002001280000001200527600",
		"IS140159260076545510730339", "LI21088100002324013AA", "MC5811222000010123456789030",
		"SM86U0322509800000000270100", "TR330006100519786457841326", "DE75512108001245126199",
		"FR5612739000701234567890185", "NL39RABO0300065264", "AT081910000130140081", "GB08BARC20037841234567",
	}
	for _, v := range valid {
		if !IBANValid(v) {
			t.Errorf("IBANValid(%s) = false", v)
		}
	}
	invalid := []string{
		"DE89370400440532013001",       // checksum
		"DE8937040044053201300",        // length
		"DE893704004405320130000",      // length
		"DE89A70400440532013000",       // letter in a numeric BBAN (and checksum)
		"XX89370400440532013000",       // no such country
		"de89370400440532013000",       // lower case
		"GB82WEST1234569876543X",       // structure
		"NL91ABNA041716430",            // NL is 18
		"FR1420041010050500013M02607",  // checksum
		"DE00370400440532013000",       // check digits 00
		"",                             // empty
		"DE",                           // short
		"IT60X05428111010000001234567", // length
	}
	for _, v := range invalid {
		if IBANValid(v) {
			t.Errorf("IBANValid(%s) = true", v)
		}
	}
	// The registry table covers every SEPA country.
	for _, cc := range []string{"AD", "AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GI",
		"GR", "HR", "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MC", "MT", "NL", "NO", "PL", "PT", "RO", "SE",
		"SI", "SK", "SM", "VA"} {
		if ibanSpec(cc[0], cc[1]) == "" {
			t.Errorf("no IBAN spec for %s", cc)
		}
	}
	if l := 4 + len(ibanSpec('D', 'E')); l != 22 {
		t.Errorf("DE IBAN length %d", l)
	}
	if l := 4 + len(ibanSpec('M', 'T')); l != 31 {
		t.Errorf("MT IBAN length %d", l)
	}
	if l := 4 + len(ibanSpec('N', 'O')); l != 15 {
		t.Errorf("NO IBAN length %d", l)
	}
}

func TestSSNValid(t *testing.T) {
	for _, c := range []struct {
		d    string
		want bool
	}{
		{"536904399", true},
		{"001010001", true},
		{"899999999", true},
		{"000123456", false}, // area 000
		{"666123456", false}, // area 666
		{"900123456", false}, // area 9xx (ITINs, advertising)
		{"987654320", false},
		{"536004399", false}, // group 00
		{"536900000", false}, // serial 0000
		{"078051120", false}, // Woolworth's wallet card
		{"219099999", false}, // SSA advertisement
		{"123456789", false}, // the filler everyone types
		{"111111111", false},
		{"53690439", false},
		{"53690439x", false},
	} {
		if got := SSNValid(c.d); got != c.want {
			t.Errorf("SSNValid(%s) = %v, want %v", c.d, got, c.want)
		}
	}
}

func TestNINOPrefix(t *testing.T) {
	for _, c := range []struct {
		p    string
		want bool
	}{
		{"AB", true}, {"JG", true}, {"PX", true}, {"CE", true}, {"ZY", true},
		{"DA", false}, {"FA", false}, {"IA", false}, {"QQ", false}, {"UA", false}, {"VA", false}, // first letter
		{"AD", false}, {"AF", false}, {"AI", false}, {"AO", false}, {"AQ", false}, {"AU", false}, {"AV", false},
		{"BG", false}, {"GB", false}, {"KN", false}, {"NK", false}, {"NT", false}, {"TN", false}, {"ZZ", false},
		{"ab", false},
	} {
		if got := NINOPrefixOK(c.p[0], c.p[1]); got != c.want {
			t.Errorf("NINOPrefixOK(%s) = %v, want %v", c.p, got, c.want)
		}
	}
}

func TestNationalIDValidators(t *testing.T) {
	cases := []struct {
		name  string
		check func(string) bool
		valid []string
		bad   []string
	}{
		{"NIR", NIRValid,
			[]string{"295109912611193", "253072B07300470", "253072A07300443", "184127645108946"},
			[]string{"295109912611199", "253072C07300443", "595109912611193", "295009912611193", "29510991261119", "2951099126111933"}},
		{"Steuer-ID", SteuerIDValid,
			[]string{"36574261809", "23680475183", "56172908559", "28409713571", "34679101258"},
			[]string{"36574261890", "36554266806", "06574261809", "12345678901", "11111111111", "3657426180"}},
		{"DNI/NIE", DNIValid,
			[]string{"98272814R", "71588835R", "16034816K", "Y8519549H", "Y5057095F", "12345678Z"},
			[]string{"98272814T", "W8519549H", "9827281R", "982728144", "Y851954H"}},
		{"codice fiscale", CodiceFiscaleValid,
			[]string{"RCCMNL83S18D969H", "CNTCHR83T41D969D", "RSSMRA85T10A562S"},
			[]string{"RCCMNL83S18D969A", "RCCMNL83S18D969", "RCCMNL83Z18D969H", "RCCMNL83S78D969H", "1CCMNL83S18D969H"}},
		{"BSN", BSNValid,
			[]string{"111222333", "123456782", "603328222", "648707763", "330429346"},
			[]string{"123456789", "603328223", "000000000", "60332822", "6033282221"}},
		{"PESEL", PESELValid,
			[]string{"74092800462", "77291835983", "39040277075"},
			[]string{"74092800463", "74132800462", "7409280046", "11111111111"}},
		{"BE national number", BENationalNumberValid,
			[]string{"85073003328", "29072013025", "48122326837", "17073003384"},
			[]string{"85073003329", "85133003328", "8507300332"}},
		{"personnummer", PersonnummerValid,
			[]string{"8112189876", "198112189876", "6307157716", "9802132846"},
			[]string{"8112189875", "8113189876", "811218987", "1111111111"}},
		{"fødselsnummer", FodselsnummerValid,
			[]string{"15108695088", "01010750160", "09062099345", "41018036736"},
			[]string{"15108695089", "32108695088", "1510869508", "11111111111"}},
		{"CPR", CPRValid,
			[]string{"0101801234", "2406921113", "2902001234"},
			[]string{"3201801234", "0113801234", "3002801234", "010180123"}},
		{"AHV", AHVValid,
			[]string{"7569217076985", "7569203385060"},
			[]string{"7569217076986", "7579217076985", "756921707698"}},
		{"PPS", PPSValid,
			[]string{"6433435F", "6433435FT", "6433435FW", "6433435IH", "6433435OA"},
			[]string{"6433435G", "6433435OB", "6433435FA", "643343F", "6433435F1"}},
		{"PT CC", PTCCValid,
			[]string{"054546796ZY7", "045212244ZZ7", "101490801ZY0"},
			[]string{"054546796ZY8", "05454679ZY7", "A54546796ZY7"}},
		{"SVNR", SVNRValid,
			[]string{"1237010180"},
			[]string{"1238010180", "1237320180", "0237010180", "123701018"}},
		{"CPF", CPFValid,
			[]string{"39053344705"},
			[]string{"39053344706", "11111111111", "3905334470"}},
		{"CURP", CURPValid,
			[]string{"BOXW310820HNERXN09", "MASI050805MVZRLRA8", "TEAM470622HVZZPR07"},
			[]string{"BOXW310820HNERXN08", "BOXW311320HNERXN09", "BOXW310820HXXRXN09", "BOXW310820ZNERXN09", "BOXW310820HNERXN0"}},
		{"Aadhaar", AadhaarValid,
			[]string{"234123412346"},
			[]string{"234123412347", "123412341234", "23412341234"}},
		{"CNP", CNPValid,
			[]string{"1630615123457", "2850101400019"},
			[]string{"1630615123458", "1631315123457", "0630615123457", "1630615993457"}},
		{"isikukood", IsikukoodValid,
			[]string{"36805280109", "49203040212"},
			[]string{"36805280108", "36813280109", "96805280109", "3680528010"}},
	}
	for _, c := range cases {
		for _, v := range c.valid {
			if !c.check(v) {
				t.Errorf("%s: %s should be valid", c.name, v)
			}
		}
		for _, v := range c.bad {
			if c.check(v) {
				t.Errorf("%s: %s should be invalid", c.name, v)
			}
		}
	}
}

// Omocodia: digits replaced by LMNPQRSTUV from the right still validate.
func TestCodiceFiscaleOmocodia(t *testing.T) {
	base := "RCCMNL83S18D96V" // 9 -> V
	ok := 0
	for c := byte('A'); c <= 'Z'; c++ {
		if CodiceFiscaleValid(base + string(c)) {
			ok++
		}
	}
	if ok != 1 {
		t.Errorf("%d check letters accepted for %s", ok, base)
	}
	if CodiceFiscaleValid("RCCMNL83S18D96A" + "H") { // A is not an omocodia letter
		t.Error("non-omocodia letter accepted")
	}
}

func TestMod1110(t *testing.T) {
	// python-stdnum's examples: 36574261809 is valid, so the check digit of 3657426180 is 9.
	if got := mod1110("3657426180"); got != 9 {
		t.Errorf("mod1110 = %d, want 9", got)
	}
}

func TestCountryCodes(t *testing.T) {
	for _, c := range []struct {
		d    string
		want int
	}{
		{"14158672309", 1}, {"447911123456", 2}, {"4915112839476", 2}, {"33612489307", 2},
		{"35312345678", 3}, {"8613812345678", 2}, {"97150123456", 3}, {"2125551234", 3},
		{"2812345678", 0}, {"0044", 0}, {"99912345", 0},
	} {
		if got := countryCode([]byte(c.d)); got != c.want {
			t.Errorf("countryCode(%s) = %d, want %d", c.d, got, c.want)
		}
	}
}

func TestNextDigit(t *testing.T) {
	for _, s := range []string{"", "a", "abcdefghijklmnop1", "1", "abcdefg9", "\xff\xfe\x80\xb9:/0", "////////::::::::5"} {
		want := len(s)
		for i := 0; i < len(s); i++ {
			if isDigit(s[i]) {
				want = i
				break
			}
		}
		if got := nextDigit(s, 0); got != want {
			t.Errorf("nextDigit(%q) = %d, want %d", s, got, want)
		}
	}
	// Every byte value.
	for c := 0; c < 256; c++ {
		s := "xxxxxxxxxxx" + string(rune(0)) + "yyyyyyyy"
		b := []byte(s)
		b[5] = byte(c)
		want := len(b)
		if isDigit(byte(c)) {
			want = 5
		}
		if got := nextDigit(string(b), 0); got != want {
			t.Errorf("byte %#x: nextDigit = %d, want %d", c, got, want)
		}
	}
}
