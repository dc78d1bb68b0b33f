// Package admin serves customs' operational endpoints — /healthz, /readyz and Prometheus
// /metrics — and turns finished flows into metrics. The Prometheus client stays in this package.
package admin

import (
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/customs-dev/customs/flow"
)

// Metrics is a flow.Recorder that counts flows.
type Metrics struct {
	reg            *prometheus.Registry
	requests       *prometheus.CounterVec
	upstreamErrors *prometheus.CounterVec
	bytes          *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	findings       *prometheus.CounterVec
	incomplete     *prometheus.CounterVec
	bypass         *prometheus.CounterVec
}

var _ flow.Recorder = (*Metrics)(nil)

// NewMetrics registers customs' metrics and the Go runtime and process collectors.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "customs_flows_total",
			Help: "Finished flows by vendor, category, mode (intercepted, tunnelled, plain; tls and quic from a capture) and action.",
		}, []string{"vendor", "category", "mode", "action"}),
		upstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "customs_flow_errors_total",
			Help: "Flows that failed, by vendor and kind (client, dial, tls, timeout, upstream).",
		}, []string{"vendor", "kind"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "customs_bytes_total",
			Help: "Body bytes relayed, by direction (out = client to vendor, in = vendor to client) and mode.",
		}, []string{"direction", "mode"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "customs_flow_duration_seconds",
			Help:    "Time from request to the last response byte, by mode.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"mode"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "customs_findings_total",
			Help: "Findings by detector and class.",
		}, []string{"detector", "class"}),
		incomplete: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "customs_incomplete_total",
			Help: "Flows customs could not inspect completely, by reason and by the action taken on them.",
		}, []string{"reason", "action"}),
		bypass: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "customs_bypass_flows_total",
			Help: "Flows a capture saw reach a vendor from a client the proxy did not see in the same window, by vendor and category.",
		}, []string{"vendor", "category"}),
	}
	reg.MustRegister(m.requests, m.upstreamErrors, m.bytes, m.duration, m.findings, m.incomplete, m.bypass,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Record counts one finished flow.
func (m *Metrics) Record(f *flow.Flow) {
	vendor, category := f.Vendor.ID, f.Vendor.Category
	if vendor == "" {
		vendor, category = "none", "none"
	}
	mode := string(f.Mode)
	m.requests.WithLabelValues(vendor, category, mode, string(f.Verdict.Action)).Inc()
	if f.ErrorKind != "" {
		m.upstreamErrors.WithLabelValues(vendor, f.ErrorKind).Inc()
	}
	m.bytes.WithLabelValues("out", mode).Add(float64(f.RequestBytes))
	m.bytes.WithLabelValues("in", mode).Add(float64(f.ResponseBytes))
	m.duration.WithLabelValues(mode).Observe(f.Duration().Seconds())
	for _, x := range f.Findings {
		m.findings.WithLabelValues(x.Detector, x.Class).Inc()
	}
	for _, r := range f.Incomplete {
		m.incomplete.WithLabelValues(r, string(f.Verdict.Action)).Inc()
	}
	if f.HasMark(flow.MarkBypass) {
		m.bypass.WithLabelValues(vendor, category).Inc()
	}
}

// CounterFunc registers a counter read from fn at each scrape, for counts kept elsewhere.
func (m *Metrics) CounterFunc(name, help string, fn func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, fn))
}

// GaugeFunc exposes a value read at scrape time (e.g. leaf certificates minted).
func (m *Metrics) GaugeFunc(name, help string, fn func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
}

// Handler serves /healthz (the process is up), /readyz (the proxy accepts clients) and /metrics.
func Handler(m *Metrics, ready *atomic.Bool) http.Handler { return HandlerWith(m, ready, nil) }

// HandlerWith is Handler with more routes: extra maps a pattern ("/api/") to its handler, for
// the parts of the admin API other packages serve (the flow store's queries).
func HandlerWith(m *Metrics, ready *atomic.Bool, extra map[string]http.Handler) http.Handler {
	mux := http.NewServeMux()
	for pattern, h := range extra {
		mux.Handle(pattern, h)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	return mux
}
