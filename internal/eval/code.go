package eval

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/customs-dev/customs/detectors"
)

// Limits of the code scan: binary files and very large ones (generated tables, test data
// blobs) are not what people paste into a prompt.
const (
	maxCodeFile = 4 << 20
	binarySniff = 8 << 10
)

// CodeResult is the false-positive scan of real source code: everything the detectors raise
// there is counted as a false alarm, but for secret findings listed in the review file
// (published test key material, checked by a person).
type CodeResult struct {
	Roots         []string `json:"roots"`
	Files         int      `json:"files"`
	MB            float64  `json:"mb"`         // MB (10^6 bytes) scanned
	OutsideMB     float64  `json:"outside_mb"` // of which outside testdata directories
	EngineSeconds float64  `json:"engine_seconds"`
	MiBps         float64  `json:"mib_per_s"` // engine throughput, one goroutine

	Secret           int     `json:"secret"` // all secret-class findings
	SecretUnreviewed int     `json:"secret_unreviewed"`
	SecretPer10MB    float64 `json:"secret_per_10mb"`
	UnreviewedPer10  float64 `json:"secret_unreviewed_per_10mb"`
	PIIOutside       int     `json:"pii_outside_testdata"`
	PIIInside        int     `json:"pii_inside_testdata"`
	PIIOutsidePer10  float64 `json:"pii_outside_testdata_per_10mb"`
	PIIInsidePer10   float64 `json:"pii_inside_testdata_per_10mb"`

	ByDetector map[string]int `json:"by_detector"` // secret and PII findings outside testdata
	Examples   []CodeExample  `json:"-"`
}

// CodeExample is one finding in code, with a masked preview of its line.
type CodeExample struct {
	Path, Detector, Class, Preview string
	Line                           int
	Testdata, Reviewed             bool
}

// Review is the set of findings in code a person checked and judged real published key
// material: path (relative to the scanned root's parent, src/crypto/...) and detector ID.
type Review map[[2]string]string

// ReadReview reads the review file: tab-separated path, detector ID, reason; # comments.
func ReadReview(path string) (Review, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := Review{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := strings.SplitN(line, "\t", 3)
		if len(p) != 3 || p[2] == "" {
			return nil, fmt.Errorf("%s:%d: want path, detector and reason, tab-separated", path, n)
		}
		r[[2]string{p[0], p[1]}] = p[2]
	}
	return r, sc.Err()
}

