package corpusgen

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Generator produces documents one at a time.
type Generator struct {
	r       *rand.Rand
	n       int
	rsaPool int
	counts  map[string]int
	// Density is the share of documents that carry planted values; the labelled corpus uses 1,
	// a benchmark may use less to resemble ordinary traffic.
	Density float64

	// The kinds plan draws from: the main lists, or issue 14's (missKinds, missDecoys, no
	// personal data) in the documents that carry those.
	secretKinds, secretDecoys, piiKinds, piiDecoys []itemKind
	// Issue 14's documents come one after every missesEvery documents of the main stream, from
	// a random source and counts of their own: the main stream's documents stay byte for byte
	// what they were, so the corpus measures old and new detectors on the same text.
	missR      *rand.Rand
	missCounts map[string]int
	sinceMiss  int
	inMiss     bool
	// Issue 15's documents (issue15Kinds) likewise come one after every issue15Every others,
	// from a source and counts of their own.
	i15R      *rand.Rand
	i15Counts map[string]int
	sinceI15  int
}

// issue15Every is how many other documents come before each of issue 15's.
const issue15Every = 20

// missesEvery is how many documents of the main stream come before each of issue 14's.
const missesEvery = 12

// New returns a generator seeded with seed.
func New(seed uint64) *Generator {
	return &Generator{r: rand.New(rand.NewPCG(seed, 0x636f72707573)), rsaPool: 6, counts: map[string]int{}, Density: 1,
		secretKinds: secretKinds, secretDecoys: secretDecoys, piiKinds: piiKinds, piiDecoys: piiDecoys,
		missR: rand.New(rand.NewPCG(seed, 0x697373756531340a)), missCounts: map[string]int{},
		i15R: rand.New(rand.NewPCG(seed, 0x697373756531350a)), i15Counts: map[string]int{}}
}

// Next returns the next document and its labels.
func (g *Generator) Next() (Doc, []Label) {
	b := &builder{}
	var kind string
	if g.sinceI15 == issue15Every {
		g.sinceI15 = 0
		kind = g.sideDoc(b, g.i15R, g.i15Counts, issue15Kinds, secretDecoys, issue15DocKinds)
	} else if g.sinceI15++; g.sinceMiss == missesEvery {
		g.sinceMiss = 0
		kind = g.missDoc(b)
	} else {
		g.sinceMiss++
		kind = g.docKind()
		plant := g.Density >= 1 || g.chance(g.Density)
		g.render(b, kind, plant)
	}
	d := Doc{Doc: g.n, Kind: kind, Text: b.sb.String()}
	ls := make([]Label, len(b.labels))
	for i, l := range b.labels {
		l.Doc = g.n
		ls[i] = l
	}
	g.n++
	return d, ls
}

// missDoc renders a document of issue 14's kinds with the generator switched to their source,
// counts and lists for its duration. Kubernetes Secrets come more often than in the main stream
// (their data holds values base64-encoded under their names); CSV exports, which carry only
// personal data, not at all (a CSV pasted into a chat carries no planted values here).
func (g *Generator) missDoc(b *builder) string {
	return g.sideDoc(b, g.missR, g.missCounts, missKinds, missDecoys, missDocKinds)
}

var missDocKinds = []string{"chat", "chat", "chat", "chat-json", "chat-json", "code", "code", "env", "k8s-yaml", "k8s-yaml", "k8s-yaml",
	"log", "email", "notes", "stacktrace", "base64", "terraform"}

// issue15DocKinds: the plain-text kinds. In a Kubernetes Secret's data or a base64 document a
// value is found only if the extraction layer decodes it, which these documents would measure
// instead of the new detectors (it leaves some of their base64 runs undecoded).
var issue15DocKinds = []string{"chat", "chat", "chat", "chat-json", "chat-json", "code", "code", "env", "log", "email", "notes", "stacktrace", "terraform"}

// sideDoc renders a document of a side stream (issue 14's, issue 15's): the generator switched
// to the stream's random source, counts and kinds for its duration.
func (g *Generator) sideDoc(b *builder, sr *rand.Rand, sc map[string]int, kinds, decoys []itemKind, docKinds []string) string {
	r, counts := g.r, g.counts
	g.r, g.counts, g.inMiss = sr, sc, true
	g.secretKinds, g.secretDecoys, g.piiKinds, g.piiDecoys = kinds, decoys, nil, nil
	defer func() {
		g.r, g.counts, g.inMiss = r, counts, false
		g.secretKinds, g.secretDecoys, g.piiKinds, g.piiDecoys = secretKinds, secretDecoys, piiKinds, piiDecoys
	}()
	kind := g.pick(docKinds...)
	g.render(b, kind, g.Density >= 1 || g.chance(g.Density))
	return kind
}

var docKinds = []struct {
	name   string
	weight int
}{
	{"chat", 20}, {"chat-json", 12}, {"code", 14}, {"env", 7}, {"k8s-yaml", 7}, {"log", 9},
	{"csv", 6}, {"email", 8}, {"notes", 4}, {"stacktrace", 5}, {"base64", 4}, {"terraform", 4},
}

func (g *Generator) docKind() string {
	total := 0
	for _, k := range docKinds {
		total += k.weight
	}
	x := g.r.IntN(total)
	for _, k := range docKinds {
		if x < k.weight {
			return k.name
		}
		x -= k.weight
	}
	panic("unreachable")
}

// take generates an item of the least-used kind among ks (weighted), so every label gets its
// share of the corpus.
func (g *Generator) take(ks []itemKind) item {
	best := -1.0
	var cand []int
	for i, k := range ks {
		w := float64(max(k.weight, 1))
		score := float64(g.counts[k.label]) / w
		switch {
		case best < 0 || score < best:
			best, cand = score, []int{i}
		case score == best:
			cand = append(cand, i)
		}
	}
	k := ks[cand[g.r.IntN(len(cand))]]
	g.counts[k.label]++
	it := k.gen(g)
	it.pii = k.pii
	return it
}

// plan draws the items a document carries.
func (g *Generator) plan(secrets, pii, secretDec, piiDec int) []item {
	var its []item
	for range secrets {
		its = append(its, g.take(g.secretKinds))
	}
	for range pii {
		if len(g.piiKinds) > 0 {
			its = append(its, g.take(g.piiKinds))
		}
	}
	for range secretDec {
		its = append(its, g.take(g.secretDecoys))
	}
	for range piiDec {
		if len(g.piiDecoys) > 0 {
			its = append(its, g.take(g.piiDecoys))
		}
	}
	g.r.Shuffle(len(its), func(i, j int) { its[i], its[j] = its[j], its[i] })
	return its
}

// ---- builder ------------------------------------------------------------------------------

