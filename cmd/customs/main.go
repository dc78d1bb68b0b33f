// Command customs is the egress checkpoint for AI traffic. See README.md for the commands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Exit codes (design.md): 0 ok, 1 findings a command was asked to fail on or a failure at run
// time, 2 usage or configuration error.
const (
	exitOK     = 0
	exitFail   = 1
	exitConfig = 2
)

const usage = `customs — egress checkpoint for AI traffic

Usage:
  customs serve [--config FILE] [--listen ADDR] [--admin ADDR] [--data DIR]
                [--intercept catalog|all|none] [--upstream-ca FILE]... [--resolve HOST=ADDR]...
                [--log-level LEVEL] [--log-file FILE] [--rules PATH]...
  customs ca init   [--data DIR]    create the interception CA (DIR/ca.pem, DIR/ca-key.pem 0600)
  customs ca export [--data DIR]    print the CA certificate (PEM) for clients to trust
  customs catalog list [--category C] [--json] [--config FILE]
                                    the vendors customs knows (with the config's vendors: merged in)
  customs catalog show ID [--json] [--config FILE]
                                    one vendor: hosts, endpoints, subprocessors, supply chain
  customs scan [FILE|-] [--json] [--fail] [--rules PATH]... [--host HOST] [--config FILE] [--data DIR]
                                    run the detectors and policies over text, a JSON body or a
                                    raw HTTP request; findings are masked; --fail exits 1 on any
  customs flows [--since 24h] [--until T] [--vendor ID] [--category C] [--client ADDR] [--user U]
                [--detector ID] [--action A] [--api NAME] [--host H] [--limit N] [--json]
                                    the stored flows, newest first (works while serve runs)
  customs flows show ID [--body [--reveal]] [--json]
                                    one flow; bodies decoded with detected values masked
  customs flows [filters] --export jsonl|har --out FILE [--reveal]
                                    evidence export (HAR 1.2), values masked unless --reveal
  customs replay [--since 30d] [--until T] [filters] [--rules PATH]... [--diff] [--json]
                                    re-run today's detectors and policies over stored flows
  customs replay --har FILE [--store] [--rules PATH]... [--json]
                                    inspect a HAR file the same way (--store keeps its flows)
  customs rules lint [PATH]...      load and type-check rule files; errors with file:line:col (exit 2)
  customs rules test [PATH]... [-v] run the rule files' tests and detector examples (exit 1 on a failure)
  customs rules default             print the embedded default policy pack

Run "customs COMMAND -h" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// usageError marks errors that are the caller's to fix (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitConfig
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(args[1:], stderr)
	case "ca":
		err = cmdCA(args[1:], stdout, stderr)
	case "scan":
		err = cmdScan(args[1:], stdout, stderr)
	case "catalog":
		err = cmdCatalog(args[1:], stdout, stderr)
	case "rules":
		err = cmdRules(args[1:], stdout, stderr)
	case "flows":
		err = cmdFlows(args[1:], stdout, stderr)
	case "replay":
		err = cmdReplay(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "customs: unknown command %q\n\n%s", args[0], usage)
		return exitConfig
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errFindings):
		return exitFail
	case errors.As(err, new(ruleErrors)):
		return exitConfig // printed with carets already
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "customs %s: %v\n", args[0], err)
		return exitConfig
	default:
		fmt.Fprintf(stderr, "customs %s: %v\n", args[0], err)
		return exitFail
	}
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return fmt.Sprint(*s) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("customs "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args and turns a flag error into a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}
