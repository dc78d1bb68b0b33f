// Package edm is exact data match: it recognises values of a customer table (names, e-mail
// addresses, phone numbers, IBANs, account IDs, dates) in prompt text without holding any of
// them.
//
// BuildTable normalises each chosen cell per column type and keeps only a 64-bit keyed hash of
// it (SipHash-2-4 under a key derived from the installation key) with its row number. Scan cuts
// a text into candidate values of the kinds the table holds, normalises them the same way and
// looks their hashes up. A text is reported when it carries at least MinColumns different
// fields of one row in separate places, or values of at least MinRows different rows (a bulk
// paste). Values shared by more than MaxRowsPerValue rows ("John", a city) are dropped at
// build, so they never fire.
//
// Results carry the label, counts, column names and byte spans, never a value. A table file
// holds hashes, row numbers, the column names and a key check value: no cell and not the key.
//
// # Cost
//
// The index is 8 bytes per kept cell value plus half a byte of directory and a word filter of
// at most 4 MiB: 10 million generated rows × 4 columns (37.9 million values kept) take 325 MiB.
// Building streams the CSV; its live heap peaks at the staged hashes plus a quarter of the
// index (a build held to GOMEMLIMIT=480MiB peaked at 445 MiB in use), and under the default
// GOGC the heap in use peaked at 580-665 MiB. A scan is linear in its text and looks up only
// candidates of the kinds the table holds: a 4 KiB prompt against that table took 21-27 µs of
// CPU on a 2-core VM. See bench_test.go.
//
// # Limits
//
// Names match in any word order up to three words; longer names match by their first and last
// word. Dates need a four-digit year; month names are English. "1.234,50" and "1,234.50" are
// one number, but "3,5" is thirty-five. Diacritics are folded for Latin script (Latin-1
// Supplement and Latin Extended-A/B, and any decomposed mark); other scripts are only
// lower-cased. IDs are ASCII letters and digits in at most six parts.
package edm

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/customs-dev/customs/internal/suggest"
)

// ColumnType says how a column's cells are normalised and how a text is searched for them.
type ColumnType string

const (
	// Name is a person's name, whole or one part of it: case and diacritics folded, titles
	// dropped, word order ignored (so "Last, First" matches "First Last").
	Name ColumnType = "name"
	// Email is lower-cased.
	Email ColumnType = "email"
	// Phone keeps digits only, and of those the last nine, so a number matches with or without
	// its country code or trunk zero.
	Phone ColumnType = "phone"
	// IBAN is upper-cased without spaces.
	IBAN ColumnType = "iban"
	// ID is an account number or other identifier: letters and digits only, case-folded, so
	// "AC-00412938", "ac 00412938" and "AC00412938" are one value.
	ID ColumnType = "id"
	// Number is a decimal number: grouping commas and leading or trailing zeros ignored.
	Number ColumnType = "number"
	// Date is a calendar date in a common format (2006-01-02, 02/01/2006, 2 January 2006,
	// Jan 2, 2006, 20060102); a day and month that could be either way round match both.
	Date ColumnType = "date"
	// Text is anything else, up to MaxTextWords words: case folded, punctuation and spacing
	// ignored.
	Text ColumnType = "text"
)

// Types lists the column types in the order error messages name them.
var Types = []ColumnType{Name, Email, Phone, IBAN, ID, Number, Date, Text}

// MaxTextWords is the longest text cell (in words) that can be matched: a scan looks up word
// runs up to this length at every word, so it bounds the work per word.
const MaxTextWords = 8

// MaxColumns is how many columns one table may index: a column number travels in five bits of
// each index entry next to the row number.
const MaxColumns = 31

// MaxRows is how many data rows one table may hold (27 bits of each index entry).
const MaxRows = 1<<27 - 1

// Column is one CSV column to index.
type Column struct {
	Name string
	Type ColumnType
}

// Defaults for the zero fields of Options.
const (
	DefaultMinColumns      = 2
	DefaultMinRows         = 5
	DefaultMaxRowsPerValue = 3
)