// builder accumulates a document and the labels of what it plants. With esc set, everything
// written through w and val is escaped first (a JSON string body); labels point into the
// escaped text.
type builder struct {
	sb     strings.Builder
	labels []Label
	esc    func(string) string
}

func (b *builder) w(ss ...string) {
	for _, s := range ss {
		if b.esc != nil {
			s = b.esc(s)
		}
		b.sb.WriteString(s)
	}
}

func (b *builder) raw(s string) { b.sb.WriteString(s) }

func (b *builder) f(format string, args ...any) { b.w(fmt.Sprintf(format, args...)) }

func (b *builder) pos() int { return b.sb.Len() }

// val writes an item's value, or its encoding enc, and labels it (and the labels inside it).
func (b *builder) val(it item, v, enc string) {
	cuts := []int{0, len(v)}
	for _, s := range it.extra {
		cuts = append(cuts, s.start, s.end)
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	at := map[int]int{}
	for i, c := range cuts {
		at[c] = b.pos()
		if i+1 < len(cuts) {
			b.w(v[c:cuts[i+1]])
		}
	}
	if enc == "" { // extras apply to the value as written, not to an encoding of it
		for _, s := range it.extra {
			b.labels = append(b.labels, Label{Start: at[s.start], End: at[s.end], Detector: s.id, Decoy: s.decoy})
		}
	}
	b.labels = append(b.labels, Label{Start: at[0], End: at[len(v)], Detector: it.id, Decoy: it.decoy, Encoding: enc})
}

// value writes the item's own value.
func (b *builder) value(it item) { b.val(it, it.value, "") }

// encoded writes the item base64- or URL-encoded: the label then covers the encoding, which the
// engine must decode to find the value.
func (b *builder) encoded(it item, enc string) {
	switch enc {
	case "base64":
		b.val(it, b64([]byte(it.value)), enc)
	case "url":
		b.val(it, url.QueryEscape(it.value), enc)
	default:
		b.value(it)
	}
}

// sub runs f on a fresh builder and writes its text base64-encoded, one label per planted
// detector over the whole blob. Callers plant only positives, or only decoys, in one blob.
func (b *builder) base64Of(f func(*builder), lineLen int) {
	var in builder
	f(&in)
	enc := b64([]byte(in.sb.String()))
	if lineLen > 0 {
		enc = strings.TrimSuffix(wrap(enc, lineLen), "\n")
	}
	start := b.pos()
	b.w(enc)
	end := b.pos()
	seen := map[string]bool{}
	for _, l := range in.labels {
		k := l.Detector + "|" + l.Decoy
		if seen[k] {
			continue
		}
		seen[k] = true
		b.labels = append(b.labels, Label{Start: start, End: end, Detector: l.Detector, Decoy: l.Decoy, Encoding: "base64"})
	}
}

// region labels what f writes as one span (a block of source code, a marker).
func (b *builder) region(id string, f func()) {
	start := b.pos()
	f()
	b.labels = append(b.labels, Label{Start: start, End: b.pos(), Detector: id})
}

// jsonEscape escapes a JSON string body; ascii also escapes non-ASCII (Python's json.dumps).
func jsonEscape(ascii bool) func(string) string {
	return func(s string) string {
		var o strings.Builder
		for _, r := range s {
			switch {
			case r == '"':
				o.WriteString(`\"`)
			case r == '\\':
				o.WriteString(`\\`)
			case r == '\n':
				o.WriteString(`\n`)
			case r == '\t':
				o.WriteString(`\t`)
			case r == '\r':
				o.WriteString(`\r`)
			case r < 0x20 || (ascii && r > 0x7e):
				if r > 0xffff {
					r1, r2 := utf16Surrogates(r)
					fmt.Fprintf(&o, `\u%04x\u%04x`, r1, r2)
				} else {
					fmt.Fprintf(&o, `\u%04x`, r)
				}
			default:
				o.WriteRune(r)
			}
		}
		return o.String()
	}
}

func utf16Surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// ---- people and places --------------------------------------------------------------------

var (
	firstNames = []string{"James", "Maria", "Wei", "Aisha", "Lukas", "Sofia", "Mateo", "Chloé", "José", "Zoë", "Jürgen", "François", "Søren", "Priya", "Kenji", "Olga", "Liam", "Emma", "Noah", "Fatima", "Hiroshi", "Ana", "Pierre", "Giulia", "Daan", "Lena", "Carlos", "Ingrid", "Omar", "Mei", "Rahul", "Grace"}
	lastNames  = []string{"Smith", "García", "Müller", "Rossi", "Dubois", "Jansen", "Kowalski", "Nguyen", "Okafor", "Tanaka", "Schmidt", "Fernández", "Bianchi", "Martin", "de Vries", "O'Brien", "Johansson", "Novak", "Silva", "Patel", "Kim", "Lefèvre", "Weber", "Moreau", "Russo", "Cohen", "Andersen", "Horváth", "Yilmaz", "Walsh"}
	companies  = []string{"acme-corp.com", "globex.io", "initech.net", "hooli.com", "umbrella-health.org", "northwind-traders.co.uk", "contoso-bank.de", "stark-ind.com", "cyberdyne.ai", "soylent.fr", "tyrell.it", "wonka.nl", "massive-dynamic.es", "vandelay.co"}
	freemail   = []string{"gmail.com", "outlook.com", "yahoo.co.uk", "web.de", "gmx.de", "orange.fr", "libero.it", "proton.me", "icloud.com", "hotmail.es", "ziggo.nl"}
	fold       = strings.NewReplacer("é", "e", "è", "e", "ë", "e", "ç", "c", "ü", "u", "ø", "o", "á", "a", "ó", "o", "í", "i", "ñ", "n", "'", "", " ", "")
)

func (g *Generator) firstName() string     { return g.pick(firstNames...) }
func (g *Generator) lastName() string      { return g.pick(lastNames...) }
func (g *Generator) lastNameASCII() string { return fold.Replace(g.lastName()) }
func (g *Generator) fullName() string      { return g.firstName() + " " + g.lastName() }
func (g *Generator) companyDomain() string { return g.pick(companies...) }

func (g *Generator) userName() string {
	return strings.ToLower(fold.Replace(g.firstName())[:1] + fold.Replace(g.lastName()))
}

func (g *Generator) email() string {
	f, l := strings.ToLower(fold.Replace(g.firstName())), strings.ToLower(g.lastNameASCII())
	var local string
	switch g.r.IntN(5) {
	case 0:
		local = f + "." + l
	case 1:
		local = f[:1] + l
	case 2:
		local = f + "_" + l + itoa(g.between(1, 99))
	case 3:
		local = f + "." + l + "+" + g.pick("billing", "ai", "news")
	default:
		local = f + itoa(g.between(70, 2005))
	}
	if g.chance(0.6) {
		return local + "@" + g.companyDomain()
	}
	return local + "@" + g.pick(freemail...)
}

// ---- documents ----------------------------------------------------------------------------

func (g *Generator) render(b *builder, kind string, plant bool) {
	n := func(lo, hi int) int {
		if !plant {
			return 0
		}
		return g.between(lo, hi)
	}
	switch kind {
	case "chat":
		g.chat(b, n)
	case "chat-json":
		g.chatJSON(b, n)
	case "code":
		g.code(b, g.plan(n(3, 5), n(0, 1), n(1, 2), n(0, 1)))
	case "env":
		g.envFile(b, g.plan(n(4, 8), n(0, 1), n(1, 3), 0))
	case "k8s-yaml":
		g.k8s(b, g.plan(n(3, 6), n(0, 1), n(1, 2), 0))
	case "log":
		g.logs(b, g.plan(n(1, 2), n(1, 3), n(0, 2), n(1, 3)))
	case "csv":
		g.csv(b, plant)
	case "email":
		g.emailDoc(b, g.plan(n(0, 2), n(1, 3), n(0, 1), n(1, 2)))
	case "notes":
		g.notes(b, g.plan(n(1, 2), n(1, 3), n(0, 1), n(1, 2)))
	case "stacktrace":
		g.trace(b, g.plan(n(1, 3), n(0, 1), n(0, 1), n(0, 1)))
	case "base64":
		g.base64Doc(b, plant)
	case "terraform":
		g.terraform(b, g.plan(n(3, 5), 0, n(1, 2), 0))
	}
}

var (
	openers = []string{
		"Can you help me figure out why this fails?",
		"Please review the following and point out anything wrong.",
		"I'm getting a 401 from the API and I can't see why. Here's what I have:",
		"Summarize this for a status update, two or three bullet points.",
		"Rewrite this more concisely, keep the details.",
		"Our deploy broke after the last change. Relevant bits below.",
		"Translate the following into German, keep the formatting.",
		"What does this do? Explain it like I'm new to the codebase.",
		"Convert this to a table with one row per item.",
		"Find the bug here, I've been staring at it for an hour:",
		"hey, quick one — is this config right?",
		"Draft a reply to this message, polite but firm.",
	}
	closers = []string{
		"Thanks!", "Thanks in advance.", "Keep it short please.", "What am I missing?",
		"Be specific about which line is wrong.", "Answer in bullet points.", "", "ty",
		"Please don't change anything else.", "Also suggest a better name for it.",
	}
	proseFill = []string{
		"We moved the nightly export to the new cluster last week and the numbers look right so far.",
		"The vendor confirmed the renewal terms on Tuesday; legal still has to sign off.",
		"Latency on the checkout path went up after the release, mostly in the p99.",
		"I've attached last quarter's figures so you can compare them with the forecast.",
		"Let's keep the rollout behind the feature flag until the support team is briefed.",
		"The migration script ran for 42 minutes and touched about 1.2 million rows.",
		"Marketing wants the launch moved to the second week of the month.",
		"Nobody owns the old reporting service any more, which is part of the problem.",
		"We agreed to revisit the pricing model after the pilot with three customers.",
		"The on-call rotation changes next Monday; the new schedule is in the wiki.",
		"Please double-check the figures before this goes to the board.",
		"Customer support flagged a spike in refund requests from the EU region.",
		"The contractor's access should be removed at the end of the engagement.",
		"We still see intermittent timeouts when the batch job overlaps with backups.",
		"Finance needs the reconciled ledger by Friday noon.",
		"The design review is scheduled for Thursday at 3pm in the small room.",
		"Engineering estimates two sprints for the integration, maybe three.",
		"I spoke with the account manager and they can extend the trial by 30 days.",
	}
	markers = []struct{ text, id string }{
		{"CONFIDENTIAL", idMarker}, {"STRICTLY CONFIDENTIAL", idMarker}, {"INTERNAL USE ONLY", idMarker},
		{"INTERNAL ONLY", idMarker}, {"RESTRICTED", idMarker}, {"COMPANY CONFIDENTIAL", idMarker}, {"TLP:AMBER", idMarker},
		{"ATTORNEY-CLIENT PRIVILEGED", idMarkerLegal}, {"PRIVILEGED & CONFIDENTIAL", idMarkerLegal}, {"ATTORNEY WORK PRODUCT", idMarkerLegal},
		{"TRADE SECRET", idMarkerTradeSecret}, {"NOT FOR DISTRIBUTION", idMarkerDistribution}, {"DO NOT DISTRIBUTE", idMarkerDistribution},
		{"SHARED UNDER NDA", idMarkerNDA},
	}
)

func (g *Generator) prose(b *builder, k int) {
	for i := range k {
		if i > 0 {
			b.w(" ")
		}
		b.w(g.pick(proseFill...))
	}
}

// keyed writes name=value (or name: value), for values that mean nothing without their key.
func (g *Generator) keyed(b *builder, x item) {
	b.w(x.name, g.pick("=", ": ", " = ", "="))
	b.value(x)
}

// sentence plants an item in prose, followed by the kind of punctuation prompts use.
func (g *Generator) sentence(b *builder, it item) {
	for cur := &it; cur != nil; cur = cur.next {
		x := *cur
		if x.multiline {
			b.w(g.pick("Here is the ", "This is the ", "Attached the ")+x.what+":\n\n", "")
			b.value(x)
			b.w("\n\n")
			continue
		}
		if x.needsKey && x.prose && g.chance(0.5) {
			// Named by what it is, before it: "the AWS secret key is …".
			switch g.r.IntN(4) {
			case 0:
				b.w("The ", x.what, " is ")
				b.value(x)
				b.w(g.pick(". ", ".\n"))
			case 1:
				b.w(capitalize(x.what), ": ")
				b.value(x)
				b.w(g.pick("\n", ". ", ", "))
			case 2:
				b.w("my ", x.what, " is \"")
				b.value(x)
				b.w("\". ")
			default:
				b.w("use ", x.what, " ")
				b.value(x)
				b.w(g.pick(", ", "; ", " for now. "))
			}
			continue
		}
		if x.needsKey {
			b.w(g.pick("", "in the config: ", "we have "))
			g.keyed(b, x)
			b.w(g.pick("\n", " ", ", "))
			continue
		}
		switch g.r.IntN(9) {
		case 0:
			b.w(capitalize(x.what), ": ")
			b.value(x)
			b.w(g.pick("\n", ". ", ", "))
		case 1:
			b.w("The ", x.what, " is ")
			b.value(x)
			b.w(g.pick(". ", ".\n"))
		case 2:
			b.w("Can you check whether ")
			b.value(x)
			b.w(" is the right ", x.what, "? ")
		case 3:
			b.w("I set ", x.name, " to ")
			b.value(x)
			b.w(" but it still fails. ")
		case 4:
			b.w("(", x.what, " ")
			b.value(x)
			b.w(") ")
		case 5:
			b.w("use ", x.what, " ")
			b.value(x)
			b.w(g.pick(", ", "; ", " for now. "))
		case 6:
			b.w(x.what, " → ")
			b.value(x)
			b.w("\n")
		case 7:
			b.w("my ", x.what, " is \"")
			b.value(x)
			b.w("\". ")
		default:
			b.w("- ", x.what, ": `")
			b.value(x)
			b.w("`\n")
		}
	}
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[n:]
}

func (g *Generator) chat(b *builder, n func(int, int) int) {
	b.w(g.pick(openers...), "\n\n")
	switch g.r.IntN(8) {
	case 0:
		g.envFile(b, g.plan(n(3, 5), 0, n(1, 2), 0))
	case 1:
		b.w("```", "\n")
		g.code(b, g.plan(n(1, 3), n(0, 1), n(0, 1), 0))
		b.w("```\n")
	case 2:
		g.logs(b, g.plan(n(0, 2), n(1, 2), n(0, 1), n(1, 2)))
	case 3:
		g.emailDoc(b, g.plan(n(0, 1), n(1, 3), 0, n(1, 2)))
	case 4:
		g.trace(b, g.plan(n(1, 2), 0, n(0, 1), 0))
	case 5:
		g.csv(b, n(1, 1) == 1)
	default:
		its := g.plan(n(2, 4), n(1, 2), n(1, 2), n(0, 2))
		g.prose(b, g.between(1, 2))
		b.w(" ")
		for _, it := range its {
			g.sentence(b, it)
			if g.chance(0.4) {
				g.prose(b, 1)
				b.w(" ")
			}
		}
	}
	b.w("\n", g.pick(closers...))
}

func (g *Generator) chatJSON(b *builder, n func(int, int) int) {
	ascii := g.chance(0.5)
	switch g.r.IntN(3) {
	case 0:
		b.raw(`{"model":"` + g.pick("gpt-4o", "gpt-4.1-mini", "o3") + `","messages":[{"role":"system","content":"You are a helpful assistant for ` + g.pick("Acme", "Globex", "Initech") + ` employees."},{"role":"user","content":"`)
	case 1:
		b.raw(`{"model":"` + g.pick("claude-sonnet-4-5", "claude-opus-4-1", "claude-3-5-haiku-latest") + `","max_tokens":` + itoa(g.pick2(1024, 4096, 8192)) + `,"messages":[{"role":"user","content":"`)
	default:
		b.raw(`{"contents":[{"role":"user","parts":[{"text":"`)
	}
	b.esc = jsonEscape(ascii)
	g.chat(b, n)
	b.esc = nil
	switch {
	case strings.HasPrefix(b.sb.String(), `{"contents"`):
		b.raw(`"}]}],"generationConfig":{"temperature":0.2}}`)
	default:
		b.raw(`"}],"temperature":` + g.pick("0", "0.2", "0.7", "1") + `,"stream":` + g.pick("true", "false") + `}`)
	}
}

// ---- .env, YAML, Terraform ------------------------------------------------------------------

func (g *Generator) envLine(b *builder, it item) {
	for cur := &it; cur != nil; cur = cur.next {
		x := *cur
		if x.noAssign {
			b.w("# ", x.what, " of the test customer: ")
			b.value(x)
			b.w("\n")
			continue
		}
		if x.multiline {
			if g.chance(0.5) {
				b.w(x.name, `="`)
				b.value(x)
				b.w("\"\n")
			} else {
				x = x.mapValue(pemToJSON)
				b.w(x.name, `="`)
				b.value(x)
				b.w("\"\n")
			}
			continue
		}
		switch g.r.IntN(4) {
		case 0:
			b.w(x.name, "=")
			b.value(x)
		case 1:
			b.w(x.name, `="`)
			b.value(x)
			b.w(`"`)
		case 2:
			b.w("export ", x.name, "='")
			b.value(x)
			b.w("'")
		default:
			b.w(x.name, "=")
			b.value(x)
			b.w("  # ", g.pick("rotated in March", "prod", "do not commit", "staging"))
		}
		b.w("\n")
	}
}

var envFill = []string{"NODE_ENV=production", "LOG_LEVEL=info", "PORT=8080", "FEATURE_NEW_CHECKOUT=true", "TZ=UTC", "WORKERS=4", "CACHE_TTL_SECONDS=300", "APP_NAME=orders-api", "REGION=eu-west-1", "# --- third-party services ---", "ENABLE_METRICS=1", ""}

// envFile writes a .env file, which is code in the sense of the code detector (configuration
// pasted as text).
func (g *Generator) envFile(b *builder, its []item) {
	b.region(idCode, func() { g.envLines(b, its) })
}

func (g *Generator) envLines(b *builder, its []item) {
	for _, it := range its {
		for range g.between(0, 3) {
			b.w(g.pick(envFill...), "\n")
		}
		g.envLine(b, it)
	}
	b.w(g.pick(envFill...), "\n")
}

func (g *Generator) yamlPair(b *builder, it item, indent string) {
	for cur := &it; cur != nil; cur = cur.next {
		x := *cur
		b.w(indent, "- name: ", strings.ToUpper(strings.NewReplacer("/", "_", ":", "_", ".", "_").Replace(x.name)), "\n")
		if x.multiline {
			b.w(indent, "  value: |\n")
			// A block scalar indents every line: plant the indented text.
			pad := indent + "    "
			b.w(pad)
			b.value(x.mapValue(func(v string) string { return strings.ReplaceAll(v, "\n", "\n"+pad) }))
			b.w("\n")
			continue
		}
		q := g.pick(`"`, "", "'")
		b.w(indent, "  value: ", q)
		b.value(x)
		b.w(q, "\n")
	}
}

// k8s writes a Kubernetes manifest (code, for the code detector: YAML with secrets).
func (g *Generator) k8s(b *builder, its []item) {
	b.region(idCode, func() { g.k8sManifest(b, its) })
}

func (g *Generator) k8sManifest(b *builder, its []item) {
	app := g.pick("orders-api", "billing-worker", "search", "notifier", "ml-gateway")
	secretShare := 0.35
	if g.inMiss {
		secretShare = 0.6
	}
	if g.chance(secretShare) && len(its) > 0 {
		// A Secret: data is base64 (each value decodes to the planted one), stringData is not.
		b.w("apiVersion: v1\nkind: Secret\nmetadata:\n  name: ", app, "-credentials\n  namespace: ", g.pick("prod", "default", "payments"), "\ntype: Opaque\n")
		key := func(x item) string {
			return strings.ToLower(strings.NewReplacer("/", "_", ":", "_", ".", "_").Replace(x.name))
		}
		b.w("data:\n")
		var plain, decoys []item
		for _, it := range its {
			for cur := &it; cur != nil; cur = cur.next {
				if cur.decoy != "" {
					// Everything in a Secret is a secret: look-alikes go to a ConfigMap.
					decoys = append(decoys, *cur)
					continue
				}
				if cur.needsKey && !cur.dataOK {
					// Meaningless without its name, and its detector does not read it encoded:
					// stringData keeps it readable.
					plain = append(plain, *cur)
					continue
				}
				b.w("  ", key(*cur), ": ")
				b.encoded(*cur, "base64")
				b.w("\n")
			}
		}
		if len(plain) > 0 {
			b.w("stringData:\n")
			for _, x := range plain {
				b.w("  ", key(x), ": \"")
				b.value(x)
				b.w("\"\n")
			}
		}
		if len(decoys) > 0 {
			b.w("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ", app, "-config\ndata:\n")
			for _, x := range decoys {
				b.w("  ", key(x), ": \"")
				b.value(x)
				b.w("\"\n")
			}
		}
		return
	}
	b.w("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ", app, "\n  labels:\n    app: ", app, "\nspec:\n  replicas: ", itoa(g.between(1, 6)), "\n  selector:\n    matchLabels:\n      app: ", app, "\n  template:\n    metadata:\n      labels:\n        app: ", app, "\n    spec:\n      containers:\n        - name: ", app, "\n          image: ghcr.io/", g.pick("acme", "globex"), "/", app, ":", itoa(g.between(1, 3)), ".", itoa(g.between(0, 40)), ".", itoa(g.between(0, 9)), "\n          ports:\n            - containerPort: ", g.pick("8080", "3000", "9090"), "\n          env:\n")
	for _, it := range its {
		if it.noAssign {
			b.w("          # ", it.what, ": ")
			b.value(it)
			b.w("\n")
			continue
		}
		g.yamlPair(b, it, "            ")
	}
	b.w("          resources:\n            limits:\n              memory: ", g.pick("256Mi", "512Mi", "1Gi"), "\n              cpu: ", g.pick("250m", "500m", "1"), "\n")
}

func (g *Generator) terraform(b *builder, its []item) {
	b.region(idCode, func() {
		b.w("terraform {\n  required_version = \">= 1.5\"\n  required_providers {\n    aws = {\n      source  = \"hashicorp/aws\"\n      version = \"~> 5.0\"\n    }\n  }\n}\n\n")
		b.w("provider \"aws\" {\n  region = \"", g.pick("eu-west-1", "us-east-1", "eu-central-1"), "\"\n}\n\n")
		b.w("resource \"aws_db_instance\" \"main\" {\n  identifier        = \"", g.pick("orders", "billing", "crm"), "-db\"\n  engine            = \"postgres\"\n  engine_version    = \"16.3\"\n  instance_class    = \"db.t4g.medium\"\n  allocated_storage = 100\n}\n\n")
		b.w("locals {\n")
		for _, it := range its {
			for cur := &it; cur != nil; cur = cur.next {
				x := *cur
				name := strings.ToLower(strings.NewReplacer("/", "_", ":", "_", ".", "_", "-", "_").Replace(x.name))
				if x.multiline {
					b.w("  ", name, " = <<-EOT\n")
					b.value(x)
					b.w("\n  EOT\n")
					continue
				}
				b.w("  ", name, " = \"")
				b.value(x)
				b.w("\"\n")
			}
		}
		b.w("}\n\nresource \"aws_ssm_parameter\" \"app\" {\n  name  = \"/app/config\"\n  type  = \"SecureString\"\n  value = jsonencode(local)\n}\n")
	})
}

// ---- code -------------------------------------------------------------------------------------

type lang struct {
	name   string
	header string
	footer string
	fill   []string
	assign func(g *Generator, b *builder, x item)
}

var langs = []lang{
	{
		name:   "go",
		header: "package main\n\nimport (\n\t\"context\"\n\t\"fmt\"\n\t\"net/http\"\n\t\"os\"\n\t\"time\"\n)\n\n",
		footer: "\nfunc main() {\n\tctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)\n\tdefer cancel()\n\treq, err := http.NewRequestWithContext(ctx, http.MethodGet, \"https://api.acme-corp.com/v1/orders\", nil)\n\tif err != nil {\n\t\tfmt.Fprintln(os.Stderr, err)\n\t\tos.Exit(1)\n\t}\n\tresp, err := http.DefaultClient.Do(req)\n\tif err != nil {\n\t\tfmt.Fprintln(os.Stderr, err)\n\t\tos.Exit(1)\n\t}\n\tdefer resp.Body.Close()\n\tfmt.Println(resp.Status)\n}\n",
		fill:   []string{"// retryDelay is how long we wait between attempts.\nconst retryDelay = 2 * time.Second\n", "type Order struct {\n\tID     string  `json:\"id\"`\n\tAmount float64 `json:\"amount\"`\n\tStatus string  `json:\"status\"`\n}\n", "func (o Order) Paid() bool { return o.Status == \"paid\" }\n"},
		assign: func(g *Generator, b *builder, x item) {
			if x.multiline {
				b.w("var ", ident(x, goIdent), " = `")
				b.value(x)
				b.w("`\n")
				return
			}
			switch g.r.IntN(3) {
			case 0:
				b.w("const ", ident(x, goIdent), " = \"")
				b.value(x)
				b.w("\"\n")
			case 1:
				b.w("func init() { os.Setenv(\"", x.name, "\", \"")
				b.value(x)
				b.w("\") }\n")
			default:
				b.w("var cfg", ident(x, goIdent), " = map[string]string{\"", strings.ToLower(x.name), "\": \"")
				b.value(x)
				b.w("\"}\n")
			}
		},
	},
	{
		name:   "python",
		header: "import os\nimport json\nimport logging\n\nimport requests\n\nlog = logging.getLogger(__name__)\n\n",
		footer: "\n\ndef fetch_orders(session, since):\n    \"\"\"Return orders created after `since`.\"\"\"\n    resp = session.get(f\"{BASE_URL}/orders\", params={\"since\": since}, timeout=10)\n    resp.raise_for_status()\n    return [o for o in resp.json()[\"data\"] if o[\"status\"] != \"void\"]\n\n\nif __name__ == \"__main__\":\n    s = requests.Session()\n    for order in fetch_orders(s, \"2024-01-01\"):\n        print(json.dumps(order))\n",
		fill:   []string{"BASE_URL = \"https://api.acme-corp.com/v2\"\n", "RETRIES = 3\n", "class Config:\n    timeout = 30\n    verify_tls = True\n"},
		assign: func(g *Generator, b *builder, x item) {
			if x.multiline {
				b.w(ident(x, pyIdent), " = \"\"\"")
				b.value(x)
				b.w("\"\"\"\n")
				return
			}
			switch g.r.IntN(3) {
			case 0:
				b.w(ident(x, pyIdent), " = \"")
				b.value(x)
				b.w("\"\n")
			case 1:
				b.w("client = Client(", strings.ToLower(ident(x, pyIdent)), "='")
				b.value(x)
				b.w("')\n")
			default:
				b.w("os.environ.setdefault(\"", x.name, "\", \"")
				b.value(x)
				b.w("\")\n")
			}
		},
	},
	{
		name:   "typescript",
		header: "import express from \"express\";\nimport { z } from \"zod\";\n\nconst app = express();\napp.use(express.json());\n\n",
		footer: "\nconst Order = z.object({ id: z.string(), amount: z.number().positive() });\n\napp.post(\"/orders\", async (req, res) => {\n  const parsed = Order.safeParse(req.body);\n  if (!parsed.success) {\n    return res.status(400).json({ error: parsed.error.flatten() });\n  }\n  res.status(201).json(parsed.data);\n});\n\napp.listen(process.env.PORT ?? 3000);\n",
		fill:   []string{"const TIMEOUT_MS = 5_000;\n", "type Status = \"open\" | \"paid\" | \"void\";\n", "export function cents(x: number): number {\n  return Math.round(x * 100);\n}\n"},
		assign: func(g *Generator, b *builder, x item) {
			if x.multiline {
				b.w("const ", ident(x, jsIdent), " = `")
				b.value(x)
				b.w("`;\n")
				return
			}
			switch g.r.IntN(3) {
			case 0:
				b.w("const ", ident(x, jsIdent), " = \"")
				b.value(x)
				b.w("\";\n")
			case 1:
				b.w("const client = new Client({ ", ident(x, jsIdent), ": '")
				b.value(x)
				b.w("' });\n")
			default:
				b.w("process.env.", x.name, " ??= \"")
				b.value(x)
				b.w("\";\n")
			}
		},
	},
	{
		name:   "java",
		header: "package com.acme.orders;\n\nimport java.net.URI;\nimport java.net.http.HttpClient;\nimport java.net.http.HttpRequest;\nimport java.time.Duration;\n\npublic final class OrdersClient {\n",
		footer: "\n    private final HttpClient http = HttpClient.newBuilder()\n            .connectTimeout(Duration.ofSeconds(5))\n            .build();\n\n    public HttpRequest list(String cursor) {\n        return HttpRequest.newBuilder(URI.create(BASE + \"/orders?cursor=\" + cursor))\n                .header(\"Accept\", \"application/json\")\n                .GET()\n                .build();\n    }\n}\n",
		fill:   []string{"    private static final String BASE = \"https://api.acme-corp.com\";\n", "    private static final int MAX_PAGES = 50;\n"},
		assign: func(g *Generator, b *builder, x item) {
			if x.multiline {
				b.w("    private static final String ", ident(x, func(n string) string { return strings.ToUpper(pyIdent(n)) }), " = \"\"\"\n")
				b.value(x)
				b.w("\n\"\"\";\n")
				return
			}
			b.w("    private static final String ", ident(x, func(n string) string { return strings.ToUpper(pyIdent(n)) }), " = \"")
			b.value(x)
			b.w("\";\n")
		},
	},
	{
		name:   "shell",
		header: "#!/usr/bin/env bash\nset -euo pipefail\n\n",
		footer: "\necho \"deploying $(git rev-parse --short HEAD)\"\ndocker build -t \"$IMAGE\" .\ndocker push \"$IMAGE\"\nkubectl rollout restart deployment/orders-api -n prod\nkubectl rollout status deployment/orders-api -n prod --timeout=120s\n",
		fill:   []string{"IMAGE=ghcr.io/acme/orders-api:latest\n", "# retry once on failure\n", "cd \"$(dirname \"$0\")/..\"\n"},
		assign: func(g *Generator, b *builder, x item) {
			if x.multiline {
				b.w("cat > /tmp/key.pem <<'EOF'\n")
				b.value(x)
				b.w("\nEOF\n")
				return
			}
			c := g.r.IntN(3)
			if c == 1 && (x.pii || x.needsKey || !x.bearerOK()) {
				c = 0
			}
			switch c {
			case 0:
				b.w("export ", ident(x, shIdent), "=\"")
				b.value(x)
				b.w("\"\n")
			case 1:
				b.w("curl -fsS -H \"Authorization: Bearer ")
				b.value(x)
				b.w("\" https://api.acme-corp.com/v1/health\n")
			default:
				b.w(ident(x, shIdent), "='")
				b.value(x)
				b.w("'\n")
			}
		},
	},
	{
		name:   "sql",
		header: "-- seed data for the staging database\nBEGIN;\n\nCREATE TABLE IF NOT EXISTS customers (\n    id         BIGSERIAL PRIMARY KEY,\n    name       TEXT NOT NULL,\n    attr       TEXT NOT NULL,\n    value      TEXT NOT NULL,\n    created_at TIMESTAMPTZ NOT NULL DEFAULT now()\n);\n\n",
		footer: "\nCREATE INDEX IF NOT EXISTS customers_name_idx ON customers (name);\nCOMMIT;\n\nSELECT name, count(*) FROM customers GROUP BY name ORDER BY 2 DESC LIMIT 20;\n",
		fill:   []string{"-- keep ids stable across reseeds\n", "UPDATE customers SET name = initcap(name) WHERE name <> initcap(name);\n"},
		assign: func(g *Generator, b *builder, x item) {
			b.w("INSERT INTO customers (name, attr, value) VALUES ('", strings.ReplaceAll(fold.Replace(g.fullName()), "'", ""), "', '", strings.ToLower(x.name), "', '")
			if x.multiline {
				x = x.mapValue(pemToJSON)
			}
			b.value(x)
			b.w("');\n")
		},
	},
}

// ident names a variable after x.name in a language's style, except for values that mean
// nothing without their name (a Datadog key, a password): those keep the name as written, as
// code that reads them from the environment does.
func ident(x item, style func(string) string) string {
	if x.needsKey {
		return pyIdent(x.name)
	}
	return style(x.name)
}

func goIdent(s string) string {
	var o strings.Builder
	up := true
	for _, r := range strings.ToLower(s) {
		if r == '_' || r == '/' || r == ':' || r == '.' || r == '-' {
			up = true
			continue
		}
		if up {
			o.WriteString(strings.ToUpper(string(r)))
			up = false
		} else {
			o.WriteRune(r)
		}
	}
	return o.String()
}

func pyIdent(s string) string {
	return strings.Trim(strings.NewReplacer("/", "_", ":", "_", ".", "_", "-", "_").Replace(s), "_")
}

func jsIdent(s string) string {
	g := goIdent(s)
	return strings.ToLower(g[:1]) + g[1:]
}

func shIdent(s string) string { return strings.ToUpper(pyIdent(s)) }

// code writes a source file in a random language, labelled as code.
func (g *Generator) code(b *builder, its []item) {
	l := langs[g.r.IntN(len(langs))]
	body := func() {
		b.w(l.header)
		for _, f := range l.fill {
			if g.chance(0.7) {
				b.w(f, "\n")
			}
		}
		for _, it := range its {
			for cur := &it; cur != nil; cur = cur.next {
				if cur.noAssign && l.name != "sql" {
					c := map[string]string{"python": "# ", "shell": "# "}[l.name]
					if c == "" {
						c = "// "
					}
					b.w(c, "fixture: ", cur.what, " ")
					b.value(*cur)
					b.w("\n")
					continue
				}
				l.assign(g, b, *cur)
			}
		}
		b.w(l.footer)
	}
	b.region(idCode, body)
}

// ---- logs, traces -------------------------------------------------------------------------------

func (g *Generator) timestamp() string {
	return fmt.Sprintf("2025-%02d-%02dT%02d:%02d:%02d.%03dZ", g.between(1, 12), g.between(1, 28), g.between(0, 23), g.between(0, 59), g.between(0, 59), g.between(0, 999))
}

var logFill = []string{
	"GET /healthz 200 0.4ms", "cache miss for key orders:summary", "worker pool resized from 4 to 8",
	"retrying request attempt=2 backoff=400ms", "flushed 512 events to sink", "config reloaded",
	"slow query took 1843ms", "connection pool exhausted, waiting", "scheduled job nightly-export started",
	"rate limit reached for tenant, throttling", "TLS handshake completed", "shutting down gracefully",
}

func (g *Generator) logLine(b *builder, it item) {
	for cur := &it; cur != nil; cur = cur.next {
		x := *cur
		b.w(g.timestamp(), " ", g.pick("INFO ", "WARN ", "ERROR", "DEBUG"), " [", g.pick("api", "worker", "auth", "billing", "gateway"), "] ")
		if x.multiline {
			x = x.mapValue(pemToJSON)
		}
		c := g.r.IntN(6)
		if c == 1 && (x.pii || !x.bearerOK()) || x.needsKey {
			c = 0
		}
		switch c {
		case 0:
			b.w("loaded ", strings.ToLower(ident(x, pyIdent)), "=")
			b.value(x)
		case 1:
			b.w("request headers: Authorization=Bearer ")
			b.value(x)
		case 2:
			b.w("msg=\"user updated\" field=", strings.ToLower(ident(x, pyIdent)), " value=\"")
			b.value(x)
			b.w("\"")
		case 3:
			if i := strings.Index(x.value, "://"); i > 0 && i < 16 && x.id != "" && g.chance(0.5) {
				b.w("GET /connect?dsn=")
				b.encoded(x, "url")
				b.w(" 502")
			} else {
				b.w("connecting with ", x.what, " ")
				b.value(x)
				b.w(" ...")
			}
		case 4:
			b.w(`{"level":"info","event":"profile_changed","`, strings.ToLower(ident(x, pyIdent)), `":"`)
			b.value(x)
			b.w(`"}`)
		default:
			b.w("validation failed for ", x.what, " '")
			b.value(x)
			b.w("'")
		}
		b.w("\n")
	}
}

func (g *Generator) logs(b *builder, its []item) {
	for _, it := range its {
		for range g.between(1, 4) {
			b.w(g.timestamp(), " ", g.pick("INFO ", "DEBUG"), " [", g.pick("api", "worker", "scheduler"), "] ", g.pick(logFill...), "\n")
		}
		g.logLine(b, it)
	}
	b.w(g.timestamp(), " INFO  [api] ", g.pick(logFill...), "\n")
}

func (g *Generator) trace(b *builder, its []item) {
	msg := func(x item) {
		if x.multiline {
			x = x.mapValue(pemToJSON)
		}
		if x.needsKey {
			g.keyed(b, x)
			return
		}
		b.value(x)
	}
	switch g.r.IntN(3) {
	case 0:
		b.w("Traceback (most recent call last):\n  File \"/srv/app/worker.py\", line ", itoa(g.between(20, 400)), ", in run\n    result = client.call(payload)\n  File \"/srv/app/client.py\", line ", itoa(g.between(20, 200)), ", in call\n    raise AuthError(f\"rejected credentials {creds!r}\")\n")
		for _, it := range its {
			for cur := &it; cur != nil; cur = cur.next {
				b.w("app.client.AuthError: rejected credentials '")
				msg(*cur)
				b.w("'\n")
			}
		}
	case 1:
		for _, it := range its {
			for cur := &it; cur != nil; cur = cur.next {
				b.w("Exception in thread \"main\" java.lang.IllegalStateException: cannot connect using ")
				msg(*cur)
				b.w("\n")
			}
		}
		b.w("\tat com.acme.orders.Db.connect(Db.java:", itoa(g.between(20, 300)), ")\n\tat com.acme.orders.Main.main(Main.java:", itoa(g.between(10, 80)), ")\nCaused by: java.net.ConnectException: Connection refused\n\tat java.base/sun.nio.ch.Net.connect0(Native Method)\n\t... 12 more\n")
	default:
		for _, it := range its {
			for cur := &it; cur != nil; cur = cur.next {
				b.w("panic: auth: token ")
				msg(*cur)
				b.w(" rejected\n\n")
			}
		}
		b.w("goroutine 1 [running]:\nmain.mustAuth(...)\n\t/src/cmd/api/main.go:", itoa(g.between(20, 200)), " +0x1c5\nmain.main()\n\t/src/cmd/api/main.go:", itoa(g.between(10, 60)), " +0x2a\nexit status 2\n")
	}
}

// ---- CSV ---------------------------------------------------------------------------------------

func (g *Generator) csv(b *builder, plant bool) {
	type col struct {
		name string
		kind *itemKind
		bad  *itemKind // decoys mixed into the same column
	}
	find := func(ks []itemKind, label string) *itemKind {
		for i := range ks {
			if ks[i].label == label {
				return &ks[i]
			}
		}
		panic(label)
	}
	cols := []col{{name: "id"}, {name: "name"}}
	if plant && !g.inMiss {
		cols = append(cols, col{name: "email", kind: find(piiKinds, idEmail), bad: find(piiDecoys, "email-example-domain")})
		// Sensitive columns: the least-used PII kinds, as take would choose them.
		sens := []string{idCard, idIBAN, idSSN, idNINO, idNIR, idSteuerID, idDNI, idCodiceFiscale, idBSN, idPESEL, idBENational, idPersonnummer, idPhone}
		bads := map[string]string{idCard: "card-luhn-invalid", idIBAN: "iban-bad-checksum", idSSN: "ssn-invalid", idNINO: "nino-invalid"}
		for _, id := range []string{idNIR, idSteuerID, idDNI, idCodiceFiscale, idBSN, idPESEL, idBENational, idPersonnummer} {
			bads[id] = "national-id-bad-check"
		}
		slices.SortStableFunc(sens, func(a, c string) int { return g.counts[a] - g.counts[c] })
		for _, s := range sens[:g.between(1, 2)] {
			c := col{name: find(piiKinds, s).gen(g).name, kind: find(piiKinds, s)}
			if bl, ok := bads[s]; ok && g.chance(0.5) {
				c.bad = find(piiDecoys, bl)
			}
			cols = append(cols, c)
		}
	}
	cols = append(cols, col{name: "order_id"}, col{name: "amount"}, col{name: "created_at"})
	for i, c := range cols {
		if i > 0 {
			b.w(",")
		}
		b.w(c.name)
	}
	b.w("\n")
	for row := range g.between(4, 10) {
		for i, c := range cols {
			if i > 0 {
				b.w(",")
			}
			switch {
			case c.name == "id":
				b.w(itoa(1000 + row))
			case c.name == "name":
				b.w(`"`, g.fullName(), `"`)
			case c.name == "order_id":
				b.w("ORD-", g.digitsN(6))
			case c.name == "amount":
				b.f("%d.%02d", g.between(1, 2000), g.between(0, 99))
			case c.name == "created_at":
				b.f("2025-%02d-%02d", g.between(1, 12), g.between(1, 28))
			case c.bad != nil && g.chance(0.25):
				g.counts[c.bad.label]++
				b.value(c.bad.gen(g))
			default:
				g.counts[c.kind.label]++
				b.value(c.kind.gen(g))
			}
		}
		b.w("\n")
	}
}

// ---- e-mail, notes ---------------------------------------------------------------------------

func (g *Generator) marker(b *builder) {
	m := markers[g.r.IntN(len(markers))]
	start := b.pos()
	b.w(m.text)
	b.labels = append(b.labels, Label{Start: start, End: b.pos(), Detector: m.id})
}

func (g *Generator) emailDoc(b *builder, its []item) {
	from := g.fullName()
	b.w("From: ", from, " <")
	sender := pos(idEmail, "from", "sender", strings.ToLower(fold.Replace(strings.ReplaceAll(from, " ", ".")))+"@"+g.companyDomain())
	b.value(sender)
	b.w(">\nSubject: ", g.pick("Re: ", "Fwd: ", ""), g.pick("Q3 vendor review", "Customer escalation", "Access for the new contractor", "Refund request", "Payroll correction", "Migration plan"), "\n\n")
	if g.chance(0.4) {
		g.marker(b)
		b.w("\n\n")
	}
	b.w(g.pick("Hi team,", "Hello,", "Hi "+g.firstName()+",", "Dear colleagues,"), "\n\n")
	g.prose(b, g.between(1, 2))
	b.w("\n\n")
	for _, it := range its {
		g.sentence(b, it)
	}
	b.w("\n\n")
	g.prose(b, 1)
	b.w("\n\n", g.pick("Best,", "Thanks,", "Cheers,", "Kind regards,"), "\n", from, "\n")
}

func (g *Generator) notes(b *builder, its []item) {
	b.w("# ", g.pick("Weekly sync", "Incident review", "Vendor call", "Hiring committee", "Board prep"), " — ", fmt.Sprintf("2025-%02d-%02d", g.between(1, 12), g.between(1, 28)), "\n\n")
	if g.chance(0.6) {
		b.w("Classification: ")
		g.marker(b)
		b.w("\n\n")
	}
	b.w("Attendees: ", g.fullName(), ", ", g.fullName(), ", ", g.fullName(), "\n\n## Notes\n")
	for _, it := range its {
		b.w("- ")
		g.prose(b, 1)
		b.w("\n")
		b.w("- ")
		g.sentence(b, it)
		b.w("\n")
	}
	b.w("\n## Action items\n- [ ] ", g.firstName(), " to follow up with the vendor\n- [ ] ", g.firstName(), " to update the runbook\n")
}

// base64Doc: a prompt around a base64 blob that hides an .env file (positives) or a blob of
// look-alikes and random bytes (decoys only).
func (g *Generator) base64Doc(b *builder, plant bool) {
	b.w(g.pick("Decode this and tell me what it configures:", "What's in this base64? It came from a k8s secret.", "This was in the CI logs, can you decode it?"), "\n\n")
	switch {
	case plant && g.chance(0.6):
		its := g.plan(g.between(3, 5), 0, 0, 0)
		b.base64Of(func(in *builder) { g.envLines(in, its) }, g.pick2(0, 76))
	case plant:
		its := g.plan(0, 0, g.between(1, 2), 0)
		b.base64Of(func(in *builder) { g.envLines(in, its) }, g.pick2(0, 76))
	default:
		b.w(b64(g.bytes(g.between(60, 400))))
	}
	b.w("\n\n", g.pick(closers...))
}

// Prompt returns a chat prompt of exactly size bytes (size ≥ 1 KiB) in which nsecrets secrets
// sit in a pasted code block, and the prompt's labels: the shape of an ordinary request.
func (g *Generator) Prompt(size, nsecrets int) (string, []Label) {
	b := &builder{}
	b.w(g.pick(openers...), " ")
	g.prose(b, 2)
	b.w("\n\n```\n")
	var its []item
	for len(its) < nsecrets {
		if it := g.take(secretKinds); !it.multiline && it.next == nil {
			its = append(its, it)
		}
	}
	l := langs[g.r.IntN(len(langs))]
	b.region(idCode, func() {
		b.w(l.header)
		for _, it := range its {
			l.assign(g, b, it)
		}
		b.w(l.footer)
	})
	b.w("```\n\n")
	for b.pos() < size {
		g.prose(b, 1)
		b.w(" ")
	}
	text := b.sb.String()
	if len(text) > size {
		text = text[:size]
		// Cut at a character boundary (prose has multi-byte names).
		for !utf8.ValidString(text) {
			text = text[:len(text)-1]
		}
		text += strings.Repeat(" ", size-len(text))
	}
	return text, b.labels
}
