// Package proxy is customs' TLS-intercepting forward proxy, built on goproxy. It decides which
// CONNECT targets to open (scope), terminates TLS for them with leaves from the customs CA, hands
// every opened request to the inspection pipeline, enforces the verdict on the wire, forwards to
// the real vendor with certificate verification on, streams the response back, and reports each
// finished exchange to a flow.Recorder. Hosts outside the scope are tunnelled untouched and
// recorded as metadata-only flows.
//
// goproxy's types stay inside this package.
package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/elazarl/goproxy"
	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/proxy/ca"
)

// Options configure a Server. Zero values take the documented defaults.
type Options struct {
	Leaves   *ca.Leaves        // mints the certificates clients see for opened hosts (required)
	Pipeline *inspect.Pipeline // inspection of opened requests (required)
	Recorder flow.Recorder     // receives every finished flow (optional)
	Logger   zerolog.Logger    // for events that are not flows (tunnel errors, shutdown)
	Scope    Scope             // which hosts are opened
	Resolve  *Resolver         // test/lab host overrides (optional)
	RootCAs  *x509.CertPool    // upstream trust: system roots plus --upstream-ca (nil = system roots)

	// AllowClients lists the client networks served; empty means loopback only.
	AllowClients []netip.Prefix
	// Authenticate checks proxy Basic credentials; nil turns proxy authentication off.
	Authenticate func(user, password string) bool
	Realm        string // Basic realm in 407 challenges; default "customs"

	// RunOf names the customs run (its ID and command) a transparent client's address belongs
	// to, "" when none: the namespace of a customs run --isolate. Optional.
	RunOf func(client netip.Addr) (run, command string)

	// SocketMark, when not 0, marks (SO_MARK) every connection customs dials, so that the
	// firewall rule redirecting traffic to the transparent listener can exclude customs' own.
	SocketMark int

	// HTTP2 offers HTTP/2 to clients inside intercepted TLS (ALPN h2, then http/1.1). Upstream,
	// HTTP/2 is used whenever the vendor offers it, whatever this says.
	HTTP2 bool

	InspectLimit int64 // request body bytes read for inspection; default 8 MiB
	// ResponseLimit caps the response bytes kept on the flow (ResponseBody) for the record and,
	// for a recognised API, to extract the vendor's answer after it has reached the client;
	// default 1 MiB, negative turns it off.
	ResponseLimit int64
	BlockOversize bool // refuse (413) bodies larger than InspectLimit instead of forwarding them

	// PeekTimeout bounds the wait for a client's first bytes in a tunnel customs has not decided
	// on (its CONNECT host is out of scope, so its ClientHello must be read); default 10s.
	PeekTimeout time.Duration

	DialTimeout           time.Duration // default 10s
	TLSHandshakeTimeout   time.Duration // default 10s
	ResponseHeaderTimeout time.Duration // default 5m: LLM APIs may think for minutes before answering
	IdleConnTimeout       time.Duration // default 90s
	MaxIdleConnsPerHost   int           // default 256

	// The destination rule (see destination.go). AllowDestinations lists destinations reached
	// despite it: CIDRs, IP addresses, host names, "*.suffix". AllowPorts lists the ports a
	// CONNECT may reach (default 443); plain-HTTP requests may reach 80 and these. DNS resolves
	// names for the rule and for upstream dials (nil: the system resolver).
	AllowDestinations []string
	AllowPorts        []int
	DNS               *net.Resolver

	// Client-side deadlines inside intercepted connections, which goproxy reads without any:
	// from the CONNECT's 200 to the end of the client's TLS handshake (default 10s); from the
	// first byte of a request to the end of its header (default 30s; a new connection's first
	// request counts from the handshake); between requests (default 2m). Outside CONNECT the
	// HTTP server applies the same header and idle timeouts.
	ClientHandshakeTimeout time.Duration
	ClientHeaderTimeout    time.Duration
	ClientIdleTimeout      time.Duration
	// MaxHeaderBytes caps a request's header, inside intercepted connections as outside
	// (default 1 MiB, net/http's): over it the client gets 431.
	MaxHeaderBytes int
	// MaxConns and MaxConnsPerClient cap the client connections open at once, in total and per
	// client IP address (defaults 10000 and 1000); over them a client gets 503.
	MaxConns          int
	MaxConnsPerClient int
}

// Server is a running customs proxy.
type Server struct {
	opts      Options
	gp        *goproxy.ProxyHttpServer
	transport *http.Transport
	dialer    *dialer
	dest      *destinations
	http      *http.Server
	conns     *connTracker
	inflight  *inflight
	allow     []netip.Prefix

	draining atomic.Bool
}

