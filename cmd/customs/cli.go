package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/customs-dev/customs/internal/suggest"
)

// The command line is the standard flag package with three rules on top, the same at every
// level: flags may come before, between or after positional arguments; -h and --help print
// that level's help (usage, flags, examples) on stdout and exit 0; an unknown flag or
// subcommand is a usage error (exit 2) that names the closest real one.

// help is what -h prints for one level of the command line.
type help struct {
	usage    string // synopsis lines, each starting with "customs"
	about    string // what the command does, a paragraph
	commands string // for a level with subcommands: one line each
	examples string // command lines with a comment each
}

// command is one level of the command line: its flags and its help.
type command struct {
	name   string // "flows show"
	fs     *flag.FlagSet
	help   help
	stdout io.Writer
}

// newCommand returns the flag set of "customs name" with its help; -h prints it to stdout.
func newCommand(name string, h help, stdout io.Writer) *command {
	fs := flag.NewFlagSet("customs "+name, flag.ContinueOnError)
	// The flag package's own messages are replaced by parse's, which name the closest flag.
	fs.SetOutput(io.Discard)
	c := &command{name: name, fs: fs, help: h, stdout: stdout}
	fs.Usage = func() {}
	return c
}

// parse reads the flags wherever they are among args and returns the positional arguments in
// order. "--" ends the flags. -h or --help prints the help and returns flag.ErrHelp.
func (c *command) parse(args []string) ([]string, error) {
	positional, err := parseInterleaved(c.fs, args)
	if errors.Is(err, flag.ErrHelp) {
		c.printHelp(c.stdout)
	}
	return positional, err
}

// noArgs is parse for a command that takes no positional argument.
func (c *command) noArgs(args []string) error {
	positional, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(positional) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q; %s", positional[0], c.hint())}
	}
	return nil
}

func (c *command) hint() string {
	return fmt.Sprintf(`"customs %s -h" shows the usage`, c.name)
}

// set reports whether the flag name was given on the command line.
func (c *command) set(name string) bool {
	given := false
	c.fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func (c *command) printHelp(w io.Writer) {
	printHelp(w, c.help, c.fs)
}

func printHelp(w io.Writer, h help, fs *flag.FlagSet) {
	fmt.Fprintln(w, "Usage:")
	for _, l := range strings.Split(strings.TrimRight(h.usage, "\n"), "\n") {
		fmt.Fprintln(w, "  "+l)
	}
	if h.about != "" {
		fmt.Fprintln(w)
		fmt.Fprintln(w, strings.TrimRight(h.about, "\n"))
	}
	if h.commands != "" {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Commands:")
		fmt.Fprintln(w, indent(h.commands))
	}
	if fs != nil {
		if flags := flagLines(fs); flags != "" {
			fmt.Fprintln(w)
			fmt.Fprintln(w, "Flags:")
			fmt.Fprint(w, flags)
		}
	}
	if h.examples != "" {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Examples:")
		fmt.Fprintln(w, indent(h.examples))
	}
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n")
}

// valueNames name the values of flags in help, by flag (the same flag means the same thing in
// every command).
var valueNames = map[string]string{
	"config": "FILE", "data": "DIR", "admin": "ADDR", "listen": "ADDR", "log-file": "FILE", "log-level": "LEVEL",
	"upstream-ca": "FILE", "resolve": "HOST=ADDR", "rules": "PATH", "intercept": "MODE", "out": "FILE", "har": "FILE",
	"since": "WHEN", "until": "WHEN", "vendor": "ID", "detector": "ID", "api": "NAME", "category": "C", "client": "ADDR",
	"user": "U", "action": "A", "host": "HOST", "export": "FORMAT", "limit": "N", "from": "nats://HOST:PORT", "site": "NAME",
}

// flagLines lists the flags, sorted, one per line with its value name and default.
func flagLines(fs *flag.FlagSet) string {
	type row struct{ left, usage string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if len(f.Name) == 1 {
			left = "-" + f.Name
		}
		switch {
		case name == "": // a boolean
		case valueNames[f.Name] != "":
			left += " " + valueNames[f.Name]
		case name == "int":
			left += " N"
		case name == "string" || name == "value":
			left += " VALUE"
		default:
			left += " " + strings.ToUpper(name)
		}
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "[]" {
			usage += " (default " + d + ")"
		}
		rows = append(rows, row{left, usage})
		width = max(width, len(left))
	})
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, r.left, r.usage)
	}
	return b.String()
}

// parseInterleaved parses flags given before, between or after positional arguments
// ("show ID --json" as well as "show --json ID"), which flag.Parse alone does not: it stops at
// the first positional argument. Errors name the closest defined flag.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		err := fs.Parse(args)
		if err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{flagError(fs, err)}
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil // "--": the rest is positional
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// flagError rewrites the flag package's error in this command line's terms: flags with two
// dashes, the closest defined flag for an unknown one, and where the usage is.
func flagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	name := strings.TrimPrefix(fs.Name(), "customs ")
	if bad, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		bad = strings.TrimLeft(bad, "-")
		msg = "unknown flag --" + bad
		if s := closestFlag(fs, bad); s != "" {
			msg += fmt.Sprintf(" (did you mean --%s?)", s)
		}
	} else if f, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		msg = "flag needs an argument: --" + strings.TrimLeft(f, "-")
	} else {
		msg = strings.Replace(msg, " for flag -", " for --", 1) // invalid value "x" for --limit: ...
	}
	return fmt.Errorf(`%s; "customs %s -h" lists the flags`, msg, name)
}

func closestFlag(fs *flag.FlagSet, name string) string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return closestName(name, names)
}

// closestName is the candidate nearest to s, if one is near enough to be what was meant.
func closestName(s string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := suggest.Distance(strings.ToLower(s), c); d < bestDist && d < len(c) {
			best, bestDist = c, d
		}
	}
	return best
}

// subcommands dispatches a level that has only subcommands (ca, catalog, rules): -h prints its
// help; no subcommand, or an unknown one, is a usage error naming the closest.
func subcommands(name string, h help, args []string, stdout io.Writer, subs map[string]func([]string) error) error {
	if len(args) == 0 {
		return usageError{fmt.Errorf(`want a subcommand: %s; "customs %s -h" shows them`, strings.Join(slices.Sorted(maps.Keys(subs)), ", "), name)}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printHelp(stdout, h, nil)
		return flag.ErrHelp
	}
	run, ok := subs[args[0]]
	if !ok {
		msg := fmt.Sprintf("unknown subcommand %q", args[0])
		if s := closestName(args[0], slices.Sorted(maps.Keys(subs))); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return usageError{fmt.Errorf(`%s; "customs %s -h" lists them`, msg, name)}
	}
	return run(args[1:])
}

// plural is "1 finding", "2 findings": n and the noun in its number. many is the plural when it
// is not one+"s".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	if many == "" {
		many = one + "s"
	}
	return fmt.Sprintf("%d %s", n, many)
}
