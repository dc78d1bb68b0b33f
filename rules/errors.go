package rules

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Pos is where something was written in a rule file. Line and Col are 1-based; Col counts
// characters, not bytes. A zero Line means the position is the file as a whole.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// MarshalText writes the position as String does, so that serialized specs stay readable.
func (p Pos) MarshalText() ([]byte, error) {
	return []byte(p.String()), nil
}

// Error is one problem in a rule file.
type Error struct {
	File      string
	Line, Col int // 1-based; 0 when unknown (a file that cannot be read, a YAML error without a column)
	Msg       string

	// line is the source line at Line, kept at load time so that Caret works without the
	// caller reading the file again (and after the file has changed).
	line    string
	hasLine bool
	// last sorts the error after every other of its file.
	last bool
}

func (e *Error) Error() string {
	return Pos{e.File, e.Line, e.Col}.String() + ": " + e.Msg
}

// Caret renders the error the way `customs rules lint` prints it: the message, then the source
// line and a caret under the column. src is the whole file; when it is nil, the line recorded
// at load time is used. Without a line to show (or with only a blank one, as in an empty
// file), Caret is Error.
func (e *Error) Caret(src []byte) string {
	line, ok := e.line, e.hasLine
	if src != nil {
		line, ok = sourceLine(src, e.Line)
	}
	if !ok || strings.TrimSpace(line) == "" {
		return e.Error()
	}
	var b strings.Builder
	b.WriteString(e.Error())
	b.WriteString("\n  ")
	b.WriteString(line)
	if e.Col > 0 {
		b.WriteString("\n  ")
		// Tabs are copied so that the caret lines up however the terminal expands them.
		col := 1
		for _, r := range line {
			if col >= e.Col {
				break
			}
			if r == '\t' {
				b.WriteByte('\t')
			} else {
				b.WriteByte(' ')
			}
			col++
		}
		for ; col < e.Col; col++ {
			b.WriteByte(' ')
		}
		b.WriteByte('^')
	}
	return b.String()
}

// sourceLine returns line n (1-based) of src without its line ending.
func sourceLine(src []byte, n int) (string, bool) {
	if n <= 0 {
		return "", false
	}
	s := string(src)
	for i := 1; i < n; i++ {
		j := strings.IndexByte(s, '\n')
		if j < 0 {
			return "", false
		}
		s = s[j+1:]
	}
	if j := strings.IndexByte(s, '\n'); j >= 0 {
		s = s[:j]
	}
	s = strings.TrimSuffix(s, "\r")
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s, true
}

// Errors is every problem found in a load, in the order of the files and, within a file, of
// where each problem was found.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Caret renders every error with its source line (see Error.Caret), one after the other.
func (es Errors) Caret() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Caret(nil)
	}
	return strings.Join(parts, "\n")
}

func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}