var defaultClients = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// New builds a Server; call Serve to run it.
func New(opts Options) (*Server, error) {
	if opts.Leaves == nil || opts.Pipeline == nil {
		return nil, errors.New("proxy: Leaves and Pipeline are required")
	}
	setDefault(&opts.InspectLimit, 8<<20)
	if opts.ResponseLimit == 0 {
		opts.ResponseLimit = 1 << 20
	}
	setDefault(&opts.DialTimeout, 10*time.Second)
	setDefault(&opts.PeekTimeout, 10*time.Second)
	setDefault(&opts.TLSHandshakeTimeout, 10*time.Second)
	setDefault(&opts.ResponseHeaderTimeout, 5*time.Minute)
	setDefault(&opts.IdleConnTimeout, 90*time.Second)
	setDefault(&opts.MaxIdleConnsPerHost, 256)
	setDefault(&opts.ClientHandshakeTimeout, 10*time.Second)
	setDefault(&opts.ClientHeaderTimeout, 30*time.Second)
	setDefault(&opts.ClientIdleTimeout, 2*time.Minute)
	setDefault(&opts.MaxHeaderBytes, http.DefaultMaxHeaderBytes)
	setDefault(&opts.MaxConns, 10000)
	setDefault(&opts.MaxConnsPerClient, 1000)
	if len(opts.AllowPorts) == 0 {
		opts.AllowPorts = DefaultAllowPorts
	}
	nets, hosts, err := ParseDestinations(opts.AllowDestinations)
	if err != nil {
		return nil, err
	}
	if opts.Realm == "" {
		opts.Realm = "customs"
	}
	if opts.Recorder == nil {
		opts.Recorder = flow.Recorders(nil)
	}
	s := &Server{opts: opts, conns: newConnTracker(opts.MaxConns, opts.MaxConnsPerClient), inflight: newInflight(), allow: opts.AllowClients}
	if len(s.allow) == 0 {
		s.allow = defaultClients
	}
	s.dest = &destinations{allowNets: nets, allowHosts: hosts, ports: opts.AllowPorts, dns: opts.DNS}
	s.dialer = newDialer(opts.DialTimeout, opts.Resolve, s.dest, opts.SocketMark)
	s.transport = &http.Transport{
		// Never chain through HTTPS_PROXY from customs' own environment: that often points at
		// customs itself.
		Proxy:                 nil,
		DialContext:           s.dialer.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   opts.TLSHandshakeTimeout,
		ResponseHeaderTimeout: opts.ResponseHeaderTimeout,
		IdleConnTimeout:       opts.IdleConnTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          4 * opts.MaxIdleConnsPerHost,
		// Go keeps 2 idle connections per host by default; under load that means a new upstream
		// TLS handshake for most requests.
		MaxIdleConnsPerHost: opts.MaxIdleConnsPerHost,
		// The client chose its Accept-Encoding; the response must reach it as the vendor sent it.
		DisableCompression: true,
		// HTTP/2 to vendors that offer it (most do): many requests share one pooled connection
		// as streams, with HTTP/2's flow control (a stream is never buffered whole). HTTP/1.1
		// stays the fallback, and a request that upgrades (WebSocket) gets HTTP/1.1.
		ForceAttemptHTTP2: true,
	}

	gp := goproxy.NewProxyHttpServer()
	gp.Tr = s.transport
	gp.ConnectDial = nil // goproxy would otherwise honour HTTPS_PROXY for tunnels
	gp.KeepAcceptEncoding = true
	gp.AllowHTTP2 = opts.HTTP2
	gp.Logger = goproxyLogger{opts.Logger}
	gp.NonproxyHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "customs is a forward proxy: send absolute-URI or CONNECT requests (set HTTPS_PROXY)", http.StatusBadRequest)
	})
	gp.OnRequest().HandleConnectFunc(s.handleConnect)
	gp.OnRequest().DoFunc(s.handleRequest)
	s.gp = gp
	s.http = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: opts.ClientHeaderTimeout,
		IdleTimeout:       opts.ClientIdleTimeout,
		MaxHeaderBytes:    opts.MaxHeaderBytes,
		ErrorLog:          newStdLogger(opts.Logger),
		// serveHTTP needs the connection: its admission under the connection limits, and the
		// deadlines of what is opened on it once hijacked.
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*trackedConn); ok {
				return context.WithValue(ctx, trackedConnKey{}, tc)
			}
			return ctx
		},
	}
	return s, nil
}

// AddOwnListener tells the destination rule about another listener of this process (the admin
// API): no client may reach it through the proxy. Serve adds the proxy's own listener.
func (s *Server) AddOwnListener(addr net.Addr) { s.dest.addOwn(addr.String()) }

func setDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Serve accepts proxy clients on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.AddOwnListener(ln.Addr())
	err := s.http.Serve(s.conns.listener(ln))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, lets requests in flight finish until ctx ends, then closes every
// remaining connection (tunnels and idle intercepted connections included).
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	// http.Server.Shutdown does not see hijacked connections (tunnels and intercepted TLS), so
	// their in-flight requests are counted separately.
	errHTTP := s.http.Shutdown(ctx)
	errWait := s.inflight.wait(ctx)
	s.conns.closeAll()
	s.transport.CloseIdleConnections()
	if errHTTP != nil {
		return errHTTP
	}
	return errWait
}

