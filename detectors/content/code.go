package content

import (
	"strings"

	"github.com/customs-dev/customs/detectors"
)

// Source code is recognised line by line, in one pass: each line gets a score from cheap syntax
// cues (its last character, its first word, operators, indentation, YAML/env/HCL shapes), runs of
// code lines make a block (a single blank or unremarkable line does not end it; a prose line or
// two unremarkable lines do), and a block is reported when it has at least minStrong strongly
// code-like lines and is at least minLines code lines or minBytes long. Markdown fences are
// honoured: a fenced block tagged with a programming language is code whatever its lines look
// like.
const (
	minStrong = 3
	minLines  = 5
	minBytes  = 200
	// Lines longer than this are prose paragraphs (or minified code, which this detector does
	// not try to recognise): they end a block without being examined.
	maxLine = 400
)

func sourceDetector() detectors.Detector {
	return &source{meta: detectors.Meta{
		ID:       "code.source",
		Class:    detectors.Code,
		Severity: detectors.Medium,
		Description: "A block of pasted source code or configuration: at least 5 code-like lines (or " +
			"200 bytes of them) of which at least 3 are strongly code-like — Go, Python, Java/Kotlin, " +
			"JavaScript/TypeScript, C/C++/C#, Rust, SQL, Terraform/HCL, Kubernetes/YAML manifests, " +
			".env files, shell — or a Markdown code fence tagged with such a language. The finding " +
			"spans the block; content.GuessLanguage(block) names its language. Pure JSON data and " +
			"prose are not code. Confidence grows with the number of strong lines (0.6 + 0.05 each, " +
			"up to 1); a tagged fence scores 1.",
		Examples: detectors.Examples{
			Match: []string{
				"Why does this panic?\n\nfunc (s *Server) handle(w http.ResponseWriter, r *http.Request) {\n\tuser, err := s.db.Lookup(r.Context(), r.URL.Query().Get(\"id\"))\n\tif err != nil {\n\t\thttp.Error(w, err.Error(), 500)\n\t\treturn\n\t}\n\tjson.NewEncoder(w).Encode(user)\n}\n",
				"def load(path):\n    with open(path) as f:\n        rows = [json.loads(l) for l in f]\n    if not rows:\n        raise ValueError(\"empty\")\n    return rows\n",
				"SELECT c.id, c.email, SUM(o.total) AS revenue\nFROM customers c\nJOIN orders o ON o.customer_id = c.id\nWHERE o.created_at >= '2024-01-01'\nGROUP BY c.id, c.email\nORDER BY revenue DESC\nLIMIT 50;\n",
				"resource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"acme-prod-logs\"\n  acl    = \"private\"\n  tags = {\n    team = \"platform\"\n  }\n}\n",
				"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: payments\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n        - name: api\n          image: acme/payments:1.4.2\n",
				"```ts\nexport const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0)\nexport type Cart = { items: Item[] }\n```",
			},
			NoMatch: []string{
				"Can you summarise the following meeting notes for me? We discussed the Q3 roadmap, the hiring plan and the budget.\nAlice will follow up with finance by Friday.\nBob owns the vendor review.\nThanks!",
				"{\n  \"name\": \"acme\",\n  \"version\": \"1.2.3\",\n  \"private\": true,\n  \"dependencies\": {\n    \"react\": \"^18.2.0\"\n  }\n}\n",
				"Use `x := f()` to declare it.",
				"if err != nil {\n\treturn err\n}",
				"1. Open the settings page.\n2. Click on Security.\n3. Enable two-factor authentication.\n4. Save.\n5. Log out and back in.\n6. Done!",
				"From: Alice\nTo: Bob\nSubject: lunch\nDate: Monday\n\nSee you at noon.",
			},
		},
	}}
}

type source struct{ meta detectors.Meta }

var _ detectors.Detector = (*source)(nil)

func (d *source) Meta() detectors.Meta { return d.meta }

func (d *source) Find(text string, _ []int, emit func(detectors.Match)) {
	if strings.IndexByte(text, '\n') < 0 {
		// One line cannot hold minStrong code lines, nor a fence and its content: most
		// segments (header values, model names, short answers) end here, unclassified.
		return
	}
	scanCode(text, func(start, end int, conf float64) {
		emit(detectors.Match{Start: start, End: end, Confidence: conf})
	})
}

// line kinds
const (
	lineBlank = iota
	lineNeutral
	linePlain
	lineProse
	lineWeak
	lineStrong
	lineFence
)

