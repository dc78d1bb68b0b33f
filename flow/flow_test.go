package flow_test

import (
	"slices"
	"testing"
	"time"

	"github.com/customs-dev/customs/flow"
)

func TestNewIDSortsByTime(t *testing.T) {
	base := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i := 0; i < 1000; i++ {
		ids = append(ids, flow.NewID(base.Add(time.Duration(i/10)*time.Millisecond)))
	}
	if !slices.IsSorted(ids) {
		t.Error("IDs minted in time order do not sort in time order")
	}
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Error("duplicate IDs")
	}
}

func TestMarksAndRecorders(t *testing.T) {
	f := &flow.Flow{}
	f.Mark(flow.MarkOversize)
	f.Mark(flow.MarkOversize)
	f.Mark(flow.MarkWebSocket)
	if len(f.Marks) != 2 || !f.HasMark(flow.MarkOversize) || f.HasMark(flow.MarkClientAbort) {
		t.Errorf("marks %v", f.Marks)
	}
	if f.Duration() != 0 {
		t.Error("unfinished flow has a duration")
	}
	var got []string
	rec := func(name string) flow.Recorder { return recorderFunc(func(*flow.Flow) { got = append(got, name) }) }
	flow.Recorders{rec("log"), rec("metrics")}.Record(f)
	if !slices.Equal(got, []string{"log", "metrics"}) {
		t.Errorf("recorders ran %v", got)
	}
}

type recorderFunc func(*flow.Flow)

func (r recorderFunc) Record(f *flow.Flow) { r(f) }
