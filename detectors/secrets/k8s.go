package secrets

import (
	"slices"
	"strings"

	"github.com/customs-dev/customs/detectors"
)

// k8sSecret finds the values of a Kubernetes Secret manifest pasted as YAML or JSON (kubectl
// get secret -o json): every entry under
// its data: (base64) or stringData: (plain) is a secret by the manifest's own word, whatever
// its shape — the password assignment alone misses "extra: YWRtaW46…" or ".dockercfg: |".
// The keyword is the kind line (kind: Secret, quoted or not, any case); the manifest is the
// YAML document around it (between "---" lines, at most 8 KiB each way), and its data blocks
// are read line by line by indentation, or in JSON as the string members of the "data" and
// "stringData" objects. Entries that name no secret (username, host, port,
// ca.crt, a public key) and values that decode to fewer than 6 bytes are left out.
type k8sSecret struct{ m detectors.Meta }

var _ detectors.Detector = (*k8sSecret)(nil)

func (k *k8sSecret) Meta() detectors.Meta { return k.m }

const k8sWindow = 64 << 10

func (k *k8sSecret) Find(text string, hits []int, emit func(detectors.Match)) {
	done := -1 // the end of the last document read: one read per document
	for _, h := range hits {
		if h < 0 || h >= len(text) || h < done || !k8sKindLine(text, h) {
			continue
		}
		start, end := k8sDocument(text, h, max(done, 0)) // from where the last read stopped: no value twice
		done = end
		doc := text[start:end]
		report := func(vs, ve int) { emit(detectors.Match{Start: start + vs, End: start + ve, Confidence: 0.7}) }
		if h > 0 && text[h-1] == '"' { // JSON: kubectl get secret -o json
			for _, blk := range []string{`"data"`, `"stringData"`} {
				for off := 0; ; {
					i := strings.Index(doc[off:], blk)
					if i < 0 {
						break
					}
					off += i + len(blk)
					k8sJSONEntries(doc, off, blk == `"data"`, report)
				}
			}
			// No continue: YAML with quoted keys ("kind": "Secret" then "data":) looks
			// like JSON at the kind line; the YAML reader finds nothing in real JSON.
		}
		k8sYAML(doc, report)
	}
}

// k8sKindLine: the hit starts "kind" and the line says kind: Secret (quotes and case aside).
func k8sKindLine(text string, h int) bool {
	if !hasFoldPrefix(text[h:], "kind") || h > 0 && text[h-1] != '\n' && text[h-1] != ' ' && text[h-1] != '\t' && text[h-1] != '"' && text[h-1] != '{' && text[h-1] != ',' {
		return false
	}
	i := h + 4
	if i < len(text) && text[i] == '"' {
		i++
	}
	if i >= len(text) || text[i] != ':' {
		return false
	}
	i = skipBlank(text, i+1)
	if i < len(text) && (text[i] == '"' || text[i] == '\'') {
		i++
	}
	if !hasFoldPrefix(text[i:], "secret") {
		return false
	}
	i += len("secret")
	return i >= len(text) || !isWord(text[i])
}

// k8sDocument bounds the YAML document around i: the nearest "---" lines, within k8sWindow and
// not before from.
func k8sDocument(text string, i, from int) (int, int) {
	lo, hi := max(from, i-k8sWindow), min(len(text), i+k8sWindow)
	start, end := lo, hi
	if j := strings.LastIndex(text[lo:i], "\n---"); j >= 0 {
		start = lo + j + 4
	}
	if j := strings.Index(text[i:hi], "\n---"); j >= 0 {
		end = i + j
	}
	return start, end
}

