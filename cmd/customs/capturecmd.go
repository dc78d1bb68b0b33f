package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/customs-dev/customs/admin"
	"github.com/customs-dev/customs/capture"
	"github.com/customs-dev/customs/flow"
	"github.com/customs-dev/customs/inspect"
	"github.com/customs-dev/customs/store"
)

var captureHelp = help{
	usage: `customs capture FILE... [--json] [--store] [--known] [--rules PATH]... [--config FILE] [--data DIR]
customs capture --interface IF [--filter EXPR] [--metrics ADDR] [--json] [--store] [--known] ...`,
	about: `Read packet captures (pcap or pcapng, gzip-compressed too) or a live interface and report
every connection as a flow: TLS (server name, ALPN, JA4 fingerprint, negotiated version, bytes
each way), QUIC (the ClientHello inside its Initial packets), and plaintext HTTP, which is inspected
like the proxy's traffic — the verdict says what the policies would have done. DNS answers in the
capture name servers whose ClientHello does not. A flow to a vendor from a client that customs'
proxy did not see in the same window (--bypass-window) is marked bypass: traffic that went around
the checkpoint. --store keeps the flows in the store (flows, replay and report then show them).
A live capture (--interface) runs until interrupted and needs root or CAP_NET_RAW; --filter takes
a tcpdump expression (compiled by tcpdump).`,
	examples: `customs capture laptop-hotel.pcapng
customs capture /var/captures/*.pcap.gz --known --store
customs capture --interface eth0 --filter "tcp port 443 or udp port 443 or port 53 or port 80"`,
}

func cmdCapture(args []string, stdout, stderr io.Writer) error {
	c := newCommand("capture", captureHelp, stdout)
	fs := c.fs
	configPath := fs.String("config", "", "config file (data directory, store key, rules, vendors)")
	data := fs.String("data", "", "data directory (default ./customs-data)")
	var rulePaths stringList
	fs.Var(&rulePaths, "rules", "rule file or directory (repeatable; default: the config's rules, else the embedded pack)")
	asJSON := fs.Bool("json", false, "print the flows as JSON lines, then the summary as one JSON object")
	keep := fs.Bool("store", false, "keep the flows in the store")
	known := fs.Bool("known", false, "report only flows to catalog vendors (and DNS-over-HTTPS resolvers)")
	iface := fs.String("interface", "", "capture live on interface `IF` until interrupted")
	filter := fs.String("filter", "", "with --interface: only packets the tcpdump filter `EXPR` passes")
	window := fs.Duration("bypass-window", 15*time.Minute, "a vendor flow whose client the proxy saw within this time around it is not a bypass")
	noBypass := fs.Bool("no-bypass", false, "do not compare with the proxy's flows")
	metricsAddr := fs.String("metrics", "", "serve Prometheus /metrics (flows by vendor and mode, bypass flows) on `ADDR` while reading, e.g. 127.0.0.1:9464")
	files, err := c.parse(args)
	if err != nil {
		return err
	}
	switch {
	case *iface == "" && len(files) == 0:
		return usageError{fmt.Errorf("name capture files or --interface; %s", c.hint())}
	case *iface != "" && len(files) > 0:
		return usageError{errors.New("--interface reads live: name no files with it")}
	case *filter != "" && *iface == "":
		return usageError{errors.New("--filter applies to --interface; to filter a file, capture it filtered")}
	}
	cfg, err := (&flowFlags{configPath: *configPath, data: *data}).config()
	if err != nil {
		return usageError{err}
	}
	pol, hasher, err := loadPolicyAndKey(cfg, rulePaths, stderr)
	if err != nil {
		return err
	}
	p := inspect.New(inspect.Options{Catalog: pol.catalog, Detectors: pol.engine, Hasher: hasher, Rules: pol.set,
		DecodeLimit: int64(cfg.Body.DecodeLimit), Incomplete: flow.Action(cfg.Inspection.Incomplete)})

	var sink *store.Store
	var seen flowSource
	if *keep {
		if sink, err = openStore(cfg, zerolog.New(stderr).Level(zerolog.WarnLevel), true); err != nil {
			if errors.Is(err, store.ErrLocked) {
				return fmt.Errorf("%w: customs serve holds the store; stop it to keep a capture's flows, or run without --store", err)
			}
			return err
		}
		defer sink.Close(context.Background())
		seen = &storeSource{masking: masking{cfg: cfg, stderr: stderr}, st: sink}
	} else if !*noBypass {
		if src, closeSrc, err := openFlowSource(cfg, io.Discard); err == nil {
			defer closeSrc()
			seen = src
		}
	}
	bypassNote := ""
	opts := capture.Options{Pipeline: p, Known: *known, Live: func(iface string) {
		fmt.Fprintf(stderr, "capturing on %s; interrupt (Ctrl-C) to stop\n", iface)
	}}
	if seen != nil && !*noBypass {
		opts.Bypass = proxySeen(seen, *window)
	} else if !*noBypass {
		bypassNote = "no store of the proxy's flows in " + cfg.Data + ": bypass not judged"
	}

	out := newCaptureOutput(stdout, *asJSON)
	out.live = *iface != ""
	var metrics *admin.Metrics
	if *metricsAddr != "" {
		metrics = admin.NewMetrics()
		ln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return usageError{fmt.Errorf("--metrics: %w", err)}
		}
		var ready atomic.Bool
		ready.Store(true)
		srv := &http.Server{Handler: admin.Handler(metrics, &ready), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		fmt.Fprintf(stderr, "metrics on http://%s/metrics\n", ln.Addr())
	}
	r := capture.NewReader(opts, func(f *flow.Flow) {
		if sink != nil {
			sink.Record(f)
		}
		if metrics != nil {
			metrics.Record(f)
		}
		out.flow(f)
	})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var readErrs []string
	if *iface != "" {
		if err := r.ReadInterface(ctx, *iface, *filter); err != nil {
			return err
		}
	} else {
		for _, path := range files {
			if err := r.ReadFile(ctx, path); err != nil {
				if errors.Is(err, context.Canceled) {
					break
				}
				// One unreadable file does not lose the others: say which, go on.
				readErrs = append(readErrs, err.Error())
				fmt.Fprintf(stderr, "customs capture: %v\n", err)
			}
		}
	}
	out.done(r.Stats(), bypassNote, readErrs)
	if len(readErrs) == len(files) && len(files) > 0 {
		return fmt.Errorf("no capture could be read")
	}
	return nil
}

