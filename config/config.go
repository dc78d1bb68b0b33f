// Package config loads the configuration of `customs serve`.
//
// Loading runs in stages, once, at start-up: decode the YAML into a Config,
// prepare what requests will need (password files are read here, so no file
// I/O happens per request), then validate. Every problem found is reported,
// all at once, as "file:line:col: message", so an operator fixes a broken file
// in one round trip instead of one error per restart.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the configuration of `customs serve`. Values the file does not
// set (or sets to null) keep the values of Default.
type Config struct {
	Listen string `yaml:"listen"` // host:port of the proxy
	Admin  string `yaml:"admin"`  // host:port of the admin server; "" or "off" disables it
	// Transparent is the host:port of the listener for connections a firewall redirects to
	// customs (REDIRECT or TPROXY); "" turns it off. TransparentMark, when not 0, marks customs'
	// own upstream sockets (SO_MARK, needs CAP_NET_ADMIN) for the rule to skip.
	Transparent     string            `yaml:"transparent"`
	TransparentMark int               `yaml:"transparent_mark"`
	Data            string            `yaml:"data"`            // data directory: CA, store
	Intercept       string            `yaml:"intercept"`       // catalog, all or none
	InterceptHosts  []string          `yaml:"intercept_hosts"` // hosts opened beyond the catalog; "*.example.com" allowed
	NeverIntercept  []string          `yaml:"never_intercept"` // hosts always tunnelled (pinned apps); wildcards allowed
	UpstreamCA      []string          `yaml:"upstream_ca"`     // PEM files trusted in addition to the system roots
	Resolve         map[string]string `yaml:"resolve"`         // HOST -> host:port or IP; HOST may be "*" or "*.suffix"
	AllowClients    []string          `yaml:"allow_clients"`   // CIDRs or single IPs allowed to use the proxy
	ProxyAuth       ProxyAuth         `yaml:"proxy_auth"`
	Body            Body              `yaml:"body"`
	Inspection      Inspection        `yaml:"inspection"`
	Timeouts        Timeouts          `yaml:"timeouts"`
	Log             Log               `yaml:"log"`
	LeafCacheSize   int               `yaml:"leaf_cache_size"` // leaf certificates kept in memory
	HTTP2           bool              `yaml:"http2"`           // offer HTTP/2 to clients inside intercepted TLS
	Codenames       []string          `yaml:"codenames"`       // confidential project names for the codename marker detector
	Detection       Detection         `yaml:"detection"`       // tunes the built-in detectors
	Vendors         []Vendor          `yaml:"vendors"`         // additions to the built-in vendor catalog
	// Rules are rule files and directories (detectors, policies, vendors, tests), merged in
	// order; relative to the config file. None: the embedded default policy pack.
	Rules       []string `yaml:"rules"`
	RulesReload Duration `yaml:"rules_reload"` // how often rule files are checked for changes; 0 turns polling off (SIGHUP still reloads)
	Alerts      Alerts   `yaml:"alerts"`
	Store       Store    `yaml:"store"`
	// AllowDestinations are CIDRs, IPs or host names ("*.suffix" too) clients may reach despite
	// the destination rule (loopback, link-local, unspecified, cloud metadata refused).
	AllowDestinations []string `yaml:"allow_destinations"`
	// AllowPorts are the ports a CONNECT may reach; plain-HTTP requests may reach 80 and these.
	AllowPorts []int `yaml:"allow_ports"`
	// Limits bound connections, header bytes and decoding.
	Limits Limits `yaml:"limits"`
	// Jewels configures the crown-jewel indexes (customs jewels) and the telemetry echo.
	Jewels Jewels `yaml:"jewels"`
	// Clients names clients in reports: CIDR, IP or proxy user -> team or app (clients.go).
	Clients Clients `yaml:"clients" json:",omitempty"`
	// Fleet connects this proxy to others through NATS JetStream (fleet.go); off by default.
	Fleet Fleet `yaml:"fleet"`
}

// Store configures the flow store (DIR/store): every flow is kept, encrypted, for Retention.
type Store struct {
	Enabled   bool     `yaml:"enabled"`
	Retention Duration `yaml:"retention"`  // flows older than this are dropped, by whole days
	MaxSize   Size     `yaml:"max_size"`   // size budget on disk; the oldest days go first; 0 = none
	BodyLimit Size     `yaml:"body_limit"` // bytes of each request and response body kept
	Queue     int      `yaml:"queue"`      // flows waiting to be written; beyond that they are dropped and counted
	KeyFile   string   `yaml:"key_file"`   // AES-256 key (32 bytes); default DIR/store.key, created 0600
	// MinFree is the free space the store keeps on its disk: below it, flows are dropped
	// (counted) instead of written, until space is back. badger dies of SIGBUS on a full disk.
	MinFree Size `yaml:"min_free"`
	// Required: a store that cannot be opened (damaged, or no room on its disk) stops serve at
	// start (exit 2). Without it, serve proxies without recording and says so loudly.
	Required bool `yaml:"required"`
	// Durability is async (flows are queued and written in batches: a crash loses the queue) or
	// sync (a response completes only once its flow is committed and fsynced).
	Durability string `yaml:"durability"`
}

