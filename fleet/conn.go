package fleet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options say how this customs reaches the fleet. cmd/customs fills them from the config's
// fleet: section.
type Options struct {
	Servers []string
	// Site is this proxy's name, one subject token; readers and rules commands may leave it
	// empty.
	Site string
	Key  *Key

	Creds         string // a NATS JWT credentials file
	NKey          string // an NKey seed file
	User          string
	PasswordFile  string
	CA            string // CA bundle that verifies the servers (verification is never off)
	Cert, CertKey string // client certificate and its key
	ServerName    string

	Stream          string        // default DefaultStream
	Replicas        int           // 0: 3 on a cluster of 3 or more, else 1
	MaxAge          time.Duration // the stream's retention by age
	MaxBytes        int64         // the stream's size limit; 0 none
	DuplicateWindow time.Duration // JetStream's de-duplication window
	RulesBucket     string        // default DefaultRulesBucket
	Batch           int           // flows published per round, default 256
	// Name names the connection in the servers' monitoring ("customs serve paris-office").
	Name string
	// OnDisconnect and OnReconnect, when set, hear of the connection going and coming back.
	OnDisconnect func(error)
	OnReconnect  func(server string)
}

// Defaults of the fleet: section.
const (
	DefaultStream      = "CUSTOMS_FLOWS"
	DefaultRulesBucket = "customs_rules"
	DefaultMaxAge      = 90 * 24 * time.Hour
	DefaultDupWindow   = 10 * time.Minute
	DefaultBatch       = 256
	// SubjectPrefix leads every flow's subject: customs.flows.<site>.<vendor>.<action>.
	SubjectPrefix = "customs.flows"
)

var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidSite reports whether s can name a site: one subject token.
func ValidSite(s string) bool { return tokenRE.MatchString(s) }

func (o *Options) setDefaults() {
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if o.RulesBucket == "" {
		o.RulesBucket = DefaultRulesBucket
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.DuplicateWindow <= 0 {
		o.DuplicateWindow = DefaultDupWindow
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
}

// Conn is a connection to the fleet's JetStream.
type Conn struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	opts Options
}

// Dial connects to the fleet. With wait false it fails when no server answers; with wait true
// (serve) it returns at once and keeps trying in the background: the local store is the buffer
// and nothing waits on the fleet.
func Dial(o Options, wait bool) (*Conn, error) {
	o.setDefaults()
	if len(o.Servers) == 0 {
		return nil, errors.New("fleet: no servers (fleet: servers in the config, or --from nats://HOST:PORT)")
	}
	if o.Site != "" && !ValidSite(o.Site) {
		return nil, fmt.Errorf("fleet: site %q: want 1–64 letters, digits, '-' or '_'", o.Site)
	}
	opts := []nats.Option{nats.Name(o.Name), nats.Timeout(5 * time.Second), nats.ReconnectWait(time.Second),
		nats.MaxReconnects(-1), nats.RetryOnFailedConnect(wait)}
	switch {
	case o.Creds != "" && o.NKey != "":
		return nil, errors.New("fleet: creds and nkey are exclusive")
	case o.Creds != "":
		opts = append(opts, nats.UserCredentials(o.Creds))
	case o.NKey != "":
		nk, err := nats.NkeyOptionFromSeed(o.NKey)
		if err != nil {
			return nil, fmt.Errorf("fleet: nkey %s: %w", o.NKey, err)
		}
		opts = append(opts, nk)
	}
	if o.User != "" {
		pw := ""
		if o.PasswordFile != "" {
			b, err := os.ReadFile(o.PasswordFile)
			if err != nil {
				return nil, fmt.Errorf("fleet: password file: %w", err)
			}
			pw = strings.TrimSpace(string(b))
		}
		opts = append(opts, nats.UserInfo(o.User, pw))
	}
	if o.CA != "" || o.Cert != "" || o.ServerName != "" {
		// Verification stays on: nats.go verifies against the system roots, or these.
		opts = append(opts, nats.Secure(&tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName}))
		if o.CA != "" {
			opts = append(opts, nats.RootCAs(o.CA))
		}
		if o.Cert != "" {
			opts = append(opts, nats.ClientCert(o.Cert, o.CertKey))
		}
	}
	if o.OnDisconnect != nil {
		opts = append(opts, nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { o.OnDisconnect(err) }))
	}
	if o.OnReconnect != nil {
		opts = append(opts, nats.ReconnectHandler(func(c *nats.Conn) { o.OnReconnect(c.ConnectedUrlRedacted()) }))
	}
	nc, err := nats.Connect(strings.Join(o.Servers, ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("fleet: connect %s: %w", strings.Join(o.Servers, ","), err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4*o.Batch))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("fleet: %w", err)
	}
	return &Conn{nc: nc, js: js, opts: o}, nil
}

// Close drains nothing: what is unacknowledged stays in the local store's outbox.
func (c *Conn) Close() { c.nc.Close() }

// Connected reports whether the connection is up now.
func (c *Conn) Connected() bool { return c.nc.IsConnected() }

// ErrStreamLimits: the stream exists but customs could not read or change its limits (an
// account that may only publish, say). Publishing goes on; the servers' operator keeps the
// stream.
var ErrStreamLimits = errors.New("the fleet's stream is there, but its limits could not be checked or set")

