package catalog_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/customs-dev/customs/internal/golden"

	"github.com/customs-dev/customs/catalog"
)

// lookupHosts are the hosts of testdata/lookup.golden, in its order.
var lookupHosts = []string{
	// exact
	"api.openai.com",
	"chatgpt.com",
	"api.anthropic.com",
	"statsig.anthropic.com",
	"generativelanguage.googleapis.com",
	"api.mistral.ai",
	"open.bigmodel.cn",
	"router.huggingface.co",
	"openrouter.ai",
	"dashscope-intl.aliyuncs.com",
	"api.github.com",
	"api.mixpanel.com",
	"us.i.posthog.com",
	"sentry.io",
	"www.datadoghq-browser-agent.com",
	"app.launchdarkly.com",
	"in.hotjar.com",
	"api.smith.langchain.com",
	"cloud.langfuse.com",
	"us.cloud.langfuse.com",
	"oai.helicone.ai",
	"trace.wandb.ai",
	"otlp.arize.com",
	"api.braintrust.dev",
	"api.portkey.ai",
	"gateway.ai.cloudflare.com",
	"api.cerebras.ai",
	"api.sambanova.ai",
	"integrate.api.nvidia.com",
	"api.aleph-alpha.com",
	"api.minimax.io",
	"qianfan.baidubce.com",
	"api.hunyuan.cloud.tencent.com",
	"cloudcode-pa.googleapis.com",
	"www.notion.so",
	"www.google-analytics.com",
	// wildcard
	"myres.openai.azure.com",
	"my-proj.services.ai.azure.com",
	"model.westus.inference.ai.azure.com",
	"my-endpoint.us-east-1.aws.endpoints.huggingface.cloud",
	"api.individual.githubcopilot.com",
	"api2.cursor.sh",
	"cursor.sh",
	"app.posthog.com",
	"nexus-websocket-a.intercom.io",
	"widget.intercom-messenger.com",
	"script.hotjar.com",
	"server.codeium.com",
	"api.tabnine.com",
	"api.jetbrains.ai",
	"api.app.prod.grazie.aws.intellij.net",
	"capi.grammarly.com",
	"api.elevenlabs.io",
	"my-app--serve.modal.run",
	"llama3.lepton.run",
	"oai.endpoints.kepler.ai.cloud.ovh.net",
	"my-agent-1a2b.us.langgraph.app",
	"t.contentsquare.net",
	"static.hj.contentsquare.net",
	"k.clarity.ms",
	"com-acme-prod1.collector.snplow.net",
	"acme.dataplane.rudderstack.com",
	// template
	"bedrock-runtime.us-east-1.amazonaws.com",
	"bedrock-runtime-fips.us-gov-west-1.amazonaws.com",
	"bedrock-agent-runtime.eu-central-1.amazonaws.com",
	"aws-external-anthropic.us-west-2.api.aws",
	"eu-west-1.api.x.ai",
	"us-central1-aiplatform.googleapis.com",
	"aiplatform.googleapis.com",
	"ws-123.cn-beijing.maas.aliyuncs.com",
	"copilot-api.octo.ghe.com",
	"o4507.ingest.sentry.io",
	"o4507.ingest.us.sentry.io",
	"o4507.de.ingest.sentry.io",
	"js-de.sentry-cdn.com",
	"browser-intake-us5-datadoghq.com",
	"rum.browser-intake-datadoghq.eu",
	"http-intake.logs.us3.datadoghq.com",
	"http-intake.logs.ddog-gov.com",
	"uploads.au.intercomcdn.com",
	"ark.cn-beijing.volces.com",
	"us-south.ml.cloud.ibm.com",
	"inference.generativeai.eu-paris-1.oci.oraclecloud.com",
	"model-abc123.api.baseten.co",
	"sdk.iad-05.braze.com",
	"rest.fra-01.braze.eu",
	"acme.sc.omtrdc.net",
	// spellings a Host header or SNI may carry
	"API.OpenAI.com",
	"api.openai.com:443",
	"api.openai.com.",
	"api.anthropic.com.:8443",
	"MyRes.OpenAI.Azure.COM:443",
	"Bedrock-Runtime.US-EAST-1.amazonaws.com.",
	// near misses
	"api.openai.com.evil.com",
	"evilopenai.com",
	"openai.com",
	"api.openai.com..",
	"api.firewor\u212As.ai", // Kelvin sign, which Unicode lower-cases to k
	"s3.amazonaws.com",
	"bedrock.us-east-1.amazonaws.com",
	"bedrock-runtime.amazonaws.com",
	"openai.azure.com",
	"a.b.openai.azure.com",
	"myres.openai.azure.com.evil.com",
	"notposthog.com",
	"posthog.com.evil.com",
	"o45x7.ingest.sentry.io",
	"ingest.sentry.io",
	"uploads.intercomcdn.org",
	"datadoghq.com",
	"http-intake.logs.us9.datadoghq.com",
	"www.google.com",
	"smith.langchain.com.evil.com",
	"langfuse.com",
	"cloud.langfuse.com.evil.com",
	"api.cerebras.ai.evil.com",
	"modal.run",
	"sdk.iad-01.braze.com.evil.com",
	"ml.cloud.ibm.com",
	"generativeai.eu-paris-1.oci.oraclecloud.com",
	"kepler.ai.cloud.ovh.net",
	"notslack.com",
	"googleapis.com",
	"oauth2.googleapis.com",
	"localhost",
	"10.0.0.1:8080",
	"[2001:db8::1]:443",
	"2001:db8::1",
}

