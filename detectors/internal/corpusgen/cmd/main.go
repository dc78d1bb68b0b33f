// Command corpusgen writes the labelled detector corpus:
//
//	go run ./detectors/internal/corpusgen/cmd -out testdata/corpus
//
// The defaults reproduce the committed corpus byte for byte.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/customs-dev/customs/detectors/internal/corpusgen"
)

func main() {
	out := flag.String("out", "testdata/corpus", "directory for docs.jsonl and labels.jsonl")
	seed := flag.Uint64("seed", corpusgen.DefaultSeed, "generator seed")
	n := flag.Int("docs", corpusgen.DefaultDocs, "number of documents")
	flag.Parse()
	c := corpusgen.Generate(*seed, *n)
	if err := c.WriteDir(*out); err != nil {
		fmt.Fprintln(os.Stderr, "corpusgen:", err)
		os.Exit(1)
	}
	pos, dec := 0, 0
	for _, l := range c.Labels {
		if l.Detector != "" {
			pos++
		} else {
			dec++
		}
	}
	fmt.Printf("%d documents, %d positive and %d decoy labels in %s\n", len(c.Docs), pos, dec, *out)
}