// ScanCode scans every regular file under roots with the engine. A root's findings are named
// by their path relative to the root's parent (src/net/http/...), as the review file names them.
func ScanCode(eng *detectors.Engine, roots []string, review Review) (*CodeResult, error) {
	res := &CodeResult{Roots: roots, ByDetector: map[string]int{}}
	var total, outside int64
	var engine time.Duration
	for _, root := range roots {
		base := filepath.Dir(filepath.Clean(root))
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // unreadable directories are skipped, not fatal
			}
			if !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil || info.Size() > maxCodeFile || info.Size() == 0 {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil || bytes.IndexByte(b[:min(len(b), binarySniff)], 0) >= 0 {
				return nil
			}
			rel, _ := filepath.Rel(base, p)
			rel = filepath.ToSlash(rel)
			inTestdata := strings.Contains("/"+rel, "/testdata/")
			res.Files++
			total += int64(len(b))
			if !inTestdata {
				outside += int64(len(b))
			}
			text := string(b)
			type hit struct {
				meta       detectors.Meta
				start, end int
			}
			var hits []hit
			t0 := time.Now()
			eng.Scan(text, func(d detectors.Detector, m detectors.Match) {
				hits = append(hits, hit{d.Meta(), m.Start, m.End})
			})
			engine += time.Since(t0)
			for _, h := range hits {
				class := h.meta.Class
				if class != detectors.Secret && class != detectors.PII {
					continue
				}
				_, reviewed := review[[2]string{rel, h.meta.ID}]
				switch {
				case class == detectors.Secret:
					res.Secret++
					if !reviewed {
						res.SecretUnreviewed++
					}
				case inTestdata:
					res.PIIInside++
				default:
					res.PIIOutside++
				}
				if !inTestdata && !reviewed {
					res.ByDetector[h.meta.ID]++
				}
				res.Examples = append(res.Examples, CodeExample{
					Path: rel, Detector: h.meta.ID, Class: string(class), Line: 1 + strings.Count(text[:h.start], "\n"),
					Preview: Mask(maskedLine(text, h.start, h.end), 160), Testdata: inTestdata, Reviewed: reviewed,
				})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	res.MB = float64(total) / 1e6
	res.OutsideMB = float64(outside) / 1e6
	res.EngineSeconds = engine.Seconds()
	if engine > 0 {
		res.MiBps = float64(total) / (1 << 20) / engine.Seconds()
	}
	per10 := func(n int, mb float64) float64 {
		if mb == 0 {
			return 0
		}
		return float64(n) / mb * 10
	}
	res.SecretPer10MB = per10(res.Secret, res.MB)
	res.UnreviewedPer10 = per10(res.SecretUnreviewed, res.MB)
	res.PIIOutsidePer10 = per10(res.PIIOutside, res.OutsideMB)
	res.PIIInsidePer10 = per10(res.PIIInside, res.MB-res.OutsideMB)
	return res, nil
}

// maskedLine is the line of text around the finding [i, j), the finding replaced by its masked
// preview as customs logs it (a short e-mail address or password has no token long enough for
// Mask to hide).
func maskedLine(text string, i, j int) string {
	s := strings.LastIndexByte(text[:i], '\n') + 1
	e := strings.IndexByte(text[j:], '\n')
	if e < 0 {
		e = len(text) - j
	}
	return strings.TrimSpace(text[s:i] + detectors.Mask(text[i:j]) + text[j:j+e])
}

// Print writes the code scan's numbers.
func (c *CodeResult) Print(w io.Writer) {
	fmt.Fprintf(w, "False positives on real code (%s): %d files, %.1f MB (%.1f MB outside testdata)\n",
		strings.Join(c.Roots, ", "), c.Files, c.MB, c.OutsideMB)
	fmt.Fprintf(w, "  secret findings, all:           %5d  (%.2f per 10 MB)\n", c.Secret, c.SecretPer10MB)
	fmt.Fprintf(w, "  secret findings, unreviewed:    %5d  (%.2f per 10 MB)\n", c.SecretUnreviewed, c.UnreviewedPer10)
	fmt.Fprintf(w, "  PII findings outside testdata:  %5d  (%.2f per 10 MB)\n", c.PIIOutside, c.PIIOutsidePer10)
	fmt.Fprintf(w, "  PII findings inside testdata:   %5d  (%.2f per 10 MB)\n", c.PIIInside, c.PIIInsidePer10)
	fmt.Fprintf(w, "  throughput of all detectors:    %.0f MiB/s (engine time %.2fs, one goroutine)\n", c.MiBps, c.EngineSeconds)
}

// PrintDetail lists the detectors raising the most findings outside testdata (reviewed ones
// left out) and up to 20 examples, masked.
func (c *CodeResult) PrintDetail(w io.Writer) {
	type kv struct {
		id string
		n  int
	}
	var top []kv
	for id, n := range c.ByDetector {
		top = append(top, kv{id, n})
	}
	sort.Slice(top, func(i, j int) bool { return top[i].n > top[j].n || top[i].n == top[j].n && top[i].id < top[j].id })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  detector\tfindings outside testdata (unreviewed)")
	for _, t := range top {
		fmt.Fprintf(tw, "  %s\t%d\n", t.id, t.n)
	}
	tw.Flush()
	// Secrets first: they are the rarer and the costlier alarms.
	ex := append([]CodeExample(nil), c.Examples...)
	sort.SliceStable(ex, func(i, j int) bool {
		return ex[i].Class == string(detectors.Secret) && ex[j].Class != string(detectors.Secret)
	})
	n := 0
	for _, e := range ex {
		if e.Reviewed || e.Testdata && e.Class == string(detectors.PII) {
			continue
		}
		fmt.Fprintf(w, "  %s:%d %s  %s\n", e.Path, e.Line, e.Detector, e.Preview)
		if n++; n == 20 {
			break
		}
	}
}
