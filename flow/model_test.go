package flow

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestModelName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"gpt-4o", "gpt-4o"},
		{"  gemini-2.0-flash\n", "gemini-2.0-flash"},
		{strings.Repeat("a", MaxModelLen+10), strings.Repeat("a", MaxModelLen)},
		{strings.Repeat("a", MaxModelLen-1) + "é", strings.Repeat("a", MaxModelLen-1)},
		{"bad\xffutf8", "bad\uFFFDutf8"},
	} {
		got := ModelName(c.in)
		if got != c.want || len(got) > MaxModelLen || !utf8.ValidString(got) {
			t.Errorf("ModelName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestServedModels: the first flow whose answer names another version behind the same alias,
// for the same vendor, is the change; flows that name no model say nothing.
func TestServedModels(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	use := func(i int, vendor, model, served string) ModelUse {
		return ModelUse{FlowID: string(rune('A' + i)), Time: t0.Add(time.Duration(i) * time.Hour), Vendor: vendor, Model: model, ServedModel: served}
	}
	flows := []ModelUse{
		use(0, "openai", "gpt-4o", "gpt-4o-2024-08-06"),
		use(1, "openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
		use(2, "openai", "gpt-4o", ""),                        // refused, or no answer read
		use(3, "azure-openai", "gpt-4o", "gpt-4o-2024-11-20"), // another vendor: its own history
		use(4, "openai", "gpt-4o", "gpt-4o-2024-08-06"),
		use(5, "openai", "gpt-4o", "gpt-4o-2024-11-20"), // the change
		use(6, "openai", "gpt-4o", "gpt-4o-2024-11-20"),
		use(7, "openai", "[masked]", "gpt-4o-2024-08-06"),
		use(8, "openai", "", "gpt-4o-2024-08-06"),
		use(9, "openai", "gpt-4o", "gpt-4o-2024-08-06"), // a rollout flips back: a change too
	}
	var s ServedModels
	var got []ModelChange
	for _, u := range flows {
		if c, ok := s.Observe(u); ok {
			got = append(got, c)
		}
	}
	want := []ModelChange{
		{Vendor: "openai", Model: "gpt-4o", From: "gpt-4o-2024-08-06", To: "gpt-4o-2024-11-20", FlowID: "F", Time: t0.Add(5 * time.Hour),
			PrevFlowID: "E", PrevTime: t0.Add(4 * time.Hour)},
		{Vendor: "openai", Model: "gpt-4o", From: "gpt-4o-2024-11-20", To: "gpt-4o-2024-08-06", FlowID: "J", Time: t0.Add(9 * time.Hour),
			PrevFlowID: "G", PrevTime: t0.Add(6 * time.Hour)},
	}
	if len(got) != len(want) {
		t.Fatalf("changes %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("change %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestFlowModelUse(t *testing.T) {
	f := &Flow{ID: "X", Client: Client{Addr: "10.0.0.1:5000", User: "u"}, Vendor: Vendor{ID: "openai"}, API: "openai.chat",
		Model: "gpt-4o", ServedModel: "gpt-4o-2024-11-20"}
	want := ModelUse{FlowID: "X", Client: "10.0.0.1:5000", User: "u", Vendor: "openai", API: "openai.chat", Model: "gpt-4o", ServedModel: "gpt-4o-2024-11-20"}
	if got := f.ModelUse(); got != want {
		t.Errorf("ModelUse = %+v", got)
	}
}

// A report reads flows oldest first (store.Each with Filter{Oldest: true}, or Scan and a sort)
// and hands each record's ModelUse to a ServedModels.
func ExampleServedModels() {
	var s ServedModels
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i, served := range []string{"gpt-4o-2024-08-06", "gpt-4o-2024-08-06", "gpt-4o-2024-11-20"} {
		u := ModelUse{FlowID: fmt.Sprint("flow-", i), Time: t0.Add(time.Duration(i) * time.Hour), Vendor: "openai", Model: "gpt-4o", ServedModel: served}
		if c, ok := s.Observe(u); ok {
			fmt.Printf("%s %s: %s -> %s from %s\n", c.Vendor, c.Model, c.From, c.To, c.FlowID)
		}
	}
	// Output: openai gpt-4o: gpt-4o-2024-08-06 -> gpt-4o-2024-11-20 from flow-2
}
