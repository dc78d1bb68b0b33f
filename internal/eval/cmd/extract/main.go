// Command extract regenerates the external fixtures of testdata/external from public sources
// already fetched (testdata/external/regen.sh fetches them):
//
//	extract gitleaks   GITLEAKS_MODULE_DIR   OUT.jsonl
//	extract trufflehog TRUFFLEHOG_MODULE_DIR OUT.jsonl [GITLEAKS.jsonl]
//	extract pii        TEMPLATES.txt PACKAGES_DIR OUT_DIR
//
// trufflehog reads the gitleaks fixtures (when given) to name providers alike in both.
package main

import (
	"fmt"
	"os"

	"github.com/customs-dev/customs/internal/eval"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "extract:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("usage: extract gitleaks|trufflehog|pii ARGS")
	}
	switch cmd, args := args[0], args[1:]; {
	case cmd == "gitleaks" && len(args) == 2:
		return extractGitleaks(args[0], args[1])
	case cmd == "trufflehog" && (len(args) == 2 || len(args) == 3):
		if len(args) == 3 {
			fs, err := eval.ReadFile(args[2])
			if err != nil {
				return err
			}
			for _, f := range fs {
				eval.ProviderOf("gitleaks", f.Rule)
			}
		}
		return extractTrufflehog(args[0], args[1])
	case cmd == "pii" && len(args) == 3:
		return extractPII(args[0], args[1], args[2])
	}
	return fmt.Errorf("usage: extract gitleaks|trufflehog|pii ARGS (see the package doc)")
}
