package customs_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/customs-dev/customs"

// layers is design.md's package list, top to bottom: a package may import only packages in a
// lower layer, or its own sub-packages. Adding a package means placing it here.
var layers = map[string]int{
	"cmd/customs":                      0,
	"config":                           1, // the serve config file; only cmd reads it
	"proxy":                            2,
	"proxy/ca":                         3,
	"proxy/wsframe":                    3,
	"capture":                          4,
	"capture/quic":                     16, // QUIC Initial decryption and CRYPTO reassembly (stdlib only)
	"internal/tlshello":                16, // TLS ClientHello/ServerHello parsing and JA4, for the proxy and capture (stdlib only)
	"console":                          4,  // the web console on the admin listener: embedded pages and their handlers
	"report":                           5,
	"replay":                           5, // re-inspection of recorded flows and the diff
	"store":                            6,
	"fleet":                            5, // the fleet record and rule book on NATS JetStream
	"admin":                            7, // metrics and health endpoints; a flow.Recorder
	"flowlog":                          7, // the per-flow log line; a flow.Recorder
	"har":                              7, // HAR 1.2 import and export
	"alert":                            7, // alert lines and the webhook; a flow.Recorder
	"inspect":                          8,
	"internal/eval":                    9, // the external evaluation: public fixtures, gitleaks, false positives on code
	"internal/eval/cmd/eval":           0, // make eval's scorer
	"internal/eval/cmd/extract":        0, // regenerates testdata/external
	"internal/loadtest/cmd/loadtest":   0, // make loadtest: customs, a bare goproxy and a vendor as separate processes
	"inspect/decode":                   9,
	"catalog":                          10,
	"catalog/extract":                  10, // where the text lives in each vendor's requests
	"detectors/builtin":                11, // the ordered list of built-in detectors
	"detectors/jewels":                 11, // the installation's indexed code, documents and tables, and the telemetry echo
	"detectors/fingerprint":            12, // winnowed keyed prints of code and documents
	"detectors/edm":                    12, // exact data match of table rows
	"detectors/secrets":                12,
	"detectors/pii":                    12,
	"detectors/content":                12, // markers and source code
	"detectors":                        13, // the engine and the Detector interface
	"detectors/internal/corpusgen":     14, // the labelled test corpus generator (stdlib only)
	"detectors/internal/corpusgen/cmd": 12,
	"rules":                            14,
	"flow":                             15,
	"internal/golden":                  16, // golden-file helper for tests
	"internal/suggest":                 16, // "did you mean" distances
	"internal/secretfile":              16, // the 0600 hex secret files (finding key, store key, admin token)
	"internal/lineartime":              16, // linear-time checks for tests, by ratio
	"internal/grpctest":                16, // a real gRPC vendor and client for tests (raw protobuf bytes)
	"internal/siphash":                 16, // SipHash-2-4, the keyed hash of the crown-jewel indexes
	"internal/loadtest":                16, // the benchmarks' vendor and bare-goproxy baseline
	"internal/natstest":                16, // an embedded JetStream cluster on loopback for tests
}

// confined third-party libraries and the one package (tree) allowed to import each: their types
// never cross a package boundary.
var confined = map[string][]string{
	"github.com/elazarl/goproxy":          {"proxy", "internal/loadtest"}, // and the benchmarks' bare-goproxy baseline
	"github.com/gopacket/gopacket":        {"capture"},
	"github.com/dgraph-io/badger/v4":      {"store"},
	"github.com/dgraph-io/ristretto/v2":   {"store"}, // badger's cache and mmap files, for reading tables outside badger
	"github.com/google/cel-go":            {"rules"},
	"gopkg.in/yaml.v3":                    {"rules", "config"},
	"github.com/prometheus/client_golang": {"admin"},
	"google.golang.org/grpc":              {"internal/grpctest"}, // customs reads gRPC itself; the library is for tests
	"github.com/nats-io/nats.go":          {"fleet", "internal/natstest"},
	"github.com/nats-io/nats-server/v2":   {"internal/natstest"}, // the engine itself runs in tests only
}

func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		if pkg == "" {
			continue // this test's own directory
		}
		rank, ok := layers[pkg]
		if !ok {
			t.Errorf("package %s is not placed in the layer list of arch_test.go", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			if dep, ok := strings.CutPrefix(imp, module+"/"); ok {
				depRank, known := layers[dep]
				sub := strings.HasPrefix(dep, pkg+"/")
				if !known || (!sub && depRank <= rank) {
					t.Errorf("%s (layer %d) imports %s (layer %d): imports must point down the list", pkg, rank, dep, depRank)
				}
				continue
			}
			for lib, owners := range confined {
				if imp != lib && !strings.HasPrefix(imp, lib+"/") {
					continue
				}
				allowed := false
				for _, o := range owners {
					if pkg == o || strings.HasPrefix(pkg, o+"/") {
						allowed = true
					}
				}
				if !allowed {
					t.Errorf("%s imports %s, which only %v may import", pkg, imp, owners)
				}
			}
		}
	}
}
