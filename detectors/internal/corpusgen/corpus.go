// Package corpusgen generates a labelled, prompt-shaped corpus for measuring customs' detectors:
// chat prompts (as extracted text and as raw JSON bodies), source code, logs, .env files, CSV
// exports, e-mails and meeting notes, Kubernetes YAML, stack traces and base64-wrapped snippets,
// with planted secrets and personal data (positives, each with its exact byte span and the
// detector expected to find it) and planted look-alikes that must produce no finding at all
// (decoys: bad checksums, Luhn-invalid numbers, documentation keys, placeholders, UUIDs, hashes,
// publishable keys, ...).
//
// Generation is deterministic: the same seed and document count give the same bytes, so the
// committed corpus under testdata/corpus can be checked against its generator.
package corpusgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// DefaultSeed and DefaultDocs produce the committed corpus (testdata/corpus).
const (
	DefaultSeed = 20260404
	DefaultDocs = 2600
)

// Doc is one document.
type Doc struct {
	Doc  int    `json:"doc"`
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// Label marks a span of a document: a positive (Detector set: the detector that should report
// it) or a decoy (Decoy set: its kind; no detector may report anything overlapping it, except
// a finding that is a true positive for a positive label overlapping the same bytes).
type Label struct {
	Doc      int    `json:"doc"`
	Start    int    `json:"start"`
	End      int    `json:"end"`
	Detector string `json:"detector,omitempty"`
	Decoy    string `json:"decoy,omitempty"`
	// Encoding is set when the value sits in the text encoded ("base64", "url"): the span
	// covers the encoding, which a detector finds only by decoding it.
	Encoding string `json:"encoding,omitempty"`
}

// Corpus is a set of documents and their labels.
type Corpus struct {
	Docs   []Doc
	Labels []Label
}

// Generate returns n documents from seed.
func Generate(seed uint64, n int) Corpus {
	g := New(seed)
	var c Corpus
	for range n {
		d, ls := g.Next()
		c.Docs = append(c.Docs, d)
		c.Labels = append(c.Labels, ls...)
	}
	return c
}

// Encode writes the corpus as two JSON-lines streams.
func (c Corpus) Encode(docs, labels io.Writer) error {
	enc := func(w io.Writer, v any) error {
		var buf bytes.Buffer
		e := json.NewEncoder(&buf)
		e.SetEscapeHTML(false)
		if err := e.Encode(v); err != nil {
			return err
		}
		_, err := w.Write(buf.Bytes())
		return err
	}
	for _, d := range c.Docs {
		if err := enc(docs, d); err != nil {
			return err
		}
	}
	for _, l := range c.Labels {
		if err := enc(labels, l); err != nil {
			return err
		}
	}
	return nil
}

// File names inside a corpus directory.
const (
	DocsFile   = "docs.jsonl"
	LabelsFile = "labels.jsonl"
)

// WriteDir writes dir/docs.jsonl and dir/labels.jsonl.
func (c Corpus) WriteDir(dir string) error {
	var docs, labels bytes.Buffer
	if err := c.Encode(&docs, &labels); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, DocsFile), docs.Bytes(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, LabelsFile), labels.Bytes(), 0o644)
}

// ReadDir loads a corpus written by WriteDir.
func ReadDir(dir string) (Corpus, error) {
	var c Corpus
	err := readLines(filepath.Join(dir, DocsFile), func(b []byte) error {
		var d Doc
		if err := json.Unmarshal(b, &d); err != nil {
			return err
		}
		if d.Doc != len(c.Docs) {
			return fmt.Errorf("doc %d out of order (want %d)", d.Doc, len(c.Docs))
		}
		c.Docs = append(c.Docs, d)
		return nil
	})
	if err != nil {
		return c, err
	}
	err = readLines(filepath.Join(dir, LabelsFile), func(b []byte) error {
		var l Label
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		if l.Doc < 0 || l.Doc >= len(c.Docs) || l.Start < 0 || l.End > len(c.Docs[l.Doc].Text) || l.Start >= l.End {
			return fmt.Errorf("label %+v out of range", l)
		}
		if (l.Detector == "") == (l.Decoy == "") {
			return fmt.Errorf("label %+v: want exactly one of detector and decoy", l)
		}
		c.Labels = append(c.Labels, l)
		return nil
	})
	return c, err
}

func readLines(path string, f func([]byte) error) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	s := bufio.NewScanner(fh)
	s.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for s.Scan() {
		n++
		if err := f(s.Bytes()); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return s.Err()
}