// ClientConns is the number of client connections open now, tunnels and intercepted sessions
// included.
func (s *Server) ClientConns() int { return s.conns.len() }

func (s *Server) isDraining() bool { return s.draining.Load() }

// serveHTTP admits a client (allow-list, then proxy authentication) before goproxy sees it.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	info := &connInfo{addr: r.RemoteAddr}
	if !s.clientAllowed(r.RemoteAddr) {
		s.refuse(w, r, info, http.StatusForbidden, "allow_clients",
			fmt.Sprintf("customs: client %s is not allowed to use this proxy (allow_clients)", hostOnly(r.RemoteAddr)))
		return
	}
	if tc, _ := r.Context().Value(trackedConnKey{}).(*trackedConn); tc != nil && tc.refused != "" {
		// Over a connection limit: answered, recorded, and closed.
		w.Header().Set("Retry-After", "1")
		limit := s.opts.MaxConns
		if tc.refused == "max_connections_per_client" {
			limit = s.opts.MaxConnsPerClient
		}
		s.refuse(w, r, info, http.StatusServiceUnavailable, tc.refused,
			fmt.Sprintf("customs: too many connections (%s: %d); try again later", tc.refused, limit))
		return
	}
	user, pass, hasCreds := basicCredentials(r)
	user, info.run, info.command = SplitRunTag(user)
	if s.opts.Authenticate != nil {
		ok := hasCreds && s.opts.Authenticate(user, pass)
		if !ok {
			w.Header().Set("Proxy-Authenticate", fmt.Sprintf("Basic realm=%q", s.opts.Realm))
			s.refuse(w, r, info, http.StatusProxyAuthRequired, "proxy_auth",
				"customs: proxy authentication required")
			return
		}
		info.user = user
	}
	s.gp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), connInfoKey{}, info)))
}

func (s *Server) clientAllowed(remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, p := range s.allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// basicCredentials reads the request's Basic Proxy-Authorization.
func basicCredentials(r *http.Request) (user, pass string, ok bool) {
	h := r.Header.Get("Proxy-Authorization")
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(raw), ":")
}

// RunTagPrefix starts the proxy user name customs run gives a process: "customs-run.ID.COMMAND",
// after the real user and a '+' when the proxy authenticates ("alice+customs-run.ID.COMMAND").
const RunTagPrefix = "customs-run."

// SplitRunTag separates a customs run tag from a proxy user name: the user to authenticate
// (without the tag), the run ID and the command name ("" when there is no tag).
func SplitRunTag(user string) (string, string, string) {
	base, tag := "", user
	if i := strings.LastIndexByte(user, '+'); i >= 0 {
		base, tag = user[:i], user[i+1:]
	}
	rest, ok := strings.CutPrefix(tag, RunTagPrefix)
	if !ok {
		return user, "", ""
	}
	id, command, _ := strings.Cut(rest, ".")
	if !validTag(id, 32) || !validTag(command, 64) {
		return user, "", ""
	}
	return base, id, command
}

// validTag: 1 to max letters, digits, '-' and '_'.
func validTag(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// refuse answers a client customs will not serve and records the refusal as a blocked flow, so a
// security team sees who tried.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, info *connInfo, status int, policy, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Connection", "close")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, msg)
	f := s.newFlow(r, info, flow.Plain)
	if r.Method == http.MethodConnect {
		f.Mode = flow.Tunnelled
	}
	f.Status = status
	f.Verdict = flow.Verdict{Action: flow.Block, Policy: policy, Message: msg}
	f.End = time.Now()
	_ = s.record(f)
}

// newFlow starts a flow for request r from client info.
func (s *Server) newFlow(r *http.Request, info *connInfo, mode flow.Mode) *flow.Flow {
	now := time.Now()
	f := &flow.Flow{
		ID:     flow.NewID(now),
		Start:  now,
		Source: flow.SourceProxy,
		Mode:   mode,
		Client: flow.Client{Addr: info.addr, User: info.user, Run: info.run, Command: info.command},
		Method: r.Method,
	}
	if r.URL != nil {
		f.Host = normalizeHost(r.URL.Hostname())
		if r.Method != http.MethodConnect {
			f.URL = r.URL.String()
		}
	}
	if f.Host == "" {
		f.Host = normalizeHost(hostOnly(r.Host))
	}
	if info.target != "" {
		info.applyTo(f)
		if r.Method == http.MethodConnect {
			f.Host = info.name // a tunnel goes by the name its TLS authenticates
		}
	}
	return f
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// goproxyLogger routes goproxy's own warnings (failed client handshakes, broken pipes) to debug
// level: customs reports what matters about each exchange on its flow line.
type goproxyLogger struct{ log zerolog.Logger }

func (l goproxyLogger) Printf(format string, v ...any) {
	l.log.Debug().Str("component", "goproxy").Msgf(strings.TrimSuffix(format, "\n"), v...)
}
