package detectors_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/detectors/builtin"
	"github.com/customs-dev/customs/flow"
)

// The memo of short texts must change nothing: the same segments give the same findings the
// first time (scanned), the second time (remembered), at other paths, and under another key.
func TestMemoGivesTheSameFindings(t *testing.T) {
	eng, err := builtin.Engine(nil)
	if err != nil {
		t.Fatal(err)
	}
	segs := []flow.Segment{
		{Path: "header:authorization", Text: "Bearer ghp_" + strings.Repeat("a1B2c3D4e5", 3) + "abcdef"},
		{Path: "header:x-debug", Text: "aws_access_key_id=AKIAQ3EGRZ7WYH2LXK5N"},
		{Path: "model", Text: "gpt-4o"},
		{Path: "messages[0].content", Text: "mail jane.doe@acme-corp.com " + strings.Repeat("long text ", 80)},
	}
	h1 := detectors.NewHasher([]byte("first key for finding hashes 0123"))
	h2 := detectors.NewHasher([]byte("other key for finding hashes 0123"))
	first := eng.Find(segs, h1)
	if len(first) < 2 {
		t.Fatalf("findings %+v", first)
	}
	if again := eng.Find(segs, h1); !reflect.DeepEqual(again, first) {
		t.Fatalf("remembered:\n%+v\nscanned:\n%+v", again, first)
	}
	moved := append([]flow.Segment(nil), segs...)
	moved[1].Path = "header:x-other"
	for _, x := range eng.Find(moved, h1) {
		if x.Detector == "secret.aws-access-key-id" && x.Path != "header:x-other" {
			t.Fatalf("a remembered finding kept the path it was first seen at: %+v", x)
		}
	}
	other := eng.Find(segs, h2)
	if len(other) != len(first) || other[0].Hash == first[0].Hash {
		t.Fatalf("another key: %+v", other)
	}
}
