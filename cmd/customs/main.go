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
                [--run ID] [--detector ID] [--action A] [--api NAME] [--host H] [--limit N] [--oldest] [--json]
                                    the stored flows, newest first (works while serve runs)
  customs flows show ID [--body [--reveal]] [--json]
                                    one flow; bodies decoded with detected values masked
  customs flows [filters] --export jsonl|har --out FILE [--limit N] [--reveal]
                                    evidence export (every matching flow), values masked unless --reveal
  customs replay [--since 30d] [--until T] [filters] [--limit N] [--rules PATH]... [--diff] [--json]
                                    re-run today's detectors and policies over stored flows, oldest first
  customs replay --har FILE [--store] [--rules PATH]... [--json]
                                    inspect a HAR file the same way (--store keeps its flows)
  customs capture FILE... | --interface IF [--filter EXPR] [--json] [--store] [--known]
                                    read packet captures (pcap, pcapng) or an interface: TLS, QUIC,
                                    DNS and plaintext HTTP become flows; vendor traffic the proxy
                                    did not see is marked bypass
  customs pac [--config FILE] [--proxy HOST:PORT]
                                    the PAC file: customs' hosts to the proxy, the rest DIRECT
                                    (serve also serves it at /proxy.pac on the admin listener)
  customs run [--proxy URL] [--data DIR] -- COMMAND [ARGS...]
                                    start COMMAND with its traffic through customs and trusting its
                                    CA; its flows are tagged (customs flows --run ID)
  customs rules lint [PATH]...      load and type-check rule files; errors with file:line:col (exit 2)
  customs rules test [PATH]... [-v] run the rule files' tests and detector examples (exit 1 on a failure)
  customs rules default             print the embedded default policy pack
  customs rules publish PATH...     validate rule files and send them to every site of the fleet
  customs rules status --fleet      the fleet's rule book version and what each site runs
  customs rules rollback VERSION    make an earlier rule book version the newest again
  customs fleet keygen FILE         create the fleet key every site and reader shares
  customs fleet status              the fleet's stream: flows, size, limits, replicas, flows by site
  customs store verify | repair [--out DIR]   read every flow and file, exit 1 if damaged | copy what is readable to a new store
  customs report [--since 7d] [--until T] [filters] [--lookback 30d] [--format table|json|csv|dot|mermaid|html] [--out FILE]
                                    the supply-chain map: clients → vendors → subprocessors, concentration,
                                    what is new, models, top findings (works while serve runs)
  customs exposure VENDOR|HOST [--since 30d] [filters] [--depth 4] [--json] [--export har|jsonl --out FILE]
                                    every flow whose data reached a vendor, directly or through its supply chain
  customs jewels add PATH... --label NAME [--class code|document]   index our own code and documents (keyed prints, no text)
  customs jewels add-table FILE.csv --label NAME --columns C,...    index a customer table's rows (keyed hashes, no values)
  customs jewels list | stats | remove LABEL                        what is indexed; serve reloads it on change

flows, flows show, replay, report and exposure take --fleet (or --from nats://HOST:PORT) and
--site NAME to read the fleet's record of every site instead of the local store.

Every command takes --data DIR (default ./customs-data) and --config FILE.
Run "customs COMMAND -h" (or "customs help COMMAND") for a command's flags and examples.
Exit codes: 0 ok, 1 findings a command was asked to fail on or a failure at run time,
2 usage or configuration error.

Examples:
  customs serve                                   # proxy 127.0.0.1:8080, admin 127.0.0.1:8081
  customs flows --since 7d --vendor openai --action block
  customs flows show 01K... --body
  customs replay --since 30d --rules new-rules/ --diff
  customs rules lint policies/
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
		err = cmdServe(args[1:], stdout, stderr)
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
	case "store":
		err = cmdStore(args[1:], stdout, stderr)
	case "report":
		err = cmdReport(args[1:], stdout, stderr)
	case "exposure":
		err = cmdExposure(args[1:], stdout, stderr)
	case "jewels":
		err = cmdJewels(args[1:], stdout, stderr)
	case "fleet":
		err = cmdFleet(args[1:], stdout, stderr)
	case "capture":
		err = cmdCapture(args[1:], stdout, stderr)
	case "pac":
		err = cmdPAC(args[1:], stdout, stderr)
	case "run":
		err = cmdRun(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[0] == "help" {
			// "customs help flows show" is "customs flows show -h".
			return run(append(args[1:len(args):len(args)], "-h"), stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		msg := fmt.Sprintf("unknown command %q", args[0])
		if s := closestName(args[0], commands); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		fmt.Fprintf(stderr, "customs: %s\n\n%s", msg, usage)
		return exitConfig
	}
	var childExit exitCode // a command customs run started: its own exit code
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errFindings):
		return exitFail
	case errors.As(err, &childExit):
		return int(childExit)
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

// commands are the top level's, for "did you mean".
var commands = []string{"serve", "ca", "catalog", "scan", "flows", "replay", "capture", "pac", "run", "rules", "store", "report", "exposure", "jewels", "fleet", "help"}

// newFlagSet is the flag set of a command without a help of its own (newCommand has one): -h
// lists its flags on w and exits 0.
func newFlagSet(name string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("customs "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parseFlags words the errors
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage:\n  customs %s [flags]\n\nFlags:\n%s", name, flagLines(fs))
	}
	return fs
}

// parseFlags parses args, flags anywhere among them, for a command that takes no positional
// argument; a flag error is a usage error that names the closest flag.
func parseFlags(fs *flag.FlagSet, args []string) error {
	positional, err := parseInterleaved(fs, args) // on -h, the flag package has called fs.Usage
	if err != nil {
		return err
	}
	if len(positional) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", positional[0])}
	}
	return nil
}
