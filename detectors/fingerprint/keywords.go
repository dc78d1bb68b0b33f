package fingerprint

import "strings"

// keywords of the common languages, in one set: the lexer does not know the language of a
// prompt, so an identifier is kept when it is a keyword (or a very common builtin) anywhere.
// Keeping them gives the placeholder-renamed token stream its structure; a variable that happens
// to be named like a keyword of another language costs only the k-grams around it when renamed.
var keywordList = strings.Fields(`
break case chan const continue default defer else fallthrough for func go goto if import
interface map package range return select struct switch type var nil true false iota
append cap close copy delete len make new panic recover print println error string byte rune
bool int int8 int16 int32 int64 uint uint8 uint16 uint32 uint64 uintptr float32 float64 any
auto char do double enum extern float inline long register short signed sizeof static typedef
union unsigned void volatile while class namespace template typename public private protected
virtual override this throw try catch nullptr operator friend using explicit mutable noexcept
constexpr abstract assert boolean extends final finally implements instanceof native super
synchronized throws transient null function let yield async await typeof in of export from
undefined get set constructor declare readonly keyof as unknown never number symbol and def del
elif except global is lambda nonlocal not or pass raise with self None True False fn impl loop
match mod move mut pub ref Self trait unsafe use where dyn crate Some Ok Err begin end elsif
unless until module require rescue ensure echo foreach array isset internal sealed partial out
object fun val when companion data guard protocol extension init
SELECT FROM WHERE JOIN LEFT RIGHT INNER OUTER ON GROUP BY ORDER HAVING LIMIT INSERT INTO VALUES
UPDATE SET DELETE CREATE TABLE AND OR NOT NULL AS DISTINCT UNION COUNT SUM CASE WHEN THEN ELSE
END IN IS LIKE BETWEEN EXISTS PRIMARY KEY FOREIGN REFERENCES DEFAULT
`)

const (
	kwSlots  = 2048 // power of two, a few times the number of keywords: short probe runs
	kwMaxLen = 16
)

type kwSlot struct {
	word string
	val  uint64
}

var kwTable [kwSlots]kwSlot

// kwLens has bit n set for byte c when a keyword of length n starts with c: most identifiers
// fail this one load and skip the hash.
var kwLens [256]uint32

func kwHash(w string) uint {
	n := len(w)
	return (uint(n)*0x9e37 + uint(w[0])*31 + uint(w[n-1])*131 + uint(w[n>>1])*7 + uint(w[(n-1)>>2])*1031) & (kwSlots - 1)
}

func init() {
	for _, w := range keywordList {
		if len(w) > kwMaxLen {
			panic("fingerprint: keyword too long: " + w)
		}
		h := kwHash(w)
		for kwTable[h].word != "" && kwTable[h].word != w {
			h = (h + 1) & (kwSlots - 1)
		}
		kwTable[h] = kwSlot{w, wordish(hashASCII(w, false, tagKeyword))}
		kwLens[w[0]] |= 1 << len(w)
	}
}

// keyword returns the token value of w when it is a keyword. An open-addressing table with a
// hash of a few bytes beats a map here: it is called for every identifier.
func keyword(w string) (uint64, bool) {
	if len(w) > kwMaxLen || kwLens[w[0]]&(1<<len(w)) == 0 {
		return 0, false
	}
	h := kwHash(w)
	for {
		s := &kwTable[h]
		if s.word == "" {
			return 0, false
		}
		if s.word == w {
			return s.val, true
		}
		h = (h + 1) & (kwSlots - 1)
	}
}
