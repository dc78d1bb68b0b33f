package edm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customs-dev/customs/internal/golden"
)

var (
	testKey   = []byte("0123456789abcdef-installation-key")
	testBuilt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

const fixtureColumns = "name,email,phone,account_id,iban,dob,city"

func readFixture(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "customers.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func build(t testing.TB, csv []byte, spec string, o Options) (*Table, Stats) {
	t.Helper()
	cols, err := ParseColumns(spec)
	if err != nil {
		t.Fatal(err)
	}
	o.Columns, o.Built = cols, testBuilt
	if o.Label == "" {
		o.Label = "customers"
	}
	tb, st, err := BuildTable(bytes.NewReader(csv), testKey, o)
	if err != nil {
		t.Fatal(err)
	}
	return tb, st
}

var (
	fixtureOnce  sync.Once
	fixtureTable *Table
	fixtureStats Stats
)

func fixture(t testing.TB) *Table {
	fixtureOnce.Do(func() {
		fixtureTable, fixtureStats = build(t, readFixture(t), fixtureColumns, Options{Source: "customers.csv"})
	})
	return fixtureTable
}

// The fixture is what the generator writes; rewrite it with -update.
func TestFixture(t *testing.T) {
	var b bytes.Buffer
	if err := genCustomers(&b, 2000, 14); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "customers.csv"), b.Bytes())
	seen := map[string]int{}
	for i, line := range strings.Split(strings.TrimSpace(b.String()), "\n")[1:] {
		f := strings.Split(line, ",")
		acct := f[len(f)-4]
		if j, dup := seen[acct]; dup {
			t.Errorf("rows %d and %d share account %s", j, i, acct)
		}
		seen[acct] = i
		if iban := strings.ReplaceAll(f[len(f)-3], " ", ""); !ibanValid([]byte(iban)) {
			t.Errorf("row %d: IBAN %s fails mod-97", i, iban)
		}
	}
}

func TestParseColumns(t *testing.T) {
	var b strings.Builder
	for _, spec := range []string{
		"name,email,account_id,iban",
		"name, email ,account_id:id, iban",
		"first_name,last_name,Surname,e_mail,mobile,tel,dob,birth_date,customer_no,phone_number,username,balance,city,notes",
		"firstName,accountId,EmailAddress,DateOfBirth,PostCode",
		"ref:number,when:date,who:name,memo:text",
		"account:acount",
		"account:mail",
		"name,,email",
		":id",
		"name,NAME",
	} {
		cols, err := ParseColumns(spec)
		fmt.Fprintf(&b, "%q\n", spec)
		if err != nil {
			fmt.Fprintf(&b, "  error: %v\n", err)
			continue
		}
		for _, c := range cols {
			fmt.Fprintf(&b, "  %s: %s\n", c.Name, c.Type)
		}
	}
	golden.Check(t, filepath.Join("testdata", "columns.golden"), []byte(b.String()))
}

