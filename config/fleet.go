package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Fleet connects this proxy to others through NATS JetStream: its flows are published to a
// shared stream, and it may follow a rule book shared through a KV bucket. It is off while
// Servers is empty. Unlike password_file, no file named here is read while the configuration
// loads, only resolved against the config file's directory: the fleet package reads them when
// it connects, and commands that never connect must not need them.
type Fleet struct {
	Servers []string `yaml:"servers"` // NATS URLs: nats://, tls://, ws:// or wss://
	// Site is this proxy's name in the fleet, one NATS subject token: it lands in the subjects
	// flows are published on, where '.', '*' and '>' would mean something else.
	Site string `yaml:"site"`
	// KeyFile is the fleet's shared AES-256 key (32 bytes, hex, as store.key): every site and
	// every reader opens flows with the same file.
	KeyFile string `yaml:"key_file"`
	// Creds, NKey and User (with PasswordFile) are the ways to authenticate to NATS; at most one
	// is set. The password is only ever in a file, so that the config file can be shared.
	Creds        string   `yaml:"creds"` // NATS JWT credentials file
	NKey         string   `yaml:"nkey"`  // NKey seed file
	User         string   `yaml:"user"`
	PasswordFile string   `yaml:"password_file"`
	TLS          FleetTLS `yaml:"tls"`
	Stream       string   `yaml:"stream"` // JetStream stream the flows go to
	// Replicas of the stream; 0 lets the fleet choose: 3 when the server is in a cluster of 3 or
	// more, else 1.
	Replicas int      `yaml:"replicas"`
	MaxAge   Duration `yaml:"max_age"`   // the stream's retention by age
	MaxBytes Size     `yaml:"max_bytes"` // the stream's size limit; 0 = none
	// DuplicateWindow is how long JetStream remembers a flow's ID to drop it when republished
	// after a lost acknowledgement.
	DuplicateWindow Duration `yaml:"duplicate_window"`
	RulesBucket     string   `yaml:"rules_bucket"` // KV bucket of the shared rule book
	WatchRules      bool     `yaml:"watch_rules"`  // follow the fleet rule book
	Batch           int      `yaml:"batch"`        // flows published per round
}

// FleetTLS configures TLS to the NATS servers. Verification of the servers is always on: a
// fleet carries every flow of every site, and there is deliberately no setting to skip it.
type FleetTLS struct {
	CA         string `yaml:"ca"`          // PEM bundle trusted instead of the system roots
	Cert       string `yaml:"cert"`        // client certificate, with Key
	Key        string `yaml:"key"`         // the client certificate's key
	ServerName string `yaml:"server_name"` // name verified instead of the URL's host
}

// Enabled reports whether this proxy joins a fleet.
func (f Fleet) Enabled() bool { return len(f.Servers) > 0 }

const (
	maxFleetReplicas = 5 // JetStream's own limit
	maxFleetBatch    = 4096
)