// k8sEntries reads the block of "name: value" lines after a data: or stringData: key that
// ends at off: the lines indented deeper than the block's key. A value of | or > is the
// more-indented lines after it (.dockercfg: |). It returns where the block ends.
func k8sEntries(doc string, off int, b64 bool, emit func(vs, ve int)) int {
	keyIndent := lineIndent(doc, off)
	i := strings.IndexByte(doc[off:], '\n')
	if i < 0 {
		return len(doc)
	}
	if rest := strings.TrimSpace(doc[off : off+i]); rest != "" && rest[0] != '#' {
		if rest[0] == '{' { // flow style on one line: data: {a: <b64>, b: "<b64>"}
			k8sFlowEntries(doc, off+strings.IndexByte(doc[off:off+i], '{')+1, off+i, b64, emit)
		}
		return off + i // (a comment after the key is no value)
	}
	pos := off + i + 1
	entryIndent := -1
	for pos < len(doc) {
		le := lineEnd(doc, pos)
		line := doc[pos:le]
		trimmed := strings.TrimLeft(line, " \t")
		ind := len(line) - len(trimmed)
		switch {
		case trimmed == "" || trimmed == "\r" || trimmed[0] == '#': // blank with CRLF too
			pos = le + 1
			continue
		case ind <= keyIndent:
			return pos
		case entryIndent < 0:
			entryIndent = ind
		case ind != entryIndent:
			pos = le + 1 // inside a block value already read
			continue
		}
		name, val, ok := strings.Cut(trimmed, ":")
		lineStart := pos
		pos = le + 1
		if !ok {
			continue
		}
		vs := lineStart + ind + len(name) + 1
		ve := vs + len(val)
		if q := strings.TrimLeft(val, " \t"); q == "" || q[0] != '"' && q[0] != '\'' {
			if c := strings.Index(val, " #"); c >= 0 { // a YAML comment after a plain value
				ve = vs + c
			}
		}
		for vs < ve && (doc[vs] == ' ' || doc[vs] == '\t' || doc[vs] == '"' || doc[vs] == '\'') {
			vs++
		}
		for ve > vs && (doc[ve-1] == ' ' || doc[ve-1] == '\t' || doc[ve-1] == '"' || doc[ve-1] == '\'' || doc[ve-1] == '\r') {
			ve--
		}
		if v := doc[vs:ve]; v == "|" || v == ">" || v == "|-" || v == ">-" {
			// The block scalar: the next lines indented deeper than the entry.
			bs, be := min(pos, len(doc)), min(pos, len(doc)) // pos is past the end after a last line
			for be < len(doc) {
				e := lineEnd(doc, be)
				l := doc[be:e]
				if t := strings.TrimLeft(l, " \t"); t != "" && t != "\r" && len(l)-len(t) <= entryIndent {
					break
				}
				be = e + 1
			}
			be = min(be, len(doc))
			for bs < be && (doc[bs] == ' ' || doc[bs] == '\t' || doc[bs] == '\n') {
				bs++
			}
			for be > bs && (doc[be-1] == ' ' || doc[be-1] == '\t' || doc[be-1] == '\n' || doc[be-1] == '\r') {
				be--
			}
			vs, ve, pos = bs, be, be
		}
		if k8sSecretValue(strings.Trim(name, `"' `), doc[vs:ve], b64) {
			emit(vs, ve)
		}
	}
	return len(doc)
}

// k8sFlowEntries reads the "name: value" pairs of a one-line flow mapping from i to its '}' or
// the line's end e. Quoted values may not hold ',' or '}' (base64 and tokens do not).
func k8sFlowEntries(doc string, i, e int, b64 bool, emit func(vs, ve int)) {
	if c := strings.IndexByte(doc[i:e], '}'); c >= 0 {
		e = i + c
	}
	for i < e {
		j := strings.IndexByte(doc[i:e], ',')
		if j < 0 {
			j = e - i
		}
		if name, val, ok := strings.Cut(doc[i:i+j], ":"); ok {
			vs := i + len(name) + 1
			ve := vs + len(val)
			for vs < ve && (doc[vs] == ' ' || doc[vs] == '\t' || doc[vs] == '"' || doc[vs] == '\'') {
				vs++
			}
			for ve > vs && (doc[ve-1] == ' ' || doc[ve-1] == '\t' || doc[ve-1] == '"' || doc[ve-1] == '\'' || doc[ve-1] == '\r') {
				ve--
			}
			if k8sSecretValue(strings.Trim(name, `"' `), doc[vs:ve], b64) {
				emit(vs, ve)
			}
		}
		i += j + 1
	}
}