func TestLookupGolden(t *testing.T) {
	c, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	width := 0
	for _, h := range lookupHosts {
		width = max(width, len(fmt.Sprintf("%+q", h)))
	}
	for _, h := range lookupHosts {
		id := "-"
		if v, ok := c.Lookup(h); ok {
			id = v.ID
		}
		// Quoted so that the odd spellings (a trailing dot, a Kelvin sign) stay visible.
		fmt.Fprintf(&b, "%-*s -> %s\n", width, fmt.Sprintf("%+q", h), id)
	}
	got := b.String()

	golden.Check(t, filepath.Join("testdata", "lookup.golden"), []byte(got))
}

// TestBuiltinHasEveryVendor pins the vendor list: the 34 vendors of the reference (vendors.yaml)
// and the 71 that issue 13 added (AI coding tools and SaaS AI features, model vendors, routers and
// inference hosts, LLM-observability services, analytics and session replay).
func TestBuiltinHasEveryVendor(t *testing.T) {
	want := []string{
		"adobe-analytics", "ai21", "aleph-alpha", "alibaba-dashscope", "amplitude", "anthropic", "anyscale",
		"arize", "assemblyai", "aws-bedrock", "azure-openai", "baidu-qianfan", "baseten", "braintrust",
		"braze", "cerebras", "cloudflare-ai-gateway", "cohere", "comet-opik", "contentsquare", "cursor",
		"customer-io", "datadog", "deepgram", "deepinfra", "deepseek", "elevenlabs", "fireworks-ai",
		"fullstory", "github-copilot", "google-analytics", "google-code-assist", "google-gemini",
		"google-vertex-ai", "grammarly", "groq", "heap", "helicone", "hotjar", "huggingface", "humanloop",
		"hyperbolic", "ibm-watsonx", "intercom", "jetbrains-ai", "jina-ai", "lambda", "langfuse",
		"langsmith", "launchdarkly", "lepton-ai", "logrocket", "lunary", "meta-llama-api",
		"microsoft-clarity", "midjourney", "minimax", "mistral", "mixpanel", "modal", "moonshot-ai",
		"mouseflow", "mparticle", "nebius", "notion", "novita-ai", "nvidia-nim", "openai", "openrouter",
		"oracle-oci-genai", "otter", "ovhcloud-ai", "pendo", "perplexity", "portkey", "posthog",
		"quantum-metric", "reka", "replicate", "rudderstack", "runway", "sambanova", "sarvam", "scaleway",
		"segment", "sentry", "slack", "smartlook", "snowplow", "sourcegraph", "stability-ai", "statsig",
		"tabnine", "tencent-hunyuan", "together-ai", "traceloop", "upstage", "volcengine-ark", "voyage-ai",
		"wandb", "windsurf", "writer", "xai", "zhipu-ai", "zoom",
	}
	c, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range c.Vendors() {
		got = append(got, v.ID)
		if len(v.Hosts) == 0 {
			t.Errorf("vendor %q has no hosts", v.ID)
		}
		// Every host of a vendor must lead back to it, or the vendor is unreachable in part.
		for _, h := range v.Hosts {
			if h.Match != catalog.MatchExact {
				continue
			}
			if got, ok := c.Lookup(h.Pattern); !ok || got.ID != v.ID {
				t.Errorf("Lookup(%q) = %v, want vendor %q", h.Pattern, got, v.ID)
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("vendors:\n got  %q\n want %q", got, want)
	}
}

// TestBuiltinFacts holds every vendor to what a responder needs of it: at least one host, a
// headquarters country and a source; every host and endpoint says what its claim rests on; and
// a claim marked verified rests on the vendor's own documentation, specification or SDK, read
// (a source whose note says it was not read does not count).
func TestBuiltinFacts(t *testing.T) {
	c, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	verifying := map[string]bool{"vendor-doc": true, "vendor-spec": true, "vendor-sdk": true}
	for _, v := range c.Vendors() {
		if len(v.Hosts) == 0 || v.Country == "" || len(v.Sources) == 0 {
			t.Errorf("vendor %q: %d hosts, headquarters %q, %d sources; want a host, a country and a source", v.ID, len(v.Hosts), v.Country, len(v.Sources))
		}
		read := false
		for _, s := range v.Sources {
			read = read || !strings.HasPrefix(s.Note, "not read")
		}
		claim := func(what string, verified bool, evidence string) {
			switch {
			case evidence == "":
				t.Errorf("vendor %q: %s has no evidence", v.ID, what)
			case verified && !verifying[evidence]:
				t.Errorf("vendor %q: %s is verified on %s evidence", v.ID, what, evidence)
			case verified && !read:
				t.Errorf("vendor %q: %s is verified but every source says it was not read", v.ID, what)
			}
		}
		for _, h := range v.Hosts {
			claim("host "+h.Pattern, h.Verified, h.Evidence)
		}
		for _, e := range v.Endpoints {
			claim("endpoint "+e.Method+" "+e.Path, e.Verified, e.Evidence)
		}
		if s := v.Subprocessors; s != nil && len(s.Entries) > 0 && s.Source == "" && len(v.Sources) == 0 {
			t.Errorf("vendor %q: a subprocessor list without a source", v.ID)
		}
	}
}

func TestBuiltinIsShared(t *testing.T) {
	a, errA := catalog.Builtin()
	b, errB := catalog.Builtin()
	if errA != nil || errB != nil || a != b {
		t.Fatalf("Builtin returned %p, %v and %p, %v; want one catalog", a, errA, b, errB)
	}
}

func TestVendorsIsACopy(t *testing.T) {
	c, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	vs := c.Vendors()
	vs[0] = nil
	if c.Vendors()[0] == nil {
		t.Fatal("Vendors exposes the catalog's own slice")
	}
}

func TestIsAI(t *testing.T) {
	for category, want := range map[string]bool{
		"ai-provider": true, "ai-platform": true, "ai-tool": true,
		"analytics": false, "session-replay": false, "saas-ai": false, "": false, "AI-PROVIDER": false,
	} {
		if got := catalog.IsAI(category); got != want {
			t.Errorf("IsAI(%q) = %v, want %v", category, got, want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"api.openai.com":         "api.openai.com",
		"API.OpenAI.com:443":     "api.openai.com",
		"api.openai.com.":        "api.openai.com",
		"api.openai.com.:443":    "api.openai.com",
		"[2001:DB8::1]:443":      "2001:db8::1",
		"2001:db8::1":            "2001:db8::1",
		"":                       "",
		"\u212Aelvin.example":    "\u212Aelvin.example",
		"caf\u00c9.example:8080": "caf\u00c9.example",
	} {
		if got := catalog.Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewCopiesItsInput(t *testing.T) {
	vendors := []catalog.Vendor{{
		ID: "acme", Name: "Acme", Category: "ai-provider", Country: "US",
		Hosts: []catalog.Host{{Pattern: "api.acme.test", Match: "exact"}},
	}}
	c, err := catalog.New(vendors)
	if err != nil {
		t.Fatal(err)
	}
	vendors[0].ID = "changed"
	vendors[0].Hosts[0].Pattern = "changed.test"
	if v, ok := c.Lookup("api.acme.test"); !ok || v.ID != "acme" || v.Hosts[0].Pattern != "api.acme.test" {
		t.Fatalf("Lookup after the caller changed its slice = %+v, %v", v, ok)
	}
}

func TestNewValidation(t *testing.T) {
	acme := func(hosts ...catalog.Host) catalog.Vendor {
		return catalog.Vendor{ID: "acme", Name: "Acme", Category: "ai-provider", Country: "US", Hosts: hosts}
	}
	exact := func(h string) catalog.Host { return catalog.Host{Pattern: h, Match: "exact"} }
	wildcard := func(p, re string) catalog.Host { return catalog.Host{Pattern: p, Match: "wildcard", Regex: re} }
	with := func(v catalog.Vendor, edit func(*catalog.Vendor)) catalog.Vendor { edit(&v); return v }

	bolt := func(hosts ...catalog.Host) catalog.Vendor {
		return catalog.Vendor{ID: "bolt", Name: "Bolt", Category: "analytics", Country: "DE", Hosts: hosts}
	}
	rel := func(from, to []string, kind string, external ...string) catalog.Relationship {
		return catalog.Relationship{From: from, To: to, Kind: kind, External: external}
	}
	endpoint := func(method, path string) func(*catalog.Vendor) {
		return func(v *catalog.Vendor) {
			v.Endpoints = append(v.Endpoints, catalog.Endpoint{Method: method, Path: path})
		}
	}
	tests := []struct {
		name    string
		vendors []catalog.Vendor
		rels    []catalog.Relationship
		want    []string // substrings of the error; none for a valid catalog
	}{
		{name: "valid", vendors: []catalog.Vendor{acme(exact("api.acme.test"), wildcard("*.acme.test", `^[a-z]+\.acme\.test$`))}},
		{name: "empty catalog", vendors: nil},
		{name: "empty id", vendors: []catalog.Vendor{with(acme(), func(v *catalog.Vendor) { v.ID = "" })}, want: []string{`vendor "": empty id`}},
		{name: "upper-case id", vendors: []catalog.Vendor{with(acme(), func(v *catalog.Vendor) { v.ID = "Acme" })}, want: []string{`vendor "Acme": id must be lower-case`}},
		{name: "duplicate id", vendors: []catalog.Vendor{acme(exact("a.acme.test")), acme(exact("b.acme.test"))}, want: []string{`vendor "acme": duplicate id`}},
		{name: "empty name", vendors: []catalog.Vendor{with(acme(), func(v *catalog.Vendor) { v.Name = "" })}, want: []string{"empty name"}},
		{name: "unknown category", vendors: []catalog.Vendor{with(acme(), func(v *catalog.Vendor) { v.Category = "ai" })}, want: []string{`vendor "acme": unknown category "ai"`}},
		{name: "lower-case country", vendors: []catalog.Vendor{with(acme(), func(v *catalog.Vendor) { v.Country = "us" })}, want: []string{`headquarters: country code "us" must be upper case ("US")`}},
		{name: "three-letter country", vendors: []catalog.Vendor{with(acme(), func(v *catalog.Vendor) { v.Country = "USA" })}, want: []string{`headquarters: "USA" is not an ISO 3166-1 alpha-2 country code`}},
		{name: "unassigned country", vendors: []catalog.Vendor{with(acme(), func(v *catalog.Vendor) { v.Country = "XX" })}, want: []string{`headquarters: "XX" is not an ISO 3166-1`}},
		{name: "UK for GB", vendors: []catalog.Vendor{with(acme(), func(v *catalog.Vendor) { v.Country = "UK" })}, want: []string{`the United Kingdom is "GB"`}},
		{name: "missing country", vendors: []catalog.Vendor{with(acme(), func(v *catalog.Vendor) { v.Country = "" })}, want: []string{`headquarters: missing country code`}},
		{name: "exact host with upper case", vendors: []catalog.Vendor{acme(exact("API.acme.test"))}, want: []string{`vendor "acme": host "API.acme.test": exact host must be`}},
		{name: "exact host with port", vendors: []catalog.Vendor{acme(exact("api.acme.test:443"))}, want: []string{`host "api.acme.test:443"`}},
		{name: "exact host with wildcard", vendors: []catalog.Vendor{acme(exact("*.acme.test"))}, want: []string{`host "*.acme.test"`}},
		{name: "exact host with regex", vendors: []catalog.Vendor{acme(catalog.Host{Pattern: "api.acme.test", Match: "exact", Regex: "^x$"})}, want: []string{"exact host has a regex"}},
		{name: "unknown match", vendors: []catalog.Vendor{acme(catalog.Host{Pattern: "api.acme.test", Match: "prefix"})}, want: []string{`match "prefix"`}},
		{name: "missing regex", vendors: []catalog.Vendor{acme(wildcard("*.acme.test", ""))}, want: []string{`host "*.acme.test": missing regex`}},
		{name: "regex does not compile", vendors: []catalog.Vendor{acme(wildcard("*.acme.test", `^([a-z]+\.acme\.test$`))}, want: []string{`host "*.acme.test": compile regex`}},
		{name: "regex not anchored at start", vendors: []catalog.Vendor{acme(wildcard("*.acme.test", `[a-z]+\.acme\.test$`))}, want: []string{"not anchored"}},
		{name: "regex not anchored at end", vendors: []catalog.Vendor{acme(wildcard("*.acme.test", `^[a-z]+\.acme\.test`))}, want: []string{"not anchored"}},
		{
			name:    "exact host claimed twice",
			vendors: []catalog.Vendor{acme(exact("api.shared.test")), with(acme(exact("api.shared.test")), func(v *catalog.Vendor) { v.ID = "bolt" })},
			want:    []string{`vendor "bolt": host "api.shared.test": also claimed by vendor "acme"`},
		},
		{
			name: "regex claims another vendor's exact host",
			vendors: []catalog.Vendor{
				acme(exact("api.bolt.test")),
				with(acme(wildcard("*.bolt.test", `^[a-z]+\.bolt\.test$`)), func(v *catalog.Vendor) { v.ID = "bolt" }),
			},
			want: []string{`vendor "bolt": regex`, `also matches host "api.bolt.test" of vendor "acme"`},
		},
		{
			name: "same regex for two vendors",
			vendors: []catalog.Vendor{
				acme(wildcard("*.x.test", `^[a-z]+\.x\.test$`)),
				with(acme(wildcard("*.x.test", `^[a-z]+\.x\.test$`)), func(v *catalog.Vendor) { v.ID = "bolt" }),
			},
			want: []string{`vendor "bolt": regex`, `also claimed by vendor "acme"`},
		},
		{
			name: "wildcard overlaps another vendor's wildcard",
			vendors: []catalog.Vendor{
				acme(wildcard("*.x.test", `^([a-z0-9-]+\.)*x\.test$`)),
				bolt(wildcard("*.api.x.test", `^[a-z]+\.api\.x\.test$`)),
			},
			want: []string{`overlaps regex`, `(both match "a.api.x.test")`},
		},
		{
			name: "template overlaps a wildcard through an optional part",
			vendors: []catalog.Vendor{
				acme(wildcard("*.amazonaws.test", `^([a-z0-9-]+\.)+amazonaws\.test$`)),
				bolt(catalog.Host{Pattern: "rt.{region}.amazonaws.test", Match: "template", Regex: `^rt(-fips)?\.[a-z0-9-]+\.amazonaws\.test$`}),
			},
			want: []string{`both match "rt.a.amazonaws.test"`},
		},
		{
			name: "disjoint patterns under one domain",
			vendors: []catalog.Vendor{
				acme(wildcard("a-*.x.test", `^a-[a-z]+\.x\.test$`)),
				bolt(wildcard("b-*.x.test", `^b-[a-z]+\.x\.test$`)),
			},
		},
		{name: "endpoint method", vendors: []catalog.Vendor{with(acme(), endpoint("FETCH", "/v1/x"))}, want: []string{`endpoint FETCH /v1/x: method "FETCH" is not an HTTP method`}},
		{name: "endpoint method as the reference spells a pair", vendors: []catalog.Vendor{with(acme(), endpoint("GET/POST", "/x"))}, want: []string{`method "GET/POST" is not`}},
		{name: "endpoint method in lower case", vendors: []catalog.Vendor{with(acme(), endpoint("post", "/x"))}, want: []string{`method "post" is not`}},
		{name: "endpoint without path", vendors: []catalog.Vendor{with(acme(), endpoint("POST", ""))}, want: []string{`endpoint POST: empty path`}},
		{name: "every HTTP method", vendors: []catalog.Vendor{with(acme(), func(v *catalog.Vendor) {
			for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"} {
				endpoint(m, "/x")(v)
			}
		})}},
		{
			name: "endpoint on another vendor's host",
			vendors: []catalog.Vendor{
				with(acme(exact("api.acme.test")), func(v *catalog.Vendor) {
					v.Endpoints = []catalog.Endpoint{{Method: "POST", Path: "/x", Host: "api.bolt.test"}, {Method: "POST", Path: "/y", Host: "api.acme.test"}}
				}),
				bolt(exact("api.bolt.test")),
			},
			want: []string{`endpoint POST /x: host "api.bolt.test" is not one of the vendor's hosts`},
		},
		{name: "unknown evidence", vendors: []catalog.Vendor{acme(catalog.Host{Pattern: "a.acme.test", Match: "exact", Evidence: "hearsay"})}, want: []string{`unknown evidence "hearsay"`}},
		{name: "subcategory", vendors: []catalog.Vendor{with(acme(), func(v *catalog.Vendor) { v.Subcategory = "Model Developer" })}, want: []string{`subcategory "Model Developer"`}},
		{name: "ip range", vendors: []catalog.Vendor{with(acme(), func(v *catalog.Vendor) { v.IPRanges = &catalog.IPRanges{Inbound: []string{"10.0.0.0/33"}} })}, want: []string{"ip_ranges"}},
		{name: "source not a URL", vendors: []catalog.Vendor{with(acme(), func(v *catalog.Vendor) { v.Sources = []catalog.Source{{URL: "vendor docs"}} })}, want: []string{`source: "vendor docs" is not an http(s) URL`}},
		{name: "subprocessors without entries or status", vendors: []catalog.Vendor{with(acme(), func(v *catalog.Vendor) { v.Subprocessors = &catalog.Subprocessors{} })}, want: []string{"no entries and no status"}},
		{
			name: "subprocessor country",
			vendors: []catalog.Vendor{with(acme(), func(v *catalog.Vendor) {
				v.Subprocessors = &catalog.Subprocessors{Entries: []catalog.Subprocessor{{Name: "Cloud", Countries: []string{"US", "EU"}}}}
			})},
			want: []string{`subprocessor "Cloud": "EU" is not an ISO 3166-1`},
		},
		{name: "relationship", vendors: []catalog.Vendor{acme(), bolt()}, rels: []catalog.Relationship{rel([]string{"acme"}, []string{"bolt"}, "subprocessor")}},
		{name: "relationship to an external company", vendors: []catalog.Vendor{acme()}, rels: []catalog.Relationship{rel([]string{"acme"}, []string{"parentco"}, "parent-company", "parentco")}},
		{name: "relationship to an unknown id", vendors: []catalog.Vendor{acme()}, rels: []catalog.Relationship{rel([]string{"acme"}, []string{"blot"}, "subprocessor")}, want: []string{`unknown vendor "blot" (list it under external`}},
		{name: "relationship from an unknown id", vendors: []catalog.Vendor{acme()}, rels: []catalog.Relationship{rel([]string{"nope", "acme"}, []string{"acme"}, "subprocessor")}, want: []string{`unknown vendor "nope"`, `"acme" relates to itself`}},
		{name: "vendor listed as external", vendors: []catalog.Vendor{acme(), bolt()}, rels: []catalog.Relationship{rel([]string{"acme"}, []string{"bolt"}, "subprocessor", "bolt")}, want: []string{`"bolt" is listed as external but is a catalog vendor`}},
		{name: "external not used", vendors: []catalog.Vendor{acme(), bolt()}, rels: []catalog.Relationship{rel([]string{"acme"}, []string{"bolt"}, "subprocessor", "other")}, want: []string{`"other" is listed as external but is neither a from nor a to`}},
		{name: "relationship kind", vendors: []catalog.Vendor{acme(), bolt()}, rels: []catalog.Relationship{rel([]string{"acme"}, []string{"bolt"}, "subprocesor")}, want: []string{`unknown kind "subprocesor"`}},
		{name: "relationship without to", vendors: []catalog.Vendor{acme()}, rels: []catalog.Relationship{rel([]string{"acme"}, nil, "subprocessor")}, want: []string{"needs at least one from and one to"}},
		{
			name: "every problem reported at once",
			vendors: []catalog.Vendor{with(acme(exact("BAD"), wildcard("*.x", "x")), func(v *catalog.Vendor) {
				v.Category = "nope"
				v.Country = "x"
			})},
			want: []string{"unknown category", "headquarters", `host "BAD"`, `host "*.x"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := catalog.New(tt.vendors, tt.rels...)
			if len(tt.want) == 0 {
				if err != nil || c == nil {
					t.Fatalf("New = %v, %v; want a catalog", c, err)
				}
				return
			}
			if err == nil {
				t.Fatal("New accepted an invalid catalog")
			}
			if c != nil {
				t.Error("New returned a catalog with its error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestUngatedPattern checks that the suffix index does not hide hosts: a regex whose suffix pins
// no label pair (here, any label ending in "acme") must still be tried.
func TestUngatedPattern(t *testing.T) {
	c, err := catalog.New([]catalog.Vendor{{
		ID: "acme", Name: "Acme", Category: "analytics", Country: "DE",
		Hosts: []catalog.Host{
			{Pattern: "*acme.test", Match: "wildcard", Regex: `^[a-z]*acme\.test$`},
			{Pattern: "*.ACME.example", Match: "wildcard", Regex: `^(?i)[a-z]+\.acme\.example$`},
			{Pattern: "{x}.acme.dev", Match: "template", Regex: `^.+\.acme\.dev$`},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{
		"acme.test": true, "superacme.test": true, "super.acme.test": false,
		"x.acme.example": true, "a.b.acme.dev": true, "acme.dev": false,
	} {
		if _, ok := c.Lookup(host); ok != want {
			t.Errorf("Lookup(%q) found = %v, want %v", host, ok, want)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	c, err := catalog.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	sets := []struct {
		name  string
		hosts []string
	}{
		{"mixed", []string{
			"api.openai.com", "www.google.com", "myres.openai.azure.com",
			"s3.amazonaws.com", "bedrock-runtime.us-east-1.amazonaws.com", "github.com",
			"fonts.gstatic.com", "o4507.ingest.sentry.io", "api.anthropic.com:443",
			"login.microsoftonline.com", "cdn.jsdelivr.net", "us.i.posthog.com",
			"registry.npmjs.org", "update.googleapis.com", "browser-intake-datadoghq.com",
			"example.internal.corp",
		}},
		{"miss", []string{"www.google.com", "fonts.gstatic.com", "cdn.jsdelivr.net", "registry.npmjs.org", "example.internal.corp"}},
		{"exact", []string{"api.openai.com", "api.anthropic.com", "github.com", "us.i.posthog.com"}},
		{"pattern", []string{"myres.openai.azure.com", "bedrock-runtime.us-east-1.amazonaws.com", "o4507.ingest.sentry.io", "app.posthog.com"}},
	}
	for _, set := range sets {
		b.Run(set.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				c.Lookup(set.hosts[n%len(set.hosts)])
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lookups/s")
		})
	}
}

// naive is the catalog without its index: every exact host compared and every regex run.
// Lookup must agree with it on every input.
type naive struct {
	vendors []*catalog.Vendor
	res     map[*catalog.Vendor][]*regexp.Regexp
}

func newNaive(t testing.TB, c *catalog.Catalog) *naive {
	n := &naive{vendors: c.Vendors(), res: make(map[*catalog.Vendor][]*regexp.Regexp)}
	for _, v := range n.vendors {
		for _, h := range v.Hosts {
			if h.Regex != "" {
				n.res[v] = append(n.res[v], regexp.MustCompile(`^(?:`+h.Regex+`)$`))
			}
		}
	}
	return n
}

func (n *naive) lookup(host string) *catalog.Vendor {
	host = catalog.Normalize(host)
	for _, v := range n.vendors {
		for _, h := range v.Hosts {
			if h.Match == catalog.MatchExact && h.Pattern == host {
				return v
			}
		}
	}
	for _, v := range n.vendors {
		for _, re := range n.res[v] {
			if re.MatchString(host) {
				return v
			}
		}
	}
	return nil
}

func TestLookupAgreesWithNaive(t *testing.T) {
	c, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	n := newNaive(t, c)
	for _, h := range lookupHosts {
		got, _ := c.Lookup(h)
		if want := n.lookup(h); got != want {
			t.Errorf("Lookup(%q) = %v, naive lookup = %v", h, got, want)
		}
	}
}

func FuzzLookup(f *testing.F) {
	for _, h := range lookupHosts {
		f.Add(h)
	}
	c, err := catalog.Builtin()
	if err != nil {
		f.Fatal(err)
	}
	n := newNaive(f, c)
	f.Fuzz(func(t *testing.T, host string) {
		v, ok := c.Lookup(host)
		if ok != (v != nil) {
			t.Fatalf("Lookup(%q) = %v, %v", host, v, ok)
		}
		if want := n.lookup(host); v != want {
			t.Fatalf("Lookup(%q) = %v, naive lookup = %v", host, v, want)
		}
	})
}