var (
	fleetToken = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	// JetStream names end up as directory names on the servers and inside API subjects.
	fleetName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// validate checks every value even with the fleet off, so that a section switched off by
// emptying servers is still sound when switched back on; only what a connection needs is
// required, and only when it is on.
func (f *Fleet) validate(v *validator) {
	for i, s := range f.Servers {
		if err := checkNATSURL(s); err != nil {
			v.errorf(fmt.Sprintf("fleet.servers[%d]", i), "%v", err)
		}
	}
	switch {
	case f.Site != "" && !fleetToken.MatchString(f.Site):
		v.errorf("fleet.site", "must be 1 to 64 letters, digits, '-' or '_' (one NATS subject token); got %q", f.Site)
	case f.Site == "" && f.Enabled():
		v.errorf("fleet.site", "is required when fleet.servers is set: this proxy's name in the fleet")
	}
	if f.KeyFile == "" && f.Enabled() {
		v.errorf("fleet.key_file", "is required when fleet.servers is set: the fleet's shared AES-256 key (32 bytes in hex), the same file at every site")
	}
	var auth []string
	for _, a := range []struct{ key, val string }{{"creds", f.Creds}, {"nkey", f.NKey}, {"user", f.User}} {
		if a.val != "" {
			auth = append(auth, a.key)
		}
	}
	if len(auth) > 1 {
		// Placed at the last one set: that is the line most likely added by mistake.
		v.errorAt("fleet."+auth[len(auth)-1], "fleet", "set only one of creds, nkey and user; got %s", strings.Join(auth, " and "))
	}
	v.pair("fleet.user", f.User, "fleet.password_file", f.PasswordFile)
	v.pair("fleet.tls.cert", f.TLS.Cert, "fleet.tls.key", f.TLS.Key)
	if !fleetName.MatchString(f.Stream) {
		v.errorf("fleet.stream", "must be letters, digits, '-' or '_'; got %q", f.Stream)
	}
	if f.Replicas < 0 || f.Replicas > maxFleetReplicas {
		v.errorf("fleet.replicas", "must be 0 (automatic) or from 1 to %d; got %d", maxFleetReplicas, f.Replicas)
	}
	if f.MaxAge <= 0 {
		v.errorf("fleet.max_age", "must be greater than zero; got %s", f.MaxAge)
	}
	if f.MaxBytes < 0 {
		v.errorf("fleet.max_bytes", "must not be negative")
	}
	// JetStream refuses a stream whose duplicate window is longer than its max age.
	switch w := f.DuplicateWindow; {
	case f.MaxAge > 0 && (w.D() < time.Second || w > f.MaxAge):
		v.errorf("fleet.duplicate_window", "must be from 1s to fleet.max_age (%s); got %s", f.MaxAge, w)
	case w.D() < time.Second:
		v.errorf("fleet.duplicate_window", "must be at least 1s; got %s", w)
	}
	if !fleetName.MatchString(f.RulesBucket) {
		v.errorf("fleet.rules_bucket", "must be letters, digits, '-' or '_'; got %q", f.RulesBucket)
	}
	if f.Batch < 1 || f.Batch > maxFleetBatch {
		v.errorf("fleet.batch", "must be from 1 to %d; got %d", maxFleetBatch, f.Batch)
	}
}

// pair reports whichever of two settings that only work together is set alone, at its own
// position. A missing one that was mistyped is already reported with a suggestion.
func (v *validator) pair(aKey, a, bKey, b string) {
	switch {
	case a != "" && b == "" && !v.failed[bKey]:
		v.errorf(aKey, "needs %s too", bKey)
	case a == "" && b != "" && !v.failed[aKey]:
		v.errorf(bKey, "needs %s too", aKey)
	}
}

// checkNATSURL accepts the URLs the NATS client dials. Credentials in the URL are refused:
// they would sit in a file that is otherwise safe to share, and in the logs that print it.
func checkNATSURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		if at := strings.LastIndex(s, "@"); at >= 0 {
			s = "..." + s[at:] // whatever precedes '@' may be a password
		}
		return fmt.Errorf("invalid NATS URL %q: want nats://host:port, tls://, ws:// or wss://", s)
	}
	switch u.Scheme {
	case "nats", "tls", "ws", "wss":
	default:
		return fmt.Errorf("invalid NATS URL %q: the scheme must be nats, tls, ws or wss", s)
	}
	if u.User != nil {
		return fmt.Errorf("invalid NATS URL %q: put credentials in fleet.creds, fleet.nkey or fleet.user and fleet.password_file, not in the URL", u.Redacted())
	}
	if err := checkHost(u.Hostname(), false); err != nil {
		return fmt.Errorf("invalid NATS URL %q: %v", s, err)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return fmt.Errorf("invalid NATS URL %q: port must be a number from 1 to 65535", s)
		}
	}
	return nil
}

// absPaths resolves the fleet's files against dir, the config file's directory, as
// store.key_file is: the proxy's working directory is not where its operator wrote the file.
func (f *Fleet) absPaths(dir string) {
	for _, p := range []*string{&f.KeyFile, &f.Creds, &f.NKey, &f.PasswordFile, &f.TLS.CA, &f.TLS.Cert, &f.TLS.Key} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}