// The normalisers, one input per line: what a cell becomes before it is hashed.
func TestNormalise(t *testing.T) {
	var b strings.Builder
	words := func(s string) string {
		ws, buf := appendWords(nil, nil, s)
		var out []string
		for _, w := range nameWords(ws, buf) {
			out = append(out, string(buf[w.off:w.off+w.n]))
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		typ ColumnType
		in  []string
	}{
		{Name, []string{"Maria Gonzalez", "GONZÁLEZ, María", "  José   Müller ", "Siobhán O'Brien", "Jose\u0301 Mu\u0308ller", "Dr. Anne-Marie Dupont-Aignan", "Gonzalez's", "Łukasz Żółć", "Þórr Æsir Œuvre Straße", "Ωμέγα Пётр", "Mr", "R2-D2 Unit"}},
		{Email, []string{"Maria.Gonzalez@Example.COM", "mailto:a.b@c.de", " x@y.io ", "no-at-sign", "a@b", "two@at@signs.com", ".lead@dot.com"}},
		{Phone, []string{"+44 20 7946 0958", "02079460958", "(415) 555-0123", "+1 415 555 0123", "555-0123", "call me", "+33 6 12 34 56 78"}},
		{IBAN, []string{"gb29 nwbk 6016 1331 9268 19", "DE89-3704-0044-0532-0130-00", "DE89370400440532013001", "XX12", "DE89 3704 ÄÖ"}},
		{ID, []string{"AC-00412938", "ac 00412938", "AC/0041/2938", "a-b-c-d-e-f-g", "---", "123e4567-e89b-12d3-a456-426614174000"}},
		{Number, []string{"1,234.50", "1.234,50", "$ 0012.300", "-0", "1.234.567", "12a", "-42"}},
		{Date, []string{"1984-07-21", "21/07/1984", "03/04/1990", "14 March 1979", "March 14, 1979", "Mar 14th 1979", "19790314", "1979-03-14T08:00:00Z", "31/02/1990", "yesterday", "07.21.1984"}},
	} {
		fmt.Fprintf(&b, "%s:\n", c.typ)
		for _, in := range c.in {
			var out string
			switch c.typ {
			case Name:
				out = words(in)
			case Email:
				v, ok := normEmail(in)
				out = fmt.Sprintf("%s %v", v, ok)
			case Phone:
				v, d, ok := normPhone(in)
				out = fmt.Sprintf("%s digits=%d %v", v, d, ok)
			case IBAN:
				v, ok := normIBAN(in, false)
				_, strict := normIBAN(in, true)
				out = fmt.Sprintf("%s %v strict=%v", v, ok, strict)
			case ID:
				v, ok := normID(in)
				out = fmt.Sprintf("%s %v", v, ok)
			case Number:
				v, d, ok := normNumber(in)
				out = fmt.Sprintf("%s digits=%d %v", v, d, ok)
			case Date:
				ds, ok := normDate(in)
				var s []string
				for _, d := range ds {
					s = append(s, string(d[:]))
				}
				out = fmt.Sprintf("%s %v", strings.Join(s, " "), ok)
			}
			fmt.Fprintf(&b, "  %q → %s\n", in, out)
		}
	}
	golden.Check(t, filepath.Join("testdata", "normalise.golden"), []byte(b.String()))
}

func TestBuildErrors(t *testing.T) {
	var b strings.Builder
	for _, c := range []struct {
		name, csv, spec string
		key             []byte
	}{
		{"empty", "", "name", nil},
		{"missing column", "name,mail\nA B,a@b.cd\n", "name,email", nil},
		{"duplicate header", "name,email,Email\nA B,a@b.cd,x@y.zz\n", "name,email", nil},
		{"bare quote", "name,email\nAnna \"Bee, x@y.zz\n", "name,email", nil},
		{"unterminated quote", "name,email\nAnna,\"x@y.zz\n", "name,email", nil},
		{"field count", "name,email\nA B,a@b.cd\nC D\n", "name,email", nil},
		{"short key", "name\nA\n", "name", []byte("short")},
		{"bom and crlf ok", "\xef\xbb\xbfName,Email\r\nAnna Berg,anna@berg.example\r\n", "name,email", nil},
	} {
		cols, err := ParseColumns(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		key := c.key
		if key == nil {
			key = testKey
		}
		_, st, err := BuildTable(strings.NewReader(c.csv), key, Options{Columns: cols, Source: "t.csv", Built: testBuilt})
		fmt.Fprintf(&b, "%s: ", c.name)
		if err != nil {
			fmt.Fprintf(&b, "%v\n", err)
		} else {
			fmt.Fprintf(&b, "ok rows=%d cells=%d\n", st.Rows, st.Cells)
		}
	}
	golden.Check(t, filepath.Join("testdata", "errors.golden"), []byte(b.String()))
}

// Warnings name where bad cells are, never what they hold.
func TestBuildWarnings(t *testing.T) {
	csv := "name,email,dob\nAnna Berg,anna@berg.example,1990-01-02\nBo Chen,not-an-email,someday\n"
	_, st := build(t, []byte(csv), "name,email,dob", Options{Source: "w.csv"})
	got := fmt.Sprintf("%+v\n", st)
	golden.Check(t, filepath.Join("testdata", "warnings.golden"), []byte(got))
	for _, v := range []string{"not-an-email", "someday", "Bo Chen"} {
		if strings.Contains(got, v) {
			t.Errorf("stats carry the value %q", v)
		}
	}
}

func TestBuildStats(t *testing.T) {
	tb := fixture(t)
	info := tb.Info()
	got := fmt.Sprintf("stats: %+v\ninfo: %+v\n", fixtureStats, info)
	golden.Check(t, filepath.Join("testdata", "build.golden"), []byte(got))
}

func renderMatches(text string, ms []Match) string {
	var b strings.Builder
	if len(ms) == 0 {
		b.WriteString("no match\n")
	}
	for _, m := range ms {
		fmt.Fprintf(&b, "match %s: rows=%d columns=%s confidence=%.3f\n", m.Label, m.Rows, strings.Join(m.Columns, ","), m.Confidence)
		for _, sp := range m.Spans {
			fmt.Fprintf(&b, "  [%d,%d) %q\n", sp[0], sp[1], text[sp[0]:sp[1]])
		}
	}
	return b.String()
}

// scanCases are texts against the fixture table (MinColumns 2, MinRows 5, K 3) unless opts says
// otherwise.
var scanCases = []struct {
	name, text string
	opts       *Options
}{
	{"prose-name-account", "Hi! Please refund Maria Gonzalez, her account is AC-00412938. Thanks.", nil},
	{"json-email-iban", `{"customer":{"email":"Oliver.Bennett@example.co.uk","iban":"GB29NWBK60161331926819","note":"chargeback"}}`, nil},
	{"json-escaped", `{"messages":[{"role":"user","content":"Draft a letter to siobhan.obrien@example.ie\nIBAN: IE29 AIBK 9311 5212 3456 78"}]}`, nil},
	{"bulk-emails", "Dedupe this list:\nmaria.gonzalez@example.com\noliver.bennett@example.co.uk\njose.muller@example.de\nsiobhan.obrien@example.ie\n" + fixtureEmails(20, 4) + "thanks", nil},
	{"bulk-below-minrows", "cc " + fixtureEmails(30, 4), nil},
	{"common-first-name", "John called about his order; John wants a refund to his card.", nil},
	{"common-city", "Our Madrid and London offices, plus Maria in Berlin.", nil},
	{"single-email", "Please forward to maria.gonzalez@example.com today.", nil},
	{"single-email-minrows-1", "Please forward to maria.gonzalez@example.com today.", &Options{MinRows: 1}},
	{"two-rows", "Maria Gonzalez asked about account AC-00977120.", nil},
	{"phone-reformatted", "Oliver Bennett rang from +44 20 7946 0958 yesterday.", nil},
	{"phone-local-iban-spaced", "Caller 020 7946 0958 gave IBAN GB29 NWBK 6016 1331 9268 19 for the refund", nil},
	{"name-case-diacritics", "MARIA GONZÁLEZ wants to close ac 00412938", nil},
	{"name-last-first", "Gonzalez, Maria (acct AC00412938)", nil},
	{"name-middle-initial", "Maria E. Gonzalez, AC-00412938", nil},
	{"name-no-diacritics", "jose muller, de89370400440532013000", nil},
	{"name-decomposed", "Jose\u0301 Mu\u0308ller <jose.muller@example.de>", nil},
	{"name-apostrophe-date", "Siobhan OBrien was born 14 March 1979.", nil},
	{"name-possessive-dob", "Write to Siobhán O'Brien's lawyer; DOB 1979-03-14.", nil},
	{"ambiguous-date", "José Müller, born 4 March 1990", nil},
	{"three-fields", "Maria Gonzalez <maria.gonzalez@example.com>, tel +34 612 345 678, acct AC-00412938", nil},
	{"minrows-off", "cc " + fixtureEmails(30, 6), &Options{MinRows: -1}},
	{"mincolumns-3", "Please refund Maria Gonzalez, her account is AC-00412938.", &Options{MinColumns: 3}},
	{"nothing", "Summarise the attached quarterly report in three bullet points.", nil},
}

// fixtureEmails lists n e-mail addresses of the fixture starting at data row from.
func fixtureEmails(from, n int) string {
	// The generator, not the file: the cases are built before any test runs, and TestFixture
	// checks that the two agree.
	var b bytes.Buffer
	genCustomers(&b, from+n, 14)
	lines := strings.Split(b.String(), "\n")[1:]
	var out strings.Builder
	for _, l := range lines[from : from+n] {
		f := strings.Split(l, ",")
		if strings.HasPrefix(f[0], `"`) {
			f = f[1:]
		}
		out.WriteString(f[1] + "\n")
	}
	return out.String()
}

func TestScan(t *testing.T) {
	csv := readFixture(t)
	for _, c := range scanCases {
		t.Run(c.name, func(t *testing.T) {
			tb := fixture(t)
			if c.opts != nil {
				tb, _ = build(t, csv, fixtureColumns, *c.opts)
			}
			got := renderMatches(c.text, tb.Scan(c.text))
			golden.Check(t, filepath.Join("testdata", "scan", c.name+".golden"), []byte(c.text+"\n---\n"+got))
		})
	}
}

// First and last name in separate columns: each is a field of its own in the index, the two
// together a third entry, and all of them one field for MinColumns.
func TestSplitNames(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("first_name,last_name,email,city\n")
	for i := range 40 {
		fmt.Fprintf(&csv, "John,%s,john%d@example.com,London\n", lastNames[i], i)
	}
	csv.WriteString("Maria,Gonzalez,mg@example.org,Madrid\nLi,Wang,li.wang@example.cn,Beijing\n")
	tb, st := build(t, []byte(csv.String()), "first_name,last_name,email,city:text", Options{})
	var b strings.Builder
	fmt.Fprintf(&b, "stats: %+v\n", st)
	for _, text := range []string{
		"John called.",
		"John Williams called from London.",
		"john williams, john2@example.com",
		"Gonzalez, Maria <mg@example.org>",
		"maria gonzalez alone",
		"Li Wang, li.wang@example.cn",
		"Wang wrote from li.wang@example.cn",
		"Maria Gonzalez lives in Beijing",
	} {
		fmt.Fprintf(&b, "%s\n%s", text, renderMatches(text, tb.Scan(text)))
	}
	golden.Check(t, filepath.Join("testdata", "split-names.golden"), []byte(b.String()))
}

// Number, text and ID-without-digits columns, and an explicit MinLen.
func TestOtherTypes(t *testing.T) {
	csv := "customer,plan,balance,notes,handle\n" +
		"Ada Lovelace,Gold Plus,\"12,500.00\",prefers email contact,adal\n" +
		"Alan Turing,Basic,310.5,call after five pm please,aturing\n"
	tb, st := build(t, []byte(csv), "customer:name,plan:text,balance:number,notes:text,handle:id", Options{MinLen: map[ColumnType]int{Text: 3}})
	var b strings.Builder
	fmt.Fprintf(&b, "stats: %+v\n", st)
	for _, text := range []string{
		"Ada Lovelace is on gold plus",
		"balance 12500 for aturing",
		"Alan Turing: Call after five PM, please!",
		"ADAL owes $12,500",
		"basic and gold plus plans",
	} {
		fmt.Fprintf(&b, "%s\n%s", text, renderMatches(text, tb.Scan(text)))
	}
	golden.Check(t, filepath.Join("testdata", "other-types.golden"), []byte(b.String()))
}

func TestSet(t *testing.T) {
	a := fixture(t)
	bcsv := "name,iban\nMaria Gonzalez,ES91 2100 0418 4502 0005 1332\n"
	b, _ := build(t, []byte(bcsv), "name,iban", Options{Label: "payees"})
	other := []byte("another-installation-key-000000000")
	cols, _ := ParseColumns("name,iban")
	c, _, err := BuildTable(strings.NewReader(bcsv), other, Options{Label: "other-key", Columns: cols, Built: testBuilt})
	if err != nil {
		t.Fatal(err)
	}
	text := "Maria Gonzalez, IBAN ES91 2100 0418 4502 0005 1332, account AC-00412938"
	got := renderMatches(text, NewSet(a, nil, b, c).Scan(text))
	golden.Check(t, filepath.Join("testdata", "set.golden"), []byte(got))
}

func TestRoundTrip(t *testing.T) {
	tb := fixture(t)
	var buf bytes.Buffer
	n, err := tb.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d, %v; wrote %d", n, err, buf.Len())
	}
	back, err := ReadTable(bytes.NewReader(buf.Bytes()), testKey)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(back.Info()) != fmt.Sprint(tb.Info()) {
		t.Errorf("info differs:\n%+v\n%+v", back.Info(), tb.Info())
	}
	for _, c := range scanCases {
		if c.opts != nil {
			continue
		}
		if a, b := renderMatches(c.text, tb.Scan(c.text)), renderMatches(c.text, back.Scan(c.text)); a != b {
			t.Errorf("%s: read table scans differently:\n%s\n%s", c.name, b, a)
		}
	}
	var again bytes.Buffer
	back.WriteTo(&again)
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("writing a read table gives different bytes")
	}
}

