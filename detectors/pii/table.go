package pii

// Values in tables: a CSV/TSV export or a Markdown table names its columns once, in the header,
// and the context word ("bsn", "steuer_id", "passport_no") is then far from most values. When a
// keyword hit sits in a header row, the keyword detectors look in the same column of the rows
// below instead of in a window around the hit.

// maxTableRows bounds the rows examined for one header (the work is linear in the table anyway).
const maxTableRows = 1 << 16

// lineBounds returns the line around h. Lines end at '\n' or at the two-byte escape "\n" of
// JSON-encoded text (a CSV pasted into a raw chat request body). At most 4 KiB either side.
func lineBounds(text string, h int) (ls, le int) {
	ls = h
	for ls > 0 && h-ls < 4096 && text[ls-1] != '\n' && !(ls >= 2 && text[ls-2] == '\\' && text[ls-1] == 'n') {
		ls--
	}
	le = h
	for le < len(text) && le-h < 4096 && text[le] != '\n' && text[le] != '\r' && !(text[le] == '\\' && le+1 < len(text) && text[le+1] == 'n') {
		le++
	}
	return ls, le
}

// nextLine returns the start of the line after the one ending at le.
func nextLine(text string, le int) int {
	switch {
	case le >= len(text):
		return len(text)
	case text[le] == '\r' && le+1 < len(text) && text[le+1] == '\n':
		return le + 2
	case text[le] == '\\':
		return le + 2
	}
	return le + 1
}

// fields splits text[ls:le] on sep outside double quotes and calls f for each field; it stops
// when f returns false. It returns the number of fields.
func fields(text string, ls, le int, sep byte, f func(k, fs, fe int) bool) int {
	k, fs, quoted := 0, ls, false
	for p := ls; p <= le; p++ {
		if p < le && text[p] == '"' {
			quoted = !quoted
			continue
		}
		if p == le || text[p] == sep && !quoted {
			if f != nil && !f(k, fs, p) {
				return k + 1
			}
			k++
			fs = p + 1
		}
	}
	return k
}

// headerColumn reports whether the hit h is a column name in the header row of a delimited
// table, and which column and separator.
func headerColumn(text string, h int) (col int, sep byte, ls, le int, ok bool) {
	ls, le = lineBounds(text, h)
	line := text[ls:le]
	var count [4]int
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case ',':
			count[0]++
		case '\t':
			count[1]++
		case ';':
			count[2]++
		case '|':
			count[3]++
		}
	}
	best := 0
	for k := 1; k < 4; k++ {
		if count[k] > count[best] {
			best = k
		}
	}
	if count[best] < 2 {
		return 0, 0, 0, 0, false
	}
	sep = ",\t;|"[best]
	// A header: every field short, few spaces (a sentence with commas is not a header).
	col = -1
	n := fields(text, ls, le, sep, func(k, fs, fe int) bool {
		if fe-fs > 40 || spaces(text[fs:fe]) > 4 || !headerField(text[fs:fe]) {
			col = -2
			return false
		}
		if fs <= h && h < fe {
			col = k
		}
		return true
	})
	if col < 0 || n < 3 {
		return 0, 0, 0, 0, false
	}
	// The next row has as many fields (a Markdown table's |---| row counts as one).
	nl := nextLine(text, le)
	_, nle := lineBounds(text, nl)
	if nl >= len(text) || fields(text, nl, nle, sep, nil) != n {
		return 0, 0, 0, 0, false
	}
	return col, sep, ls, le, true
}

// headerField: a column name — words, not code (no parentheses, quotes inside, '=' …) and not a
// number (a data row).
func headerField(f string) bool {
	digits, other := 0, 0
	for i := 0; i < len(f); i++ {
		switch c := f[i]; {
		case c == '(' || c == ')' || c == '\'' || c == '=' || c == ':' || c == '{' || c == '}' || c == '[' || c == ']' || c == '<' || c == '>':
			return false
		case isDigit(c):
			digits++
		case isAlpha(c):
			other++
		}
	}
	return other > 0 || digits == 0
}

func spaces(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			n++
		}
	}
	return n
}

// columnValues calls f with the bounds of column col in each row below the header that ends at
// le, until a blank line, a row of another shape or the end of the text, and returns where the
// table ends.
func columnValues(text string, le, col int, sep byte, f func(fs, fe int)) int {
	p := nextLine(text, le)
	for rows := 0; p < len(text) && rows < maxTableRows; rows++ {
		_, rle := lineBounds(text, p)
		if rle == p {
			break
		}
		found := false
		fields(text, p, rle, sep, func(k, fs, fe int) bool {
			if k == col {
				f(fs, fe)
				found = true
				return false
			}
			return true
		})
		if !found {
			break
		}
		p = nextLine(text, rle)
	}
	return p
}
