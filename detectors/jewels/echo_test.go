package jewels

import (
	"strings"
	"testing"
	"time"

	"github.com/customs-dev/customs/detectors"
	"github.com/customs-dev/customs/flow"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

const prompt = `Draft a customer letter explaining that the Q3 refund window for the Aurora plan closes on
the fifteenth, that enterprise accounts keep their negotiated credits, and that the migration to the
new billing engine will move every invoice date by two days without changing the amount owed.`

const answer = `Dear customer, we are writing to let you know that the refund window for your Aurora plan
closes on the fifteenth of this quarter. Enterprise accounts keep every negotiated credit, and the
move to our new billing engine shifts invoice dates by two days while the amounts stay the same.`

func newTestEcho(t *testing.T, o EchoOptions) *Echo {
	t.Helper()
	e, err := NewEcho(testKey, o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func seg(path, text string) []flow.Segment { return []flow.Segment{{Path: path, Text: text}} }

// A prompt, and separately an answer, reappear in telemetry events: found with the AI flow they
// echo; unrelated text, a short text and what the window forgot are not.
func TestEcho(t *testing.T) {
	h := detectors.NewHasher(testKey)
	t0 := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
	e := newTestEcho(t, EchoOptions{})
	e.Remember("01KPROMPT", false, seg("messages[0].content", prompt), t0)
	e.Remember("01KANSWER", true, seg("choices[0].message.content", answer), t0.Add(time.Second))
	e.Remember("01KSHORT", false, seg("messages[0].content", "hello there"), t0)

	reflowed := strings.Join(strings.Fields(strings.ToUpper(prompt)), " ")
	cases := []struct {
		name, text string
		at         time.Time
		want       string // detector@ref, "" for none
	}{
		{"the prompt inside a Mixpanel property", `{"event":"Prompt Sent","properties":{"prompt":"` + prompt + `","plan":"aurora"}}`, t0.Add(time.Minute), "echo.prompt@01KPROMPT"},
		{"half the prompt in a Sentry breadcrumb", "breadcrumb: user typed: " + prompt[:len(prompt)/2], t0.Add(time.Hour), "echo.prompt@01KPROMPT"},
		{"the prompt reflowed and upper-cased", reflowed, t0.Add(2 * time.Hour), "echo.prompt@01KPROMPT"},
		{"the answer in a session replay", "dom text: " + answer, t0.Add(time.Minute), "echo.answer@01KANSWER"},
		{"unrelated text", "The deployment pipeline failed at the integration stage because the container registry rejected the push with a quota error.", t0.Add(time.Minute), ""},
		{"a short greeting", "hello there, how are you today?", t0.Add(time.Minute), ""},
		{"after the window", prompt, t0.Add(26 * time.Hour), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.at.After(t0.Add(25 * time.Hour)) {
				// Time moves on: a new prompt at c.at ages the old hours out.
				e.Remember("01KLATER", false, seg("input", strings.Repeat("An unrelated later prompt about gardening tools and soil. ", 4)), c.at)
			}
			fs, note := e.Find(seg("properties.text", c.text), h, c.at)
			if note != "" {
				t.Errorf("note %q", note)
			}
			var got string
			if len(fs) > 0 {
				got = fs[0].Detector + "@" + fs[0].Ref
				f := fs[0]
				if f.Class != "document" || f.Share <= 0 || f.Share > 1 || f.SegmentShare <= 0 || f.Start >= f.End || f.Preview == "" || !strings.HasPrefix(f.Hash, "hmac-sha256:") {
					t.Errorf("finding %+v", f)
				}
			}
			if got != c.want {
				t.Errorf("got %q (%d findings), want %q", got, len(fs), c.want)
			}
		})
	}
}

// Past the budget the oldest hours are forgotten first, and Find says the window was cut.
func TestEchoBudget(t *testing.T) {
	h := detectors.NewHasher(testKey)
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	e := newTestEcho(t, EchoOptions{Budget: 1}) // below one text: only the newest hour stays
	e.Remember("01KOLD", false, seg("m", prompt), t0)
	e.Remember("01KNEW", false, seg("m", answer), t0.Add(3*time.Hour))
	fs, note := e.Find(seg("p", prompt), h, t0.Add(3*time.Hour))
	if len(fs) != 0 {
		t.Errorf("the forgotten prompt was found: %+v", fs)
	}
	if !strings.Contains(note, "memory budget") {
		t.Errorf("note %q", note)
	}
	if st := e.Stats(); !st.Shortened || st.Texts != 1 {
		t.Errorf("stats %+v", st)
	}
	if fs, _ := e.Find(seg("p", answer), h, t0.Add(3*time.Hour)); len(fs) != 1 || fs[0].Ref != "01KNEW" {
		t.Errorf("the newest text: %+v", fs)
	}
}

// A nil echo (off) remembers and finds nothing, and never panics.
func TestEchoOff(t *testing.T) {
	var e *Echo
	e.Remember("x", false, seg("m", prompt), time.Now())
	if fs, note := e.Find(seg("m", prompt), detectors.NewHasher(testKey), time.Now()); fs != nil || note != "" {
		t.Fatal("an echo that is off found something")
	}
}

// A container (a JSON document whose leaves are segments too) is neither remembered nor
// searched: its leaves are, once each.
func TestEchoSkipsContainers(t *testing.T) {
	h := detectors.NewHasher(testKey)
	t0 := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
	e := newTestEcho(t, EchoOptions{})
	doc := []flow.Segment{{Path: "messages[0].content", Text: `{"q":"` + prompt + `"}`, Container: true}}
	e.Remember("01KDOC", false, doc, t0)
	if st := e.Stats(); st.Texts != 0 {
		t.Fatalf("a container was remembered: %+v", st)
	}
	e.Remember("01KPROMPT", false, seg("messages[0].content", prompt), t0)
	if fs, _ := e.Find(doc, h, t0.Add(time.Minute)); len(fs) != 0 {
		t.Fatalf("a container was searched: %+v", fs)
	}
}