// proxySeen asks the proxy's record whether a client was seen through the proxy within window
// of a flow. Answers are remembered per client and window-sized slots of the flow's start and
// end (a capture has many flows per client), so the span asked about is the slots' widened by
// the window: up to two windows more than the flow's own.
func proxySeen(src flowSource, window time.Duration) func(ctx context.Context, client netip.Addr, from, to time.Time) (bool, error) {
	type slot struct {
		ip       netip.Addr
		from, to time.Time
	}
	memo := map[slot]bool{}
	errFound := errors.New("found")
	return func(ctx context.Context, client netip.Addr, from, to time.Time) (bool, error) {
		k := slot{client, from.Truncate(window), to.Truncate(window)}
		if v, ok := memo[k]; ok {
			return v, nil
		}
		f := store.Filter{Client: client.String(), Since: k.from.Add(-window), Until: k.to.Add(2 * window)}
		_, err := src.Each(ctx, f, readOptions{bodies: noBodies}, func(v *view) error {
			if v.Source == flow.SourceProxy {
				return errFound
			}
			return nil
		})
		found := errors.Is(err, errFound)
		if err != nil && !found {
			return false, fmt.Errorf("the proxy's record could not be read: %w", err)
		}
		if len(memo) > 1<<16 {
			clear(memo)
		}
		memo[k] = found
		return found, nil
	}
}

// captureOutput prints flows as they complete (a table, or JSON lines) and the summary.
type captureOutput struct {
	w      io.Writer
	asJSON bool
	enc    *json.Encoder
	tw     *tabwriter.Writer
	rows   int
	live   bool
	bypass int
	action map[flow.Action]int
}