type block struct {
	start, end   int // span: first code line to the end of the last code line
	strong, weak int
	other        int // other non-blank lines (fences only)
	bytes        int // bytes of code lines
	all          int // bytes of non-blank lines (fences only)
	plain        int // consecutive unremarkable lines
	blanks       int // consecutive blank lines
}

func (b *block) isCode() bool {
	return b.start >= 0 && b.strong >= minStrong && (b.strong+b.weak >= minLines || b.bytes >= minBytes)
}

func (b *block) confidence() float64 { return min(1, 0.6+0.05*float64(b.strong)) }

// scanCode reports the code blocks of text, in order, with their confidence.
func scanCode(text string, report func(start, end int, conf float64)) {
	b := block{start: -1}
	flush := func() {
		if b.isCode() {
			report(b.start, b.end, b.confidence())
		}
		b = block{start: -1}
	}
	inFence, tagged := false, false
	fence := block{start: -1}
	var fenceMark byte
	closeFence := func() {
		lines := fence.strong + fence.weak + fence.other
		switch {
		case fence.start >= 0 && tagged && (lines >= minLines-2 || fence.all >= minBytes/2):
			// A fence tagged with a language is code, from a smaller size on.
			report(fence.start, fence.end, 1)
		case fence.isCode():
			report(fence.start, fence.end, fence.confidence())
		}
		inFence = false
		fence = block{start: -1}
	}
	n := len(text)
	for pos := 0; pos < n; {
		end := n
		if k := strings.IndexByte(text[pos:], '\n'); k >= 0 {
			end = pos + k
		}
		next := end + 1
		line := text[pos:end]
		kind := classifyLine(line)
		if kind == lineFence {
			mark := fenceByte(line)
			switch {
			case !inFence:
				flush()
				inFence, fenceMark = true, mark
				tagged = fenceTagIsCode(line)
			case mark == fenceMark && fenceTag(line) == "":
				closeFence()
			}
			pos = next
			continue
		}
		if inFence {
			if kind != lineBlank {
				if fence.start < 0 {
					fence.start = pos
				}
				fence.end = trimEnd(text, pos, end)
				fence.all += end - pos
				switch kind {
				case lineStrong:
					fence.strong++
					fence.bytes += end - pos
				case lineWeak:
					fence.weak++
					fence.bytes += end - pos
				default:
					fence.other++
				}
			}
			pos = next
			continue
		}
		switch kind {
		case lineBlank:
			b.blanks++
			if b.blanks >= 3 {
				flush()
			}
		case lineNeutral:
			b.blanks = 0
		case linePlain:
			b.plain++
			b.blanks = 0
			if b.plain >= 2 {
				flush()
			}
		case lineProse:
			flush()
		case lineWeak, lineStrong:
			if b.start < 0 {
				b.start = pos + leadingSpace(line)
			}
			b.end = trimEnd(text, pos, end)
			b.bytes += end - pos
			b.plain, b.blanks = 0, 0
			if kind == lineStrong {
				b.strong++
			} else {
				b.weak++
			}
		}
		pos = next
	}
	if inFence {
		closeFence() // an unterminated fence ends with the text
	}
	flush()
}

func leadingSpace(line string) int {
	k := 0
	for k < len(line) && (line[k] == ' ' || line[k] == '\t') {
		k++
	}
	return k
}

// trimEnd returns the end of text[pos:end] without trailing white space.
func trimEnd(text string, pos, end int) int {
	for end > pos && (text[end-1] == ' ' || text[end-1] == '\t' || text[end-1] == '\r') {
		end--
	}
	return end
}

func fenceByte(line string) byte {
	t := line[leadingSpace(line):]
	return t[0]
}

// fenceTag returns the info string of a fence line (```go → "go").
func fenceTag(line string) string {
	t := strings.TrimSpace(line)
	t = strings.TrimLeft(t, "`~")
	t = strings.TrimSpace(t)
	if i := strings.IndexAny(t, " {,"); i >= 0 {
		t = t[:i]
	}
	return t
}