// DefaultMinLen is the shortest normalised value indexed per type (in bytes; digits for phone
// and number; letters for name): shorter ones match too much by chance. Dates have no minimum.
var DefaultMinLen = map[ColumnType]int{
	Name: 3, Email: 6, Phone: 7, IBAN: 15, ID: 4, Number: 4, Text: 4,
}

// Options configure BuildTable. Zero values take the defaults above.
type Options struct {
	Label   string
	Columns []Column // resolved by ParseColumns
	// MinColumns is how many different fields of one row a text must carry to be reported.
	// Name columns count together as one field: first and last name are one identifier.
	MinColumns int
	// MinRows is how many different rows (through as many different values) a text must touch
	// to be reported as a bulk paste, even one field each. Negative turns the rule off.
	MinRows int
	// MaxRowsPerValue drops a normalised value found in more rows than this.
	MaxRowsPerValue int
	// MinLen overrides DefaultMinLen per type.
	MinLen map[ColumnType]int
	// StrictIBAN drops IBAN cells that fail the mod-97 check instead of indexing them as they are.
	StrictIBAN bool
	// Source names the input in error messages and warnings ("customers.csv"); "" says "input".
	Source string
	// Built is recorded as the build time; zero means now. Tests set it to stay reproducible.
	Built time.Time
}

func (o *Options) defaults() {
	if o.MinColumns <= 0 {
		o.MinColumns = DefaultMinColumns
	}
	if o.MinRows == 0 {
		o.MinRows = DefaultMinRows
	}
	if o.MaxRowsPerValue <= 0 {
		o.MaxRowsPerValue = DefaultMaxRowsPerValue
	}
	if o.Source == "" {
		o.Source = "input"
	}
	if o.Built.IsZero() {
		o.Built = time.Now()
	}
}

func (o *Options) minLen(t ColumnType) int {
	if n, ok := o.MinLen[t]; ok && n > 0 {
		return n
	}
	return DefaultMinLen[t]
}

// Stats describe a build. Cells counts the non-empty cells of the chosen columns; the Dropped*
// fields count what was left out of the index, and Dropped is their sum.
type Stats struct {
	Rows, Cells, Dropped int64
	// DroppedCommon counts index entries (a cell makes one or a few: a name also under its first
	// and last word, an ambiguous date both ways) whose value was in more than MaxRowsPerValue rows.
	DroppedCommon int64
	// DroppedShort counts cells shorter than the type's minimum length.
	DroppedShort int64
	// DroppedInvalid counts cells that do not parse as their type (a date that is no date, an
	// e-mail without @, text over MaxTextWords words, an IBAN failing mod-97 with StrictIBAN).
	DroppedInvalid int64
	// Bytes is the index's memory: the exact size of its arrays.
	Bytes int64
	// Warnings name where the first few invalid cells are (file:line, column), never the value.
	Warnings []string
}

// Info describes a built or loaded table.
type Info struct {
	Label      string
	Columns    []Column
	Rows       int64
	Values     int64 // index entries
	Built      time.Time
	MinColumns int
	MinRows    int
	// MaxRowsPerValue is the K the table was built with.
	MaxRowsPerValue int
	Bytes           int64
}

// Match reports one table's values found in one text (aggregated: at most one Match per table
// per Scan).
type Match struct {
	Label string
	// Rows counts the rows that met the rule: rows with MinColumns fields, or every row touched
	// when the bulk rule (MinRows) fired.
	Rows int
	// Columns names the columns matched in those rows, in table order.
	Columns []string
	// Spans are the byte ranges of the matched values in the text, sorted and merged.
	Spans [][2]int
	// Confidence is 1-2^-f for the best row with f fields (0.75 for two fields, 0.875 for
	// three), and at least 0.75 when the bulk rule fired.
	Confidence float64
}

