package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fleetOn is the least a fleet member needs; the cases below add one setting to it.
const fleetOn = "fleet:\n  servers: [nats://10.0.0.5:4222]\n  site: paris-office\n  key_file: fleet.key\n"

// TestFleetParse checks each fleet setting alone, where the golden files check them together:
// the exact message, and the line and column of the value at fault.
func TestFleetParse(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       string // the error; "" when the file is valid
	}{
		{"off by default", "", ""},
		{"on", fleetOn, ""},
		{"off needs nothing", "fleet:\n  servers: []\n  batch: 1\n", ""},
		{"tls and ws schemes", "fleet:\n  servers: [tls://a.example, ws://a.example:8080, \"wss://[::1]:443/nats\"]\n  site: a\n  key_file: k\n", ""},
		{"site of 64", "fleet:\n  servers: [nats://10.0.0.5:4222]\n  site: " + strings.Repeat("a", 64) + "\n  key_file: k\n", ""},
		{"nkey alone", fleetOn + "  nkey: user.nk\n", ""},
		{"user and password file", fleetOn + "  user: customs\n  password_file: nats.pass\n", ""},
		{"client certificate", fleetOn + "  tls: {cert: c.pem, key: k.pem}\n", ""},
		{"duplicate window of max age", fleetOn + "  max_age: 1h\n  duplicate_window: 1h\n", ""},
		{"replicas automatic and 5", fleetOn + "  replicas: 5\n", ""},

		{"site missing", "fleet:\n  servers: [nats://10.0.0.5:4222]\n  key_file: fleet.key\n",
			`customs.yaml:2:3: fleet.site: is required when fleet.servers is set: this proxy's name in the fleet`},
		{"site with a dot", "fleet:\n  servers: [nats://10.0.0.5:4222]\n  site: paris.office\n  key_file: k\n",
			`customs.yaml:3:9: fleet.site: must be 1 to 64 letters, digits, '-' or '_' (one NATS subject token); got "paris.office"`},
		{"site with a wildcard", "fleet:\n  servers: [nats://10.0.0.5:4222]\n  site: \">\"\n  key_file: k\n",
			`customs.yaml:3:9: fleet.site: must be 1 to 64 letters, digits, '-' or '_' (one NATS subject token); got ">"`},
		{"site of 65", "fleet:\n  servers: [nats://10.0.0.5:4222]\n  site: " + strings.Repeat("a", 65) + "\n  key_file: k\n",
			`customs.yaml:3:9: fleet.site: must be 1 to 64 letters, digits, '-' or '_' (one NATS subject token); got "` + strings.Repeat("a", 65) + `"`},
		{"site mistyped", "fleet:\n  servers: [nats://10.0.0.5:4222]\n  sites: paris\n  key_file: k\n",
			`customs.yaml:3:3: unknown key "sites" in fleet (did you mean "site"?)`},
		{"key file missing", "fleet:\n  servers: [nats://10.0.0.5:4222]\n  site: paris\n",
			`customs.yaml:2:3: fleet.key_file: is required when fleet.servers is set: the fleet's shared AES-256 key (32 bytes in hex), the same file at every site`},
		{"creds and nkey", fleetOn + "  creds: user.creds\n  nkey: user.nk\n",
			`customs.yaml:6:9: fleet: set only one of creds, nkey and user; got creds and nkey`},
		{"nkey and user", fleetOn + "  nkey: user.nk\n  user: customs\n  password_file: p\n",
			`customs.yaml:6:9: fleet: set only one of creds, nkey and user; got nkey and user`},
		{"user without password", fleetOn + "  user: customs\n",
			`customs.yaml:5:9: fleet.user: needs fleet.password_file too`},
		{"password without user", fleetOn + "  password_file: nats.pass\n",
			`customs.yaml:5:18: fleet.password_file: needs fleet.user too`},
		{"password inline", fleetOn + "  user: customs\n  password: hunter2\n",
			"customs.yaml:5:9: fleet.user: needs fleet.password_file too\n" + `customs.yaml:6:3: unknown key "password" in fleet`},
		{"cert without key", fleetOn + "  tls:\n    cert: client.pem\n",
			`customs.yaml:6:11: fleet.tls.cert: needs fleet.tls.key too`},
		{"key without cert", fleetOn + "  tls:\n    key: client-key.pem\n",
			`customs.yaml:6:10: fleet.tls.key: needs fleet.tls.cert too`},
		{"verification cannot be skipped", fleetOn + "  tls:\n    insecure_skip_verify: true\n",
			`customs.yaml:6:5: unknown key "insecure_skip_verify" in fleet.tls`},
		{"unknown key with suggestion", fleetOn + "  watch_rule: false\n",
			`customs.yaml:5:3: unknown key "watch_rule" in fleet (did you mean "watch_rules"?)`},
		{"http scheme", "fleet:\n  servers: [nats://a.example, https://b.example]\n  site: a\n  key_file: k\n",
			`customs.yaml:2:31: fleet.servers[1]: invalid NATS URL "https://b.example": the scheme must be nats, tls, ws or wss`},
		{"no scheme", "fleet:\n  servers: [10.0.0.5:4222]\n  site: a\n  key_file: k\n",
			`customs.yaml:2:13: fleet.servers[0]: invalid NATS URL "10.0.0.5:4222": want nats://host:port, tls://, ws:// or wss://`},
		{"host name without scheme", "fleet:\n  servers: [nats.example:4222]\n  site: a\n  key_file: k\n",
			`customs.yaml:2:13: fleet.servers[0]: invalid NATS URL "nats.example:4222": want nats://host:port, tls://, ws:// or wss://`},
		{"empty URL", "fleet:\n  servers: [\"\"]\n  site: a\n  key_file: k\n",
			`customs.yaml:2:13: fleet.servers[0]: invalid NATS URL "": want nats://host:port, tls://, ws:// or wss://`},
		{"password in URL", "fleet:\n  servers: [\"nats://u:hunter2@a.example\"]\n  site: a\n  key_file: k\n",
			`customs.yaml:2:13: fleet.servers[0]: invalid NATS URL "nats://u:xxxxx@a.example": put credentials in fleet.creds, fleet.nkey or fleet.user and fleet.password_file, not in the URL`},
		{"password in a URL that does not parse", "fleet:\n  servers: [\"nats://u:hunter2@a.example:bad\"]\n  site: a\n  key_file: k\n",
			`customs.yaml:2:13: fleet.servers[0]: invalid NATS URL "...@a.example:bad": want nats://host:port, tls://, ws:// or wss://`},
		{"bad host", "fleet:\n  servers: [\"nats://a_b c:4222\"]\n  site: a\n  key_file: k\n",
			`customs.yaml:2:13: fleet.servers[0]: invalid NATS URL "nats://a_b c:4222": want nats://host:port, tls://, ws:// or wss://`},
		{"port 0", "fleet:\n  servers: [nats://a.example:0]\n  site: a\n  key_file: k\n",
			`customs.yaml:2:13: fleet.servers[0]: invalid NATS URL "nats://a.example:0": port must be a number from 1 to 65535`},
		{"servers not a list", "fleet:\n  servers: nats://a.example\n",
			`customs.yaml:2:12: fleet.servers: expected a list, got the string "nats://a.example"`},
		{"stream", fleetOn + "  stream: FLOWS.ALL\n",
			`customs.yaml:5:11: fleet.stream: must be letters, digits, '-' or '_'; got "FLOWS.ALL"`},
		{"stream empty", fleetOn + "  stream: \"\"\n",
			`customs.yaml:5:11: fleet.stream: must be letters, digits, '-' or '_'; got ""`},
		{"rules bucket", fleetOn + "  rules_bucket: rules/book\n",
			`customs.yaml:5:17: fleet.rules_bucket: must be letters, digits, '-' or '_'; got "rules/book"`},
		{"replicas negative", fleetOn + "  replicas: -1\n",
			`customs.yaml:5:13: fleet.replicas: must be 0 (automatic) or from 1 to 5; got -1`},
		{"replicas 6", fleetOn + "  replicas: 6\n",
			`customs.yaml:5:13: fleet.replicas: must be 0 (automatic) or from 1 to 5; got 6`},
		{"max age 0", fleetOn + "  max_age: 0\n",
			`customs.yaml:5:12: fleet.max_age: must be greater than zero; got 0s`},
		{"max age negative", fleetOn + "  max_age: -1h\n",
			`customs.yaml:5:12: fleet.max_age: must be greater than zero; got -1h0m0s`},
		{"max bytes not a size", fleetOn + "  max_bytes: lots\n",
			`customs.yaml:5:14: fleet.max_bytes: invalid size "lots": want a number of bytes or a number with a unit, such as "8MiB"`},
		{"duplicate window under 1s", fleetOn + "  duplicate_window: 999ms\n",
			`customs.yaml:5:21: fleet.duplicate_window: must be from 1s to fleet.max_age (90d); got 999ms`},
		{"duplicate window over max age", fleetOn + "  max_age: 1h\n  duplicate_window: 61m\n",
			`customs.yaml:6:21: fleet.duplicate_window: must be from 1s to fleet.max_age (1h0m0s); got 1h1m0s`},
		{"duplicate window not a duration", fleetOn + "  duplicate_window: soon\n",
			`customs.yaml:5:21: fleet.duplicate_window: invalid duration "soon": want a number with a unit, such as "30s", "5m", "24h" or "30d"`},
		{"batch 0", fleetOn + "  batch: 0\n",
			`customs.yaml:5:10: fleet.batch: must be from 1 to 4096; got 0`},
		{"batch 4097", fleetOn + "  batch: 4097\n",
			`customs.yaml:5:10: fleet.batch: must be from 1 to 4096; got 4097`},
		{"watch rules not a bool", fleetOn + "  watch_rules: yes please\n",
			`customs.yaml:5:16: fleet.watch_rules: expected true or false, got the string "yes please"`},
		{"checked while off", "fleet:\n  batch: 0\n",
			`customs.yaml:2:10: fleet.batch: must be from 1 to 4096; got 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("customs.yaml", []byte(tt.yaml))
			if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
				t.Errorf("Parse(%q) =\n%v\nwant:\n%s", tt.yaml, err, tt.want)
			}
		})
	}
}

func TestFleetDefaults(t *testing.T) {
	f := Default().Fleet
	if f.Enabled() {
		t.Error("the fleet is on by default")
	}
	if f.Stream != "CUSTOMS_FLOWS" || f.Replicas != 0 || f.MaxAge.D() != 90*24*time.Hour || f.MaxBytes != 0 ||
		f.DuplicateWindow.D() != 10*time.Minute || f.RulesBucket != "customs_rules" || !f.WatchRules || f.Batch != 256 {
		t.Errorf("Default().Fleet = %+v", f)
	}
}

// Validate checks a fleet assembled in code (flags) too, naming key paths.
func TestFleetValidate(t *testing.T) {
	cfg := Default()
	cfg.Fleet.Servers = []string{"nats://10.0.0.5:4222"}
	cfg.Fleet.Creds, cfg.Fleet.NKey = "c", "n"
	cfg.Fleet.TLS.Key = "k.pem"
	cfg.Fleet.MaxBytes = -1
	cfg.Fleet.Batch = 0
	want := strings.Join([]string{
		`fleet.site: is required when fleet.servers is set: this proxy's name in the fleet`,
		`fleet.key_file: is required when fleet.servers is set: the fleet's shared AES-256 key (32 bytes in hex), the same file at every site`,
		`fleet: set only one of creds, nkey and user; got creds and nkey`,
		`fleet.tls.key: needs fleet.tls.cert too`,
		`fleet.max_bytes: must not be negative`,
		`fleet.batch: must be from 1 to 4096; got 0`,
	}, "\n")
	if err := cfg.Validate(); fmt.Sprint(err) != want {
		t.Errorf("Validate() =\n%v\nwant:\n%s", err, want)
	}
}