// Alerts configure where alerts go besides the log.
type Alerts struct {
	Webhook string            `yaml:"webhook"` // http(s) URL each alert is POSTed to as JSON; "" for none
	Headers map[string]string `yaml:"headers"` // added to each webhook request (e.g. Authorization)
	Queue   int               `yaml:"queue"`   // alerts waiting for delivery before new ones are dropped (and counted)
}

// ProxyAuth is Basic proxy authentication; it is off when Users is empty.
type ProxyAuth struct {
	Realm string `yaml:"realm"`
	Users []User `yaml:"users"`
}

// Inspection says what happens to what customs could not inspect completely.
type Inspection struct {
	// Incomplete is the action for a request to a catalog vendor that customs could not
	// inspect completely (a coding it cannot undo, a decode or extraction limit, an unreadable
	// WebSocket message): block, alert or allow. Requests to other hosts raise an alert at most;
	// policies see flow.incomplete either way.
	Incomplete string `yaml:"incomplete"`
}

// Detection tunes the built-in detectors.
type Detection struct {
	// ReportTestValues reports the published test and documentation values (the payment
	// processors' test cards such as 4111 1111 1111 1111, the banks' example IBANs, the SSNs
	// of advertising and textbooks, …) that the detectors drop by default: for a red-team
	// exercise that plants them, or to check that a pipeline sees anything at all.
	ReportTestValues bool `yaml:"report_test_values"`
}

// Body bounds how much of a request body is read and decoded for inspection.
type Body struct {
	InspectLimit Size   `yaml:"inspect_limit"` // request bytes read for inspection
	DecodeLimit  Size   `yaml:"decode_limit"`  // cap on the decoded (gunzipped, ...) size
	Oversize     string `yaml:"oversize"`      // forward or block a body over the limits
}

// Timeouts bound the proxy's upstream connections, its clients' connections and its shutdown.
type Timeouts struct {
	Dial           Duration `yaml:"dial"`
	TLSHandshake   Duration `yaml:"tls_handshake"`
	ResponseHeader Duration `yaml:"response_header"` // long: LLM APIs can think for minutes before sending headers
	Idle           Duration `yaml:"idle"`            // upstream idle connections
	Drain          Duration `yaml:"drain"`           // graceful shutdown bound
	// Client side, inside intercepted connections as outside: the client's TLS handshake after
	// its CONNECT, a request's header from its first byte, and a connection between requests.
	ClientHandshake Duration `yaml:"client_handshake"`
	ClientHeader    Duration `yaml:"client_header"`
	ClientIdle      Duration `yaml:"client_idle"`
}

// Limits bound what clients may make customs hold: connections, header bytes, and the memory
// (and so the CPU) spent decoding request bodies.
type Limits struct {
	MaxConnections          int  `yaml:"max_connections"`            // client connections open at once; over it, 503
	MaxConnectionsPerClient int  `yaml:"max_connections_per_client"` // the same per client IP address
	MaxHeaderBytes          Size `yaml:"max_header_bytes"`           // a request's header; over it, 431
	// DecodeBudget bounds the decoded bytes and decoder windows held at once by every request
	// body being decoded; DecodeBudgetPerClient is one client IP's share of it. A body that
	// cannot get its share within DecodeWait is incomplete ("decode-budget").
	DecodeBudget          Size     `yaml:"decode_budget"`
	DecodeBudgetPerClient Size     `yaml:"decode_budget_per_client"`
	DecodeWait            Duration `yaml:"decode_wait"`
}

// Jewels configures what customs jewels indexed (DIR/jewels) and the telemetry echo.
type Jewels struct {
	// Reload is how often serve looks for changed index files (customs jewels add, remove).
	Reload Duration `yaml:"reload"`
	// Echo remembers, for EchoWindow and within EchoBudget bytes, the prints of what AI vendors
	// were sent and answered, and finds them again in telemetry (echo.prompt, echo.answer).
	Echo       bool     `yaml:"echo"`
	EchoWindow Duration `yaml:"echo_window"`
	EchoBudget Size     `yaml:"echo_budget"`
}

// Log sets the level and destination of the JSON log.
type Log struct {
	Level string `yaml:"level"` // debug, info, warn or error
	File  string `yaml:"file"`  // "" means stderr
}