// ParseColumns reads a column list such as "name,email,account_id:id,iban". A column without
// an explicit type gets one guessed from its name (GuessType).
func ParseColumns(spec string) ([]Column, error) {
	var cols []Column
	seen := map[string]bool{}
	for i, f := range strings.Split(spec, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			return nil, fmt.Errorf("columns %q: entry %d is empty", spec, i+1)
		}
		name, typ := f, ColumnType("")
		if j := strings.LastIndexByte(f, ':'); j >= 0 {
			name, typ = strings.TrimSpace(f[:j]), ColumnType(strings.ToLower(strings.TrimSpace(f[j+1:])))
			if name == "" {
				return nil, fmt.Errorf("columns %q: entry %d (%q) has a type but no column name", spec, i+1, f)
			}
			if !validType(typ) {
				return nil, fmt.Errorf("columns %q: column %q: unknown type %q%s (types: %s)", spec, name, typ, hint(string(typ)), typeList())
			}
		} else {
			typ = GuessType(name)
		}
		if seen[strings.ToLower(name)] {
			return nil, fmt.Errorf("columns %q: column %q is listed twice", spec, name)
		}
		seen[strings.ToLower(name)] = true
		cols = append(cols, Column{Name: name, Type: typ})
	}
	if len(cols) > MaxColumns {
		return nil, fmt.Errorf("columns %q: %d columns, at most %d", spec, len(cols), MaxColumns)
	}
	return cols, nil
}

func validType(t ColumnType) bool {
	for _, v := range Types {
		if v == t {
			return true
		}
	}
	return false
}

func typeList() string {
	s := make([]string, len(Types))
	for i, t := range Types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

func hint(s string) string {
	for _, t := range Types {
		if suggest.Distance(s, string(t)) <= 2 {
			return fmt.Sprintf(" (did you mean %q?)", t)
		}
	}
	for _, a := range []struct {
		alias string
		t     ColumnType
	}{
		{"account", ID}, {"acct", ID}, {"ref", ID}, {"identifier", ID}, {"mail", Email},
		{"e-mail", Email}, {"tel", Phone}, {"mobile", Phone}, {"dob", Date}, {"birth", Date},
		{"datetime", Date}, {"string", Text}, {"int", Number}, {"integer", Number},
		{"decimal", Number}, {"person", Name},
	} {
		if suggest.Distance(s, a.alias) <= 1 {
			return fmt.Sprintf(" (did you mean %q?)", a.t)
		}
	}
	return ""
}

// guessRules map words of a column name to a type. Order matters: the first rule whose word
// appears wins, so "account_name" is a name, "email_id" an e-mail and "phone_number" a phone.
var guessRules = []struct {
	typ   ColumnType
	words []string
}{
	{IBAN, []string{"iban"}},
	{Email, []string{"email", "mail", "e-mail", "emailaddress"}},
	{Phone, []string{"phone", "tel", "telephone", "mobile", "cell", "fax", "msisdn", "phonenumber"}},
	{Date, []string{"dob", "birth", "birthday", "birthdate", "dateofbirth", "born", "date"}},
	{ID, []string{"username", "login", "handle", "userid"}},
	{Name, []string{"name", "fullname", "firstname", "lastname", "surname", "forename", "given", "family", "first", "last", "middle"}},
	{ID, []string{"id", "account", "acct", "ref", "reference", "customer", "client", "ssn", "nin", "passport", "tax", "vat", "uuid", "guid", "code", "no", "nr", "num", "number"}},
	{Number, []string{"amount", "balance", "total", "price", "salary", "income", "limit", "sum", "qty", "quantity"}},
}

// GuessType guesses a column's type from its header name: "email", "e_mail" → email;
// "phone", "tel" → phone; "iban" → iban; "name", "first_name", "surname" → name; "dob",
// "birth_date" → date; "account_id", "customer_no" → id; "balance" → number; else text.
func GuessType(column string) ColumnType {
	words := strings.FieldsFunc(strings.ToLower(column), func(r rune) bool {
		return r == '_' || r == '-' || r == ' ' || r == '.' || r == '/'
	})
	joined := strings.Join(words, "")
	for _, g := range guessRules {
		for _, w := range g.words {
			if joined == w {
				return g.typ
			}
			for _, x := range words {
				if x == w {
					return g.typ
				}
			}
		}
	}
	// camelCase names ("firstName", "accountId") arrive as one word.
	for _, g := range guessRules {
		for _, w := range g.words {
			if len(w) >= 4 && strings.Contains(joined, w) {
				return g.typ
			}
		}
	}
	return Text
}

// ErrWrongKey is returned by ReadTable when the table was built with another key.
var ErrWrongKey = errors.New("edm: table was built with a different installation key")
