package rules

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// maxSyntaxProbes bounds the prefixes syntaxPos parses: past it, yaml.v3's own line stands.
const maxSyntaxProbes = 2000

// syntaxPos places a YAML syntax error at a line and column. yaml.v3 reports only a line, and
// for an error inside a block it is the line where the block starts ("did not find expected
// key" on "policies:" when the culprit is a misindented key three lines down), with no column.
// The first line whose addition makes the text stop parsing is where the problem is; its
// column is the character the message is about when the message names one, else the first
// character of the line. reported is yaml.v3's line; 0 when it gave none.
func syntaxPos(src []byte, reported int, msg string) (line, col int) {
	lines := bytes.SplitAfter(src, []byte("\n"))
	line = reported
	start := max(reported, 1)
	for l, probes := start, 0; l <= len(lines) && probes < maxSyntaxProbes; l, probes = l+1, probes+1 {
		prefix := bytes.Join(lines[:l], nil)
		var n yaml.Node
		if err := yaml.Unmarshal(prefix, &n); err != nil {
			line = l
			break
		}
	}
	if line < 1 || line > len(lines) {
		return reported, 0
	}
	text := strings.TrimRight(string(lines[line-1]), "\r\n")
	return line, syntaxCol(text, msg)
}

// syntaxCol is the 1-based column (in characters) on text that a yaml.v3 message is about.
func syntaxCol(text, msg string) int {
	at := -1 // byte offset
	switch {
	case strings.Contains(msg, "tab"), strings.Contains(msg, "cannot start any token"):
		// A tab where indentation was expected, or a reserved indicator (@, `) starting a
		// value.
		at = strings.IndexAny(text, "\t@`")
	case strings.Contains(msg, "mapping values are not allowed"):
		// key: a: b — the second ": " is the one YAML refuses.
		if i := indexColon(text); i >= 0 {
			if j := indexColon(text[i+1:]); j >= 0 {
				at = i + 1 + j
			}
		}
	case strings.Contains(msg, "expected ',' or ']'"):
		at = strings.LastIndexByte(text, '[') // a flow sequence never closed
	case strings.Contains(msg, "expected ',' or '}'"):
		at = strings.LastIndexByte(text, '{')
	case strings.Contains(msg, "unexpected end of stream"), strings.Contains(msg, "quoted scalar"):
		// A quote opened and never closed.
		at = strings.LastIndexAny(text, `"'`)
	}
	if at < 0 {
		at = len(text) - len(strings.TrimLeft(text, " \t"))
		if at == len(text) {
			at = 0
		}
	}
	return utf8.RuneCountInString(text[:at]) + 1
}

// indexColon is the offset of the first ':' followed by a space or the end of text, the YAML
// mapping indicator.
func indexColon(text string) int {
	for i := 0; i < len(text); i++ {
		if text[i] == ':' && (i+1 == len(text) || text[i+1] == ' ' || text[i+1] == '\t') {
			return i
		}
	}
	return -1
}
