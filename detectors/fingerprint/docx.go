package fingerprint

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DOCX is a zip of XML parts; the body text is in word/document.xml as <w:t> runs inside <w:p>
// paragraphs. Headers, footers, comments and tracked deletions are left out: the body is what
// gets pasted.

const wordNS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

var errDocxNoBody = errors.New("DOCX: no word/document.xml (not a Word document)")

// docxText returns the text of a DOCX file, paragraphs separated by blank lines. limit bounds
// the uncompressed XML read, against zip bombs.
func docxText(data []byte, limit int64) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("DOCX: not a zip archive: %w", err)
	}
	var part *zip.File
	for _, f := range zr.File {
		if f.Name == "word/document.xml" {
			part = f
			break
		}
	}
	if part == nil {
		return "", errDocxNoBody
	}
	rc, err := part.Open()
	if err != nil {
		return "", fmt.Errorf("DOCX: word/document.xml: %w", err)
	}
	defer rc.Close()
	lr := &io.LimitedReader{R: rc, N: limit + 1}
	text, err := wordXMLText(lr)
	if lr.N <= 0 {
		return "", fmt.Errorf("DOCX: word/document.xml larger than %d bytes uncompressed", limit)
	}
	if err != nil {
		return "", fmt.Errorf("DOCX: word/document.xml: %w", err)
	}
	return text, nil
}

// wordXMLText extracts the text of a WordprocessingML document body.
func wordXMLText(r io.Reader) (string, error) {
	d := xml.NewDecoder(r)
	d.Strict = false // Word's XML is well-formed; a damaged file should still give what it can
	var b strings.Builder
	inText := false
	for {
		t, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		switch t := t.(type) {
		case xml.StartElement:
			if t.Name.Space != wordNS && t.Name.Space != "w" {
				continue
			}
			switch t.Name.Local {
			case "t":
				inText = true
			case "tab":
				b.WriteByte('\t')
			case "br", "cr":
				b.WriteByte('\n')
			}
		case xml.EndElement:
			if t.Name.Space != wordNS && t.Name.Space != "w" {
				continue
			}
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				b.WriteString("\n\n")
			}
		case xml.CharData:
			if inText {
				b.Write(t)
			}
		}
	}
	return b.String(), nil
}
