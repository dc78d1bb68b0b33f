package console

import (
	"bytes"
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/customs-dev/customs/catalog"
	"github.com/customs-dev/customs/report"
	"github.com/customs-dev/customs/store"
)

// mapLookback is how far before the map's window flows are read to tell what is new in it.
const mapLookback = 30 * 24 * time.Hour

// window reads since and until (defaults: since def, until now) through the flow filter, so
// that ages, dates and times read as in `customs flows`.
func (c *Console) window(q url.Values, def string) (store.Filter, error) {
	wq := url.Values{"since": {cmp.Or(q.Get("since"), def)}, "limit": {"1"}}
	if u := q.Get("until"); u != "" {
		wq.Set("until", u)
	}
	f, err := c.o.Flows.Filter(wq)
	if err != nil {
		return f, err
	}
	f.Limit = 0
	if f.Until.IsZero() {
		f.Until = c.o.Now()
	}
	if !f.Until.After(f.Since) {
		return f, errors.New("the window's since must come before its until")
	}
	return f, nil
}

func (c *Console) catalog() *catalog.Catalog {
	if c.o.Catalog != nil {
		if cat := c.o.Catalog(); cat != nil {
			return cat
		}
	}
	cat, _ := catalog.Builtin()
	return cat
}

// supplyMap answers GET /ui/api/map?since=&until=: the supply-chain map of the window, drawn by
// report.RenderSVG (the graph collapsed as `customs report` collapses it), with its totals.
// Nodes link to the flow list filtered on them (clients, vendors) or to the exposure to them
// (subprocessors), over the same window.
func (c *Console) supplyMap(w http.ResponseWriter, r *http.Request) {
	f, err := c.window(r.URL.Query(), "7d")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	agg, err := report.Run(r.Context(), c.o.Store, report.Query{Filter: f, Lookback: mapLookback})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	cat := c.catalog()
	full, err := report.Build(agg, report.Options{Catalog: cat, Namer: c.o.Namer, Now: c.o.Now()})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	g := full.Collapse(report.CollapseOptions{})
	window := url.Values{"since": {f.Since.UTC().Format(time.RFC3339)}, "until": {f.Until.UTC().Format(time.RFC3339)}}
	clients := map[string]*report.Client{}
	for _, cl := range g.Clients {
		clients[cl.ID] = cl
	}
	subs := map[string]*report.Subprocessor{}
	for _, s := range g.Subprocessors {
		subs[s.ID] = s
	}
	href := func(column, id string) string {
		q := url.Values{"since": window["since"], "until": window["until"]}
		switch column {
		case "client":
			cl := clients[id]
			if cl == nil || cl.Merged > 0 || cl.IP == "" {
				return ""
			}
			q.Set("client", cl.IP)
			if cl.User != "" {
				q.Set("user", cl.User)
			}
			return "#/flows?" + q.Encode()
		case "vendor":
			if _, ok := cat.Vendor(id); !ok {
				return "" // hosts outside the catalog, other vendors
			}
			q.Set("vendor", id)
			return "#/flows?" + q.Encode()
		case "subprocessor":
			s := subs[id]
			if s == nil || s.Merged > 0 {
				return ""
			}
			name := s.ID
			if !s.InCatalog && !s.External {
				name = s.Name // a published list's entry: exposure resolves it by name
			}
			q.Set("vendor", name)
			return "#/exposure?" + q.Encode()
		}
		return ""
	}
	var svg bytes.Buffer
	if err := report.RenderSVG(&svg, g, report.SVGOptions{Width: 1200, IDPrefix: "map-", Href: href}); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, struct {
		SVG       string              `json:"svg"`
		Window    report.Window       `json:"window"`
		Totals    report.Totals       `json:"totals"`
		Collapsed *report.Collapsed   `json:"collapsed,omitempty"`
		New       []*report.NewEdge   `json:"new_edges,omitempty"`
		Vendors   []*report.NewVendor `json:"new_vendors,omitempty"`
	}{svg.String(), g.Window, g.Totals, g.Collapsed, full.Changes.NewEdges, full.Changes.NewVendors})
}

// exposure answers GET /ui/api/exposure?vendor=&since=&until=&depth=&verified=1: every flow
// whose data may have reached the vendor (report.RunExposure), as `customs exposure --json`.
func (c *Console) exposure(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := q.Get("vendor")
	if name == "" {
		writeError(w, http.StatusBadRequest, "vendor: name a catalog vendor, a host or a subprocessor")
		return
	}
	f, err := c.window(q, "30d")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	depth := 4
	if d := q.Get("depth"); d != "" {
		if depth, err = strconv.Atoi(d); err != nil || depth < 1 || depth > 8 {
			writeError(w, http.StatusBadRequest, "depth: want 1 to 8 supply-chain links")
			return
		}
	}
	cat := c.catalog()
	target, err := report.ResolveTarget(cat, name)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	x, err := report.RunExposure(r.Context(), report.StoreDigests{Store: c.o.Store}, target, f, report.ExposureOptions{
		Catalog: cat, Namer: c.o.Namer, Now: c.o.Now(), MaxDepth: depth, VerifiedOnly: q.Get("verified") == "1"})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, x)
}