// EnsureStream creates the fleet's stream, or brings an existing one's limits (max age, max
// bytes, duplicate window, and replicas when fleet.replicas says) to the options; its subjects
// and storage stay. Replicas 0 takes 3 for a new stream on a cluster of three or more servers
// and never changes an existing stream's.
func (c *Conn) EnsureStream(ctx context.Context) error {
	replicas := c.opts.Replicas
	if replicas == 0 {
		replicas = 1
		if c.clusterSize() >= 3 {
			replicas = 3
		}
	}
	cfg := jetstream.StreamConfig{
		Name:        c.opts.Stream,
		Description: "customs: every flow of every site, sealed with the fleet key",
		Subjects:    []string{SubjectPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      c.opts.MaxAge,
		MaxBytes:    c.opts.MaxBytes,
		Replicas:    replicas,
		Duplicates:  min(c.opts.DuplicateWindow, c.opts.MaxAge),
		MaxMsgSize:  -1,
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = -1
	}
	s, err := c.js.Stream(ctx, c.opts.Stream)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		if _, err := c.js.CreateStream(ctx, cfg); err != nil {
			return fmt.Errorf("fleet: create stream %s: %w", c.opts.Stream, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("fleet: stream %s: %w: %v", c.opts.Stream, ErrStreamLimits, err)
	}
	cur := s.CachedInfo().Config
	want := cur
	want.MaxAge, want.MaxBytes, want.Duplicates = cfg.MaxAge, cfg.MaxBytes, cfg.Duplicates
	if c.opts.Replicas > 0 {
		want.Replicas = c.opts.Replicas
	}
	if want.MaxAge == cur.MaxAge && want.MaxBytes == cur.MaxBytes && want.Duplicates == cur.Duplicates && want.Replicas == cur.Replicas {
		return nil
	}
	if _, err := c.js.UpdateStream(ctx, want); err != nil {
		return fmt.Errorf("fleet: stream %s: %w: %v", c.opts.Stream, ErrStreamLimits, err)
	}
	return nil
}

// clusterSize is the number of servers the connection knows of: those configured and those
// the cluster told it of. A server in no cluster counts one.
func (c *Conn) clusterSize() int {
	if c.nc.ConnectedClusterName() == "" {
		return 1
	}
	return len(c.nc.Servers())
}

// token makes s one subject token: NATS splits subjects at '.', and '*', '>' and white space
// are wildcards or separators.
func token(s, empty string) string {
	if s == "" {
		return empty
	}
	b := []byte(s)
	for i, c := range b {
		if c <= ' ' || c == '.' || c == '*' || c == '>' || c >= 0x7f {
			b[i] = '_'
		}
	}
	return string(b)
}

// Subject is the subject a flow of site, vendor and action is published on. Empty vendor
// (a host no catalog names) and action (a flow no policy decided) become "_".
func Subject(site, vendor, action string) string {
	return SubjectPrefix + "." + token(site, "_") + "." + token(vendor, "_") + "." + token(action, "_")
}

// streamErr words a failure to find the stream: before any site published, there is none.
func (c *Conn) streamErr(err error) error {
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("fleet: no record yet: stream %s does not exist on these servers (a site creates it when it first publishes; fleet.stream names another): %w", c.opts.Stream, err)
	}
	return fmt.Errorf("fleet: stream %s: %w", c.opts.Stream, err)
}

// StreamState is what the fleet's stream holds, for customs fleet status.
type StreamState struct {
	Name            string        `json:"name"`
	Replicas        int           `json:"replicas"`
	Messages        uint64        `json:"flows"`
	Bytes           uint64        `json:"bytes"`
	First           time.Time     `json:"first"`
	Last            time.Time     `json:"last"`
	MaxAge          time.Duration `json:"max_age_ns"`
	MaxBytes        int64         `json:"max_bytes"` // -1: none
	DuplicateWindow time.Duration `json:"duplicate_window_ns"`
	// Sites counts the messages of each site (by the site token of their subjects).
	Sites map[string]uint64 `json:"sites"`
	// Cluster names the servers holding the stream: the leader first, then the replicas with
	// whether each is current.
	Cluster []string `json:"cluster,omitempty"`
}

// State reads the stream's state.
func (c *Conn) State(ctx context.Context) (StreamState, error) {
	s, err := c.js.Stream(ctx, c.opts.Stream)
	if err != nil {
		return StreamState{}, c.streamErr(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(SubjectPrefix+".>"))
	if err != nil {
		return StreamState{}, fmt.Errorf("fleet: stream %s: %w", c.opts.Stream, err)
	}
	st := StreamState{Name: info.Config.Name, Replicas: info.Config.Replicas, Messages: info.State.Msgs, Bytes: info.State.Bytes,
		First: info.State.FirstTime, Last: info.State.LastTime, MaxAge: info.Config.MaxAge, MaxBytes: info.Config.MaxBytes,
		DuplicateWindow: info.Config.Duplicates, Sites: map[string]uint64{}}
	for subj, n := range info.State.Subjects {
		if rest, ok := strings.CutPrefix(subj, SubjectPrefix+"."); ok {
			site, _, _ := strings.Cut(rest, ".")
			st.Sites[site] += n
		}
	}
	if cl := info.Cluster; cl != nil {
		st.Cluster = append(st.Cluster, cl.Leader+" (leader)")
		for _, p := range cl.Replicas {
			state := "current"
			if !p.Current {
				state = "catching up"
			}
			if p.Offline {
				state = "offline"
			}
			st.Cluster = append(st.Cluster, p.Name+" ("+state+")")
		}
	}
	return st, nil
}
