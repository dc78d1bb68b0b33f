package fingerprint

import (
	"archive/zip"
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

func TestGitignore(t *testing.T) {
	cases := []struct {
		pattern, path string
		dir, want     bool
	}{
		{"*.log", "a.log", false, true},
		{"*.log", "deep/er/a.log", false, true},
		{"*.log", "a.log.txt", false, false},
		{"/build", "build", true, true},
		{"/build", "src/build", true, false},
		{"build/", "src/build", true, true},
		{"build/", "build", false, false}, // a file named build is not a directory
		{"docs/*.md", "docs/a.md", false, true},
		{"docs/*.md", "docs/sub/a.md", false, false},
		{"docs/*.md", "x/docs/a.md", false, false}, // a slash anchors the pattern
		{"**/logs", "a/b/logs", true, true},
		{"**/logs", "logs", true, true},
		{"logs/**", "logs/a/b", false, true},
		{"logs/**", "logs", true, false},
		{"a/**/b", "a/b", false, true},
		{"a/**/b", "a/x/y/b", false, true},
		{"a/**/b", "a/x/y/c", false, false},
		{"fo?.go", "foo.go", false, true},
		{"fo?.go", "fo/.go", false, false},
		{"[abc]x", "bx", false, true},
		{"[!abc]x", "bx", false, false},
		{"[a-c]x", "cx", false, true},
		{`\#notes`, "#notes", false, true},
		{`\!keep`, "!keep", false, true},
		{"trailing   ", "trailing", false, true},
		{"[unclosed", "[unclosed", false, true},
	}
	for _, tc := range cases {
		p, ok := parseIgnoreLine(tc.pattern)
		if !ok {
			t.Errorf("%q: not a pattern", tc.pattern)
			continue
		}
		if got := p.match(tc.path, tc.dir); got != tc.want {
			t.Errorf("%q matches %q (dir %v) = %v, want %v", tc.pattern, tc.path, tc.dir, got, tc.want)
		}
	}
	for _, line := range []string{"", "   ", "# comment", "!", "/"} {
		if _, ok := parseIgnoreLine(line); ok {
			t.Errorf("%q parsed as a pattern", line)
		}
	}
}

func TestGitignoreOrder(t *testing.T) {
	lists := []ignoreList{
		parseIgnore("", "*.txt\n!keep.txt\nsecret/\n"),
		parseIgnore("sub", "!*.txt\nkeep.txt\n"),
	}
	op := parseIgnore("", "drafts/*\n")
	op.operator = true
	lists = append(lists, op)
	for _, tc := range []struct {
		path       string
		ign, byOps bool
	}{
		{"a.txt", true, false},
		{"keep.txt", false, false},
		{"sub/a.txt", false, false},   // the deeper file re-includes
		{"sub/keep.txt", true, false}, // and excludes
		{"drafts/plan.md", true, true},
		{"other/plan.md", false, false},
	} {
		ign, byOp := ignored(lists, tc.path, false)
		if ign != tc.ign || byOp != tc.byOps {
			t.Errorf("%s: ignored %v by operator %v, want %v %v", tc.path, ign, byOp, tc.ign, tc.byOps)
		}
	}
}

func TestAddTreeOptions(t *testing.T) {
	root := fixtureTree(t)
	b := NewBuilder(testKey, Options{Ignore: []string{"docs/", "*.py"}, MaxFileSize: 3500, Now: testNow})
	st, err := b.AddTree("l", "", root)
	if err != nil {
		t.Fatal(err)
	}
	if st.Skipped[SkipIgnored] != 2 || st.Skipped[SkipTooLarge] == 0 {
		t.Errorf("skipped %v: want 2 ignored by the operator and some too large", st.Skipped)
	}
	ix := b.Build()
	if ms := ix.Scan(reorderParagraphs(readFixture(t, "docs/strategy.md"))); len(ms) != 0 {
		t.Errorf("an ignored document matched: %+v", ms)
	}
	// a single file as the root
	b = NewBuilder(testKey, Options{})
	st, err = b.AddTree("one", Code, filepath.Join(root, "pricing", "engine.go"))
	if err != nil || st.Files != 1 {
		t.Fatalf("single file: %v, %+v", err, st)
	}
	if ms := b.Build().Scan(renamedReformatted); len(ms) != 1 || ms[0].File != "engine.go" {
		t.Errorf("single file: %+v", ms)
	}
	if _, err := NewBuilder(testKey, Options{}).AddTree("l", "", filepath.Join(root, "missing")); err == nil {
		t.Error("a missing root is not an error")
	}
}

func TestAddTreeSymlinkAndDocx(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	write(t, filepath.Join(outside, "secret.md"), "Marmalade octopus telescopes whisper about the undocumented rebate ladder in Lisbon.")
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	doc := reorderParagraphs(readFixture(t, "docs/strategy.md"))
	if err := os.WriteFile(filepath.Join(root, "plan.docx"), makeDocx(t, strings.Split(doc, "\n\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "broken.docx"), "not a zip")
	write(t, filepath.Join(root, "deck.pptx"), "x")
	write(t, filepath.Join(root, "min.js"), strings.Repeat("var a=1;", 1000))
	write(t, filepath.Join(root, "blob.txt"), "text\x00binary")
	write(t, filepath.Join(root, "empty.txt"), "")
	b := NewBuilder(testKey, Options{Now: testNow})
	st, err := b.AddTree("docs", "", root)
	if err != nil {
		t.Fatal(err)
	}
	golden := renderStats(st, nil)
	goldenCheck(t, filepath.Join("testdata", "tree-docx.golden"), golden)
	ms := b.Build().Scan(readFixture(t, "docs/strategy.md"))
	if len(ms) != 1 || ms[0].File != "plan.docx" || ms[0].Class != Document {
		t.Errorf("DOCX text not indexed: %+v", ms)
	}
}

// makeDocx builds a minimal Word document with one paragraph per string, each split into two
// runs as Word does.
func makeDocx(t testing.TB, paras []string) []byte {
	var body strings.Builder
	body.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`)
	for _, p := range paras {
		half := strings.LastIndexByte(p[:len(p)/2+1], ' ') + 1
		body.WriteString("<w:p><w:r><w:t xml:space=\"preserve\">" + xmlEscape(p[:half]) + "</w:t></w:r>" +
			"<w:r><w:rPr><w:b/></w:rPr><w:t>" + xmlEscape(p[half:]) + "</w:t></w:r></w:p>")
	}
	body.WriteString(`<w:sectPr/></w:body></w:document>`)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range map[string]string{
		"[Content_Types].xml": `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"word/document.xml":   body.String(),
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func TestDocxText(t *testing.T) {
	got, err := docxText(makeDocx(t, []string{"Kestrel tiers launch in January.", "Renewals & pricing move in July."}), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Kestrel tiers launch in January.\n\nRenewals & pricing move in July.\n\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"not-zip", []byte("plain text"), "DOCX: not a zip archive"},
		{"no-body", zipOf(t, "other.xml", "<x/>"), "DOCX: no word/document.xml"},
		{"bad-xml", zipOf(t, "word/document.xml", "<w:document><w:body><w:p>"), "DOCX: word/document.xml"},
		{"bomb", zipOf(t, "word/document.xml", "<w:t>"+strings.Repeat("a", 5000)+"</w:t>"), "larger than"},
	} {
		_, err := docxText(tc.data, 1000)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

func zipOf(t testing.TB, name, content string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(content))
	zw.Close()
	return buf.Bytes()
}

func TestSkipByName(t *testing.T) {
	for name, want := range map[string]string{
		"yarn.lock": SkipLockFile, "go.sum": SkipLockFile, "LICENSE.md": SkipLicence, "COPYING": SkipLicence,
		"app.min.js": SkipMinified, "logo.PNG": SkipBinary, "deck.pptx": SkipOfficeOther, "main.go": "",
		"licensed.go": "", "notices.md": "",
	} {
		if got := skipByName(path.Base(name)); got != want {
			t.Errorf("skipByName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestGenerated(t *testing.T) {
	for text, want := range map[string]bool{
		"// Code generated by protoc-gen-go. DO NOT EDIT.\npackage x\n":            true,
		"# @generated by buck\nx = 1\n":                                            true,
		"// <auto-generated>\n// This code was generated by a tool.\n":             true,
		"/* Autogenerated file, do not edit */\n":                                  true,
		"package x\n\n// Not generated: do not edit without the pricing council\n": false,
		"package x\n// generated tables follow\n":                                  false,
	} {
		if got := generated([]byte(text)); got != want {
			t.Errorf("generated(%q) = %v, want %v", text, got, want)
		}
	}
}