func TestReadErrors(t *testing.T) {
	var buf bytes.Buffer
	fixture(t).WriteTo(&buf)
	good := buf.Bytes()
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	var b strings.Builder
	for _, c := range []struct {
		name string
		file []byte
		key  []byte
	}{
		{"empty", nil, testKey},
		{"not a table", []byte("name,email\nMaria,maria@example.com\n"), testKey},
		{"version", mut(func(b []byte) []byte { b[8] = 9; return b }), testKey},
		{"header flipped", mut(func(b []byte) []byte { b[30] ^= 1; return b }), testKey},
		{"body flipped", mut(func(b []byte) []byte { b[len(b)-100] ^= 1; return b }), testKey},
		{"truncated", good[:len(good)/2], testKey},
		{"trailer missing", good[:len(good)-4], testKey},
		{"wrong key", good, []byte("some-other-installation-key!")},
		{"huge header", mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[12:], 1<<30); return b }), testKey},
	} {
		_, err := ReadTable(bytes.NewReader(c.file), c.key)
		fmt.Fprintf(&b, "%s: %v\n", c.name, err)
		if err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	golden.Check(t, filepath.Join("testdata", "read-errors.golden"), []byte(b.String()))
}

// The written table holds no value of the CSV, raw or normalised: every cell, every word of a
// name, every digit string is absent from its bytes.
func TestNoClearValues(t *testing.T) {
	tb := fixture(t)
	var buf bytes.Buffer
	tb.WriteTo(&buf)
	file := buf.Bytes()
	allowed := map[string]bool{"customers": true}
	for _, c := range tb.cols {
		allowed[strings.ToLower(c.Name)] = true
		allowed[string(c.Type)] = true
	}
	checked := 0
	check := func(v string) {
		if len(v) < 5 || allowed[strings.ToLower(v)] {
			return
		}
		checked++
		for _, form := range []string{v, strings.ToLower(v), strings.ToUpper(v)} {
			if bytes.Contains(file, []byte(form)) {
				t.Errorf("table file contains %q", form)
			}
		}
	}
	for _, line := range strings.Split(string(readFixture(t)), "\n")[1:] {
		for _, cell := range strings.Split(line, ",") {
			cell = strings.Trim(cell, `" `)
			check(cell)
			for _, w := range strings.Fields(cell) {
				check(w)
			}
			if v, _, ok := normPhone(cell); ok {
				check(v)
			}
			if v, ok := normID(cell); ok {
				check(v)
			}
			if v, ok := normIBAN(cell, false); ok {
				check(v)
			}
		}
	}
	if checked < 10000 {
		t.Fatalf("only %d values checked", checked)
	}
}