func fenceTagIsCode(line string) bool {
	switch lower(fenceTag(line)) {
	case "go", "golang", "python", "py", "python3", "java", "kotlin", "kt", "kts", "js", "javascript", "jsx",
		"ts", "typescript", "tsx", "c", "h", "cpp", "c++", "cc", "hpp", "cs", "csharp", "c#", "rust", "rs",
		"sql", "postgresql", "psql", "mysql", "plsql", "tsql", "hcl", "terraform", "tf", "yaml", "yml",
		"sh", "bash", "zsh", "shell", "console", "shell-session", "powershell", "ps1", "ruby", "rb", "php",
		"swift", "scala", "dockerfile", "docker", "makefile", "make", "lua", "perl", "r", "dart", "groovy",
		"gradle", "proto", "protobuf", "graphql", "toml", "ini", "env", "dotenv", "nginx", "html", "css",
		"scss", "vue", "svelte", "elixir", "erlang", "haskell", "clojure", "objc", "objective-c", "asm",
		"nasm", "zig", "nim", "solidity", "sol", "vb", "vbnet", "fsharp", "f#", "ocaml", "matlab", "julia":
		return true
	}
	return false
}

// byte classes for classifyLine
const (
	cSym   = 1 << iota // code punctuation: {}()[];=<>&|*$\`
	cLower             // a-z
	cUpper             // A-Z
	cDigit             // 0-9
	cIdent             // letters, digits, _
	cSpace             // ' '
)

// classifyLine counts bytes of a line in fields of 9 bits of one uint64, all of them with one
// table addition per byte (byteCounts). A line it counts has at most maxLine < 512 bytes, so no
// field carries into the next.
const (
	fSym   = 0  // code punctuation (cSym)
	fSpace = 9  // ' '
	fCmp   = 18 // = < >: every operator digraph has one, but for :: && || ++ ()
	fColon = 27 // ':'
	fTwice = 36 // & | +: && || ++ need two
	fOpen  = 45 // '('
	fClose = 54 // ')'
	fMask  = 1<<9 - 1
)

// A longer line would overflow a field (a negative constant does not compile).
const _ = uint(fMask - maxLine)

var (
	class      [256]uint8
	byteCounts [256]uint64
)

func init() {
	for c := 'a'; c <= 'z'; c++ {
		class[c] = cLower | cIdent
	}
	for c := 'A'; c <= 'Z'; c++ {
		class[c] = cUpper | cIdent
	}
	for c := '0'; c <= '9'; c++ {
		class[c] = cDigit | cIdent
	}
	class['_'] = cIdent
	for _, c := range "{}()[];=<>&|*$\\`" {
		class[c] = cSym
	}
	class[' '] = cSpace
	for c := range class {
		if class[c]&cSym != 0 {
			byteCounts[c] = 1 << fSym
		}
	}
	byteCounts[' '] = 1 << fSpace
	for _, c := range "=<>" {
		byteCounts[c] += 1 << fCmp
	}
	byteCounts[':'] += 1 << fColon
	for _, c := range "&|+" {
		byteCounts[c] += 1 << fTwice
	}
	byteCounts['('] += 1 << fOpen
	byteCounts[')'] += 1 << fClose
	for prev := 0; prev < 256; prev++ {
		for c := 0; c < 256; c++ {
			if isDigraph(byte(prev), byte(c)) {
				digraph[c<<8|prev] = 1
			}
		}
	}
}

// digraph[c<<8|prev] is 1 if isDigraph(prev, c): indexed by the little-endian 16 bits of a pair,
// so that hasDigraph reads seven pairs from each load of eight bytes.
var digraph [1 << 16]uint8

// hasDigraph reports whether t holds an operator of two bytes (see isDigraph).
func hasDigraph(t string) bool {
	k := 0
	for ; k <= len(t)-8; k += 7 {
		b := t[k : k+8]
		x := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if digraph[uint16(x)]|digraph[uint16(x>>8)]|digraph[uint16(x>>16)]|digraph[uint16(x>>24)]|
			digraph[uint16(x>>32)]|digraph[uint16(x>>40)]|digraph[uint16(x>>48)] != 0 {
			return true
		}
	}
	for ; k < len(t)-1; k++ {
		if digraph[uint16(t[k])|uint16(t[k+1])<<8] != 0 {
			return true
		}
	}
	return false
}

// hasOperator is hasDigraph(t) given t's byte counts, which rule out most lines without
// reading them again: prose has colons and parentheses, seldom = < > or doubled & | +, and a
// line with none of those can only hold :: or ().
func hasOperator(t string, counts uint64) bool {
	switch {
	case counts>>fCmp&fMask != 0 || counts>>fTwice&fMask >= 2:
		return hasDigraph(t)
	case counts>>fColon&fMask >= 2 && strings.Contains(t, "::"):
		return true
	}
	return counts>>fOpen&fMask != 0 && counts>>fClose&fMask != 0 && strings.Contains(t, "()")
}

