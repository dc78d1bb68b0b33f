package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/internal/golden"
	"github.com/customs-dev/customs/store"
)

// -h and --help at every level of the command line print that level's help on stdout, with its
// flags and examples, and exit 0 (issue 12: ca, catalog and rules exited 2). The help is pinned
// in testdata/help; a subcommand lists only the flags that apply to it.
func TestHelpEveryLevel(t *testing.T) {
	levels := [][]string{
		{}, {"serve"}, {"ca"}, {"ca", "init"}, {"ca", "export"}, {"catalog"}, {"catalog", "list"}, {"catalog", "show"},
		{"scan"}, {"flows"}, {"flows", "show"}, {"replay"}, {"capture"}, {"pac"}, {"run"}, {"report"}, {"exposure"}, {"store"}, {"store", "verify"}, {"store", "repair"}, {"jewels"}, {"jewels", "add"}, {"jewels", "add-table"}, {"jewels", "list"}, {"jewels", "stats"}, {"jewels", "remove"}, {"rules"}, {"rules", "lint"}, {"rules", "test"}, {"rules", "default"}, {"rules", "publish"}, {"rules", "status"}, {"rules", "rollback"}, {"fleet"}, {"fleet", "keygen"}, {"fleet", "status"},
	}
	for _, level := range levels {
		name := strings.Join(append([]string{"customs"}, level...), "-")
		t.Run(name, func(t *testing.T) {
			var first string
			for i, flag := range []string{"-h", "--help"} {
				out, errOut, code := runCustoms(t, t.TempDir(), append(append([]string{}, level...), flag)...)
				if code != 0 || errOut != "" || !strings.Contains(out, "Usage:") || !strings.Contains(out, "Examples:") {
					t.Fatalf("%s: exit %d, stdout:\n%s\nstderr:\n%s", flag, code, out, errOut)
				}
				if i == 0 {
					first = out
				} else if out != first {
					t.Fatalf("-h and --help differ")
				}
			}
			golden.Check(t, filepath.Join("testdata", "help", name+".golden"), []byte(first))
		})
	}
	out, _, code := runCustoms(t, t.TempDir(), "help", "flows", "show")
	want, _, _ := runCustoms(t, t.TempDir(), "flows", "show", "-h")
	if code != 0 || out != want {
		t.Fatalf("customs help flows show: exit %d\n%s", code, out)
	}
	for _, tc := range []struct {
		level     []string
		has, lack []string
	}{
		{[]string{"rules", "lint"}, []string{"--config"}, []string{"  -v "}},
		{[]string{"rules", "test"}, []string{"  -v "}, nil},
		{[]string{"replay"}, []string{"oldest first", "--limit"}, []string{"--oldest", "newest first"}},
		{[]string{"catalog", "show"}, []string{"--json"}, []string{"--category"}},
		{[]string{"flows", "show"}, []string{"--body", "--reveal"}, []string{"--vendor", "--export"}},
	} {
		out, _, _ := runCustoms(t, t.TempDir(), append(tc.level, "-h")...)
		for _, h := range tc.has {
			if !strings.Contains(out, h) {
				t.Errorf("%v -h lacks %q", tc.level, h)
			}
		}
		for _, l := range tc.lack {
			if strings.Contains(out, l) {
				t.Errorf("%v -h has %q, which does not apply", tc.level, l)
			}
		}
	}
}

// Usage errors exit 2 and say what was meant: unknown flags, subcommands, filter values and
// flow IDs name the closest real one; flags the command would ignore are refused (issue 12).
func TestUsageMistakes(t *testing.T) {
	data := recordedStore(t, 3)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"flow"}, `unknown command "flow" (did you mean "flows"?)`},
		{"unknown flag", []string{"flows", "--vendr", "openai"}, `unknown flag --vendr (did you mean --vendor?); "customs flows -h" lists the flags`},
		{"unknown flag after the ID", []string{"flows", "show", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "--bdy"}, "did you mean --body?"},
		{"unknown subcommand", []string{"rules", "lnt"}, `unknown subcommand "lnt" (did you mean "lint"?)`},
		{"unknown ca subcommand", []string{"ca", "frobnicate"}, `unknown subcommand "frobnicate"`},
		{"flag needs a value", []string{"flows", "--data", data, "--since"}, "flag needs an argument: --since"},
		{"bad limit", []string{"flows", "--limit", "ten"}, `invalid value "ten" for --limit`},
		{"vendor", []string{"flows", "--vendor", "opnai"}, `--vendor: unknown vendor "opnai" (did you mean "openai"?)`},
		{"detector", []string{"flows", "--detector", "pii.emial"}, `--detector: unknown detector "pii.emial" (did you mean "pii.email"?)`},
		{"api", []string{"flows", "--api", "openai.chatt"}, `--api: unknown API "openai.chatt" (did you mean "openai.chat"?)`},
		{"category", []string{"flows", "--category", "analytic"}, `--category: unknown category "analytic" (did you mean "analytics"?)`},
		{"action", []string{"flows", "--action", "blok"}, `--action: unknown action "blok" (did you mean "block"?)`},
		{"out without export", []string{"flows", "--out", "x.har"}, "--out is where --export writes"},
		{"reveal without export", []string{"flows", "--reveal"}, "--reveal applies to --export"},
		{"reveal without body", []string{"flows", "show", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "--reveal"}, "--reveal shows the bodies in clear: give --body too"},
		{"unknown flow", []string{"flows", "show", "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, `no flow "01ARZ3NDEKTSV4RRFFQ69G5FAV"`},
		{"argument to flows", []string{"flows", "shwo"}, `unexpected argument "shwo" (did you mean "show"?)`},
		{"replay has no --oldest", []string{"replay", "--oldest"}, "unknown flag --oldest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if !slices.Contains(args, "--data") {
				args = append(args, "--data", data)
			}
			out, errOut, code := runCustoms(t, t.TempDir(), args...)
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, want 2 and %q on stderr\nstdout:\n%s\nstderr:\n%s", code, tt.want, out, errOut)
			}
		})
	}
	if _, errOut, _ := runCustoms(t, t.TempDir(), "flows", "--reveal", "--data", data); strings.Contains(errOut, "audit") {
		t.Errorf("a refused --reveal was recorded: %s", errOut)
	}
	if _, err := os.Stat(filepath.Join(data, "audit.log")); err == nil {
		t.Error("audit.log written by commands that revealed nothing")
	}
	// A second ca init says what to do, in the CLI's terms.
	dir := t.TempDir()
	runCustoms(t, dir, "ca", "init", "--data", dir)
	_, errOut, code := runCustoms(t, dir, "ca", "init", "--data", dir)
	if code != 2 || !strings.Contains(errOut, "a CA already exists in") || strings.Contains(errOut, "Load") {
		t.Errorf("second ca init: exit %d: %s", code, errOut)
	}
}

