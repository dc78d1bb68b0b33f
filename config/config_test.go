package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/customs-dev/customs/internal/golden"
)

// TestGolden loads each testdata/NAME.yaml and compares the result with
// testdata/NAME.golden: the Config as JSON when the file is valid, the error
// text when it is not.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			golden.Check(t, strings.TrimSuffix(file, ".yaml")+".golden", render(Load(file)))
		})
	}
}

func render(cfg Config, err error) []byte {
	if err != nil {
		return []byte(err.Error() + "\n")
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

func TestEmptyIsDefault(t *testing.T) {
	for _, data := range []string{"", "# nothing\n", "---\n", "~\n"} {
		cfg, err := Parse("customs.yaml", []byte(data))
		if err != nil {
			t.Fatalf("Parse(%q): %v", data, err)
		}
		if got, want := render(cfg, nil), render(Default(), nil); !bytes.Equal(got, want) {
			t.Errorf("Parse(%q) =\n%s\nwant Default():\n%s", data, got, want)
		}
	}
}

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

// A file's values override the defaults; lists replace rather than append,
// or a file could never narrow allow_clients.
func TestListsReplaceDefaults(t *testing.T) {
	cfg, err := Parse("customs.yaml", []byte("allow_clients: [10.0.0.0/8]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.AllowClients) != 1 || cfg.AllowClients[0] != "10.0.0.0/8" {
		t.Errorf("AllowClients = %q, want [10.0.0.0/8]", cfg.AllowClients)
	}
}

func TestErrorPosition(t *testing.T) {
	_, err := Parse("customs.yaml", []byte("data: ./d\nlog:\n  level: loud\n"))
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 {
		t.Fatalf("err = %v, want one Error", err)
	}
	if e := es[0]; e.File != "customs.yaml" || e.Line != 3 || e.Column != 10 {
		t.Errorf("error at %s:%d:%d, want customs.yaml:3:10", e.File, e.Line, e.Column)
	}
	var one *Error
	if !errors.As(err, &one) {
		t.Error("errors.As(err, *Error) failed")
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "testdata/does-not-exist.yaml") {
		t.Fatalf("err = %v, want a not-exist error naming the file", err)
	}
}

// Validate has no file positions: it names key paths, and reports problems
// in the order of the Config's fields.
func TestValidate(t *testing.T) {
	cfg := Default()
	cfg.Listen = "nowhere"
	cfg.Admin = "off"
	cfg.Resolve = map[string]string{"b.example.com": "x", "a.example.com": "y"}
	cfg.Body.DecodeLimit = 0
	cfg.Timeouts.Drain = 0
	cfg.ProxyAuth.Users = []User{{Name: "alice"}}
	want := strings.Join([]string{
		`listen: invalid address "nowhere": want host:port`,
		`resolve[a.example.com]: invalid address "y": want host:port or an IP address`,
		`resolve[b.example.com]: invalid address "x": want host:port or an IP address`,
		`proxy_auth.users[0]: set one of password, password_sha256 or password_file`,
		`body.decode_limit: must be greater than zero; got 0`,
		`timeouts.drain: must be greater than zero; got 0s`,
	}, "\n")
	err := cfg.Validate()
	if err == nil || err.Error() != want {
		t.Errorf("Validate() =\n%v\nwant:\n%s", err, want)
	}
}

// Vendors are checked against the built-in catalog by Validate too, so that flags applied after
// Load cannot skip the check; without a file, errors name the key path.
func TestValidateVendors(t *testing.T) {
	tests := []struct {
		vendors []Vendor
		want    string
	}{
		{[]Vendor{{ID: "corp", Name: "Corp", Category: "ai-platform", Country: "US", Hosts: []string{"llm.corp.example"}}}, ""},
		{[]Vendor{{ID: "openai", Hosts: []string{"api.anthropic.com"}}}, `vendors[0].hosts[0]: host "api.anthropic.com" already belongs to vendor "anthropic"`},
		{[]Vendor{{ID: "openai"}, {ID: "openai"}}, `vendors[1].id: duplicate vendor "openai" (first defined in vendors[0])`},
		{[]Vendor{{ID: "corp", Name: "Corp", Category: "ai-platform", Country: "US"}}, `vendors[0].hosts: a new vendor needs at least one host`},
	}
	for _, tt := range tests {
		cfg := Default()
		cfg.Vendors = tt.vendors
		err := cfg.Validate()
		if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.vendors, err, tt.want)
		}
	}
}

func TestMatches(t *testing.T) {
	cfg, err := Load("testdata/password_file.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fromFile := cfg.ProxyAuth.Users[0]
	sum := sha256.Sum256([]byte("hunter2"))
	tests := []struct {
		name     string
		user     User
		password string
		want     bool
	}{
		{"password", User{Name: "a", Password: "hunter2"}, "hunter2", true},
		{"wrong password", User{Name: "a", Password: "hunter2"}, "hunter3", false},
		{"prefix of password", User{Name: "a", Password: "hunter2"}, "hunter", false},
		{"empty candidate", User{Name: "a", Password: "hunter2"}, "", false},
		{"sha256", User{Name: "a", PasswordSHA256: hex.EncodeToString(sum[:])}, "hunter2", true},
		{"sha256 upper case", User{Name: "a", PasswordSHA256: strings.ToUpper(hex.EncodeToString(sum[:]))}, "hunter2", true},
		{"sha256 wrong", User{Name: "a", PasswordSHA256: hex.EncodeToString(sum[:])}, "hunter3", false},
		{"sha256 malformed", User{Name: "a", PasswordSHA256: "zz"}, "", false},
		{"file first line", fromFile, "s3cret-from-file", true},
		{"file second line", fromFile, "ignored second line", false},
		{"file never loaded", User{Name: "a", PasswordFile: "testdata/secrets/carol.txt"}, "s3cret-from-file", false},
		{"no password at all", User{Name: "a"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.user.Matches(tt.password); got != tt.want {
				t.Errorf("Matches(%q) = %v, want %v", tt.password, got, tt.want)
			}
		})
	}
}

// password_file paths are relative to the config file, not to the working
// directory the proxy happens to start in.
func TestPasswordFileRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("from-temp\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(filepath.Join(dir, "customs.yaml"), []byte("proxy_auth: {users: [{name: a, password_file: pw}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	u := cfg.ProxyAuth.Users[0]
	if u.PasswordFile != filepath.Join(dir, "pw") || !u.Matches("from-temp") {
		t.Errorf("PasswordFile = %q, Matches(from-temp) = %v; want %q, true", u.PasswordFile, u.Matches("from-temp"), filepath.Join(dir, "pw"))
	}
}

func TestPasswordFileNotRegular(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	_, err := Parse("customs.yaml", []byte("proxy_auth: {users: [{name: a, password_file: /dev/zero}]}\n"))
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("err = %v, want not a regular file", err)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    Size
		wantErr string
	}{
		{"0", 0, ""},
		{"1048576", 1 << 20, ""},
		{"8MiB", 8 << 20, ""},
		{"512KiB", 512 << 10, ""},
		{"1GiB", 1 << 30, ""},
		{"2TiB", 2 << 40, ""},
		{"64MB", 64_000_000, ""},
		{"1kB", 1000, ""},
		{"3GB", 3_000_000_000, ""},
		{"1TB", 1_000_000_000_000, ""},
		{"100B", 100, ""},
		{"8mib", 8 << 20, ""},
		{"8 MiB", 8 << 20, ""},
		{" 8MiB ", 8 << 20, ""},
		{"9223372036854775807", 1<<63 - 1, ""},
		{"", 0, "want a number of bytes"},
		{"MiB", 0, "want a number of bytes"},
		{"-1", 0, "want a number of bytes"},
		{"1.5GiB", 0, "fractions are not supported"},
		{"8M", 0, `unknown unit "M"`},
		{"8 MiBs", 0, `unknown unit "MiBs"`},
		{"9223372036854775808", 0, "too large"},
		{"8388608TiB", 0, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseSize(%q) = %d, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
			if back, err := ParseSize(got.String()); err != nil || back != got {
				t.Errorf("ParseSize(%q.String() = %q) = %d, %v", tt.in, got.String(), back, err)
			}
		})
	}
}

func TestSizeString(t *testing.T) {
	for s, want := range map[Size]string{0: "0", 1: "1", 1000: "1KB", 1024: "1KiB", 8 << 20: "8MiB", 64_000_000: "64MB", 1025: "1025"} {
		if got := s.String(); got != want {
			t.Errorf("Size(%d).String() = %q, want %q", int64(s), got, want)
		}
	}
}

// Size and Duration are also flag values through their text methods.
func TestTextFlags(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg := Default()
	fs.TextVar(&cfg.Body.InspectLimit, "inspect-limit", cfg.Body.InspectLimit, "")
	fs.TextVar(&cfg.Timeouts.Dial, "dial-timeout", cfg.Timeouts.Dial, "")
	if err := fs.Parse([]string{"-inspect-limit=1MiB", "-dial-timeout=2s"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Body.InspectLimit != 1<<20 || cfg.Timeouts.Dial.D() != 2*time.Second {
		t.Errorf("got %v, %v; want 1MiB, 2s", cfg.Body.InspectLimit, cfg.Timeouts.Dial)
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"listen", "admin", "data", "intercept", "intercept_hosts"}
	for in, want := range map[string]string{
		"listn": "listen", "lsiten": "listen", "LISTEN": "listen", "addmin": "admin",
		"intercept_host": "intercept_hosts", "intercpt": "intercept", "dat": "data",
		"x": "", "proxy": "", "": "",
	} {
		if got := suggest(in, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParse checks that no input makes Parse panic, that every error it
// reports names the file, and that what it accepts also passes Validate.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("testdata/fuzz.yaml", data)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error is %T, want Errors: %v", err, err)
			}
			for _, e := range es {
				if e.File != "testdata/fuzz.yaml" || e.Msg == "" {
					t.Fatalf("error without file or message: %q", e.Error())
				}
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that Validate rejects: %v", err)
		}
	})
}

func FuzzSize(f *testing.F) {
	for _, s := range []string{"0", "8MiB", "64MB", "1.5GiB", "9223372036854775807", "8 kib"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("ParseSize(%q) = %d < 0", s, n)
		}
		if back, err := ParseSize(n.String()); err != nil || back != n {
			t.Fatalf("ParseSize(%q) = %d, but ParseSize(%q) = %d, %v", s, n, n.String(), back, err)
		}
	})
}