// identRun returns the end of the identifier characters of t from k on.
func identRun(t string, k int) int {
	for k < len(t) && class[t[k]]&cIdent != 0 {
		k++
	}
	return k
}

// isDigraph reports whether prev, c is an operator of two bytes (:= == != += -= <= >= => ->
// :: && || ++ () </ />).
func isDigraph(prev, c byte) bool {
	switch c {
	case '=':
		return prev == ':' || prev == '=' || prev == '!' || prev == '+' || prev == '-' || prev == '<' || prev == '>'
	case '>':
		return prev == '=' || prev == '-' || prev == '/'
	case ':':
		return prev == ':'
	case '&':
		return prev == '&'
	case '|':
		return prev == '|'
	case '+':
		return prev == '+'
	case ')':
		return prev == '('
	case '/':
		return prev == '<'
	}
	return false
}

// classifyLine scores one line (without its newline).
func classifyLine(line string) int {
	ind := leadingSpace(line)
	e := len(line)
	for e > ind && (line[e-1] == ' ' || line[e-1] == '\t' || line[e-1] == '\r') {
		e--
	}
	t := line[ind:e]
	if len(t) == 0 {
		return lineBlank
	}
	if len(t) > maxLine {
		return lineProse
	}
	first, last := t[0], t[len(t)-1]
	if (first == '`' || first == '~') && len(t) >= 3 && t[1] == first && t[2] == first {
		return lineFence
	}
	// Comments: neutral inside a block, never start one.
	switch first {
	case '/':
		if len(t) >= 2 && (t[1] == '/' || t[1] == '*') {
			return lineNeutral
		}
	case '*':
		if len(t) == 1 || t[1] == ' ' || t[1] == '/' {
			return lineNeutral
		}
	case '-':
		if strings.HasPrefix(t, "--") && !strings.HasPrefix(t, "---") {
			return lineNeutral
		}
	case '<':
		if strings.HasPrefix(t, "<!--") {
			return lineNeutral
		}
	case '#':
		if !strings.HasPrefix(t, "#!") && !strings.HasPrefix(t, "#include") && !strings.HasPrefix(t, "#define") &&
			!strings.HasPrefix(t, "#if") && !strings.HasPrefix(t, "#endif") && !strings.HasPrefix(t, "#pragma") &&
			!strings.HasPrefix(t, "#import") && !strings.HasPrefix(t, "#else") && !strings.HasPrefix(t, "#undef") {
			return lineNeutral
		}
		return lineStrong
	}

	// Stack traces and log lines quote code and data but are neither.
	// The first word's identifier characters, read once for the checks below.
	id := identRun(t, 0)
	if traceOrLog(t, id) {
		return lineProse
	}

	// One pass over the line counts symbols, spaces and the bytes of operators (see byteCounts);
	// only the lines whose counts allow an operator are searched for one.
	var counts uint64
	k := 0
	for ; k+4 <= len(t); k += 4 { // four bytes a turn: the loop's own test costs as much as a byte
		b := t[k : k+4]
		counts += byteCounts[b[0]] + byteCounts[b[1]] + byteCounts[b[2]] + byteCounts[b[3]]
	}
	for ; k < len(t); k++ {
		counts += byteCounts[t[k]]
	}
	syms, spaces := int(counts>>fSym&fMask), int(counts>>fSpace&fMask)
	words := spaces + 1
	ops := hasOperator(t, counts)

	// The first word: identifier characters (and # @ $ for directives, decorators, prompts).
	w := id
	if w == 0 && (t[0] == '@' || t[0] == '$') {
		w = identRun(t, 1)
	}
	word := t[:w]
	after := byte(0)
	if w < len(t) {
		after = t[w]
	}

	kw := keywordKind(word)
	score := 0
	switch last {
	case ';', '{':
		score += 2
	case '}':
		if len(t) > 3 {
			score += 2
		} else {
			score++
		}
	case '(', '[':
		score += 2
	case ')', ']', '\\':
		score++
	case ',':
		if ind > 0 {
			score++
		}
	}
	switch {
	case kw == 2 && (after == ' ' || after == '(' || after == 0 || after == ':' || after == '.' || after == '!'):
		score += 2
	case kw == 1 && (after == ' ' || after == '(' || after == 0 || after == ':'):
		score++
		switch {
		case word == "from" && strings.Contains(t, " import "):
			score++
		case word == "export" && w+1 < len(t) && envAssign(t[w+1:]):
			score++ // export NAME=value
		case after == ' ' && w+2 < len(t) && t[w+1] == '-' && (class[t[w+2]]&cIdent != 0 || t[w+2] == '-'):
			score++ // a command with flags: set -euo pipefail, cat -n
		}
	case w > 0 && word[0] == '@' && w > 1:
		score += 2 // @Override, @app.route(…)
	case word == "$" && after == ' ':
		score += 2 // shell prompt
	}
	if ops {
		score++
	}
	// Python block openers: def f(x):, for x in y:, if x:, else:
	if last == ':' && pythonBlock(word, t) {
		score++
	}
	// key = value (HCL, Python, shell, TOML): an identifier, " = ", a value.
	if w > 0 && strings.HasPrefix(t[w:], " = ") || w > 0 && strings.HasPrefix(t[w:], " := ") {
		score++
	}
	// ENV_VAR=value
	if w > 1 && envAssignAt(t, id) {
		score += 2
	}
	// YAML: key: value / key: / - key: value
	if yamlKeyAt(t, id) {
		score++
		if k8sKey(t) {
			score++
		}
	}
	// Markup: <div class="x">, </p>
	if first == '<' && last == '>' && syms >= 2 {
		score++
	}
	if score > 0 && (ind >= 2 || ind == 1 && line[0] == '\t') {
		score++
	}
	if syms*100 >= len(t)*12 && len(t) >= 4 {
		score++
	}
	// JSON data lines and quoted literals ("fmt" in an import list) are weakly code.
	if first == '"' || first == '\'' || first == '{' || first == '[' || first == '}' || first == ']' {
		switch {
		case score > 1:
			score = 1
		case (first == '"' || first == '\'') && (last == first || last == ','):
			score = 1
		}
	}
	// Prose: many words, few symbols, or a sentence.
	sentence := (last == '.' || last == '?' || last == '!') && words >= 4 && syms*100 < len(t)*5 &&
		kw != 2 && !strings.HasSuffix(t, " .")
	if sentence || words >= 9 && syms*100 < len(t)*3 {
		if score >= 3 {
			return lineWeak
		}
		return lineProse
	}
	switch {
	case score >= 2:
		return lineStrong
	case score == 1:
		return lineWeak
	}
	return linePlain
}