func newCaptureOutput(w io.Writer, asJSON bool) *captureOutput {
	return &captureOutput{w: w, asJSON: asJSON, enc: json.NewEncoder(w), tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0),
		action: map[flow.Action]int{}}
}

func (o *captureOutput) flow(f *flow.Flow) {
	if f.HasMark(flow.MarkBypass) {
		o.bypass++
	}
	o.action[actionOf(f.Verdict)]++
	if o.asJSON {
		r := store.RecordOf(f)
		_ = o.enc.Encode(toWire(&view{Record: r}))
		return
	}
	if o.rows == 0 {
		fmt.Fprintln(o.tw, "TIME\tMODE\tCLIENT\tSERVER\tHOST\tVENDOR\tALPN\tJA4\tBYTES OUT/IN\tACTION\tFINDINGS\tMARKS")
	}
	o.rows++
	marks := make([]string, len(f.Marks))
	for i, m := range f.Marks {
		marks[i] = string(m)
	}
	fmt.Fprintf(o.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", f.Start.Local().Format("2006-01-02 15:04:05"), f.Mode,
		f.Client.Addr, f.Server, f.Host, orDash(f.Vendor.ID, ""), orDash(f.ALPN, ""), orDash(f.JA4, ""), f.RequestBytes, f.ResponseBytes,
		verdictText(f.Verdict), summarize(f.Findings), orDash(strings.Join(marks, ","), ""))
	if o.live {
		// A live capture shows flows as they complete (columns align per row then).
		_ = o.tw.Flush()
	}
}

func (o *captureOutput) done(st capture.Stats, note string, readErrs []string) {
	if o.asJSON {
		_ = o.enc.Encode(map[string]any{"summary": map[string]any{
			"packets": st.Packets, "bytes": st.Bytes, "tcp_connections": st.TCPConns, "quic_connections": st.UDPConns,
			"tls": st.TLS, "http_requests": st.HTTP, "quic": st.QUIC, "dns_answers": st.DNSAnswers, "flows": st.Flows,
			"vendors": st.Vendors, "bypass": o.bypass, "unreadable": st.Unreadable, "errors": readErrs, "note": note,
			"first": st.First, "last": st.Last}})
		return
	}
	_ = o.tw.Flush()
	if o.rows > 0 {
		fmt.Fprintln(o.w)
	}
	span := ""
	if !st.First.IsZero() {
		span = fmt.Sprintf(" over %s", st.Last.Sub(st.First).Round(time.Millisecond))
	}
	fmt.Fprintf(o.w, "%s (%.1f MB)%s: %s (%d TLS), %s (%d read), %s, %s\n",
		plural(int(st.Packets), "packet", "packets"), float64(st.Bytes)/1e6, span,
		plural(st.TCPConns, "TCP connection", "TCP connections"), st.TLS,
		plural(st.UDPConns, "QUIC connection", "QUIC connections"), st.QUIC,
		plural(st.HTTP, "plaintext HTTP request", "plaintext HTTP requests"), plural(st.DNSAnswers, "DNS answer", "DNS answers"))
	fmt.Fprintf(o.w, "%s: %d blocked, %d redacted, %d alerted, %d allowed (what the policies would have done); %d bypassed the proxy\n",
		plural(st.Flows, "flow", "flows"), o.action[flow.Block], o.action[flow.Redact], o.action[flow.Alert], o.action[flow.Allow], o.bypass)
	if len(st.Vendors) > 0 {
		var vs []string
		for _, v := range slices.Sorted(maps.Keys(st.Vendors)) {
			vs = append(vs, fmt.Sprintf("%s %d", v, st.Vendors[v]))
		}
		fmt.Fprintf(o.w, "vendors: %s\n", strings.Join(vs, ", "))
	}
	if rs := st.Reasons(); len(rs) > 0 {
		var parts []string
		for _, r := range rs {
			parts = append(parts, fmt.Sprintf("%s %d", r, st.Unreadable[r]))
		}
		fmt.Fprintf(o.w, "could not read: %s\n", strings.Join(parts, ", "))
	}
	if note != "" {
		fmt.Fprintf(o.w, "note: %s\n", note)
	}
}