// k8sYAML reads doc as nested YAML mappings by the column of their keys (a "- " list item
// starts a mapping at the column after it) and reads the data: and stringData: blocks of the
// mappings that say kind: Secret — never a ConfigMap's beside it in a list or a document. One
// pass over the lines, then each block once (a block inside one already read is skipped), so
// the work is linear in doc.
func k8sYAML(doc string, emit func(vs, ve int)) {
	type mapping struct {
		col    int
		secret bool
		blocks [2]int // offsets after the data: and stringData: keys, -1 when absent
	}
	var stack []mapping
	var todo []int // block offsets of Secret mappings, data's as off<<1|1
	closeTop := func() {
		m := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if m.secret {
			for k, off := range m.blocks {
				if off >= 0 {
					todo = append(todo, off<<1|(1-k))
				}
			}
		}
	}
	for pos := 0; pos < len(doc); {
		le := lineEnd(doc, pos)
		line := doc[pos:le]
		next := le + 1
		rest := strings.TrimLeft(line, " \t")
		col := len(line) - len(rest)
		if rest == "" || rest == "\r" || rest[0] == '#' {
			pos = next
			continue
		}
		if col == 0 && (strings.HasPrefix(rest, "---") || strings.HasPrefix(rest, "...")) {
			for len(stack) > 0 {
				closeTop()
			}
			pos = next
			continue
		}
		item := false
		for strings.HasPrefix(rest, "- ") { // "- - key" nests lists: the mapping is the innermost
			item = true
			r := strings.TrimLeft(rest[2:], " ")
			col += len(rest) - len(r)
			rest = r
		}
		for len(stack) > 0 && (stack[len(stack)-1].col > col || item && stack[len(stack)-1].col == col) {
			closeTop()
		}
		if len(stack) == 0 || stack[len(stack)-1].col < col {
			stack = append(stack, mapping{col: col, blocks: [2]int{-1, -1}})
		}
		top := &stack[len(stack)-1]
		key := rest
		if key != "" && (key[0] == '"' || key[0] == '\'') {
			key = key[1:]
		}
		kp := le - len(key) // the key, after its opening quote if any
		if hasFoldPrefix(key, "kind") && k8sKindLine(doc, kp) {
			top.secret = true
		}
		for k, name := range [2]string{"data", "stringData"} {
			if !strings.HasPrefix(key, name) || top.blocks[k] >= 0 {
				continue
			}
			j := kp + len(name)
			if len(key) < len(rest) && j < le && doc[j] == rest[0] {
				j++ // the closing quote of a quoted key
			}
			if j < le && doc[j] == ':' {
				top.blocks[k] = j + 1
			}
		}
		pos = next
	}
	for len(stack) > 0 {
		closeTop()
	}
	slices.Sort(todo)
	end := -1
	for _, t := range todo {
		if off := t >> 1; off >= end {
			end = k8sEntries(doc, off, t&1 == 1, emit)
		}
	}
}

// k8sJSONEntries reads the object after a "data" or "stringData" key that ends at off:
// "name": "value" members, up to its closing brace. Values are JSON strings without escapes
// (base64 and tokens have none; one with an escape is skipped).
func k8sJSONEntries(doc string, off int, b64 bool, emit func(vs, ve int)) {
	i := skipBlank(doc, off)
	if i >= len(doc) || doc[i] != ':' {
		return
	}
	if i = skipBlank(doc, i+1); i >= len(doc) || doc[i] != '{' {
		return
	}
	i++
	for n := 0; n < 1000; n++ { // members, bounded
		for i < len(doc) && (doc[i] == ',' || doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\n' || doc[i] == '\r') {
			i++
		}
		if i >= len(doc) || doc[i] != '"' {
			return // '}' or something else: the object ends
		}
		ne := jsonStringLen(doc, i+1)
		if ne < 0 {
			return
		}
		name := doc[i+1 : i+1+ne]
		i = skipBlank(doc, i+ne+2)
		if i >= len(doc) || doc[i] != ':' {
			return
		}
		if i = skipBlank(doc, i+1); i >= len(doc) || doc[i] != '"' {
			return // a value that is no string: not a Secret's
		}
		ve := jsonStringLen(doc, i+1) // an escaped quote (stringData of a JSON config) does not end it
		if ve < 0 {
			return
		}
		vs, v := i+1, doc[i+1:i+1+ve]
		i += ve + 2
		if strings.IndexByte(v, '\\') < 0 && k8sSecretValue(name, v, b64) {
			emit(vs, vs+len(v))
		}
	}
}