// traceOrLog reports stack-trace lines (Java/JS "at …(…)", Python "File \"…\", line N", Go
// frames, "Caused by:", "SomeError: message") and log lines that start with a date or time.
// id is the end of t's leading identifier characters (identRun(t, 0)).
func traceOrLog(t string, id int) bool {
	// Dispatch on the first byte: this runs on every line of every text.
	switch t[0] {
	case 'a':
		if strings.HasPrefix(t, "at ") && strings.IndexByte(t, '(') > 0 {
			return true
		}
	case 'F':
		if strings.HasPrefix(t, "File \"") {
			return true
		}
	case 'T':
		if strings.HasPrefix(t, "Traceback (most recent call last)") {
			return true
		}
	case 'C':
		if strings.HasPrefix(t, "Caused by:") {
			return true
		}
	case 'E':
		if strings.HasPrefix(t, "Exception in thread") {
			return true
		}
	case 'g':
		if strings.HasPrefix(t, "goroutine ") && t[len(t)-1] == ':' {
			return true
		}
	case 'p':
		if strings.HasPrefix(t, "panic: ") {
			return true
		}
	case '/':
		if strings.Contains(t, ".go:") {
			return true
		}
	}
	// 2024-05-01…, 10:30:00…, [2024-05-01 …]
	d := t
	if d[0] == '[' {
		d = d[1:]
	}
	if len(d) >= 10 && isDigitByte(d[0]) && isDigitByte(d[1]) && isDigitByte(d[2]) && isDigitByte(d[3]) && (d[4] == '-' || d[4] == '/') ||
		len(d) >= 8 && isDigitByte(d[0]) && isDigitByte(d[1]) && d[2] == ':' && isDigitByte(d[3]) && isDigitByte(d[4]) {
		return true
	}
	// pkg.SomeError: message, java.lang.IllegalStateException: message
	k := id
	for k < len(t) && (class[t[k]]&cIdent != 0 || t[k] == '.' || t[k] == '$') {
		k++
	}
	if k+1 < len(t) && t[k] == ':' && t[k+1] == ' ' {
		name := t[:k]
		return strings.HasSuffix(name, "Error") || strings.HasSuffix(name, "Exception")
	}
	return false
}

func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }

// keywordKind: 2 for words that begin lines of code and rarely prose, 1 for keywords that are
// also English words or common commands, 0 otherwise. Case-sensitive.
func keywordKind(w string) int {
	switch w {
	case "func", "def", "elif", "fn", "impl", "struct", "typedef", "namespace", "println", "console",
		"fmt", "std", "sudo", "esac", "fi", "apiVersion", "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE",
		"ALTER", "DROP", "TRUNCATE", "resource", "variable", "provider", "terraform", "locals", "const", "let",
		"var", "val", "fun", "package", "import", "void", "async", "await", "yield", "defer", "lambda", "catch",
		"throw", "throws", "override", "pub", "printf", "System", "require", "useState", "useEffect",
		"elsif", "unless", "puts", "foreach", "goto", "chan", "nil", "null", "None", "self", "this",
		"unsafe", "mut", "extern", "inline", "virtual", "template", "typename", "sizeof", "malloc", "free",
		"assert", "raise", "except", "finally", "pass", "global", "nonlocal", "setState", "document", "window",
		"kubectl", "helm", "apt", "yum", "brew", "npm", "npx", "pip", "pip3", "yarn", "pnpm", "cargo",
		"chmod", "chown", "mkdir", "grep", "awk", "sed", "wget", "curl", "ssh", "scp", "rsync", "systemctl",
		"docker", "git", "gcloud", "aws", "az", "ALTER_TABLE", "BEGIN", "COMMIT", "ROLLBACK", "DECLARE":
		return 2
	case "return", "if", "for", "while", "else", "switch", "case", "break", "continue", "try", "class",
		"from", "print", "export", "echo", "public", "private", "protected", "static", "final", "int", "char",
		"float", "double", "bool", "string", "type", "interface", "enum", "module", "output", "data", "do",
		"then", "done", "local", "new", "with", "go", "cd", "ls", "rm", "cp", "mv", "cat", "make", "python",
		"python3", "node", "java", "FROM", "WHERE", "JOIN", "LEFT", "RIGHT", "INNER", "OUTER", "GROUP",
		"ORDER", "VALUES", "SET", "LIMIT", "AND", "OR", "ON", "UNION", "HAVING", "WITH", "kind", "spec",
		"metadata", "source", "set", "unset", "trap", "exit", "end", "begin", "until", "match", "use",
		"mod", "crate", "trait", "where", "select", "default", "object", "companion", "data_source":
		return 1
	}
	return 0
}

func pythonBlock(word, t string) bool {
	switch word {
	case "def", "class", "elif", "while", "with", "except", "async":
		return true
	case "if":
		return true
	case "for":
		return strings.Contains(t, " in ")
	case "else", "try", "finally":
		return len(t) == len(word)+1
	}
	return false
}

// envAssign: NAME=value with an upper-case environment variable name.
func envAssign(t string) bool { return envAssignAt(t, identRun(t, 0)) }

// envAssignAt is envAssign with k = identRun(t, 0).
func envAssignAt(t string, k int) bool {
	return k > 1 && k+1 < len(t) && t[k] == '=' && isEnvName(t[:k])
}

func isEnvName(w string) bool {
	if w[0] < 'A' || w[0] > 'Z' {
		return false
	}
	for k := 0; k < len(w); k++ {
		if c := w[k]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// yamlKey: "key: value", "key:", "- key: value" with a key of identifier characters (and - .).
func yamlKey(t string) bool { return yamlKeyAt(t, identRun(t, 0)) }

// yamlKeyAt is yamlKey with id = identRun(t, 0).
func yamlKeyAt(t string, id int) bool {
	k, s := id, 0
	if strings.HasPrefix(t, "- ") {
		k, s = 2, 2
	}
	for k < len(t) && (class[t[k]]&cIdent != 0 || t[k] == '-' || t[k] == '.') {
		k++
	}
	if k == s || k >= len(t) || t[k] != ':' {
		return false
	}
	return k+1 == len(t) || t[k+1] == ' '
}

func k8sKey(t string) bool {
	// The key is what yamlKey accepted: up to the first ':'; "- name:" is a list item.
	k := strings.IndexByte(t, ':')
	if k < 0 {
		return false
	}
	switch t[:k] {
	case "apiVersion", "kind", "metadata", "spec", "containers", "image", "replicas",
		"selector", "matchLabels", "labels", "annotations", "namespace", "volumeMounts", "env",
		"ports", "containerPort", "resources", "limits", "requests", "- name", "valueFrom",
		"secretKeyRef", "data", "stringData", "template", "services", "environment", "volumes",
		"steps", "jobs", "runs-on", "uses", "run", "with", "on":
		return true
	}
	return false
}