// The fleet's files are resolved against the config file's directory, as store.key_file is,
// and none is read while loading: they need not exist yet.
func TestFleetPathsRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	cfg, err := Parse(filepath.Join(dir, "customs.yaml"), []byte(`fleet:
  servers: [tls://nats.example]
  site: lyon
  key_file: keys/fleet.key
  user: customs
  password_file: nats.pass
  tls: {ca: /etc/ssl/nats-ca.pem, cert: client.pem, key: client-key.pem}
`))
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Fleet
	for _, p := range []struct{ key, got, want string }{
		{"key_file", f.KeyFile, filepath.Join(dir, "keys/fleet.key")},
		{"password_file", f.PasswordFile, filepath.Join(dir, "nats.pass")},
		{"tls.ca", f.TLS.CA, "/etc/ssl/nats-ca.pem"},
		{"tls.cert", f.TLS.Cert, filepath.Join(dir, "client.pem")},
		{"tls.key", f.TLS.Key, filepath.Join(dir, "client-key.pem")},
		{"creds", f.Creds, ""},
	} {
		if p.got != p.want {
			t.Errorf("fleet.%s = %q, want %q", p.key, p.got, p.want)
		}
	}
	cfg, err = Parse(filepath.Join(dir, "customs.yaml"), []byte(fleetOn+"  creds: user.creds\n  nkey: \"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Fleet.Creds != filepath.Join(dir, "user.creds") || cfg.Fleet.NKey != "" {
		t.Errorf("creds, nkey = %q, %q; want %q, \"\"", cfg.Fleet.Creds, cfg.Fleet.NKey, filepath.Join(dir, "user.creds"))
	}
}