func TestConcurrentScan(t *testing.T) {
	tb := fixture(t)
	set := NewSet(tb)
	want := make([]string, len(scanCases))
	for i, c := range scanCases {
		want[i] = renderMatches(c.text, tb.Scan(c.text))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for r := range 20 {
				i := (g + r) % len(scanCases)
				c := scanCases[i]
				if c.opts != nil {
					continue
				}
				if got := renderMatches(c.text, set.Scan(c.text)); got != want[i] {
					t.Errorf("%s: concurrent scan differs:\n%s", c.name, got)
				}
			}
		})
	}
	wg.Wait()
}

func TestEmptyAndTiny(t *testing.T) {
	tb, st := build(t, []byte("name,email\n"), "name,email", Options{})
	if st.Rows != 0 || len(tb.Scan("Maria Gonzalez maria@x.example")) != 0 {
		t.Fatalf("empty table: %+v", st)
	}
	var buf bytes.Buffer
	tb.WriteTo(&buf)
	if _, err := ReadTable(&buf, testKey); err != nil {
		t.Fatal(err)
	}
	if len(fixture(t).Scan("")) != 0 {
		t.Fatal("empty text matched")
	}
}

// An ID's digits can also be a phone number's tail: the row's two fields must still count when
// a greedy pick would take the phone reading of the ID and then find the phone field used.
func TestIDDigitsAlsoPhoneTail(t *testing.T) {
	csv := "name,id,phone\nAnna Berg,000000000,0000000\n"
	tb, _ := build(t, []byte(csv), "name,id:id,phone", Options{MinRows: -1})
	text := "ref 000000000 / call 0000000"
	golden.Check(t, filepath.Join("testdata", "id-digits-phone-tail.golden"), []byte(text+"\n---\n"+renderMatches(text, tb.Scan(text))))
}

func TestFieldsApart(t *testing.T) {
	tb := &Table{cols: []Column{{"a", ID}, {"b", Phone}, {"c", Email}, {"d", Name}, {"e", Name}}}
	tb.setFields()
	h := func(col, start, end int) hit { return hit{rc: uint32(col), start: start, end: end} }
	s := &scanner{}
	for _, c := range []struct {
		hits []hit // sorted by end
		want int
	}{
		{nil, 0},
		{[]hit{h(0, 0, 5)}, 1},
		{[]hit{h(1, 0, 5), h(0, 0, 5), h(1, 6, 9)}, 2}, // the greedy trap
		{[]hit{h(0, 0, 5), h(1, 3, 8)}, 1},             // overlapping
		{[]hit{h(3, 0, 4), h(4, 5, 9)}, 1},             // two name columns are one field
		{[]hit{h(3, 0, 4), h(namesCol, 0, 9), h(2, 10, 20)}, 2},
		{[]hit{h(0, 0, 1), h(1, 1, 2), h(2, 2, 3), h(3, 3, 4)}, 4},
	} {
		if got := s.fieldsApart(tb, c.hits); got != c.want {
			t.Errorf("%v: got %d, want %d", c.hits, got, c.want)
		}
	}
}