// Default returns the configuration used when no file is given: a proxy
// reachable from this machine only, intercepting the hosts in the catalog.
func Default() Config {
	return Config{
		Listen:        "127.0.0.1:8080",
		Admin:         "127.0.0.1:8081",
		Data:          "./customs-data",
		Intercept:     "catalog",
		AllowClients:  []string{"127.0.0.0/8", "::1/128"},
		ProxyAuth:     ProxyAuth{Realm: "customs"},
		Body:          Body{InspectLimit: 8 << 20, DecodeLimit: 32 << 20, Oversize: "forward"},
		Inspection:    Inspection{Incomplete: "block"},
		LeafCacheSize: 1024,
		HTTP2:         true,
		Timeouts: Timeouts{
			Dial:           Duration(10 * time.Second),
			TLSHandshake:   Duration(10 * time.Second),
			ResponseHeader: Duration(5 * time.Minute),
			Idle:           Duration(90 * time.Second),
			Drain:          Duration(30 * time.Second),
			// What the proxy's HTTP server applied outside CONNECT before they were settings.
			ClientHandshake: Duration(10 * time.Second),
			ClientHeader:    Duration(30 * time.Second),
			ClientIdle:      Duration(2 * time.Minute),
		},
		Log:         Log{Level: "info"},
		RulesReload: Duration(2 * time.Second),
		Store:       Store{Enabled: true, Retention: Duration(30 * 24 * time.Hour), BodyLimit: 256 << 10, Queue: 8192, MinFree: 256 << 20, Durability: "async"},
		Alerts:      Alerts{Queue: 1024},
		Jewels:      Jewels{Reload: Duration(2 * time.Second), Echo: true, EchoWindow: Duration(24 * time.Hour), EchoBudget: 256 << 20},
		AllowPorts:  []int{443},
		Limits: Limits{MaxConnections: 10000, MaxConnectionsPerClient: 1000, MaxHeaderBytes: 1 << 20,
			DecodeBudget: 256 << 20, DecodeBudgetPerClient: 64 << 20, DecodeWait: Duration(2 * time.Second)},
		Fleet: Fleet{Stream: "CUSTOMS_FLOWS", MaxAge: Duration(90 * 24 * time.Hour), DuplicateWindow: Duration(10 * time.Minute),
			RulesBucket: "customs_rules", WatchRules: true, Batch: 256},
	}
}

// Load reads the configuration file at path. Problems in the file are
// returned as Errors, one per line, in file order.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load on data already read; name appears in error messages, and
// relative password_file paths are resolved against its directory.
func Parse(name string, data []byte) (Config, error) {
	root, err := parseYAML(name, data)
	if err != nil {
		return Config{}, err
	}
	cfg := Default()
	d := &decoder{file: name, pos: map[string]position{}, failed: map[string]bool{}}
	if root != nil {
		if root.Kind != yaml.MappingNode {
			d.errorf(root, "expected a mapping of settings, got %s", describe(root))
		} else {
			d.decode(root, reflect.ValueOf(&cfg).Elem(), "")
		}
	}
	v := &validator{file: name, pos: d.pos, failed: d.failed, errs: d.errs}
	cfg.validate(v)
	cfg.loadSecrets(v, filepath.Dir(name))
	for i, r := range cfg.Rules {
		if r != "" && !filepath.IsAbs(r) {
			cfg.Rules[i] = filepath.Join(filepath.Dir(name), r)
		}
	}
	if k := cfg.Store.KeyFile; k != "" && !filepath.IsAbs(k) {
		cfg.Store.KeyFile = filepath.Join(filepath.Dir(name), k)
	}
	cfg.Fleet.absPaths(filepath.Dir(name))
	if err := v.err(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate checks a Config assembled in code, for example after command-line
// flags have overridden values from the file. Problems are prefixed by the
// key path ("listen: ..."), as there is no file position to give.
func (c Config) Validate() error {
	v := &validator{}
	c.validate(v)
	return v.err()
}

var yamlLine = regexp.MustCompile(`(?s)^yaml: (?:line (\d+): )?(.*)$`)

// parseYAML returns the content of the single document in data, or nil when
// the file holds nothing (an empty file means all defaults).
func parseYAML(name string, data []byte) (root *yaml.Node, err error) {
	syntaxError := func(err error) error {
		e := &Error{File: name, Msg: err.Error()}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = m[2]
		}
		return Errors{e}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, syntaxError(err)
	}
	// A second document would otherwise be ignored silently, along with
	// whatever the operator meant to set in it.
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Errors{{File: name, Line: extra.Line, Column: extra.Column, Msg: "only one YAML document is allowed"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root = resolve(doc.Content[0])
	if isNull(root) {
		return nil, nil
	}
	return root, nil
}