// Exports take every matching flow unless --limit says otherwise, and a listing cut at its
// limit says so (issue 12: exports stopped at the listing's 50, silently).
func TestLimits(t *testing.T) {
	data := recordedStore(t, 60)
	out, errOut, code := runCustoms(t, ".", "flows", "--data", data)
	if code != 0 || strings.Count(out, "\n") != 51 || !strings.Contains(errOut, "50 flows shown, newest first; more match: --limit N to see more") {
		t.Fatalf("listing: exit %d, %d lines\n%s", code, strings.Count(out, "\n"), errOut)
	}
	if _, errOut, _ := runCustoms(t, ".", "flows", "--data", data, "--limit", "0"); strings.Contains(errOut, "more match") {
		t.Errorf("--limit 0 lists all, yet: %s", errOut)
	}
	// A tunnel let through is recorded without an action; it is shown as allowed, not blank.
	out, _, _ = runCustoms(t, ".", "flows", "--data", data, "--json", "--limit", "3")
	if strings.Contains(out, `"action":""`) || !strings.Contains(out, `"mode":"tunnelled"`) || strings.Count(out, `"action":"allow"`) != 3 {
		t.Errorf("tunnels' action:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, 60},
		{[]string{"--limit", "7"}, 7},
		{[]string{"--vendor", "openai"}, 30},
	} {
		path := filepath.Join(t.TempDir(), "out.jsonl")
		_, errOut, code := runCustoms(t, ".", append([]string{"flows", "--data", data, "--export", "jsonl", "--out", path}, tc.args...)...)
		b, _ := os.ReadFile(path)
		if code != 0 || strings.Count(string(b), "\n") != tc.want || !strings.Contains(errOut, fmt.Sprintf("exported %d flows", tc.want)) {
			t.Errorf("export %v: exit %d, %d lines, want %d\n%s", tc.args, code, strings.Count(string(b), "\n"), tc.want, errOut)
		}
	}
}

// recordedStore is a data directory whose store holds n flows of the last hour, alternately to
// OpenAI and Mixpanel; every third is a tunnel, recorded without an action.
func recordedStore(t *testing.T, n int) string {
	t.Helper()
	data := t.TempDir()
	key, _, err := store.LoadOrCreateKey(filepath.Join(data, "store.key"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(store.Options{Dir: filepath.Join(data, "store"), Key: key, Logger: zerolog.Nop(), MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(-time.Hour)
	for i := range n {
		v := []string{"openai", "mixpanel"}[i%2]
		f := &flow.Flow{ID: flow.NewID(now.Add(time.Duration(i) * time.Millisecond)), Start: now, End: now, Source: flow.SourceProxy,
			Mode: flow.Intercepted, Host: "api." + v + ".com", Method: "POST", URL: "https://api." + v + ".com/v1/x",
			Vendor: flow.Vendor{ID: v}, Client: flow.Client{Addr: "127.0.0.1:1"}, RequestHeader: http.Header{},
			Verdict: flow.Verdict{Action: flow.Allow}}
		if i%3 == 0 {
			f.Mode, f.Method, f.URL, f.Verdict = flow.Tunnelled, "CONNECT", "", flow.Verdict{}
		}
		st.Record(f)
	}
	if err := st.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	return data
}

// newFlagSet and parseFlags, for commands without a help of their own, follow the same rules:
// flags anywhere, the closest flag named, -h lists the flags.
func TestParseFlags(t *testing.T) {
	var help strings.Builder
	fs := newFlagSet("store verify", &help)
	deep := fs.Bool("deep", false, "read every value")
	if err := parseFlags(fs, []string{"--deep"}); err != nil || !*deep {
		t.Fatalf("--deep: %v %v", err, *deep)
	}
	err := parseFlags(fs, []string{"--dep"})
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `unknown flag --dep (did you mean --deep?); "customs store verify -h" lists the flags`) {
		t.Fatalf("--dep: %v", err)
	}
	if err := parseFlags(fs, []string{"extra"}); !errors.As(err, &ue) {
		t.Fatalf("positional: %v", err)
	}
	if err := parseFlags(fs, []string{"-h"}); !errors.Is(err, flag.ErrHelp) || !strings.Contains(help.String(), "--deep") {
		t.Fatalf("-h: %v %q", err, help.String())
	}
	fs2 := newFlagSet("x", io.Discard)
	fs2.Bool("v", false, "")
	got, err := parseInterleaved(fs2, []string{"a", "-v", "b", "--", "-v", "c"})
	if err != nil || strings.Join(got, ",") != "a,b,-v,c" {
		t.Fatalf("interleaved: %v %v", got, err)
	}
}