// jsonStringLen is the length of the JSON string body that starts at i (after its opening
// quote), up to the first quote no backslash escapes, or -1.
func jsonStringLen(doc string, i int) int {
	for j := i; j < len(doc); j++ {
		switch doc[j] {
		case '\\':
			j++
		case '"':
			return j - i
		}
	}
	return -1
}

// lineEnd is the index of the line break ending the line at i, or len(doc).
func lineEnd(doc string, i int) int {
	if e := strings.IndexByte(doc[i:], '\n'); e >= 0 {
		return i + e
	}
	return len(doc)
}

// lineIndent is the indentation of the line holding doc[i].
func lineIndent(doc string, i int) int {
	s := strings.LastIndexByte(doc[:i], '\n') + 1
	n := 0
	for s+n < len(doc) && (doc[s+n] == ' ' || doc[s+n] == '\t') {
		n++
	}
	return n
}

// k8sPublic: words of entry names that say the value is no secret (user, host, port, a
// certificate) or is personal data that its own detector reports from the decoded value (a
// phone number, an IBAN, a passport number).
var k8sPublic = set("user", "username", "login", "host", "hostname", "addr", "address", "url", "uri",
	"endpoint", "port", "region", "namespace", "database", "db", "dbname", "email", "mail", "phone", "mobile",
	"iban", "card", "pan", "passport", "ssn", "bsn", "nir", "pesel", "dni", "nino", "cpr", "tax", "fiscale",
	"codice", "rijksregisternummer", "national", "birth", "dob", "crt", "cert", "certificate", "pub", "public",
	"publickey", "upstream", "server", "name", "id")

// k8sNamePublic: a word of name (split at _ - . and case changes aside) is in k8sPublic.
func k8sNamePublic(name string) bool {
	for w := range strings.FieldsFuncSeq(strings.ToLower(name), func(r rune) bool { return r == '_' || r == '-' || r == '.' }) {
		if k8sPublic[w] {
			return true
		}
	}
	return false
}

// k8sSecretValue: a data entry's value that is a secret: base64 (data) of 6 or more bytes, or
// plain text (stringData) of 6 or more characters, not a placeholder or a reference.
func k8sSecretValue(name, v string, b64 bool) bool {
	if len(v) < 6 || len(v) > 64<<10 || k8sNamePublic(name) {
		return false
	}
	if b64 {
		b, ok := decodeB64(strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, v))
		if !ok || len(b) < 6 {
			return false
		}
		for _, c := range b {
			if c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c >= 0x7f {
				return detectors.Entropy(v) >= 3.5 // binary: a key, judged by its encoding
			}
		}
		return k8sPlainOK(string(b))
	}
	return !varMarkerSet.In(v) && k8sPlainOK(v)
}

// k8sPlainOK: a value in clear that may be a secret: not a placeholder or common word, not a
// number (digits, spaces and + - ( ) only: a phone or an ID, whose detectors judge it), not
// prose.
func k8sPlainOK(v string) bool {
	doc := strings.ContainsAny(v, "{\n") // a document (a .dockercfg), where "example" proves nothing
	if !doc && placeholder(v) || isCommonValue(v) || strings.Count(v, " ") > 2 {
		return false
	}
	return strings.Trim(v, "0123456789 +-()/.") != ""
}