// The example file ships its fleet block commented out, where no other test would load it:
// uncommented, it must be valid, and the values it calls defaults must be the defaults.
func TestExampleFleetBlock(t *testing.T) {
	data, err := os.ReadFile("../customs.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	block := commentedBlock(string(data), "fleet:")
	if block == "" {
		t.Fatal("no commented-out fleet: block in customs.example.yaml")
	}
	cfg, err := Parse("customs.example.yaml", []byte(block))
	if err != nil {
		t.Fatalf("the example fleet block does not load:\n%v\n%s", err, block)
	}
	got, def := cfg.Fleet, Default().Fleet
	if !got.Enabled() {
		t.Error("the example fleet block does not switch the fleet on")
	}
	if got.Stream != def.Stream || got.Replicas != def.Replicas || got.MaxAge != def.MaxAge || got.MaxBytes != def.MaxBytes ||
		got.DuplicateWindow != def.DuplicateWindow || got.RulesBucket != def.RulesBucket || got.WatchRules != def.WatchRules || got.Batch != def.Batch {
		t.Errorf("the example fleet block drifted from the defaults it documents:\n%+v\nwant:\n%+v", got, def)
	}
}

// commentedBlock returns the section of text commented out as "# key" followed by lines
// indented under it ("#   ..."), uncommented; "" when there is none.
func commentedBlock(text, key string) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		switch {
		case b.Len() == 0 && strings.HasPrefix(line, "# "+key):
		case b.Len() > 0 && strings.HasPrefix(line, "#   "):
		case b.Len() > 0:
			return b.String()
		default:
			continue
		}
		b.WriteString(strings.TrimPrefix(line, "# "))
	}
	return b.String()
}
