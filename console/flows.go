package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/customs-dev/customs/store"
)

// Flows is how the console reads the flow store: serve implements it with the admin API's
// records and masking, so that the console shows exactly what `customs flows` and the flow API
// show.
type Flows interface {
	// Filter reads a store filter from query parameters named as `customs flows`' flags (since,
	// until, vendor, category, client, user, detector, action, api, host, limit, oldest=1);
	// a name customs does not know is an error naming the closest.
	Filter(q url.Values) (store.Filter, error)
	// List calls fn with each flow f selects (newest first unless f.Oldest), as the flow API
	// writes it without headers or bodies, and reports whether more flows match past f.Limit.
	List(ctx context.Context, f store.Filter, fn func(flow any) error) (more bool, err error)
	// Get returns one flow as the flow API writes it with headers, bodies and the texts customs
	// read, every detected value masked. With reveal set the values are in clear: Get first
	// appends the reveal to DIR/audit.log and, when it cannot, returns an error and nothing
	// else. An unknown ID is an error that wraps store.ErrNotFound.
	Get(ctx context.Context, id string, reveal *Reveal) (any, error)
}

// Reveal is what the audit line of a reveal says.
type Reveal struct {
	Remote  string // the client's address
	Purpose string // why, as the person typed it (at most 300 bytes)
}

// Console list bounds: the list answers in well under 100 ms at a million flows stored
// because it is a prefix walk that stops at the limit.
const (
	defaultLimit = 50
	maxLimit     = 1000
)

// listFlows answers GET /ui/api/flows: {"flows": [...], "more": bool}. The page polls it for
// new flows with If-None-Match: an unchanged list costs a 304.
func (c *Console) listFlows(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("limit") == "" {
		q.Set("limit", strconv.Itoa(defaultLimit))
	}
	f, err := c.o.Flows.Filter(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if f.Limit < 1 || f.Limit > maxLimit {
		writeError(w, http.StatusBadRequest, "limit: the console lists 1 to 1000 flows at a time (customs flows --limit 0 lists them all)")
		return
	}
	flows := make([]any, 0, f.Limit)
	more, err := c.o.Flows.List(r.Context(), f, func(v any) error {
		flows = append(flows, v)
		return nil
	})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	b, err := json.Marshal(struct {
		Flows []any `json:"flows"`
		More  bool  `json:"more"`
	}{flows, more})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	sum := sha256.Sum256(b)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

// getFlow answers GET /ui/api/flows/{id}: the flow with its headers and bodies, masked.
func (c *Console) getFlow(w http.ResponseWriter, r *http.Request) {
	v, err := c.o.Flows.Get(r.Context(), r.PathValue("id"), nil)
	c.writeFlow(w, v, err)
}

// revealFlow answers POST /ui/api/flows/{id}/reveal (form field purpose): the flow in clear,
// once the reveal is in DIR/audit.log.
func (c *Console) revealFlow(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "the reveal form is too large or malformed")
		return
	}
	purpose := strings.TrimSpace(r.PostForm.Get("purpose"))
	if len(purpose) > 300 {
		purpose = purpose[:300]
	}
	v, err := c.o.Flows.Get(r.Context(), r.PathValue("id"), &Reveal{Remote: r.RemoteAddr, Purpose: purpose})
	c.writeFlow(w, v, err)
}

func (c *Console) writeFlow(w http.ResponseWriter, v any, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		var buf bytes.Buffer
		if err := json.NewEncoder(&buf).Encode(v); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(buf.Bytes())
	}
}
