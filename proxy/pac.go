package proxy

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/customs-dev/customs/catalog"
)

// PAC writes a proxy auto-config file (the JavaScript FindProxyForURL browsers and operating
// systems fetch) that sends the hosts customs opens to the proxy at addr ("host:port") and
// everything else DIRECT: the catalog's hosts (exact, wildcard and template patterns) and the
// scope's intercept list, never the never-intercept list; with InterceptAll, every host.
//
// There is no DIRECT fallback after the proxy: if customs is down, traffic to an AI vendor
// fails rather than leaving unseen.
func PAC(s Scope, vendors []*catalog.Vendor, addr string) []byte {
	var exact, suffixes, regexes []string
	seen := map[string]bool{}
	add := func(list *[]string, v string) {
		if !seen[v] {
			seen[v] = true
			*list = append(*list, v)
		}
	}
	for _, v := range vendors {
		for _, h := range v.Hosts {
			switch {
			case h.Match == "exact":
				add(&exact, h.Pattern)
			case h.Match == "wildcard" && strings.HasPrefix(h.Pattern, "*."):
				add(&suffixes, h.Pattern[1:])
			case h.Regex != "":
				// The catalog's patterns are RE2 anchored with ^ and $, which JavaScript reads
				// alike.
				add(&regexes, h.Regex)
			}
		}
	}
	for h := range s.Intercept.exact {
		add(&exact, h)
	}
	suffixes = append(suffixes, s.Intercept.suffixes...)
	var never []string
	for h := range s.Never.exact {
		never = append(never, h)
	}
	slices.Sort(exact)
	slices.Sort(never)
	all := s.Mode == InterceptAll || s.Intercept.any

	var b bytes.Buffer
	fmt.Fprintf(&b, `// customs proxy auto-config, generated from the vendor catalog in force (%d vendors) and the
// scope (intercept %s). Hosts customs inspects go to it, with no DIRECT fallback: if customs
// is down, traffic to them fails rather than leaving unseen. Everything else goes DIRECT.
var customs = %s;
var all = %t;
`, len(vendors), cmp.Or(string(s.Mode), string(InterceptCatalog)), strconv.Quote("PROXY "+addr), all)
	writeSet(&b, "exact", exact)
	writeList(&b, "suffixes", suffixes, strconv.Quote)
	writeList(&b, "patterns", regexes, func(r string) string { return "/" + strings.ReplaceAll(r, "/", `\/`) + "/" })
	writeSet(&b, "never", never)
	writeList(&b, "neverSuffixes", s.Never.suffixes, strconv.Quote)
	b.WriteString(`
function endsWithAny(host, list) {
  for (var i = 0; i < list.length; i++) {
    var s = list[i];
    if (host.length > s.length && host.substring(host.length - s.length) === s) return true;
  }
  return false;
}

function FindProxyForURL(url, host) {
  host = host.toLowerCase();
  if (host.charAt(host.length - 1) === ".") host = host.substring(0, host.length - 1);
  if (never[host] || endsWithAny(host, neverSuffixes)) return "DIRECT";
  if (all || exact[host] || endsWithAny(host, suffixes)) return customs;
  for (var i = 0; i < patterns.length; i++) {
    if (patterns[i].test(host)) return customs;
  }
  return "DIRECT";
}
`)
	return b.Bytes()
}

func writeSet(b *bytes.Buffer, name string, hosts []string) {
	fmt.Fprintf(b, "var %s = {", name)
	for i, h := range hosts {
		if i > 0 {
			b.WriteString(",")
		}
		if i%4 == 0 {
			b.WriteString("\n  ")
		} else {
			b.WriteString(" ")
		}
		fmt.Fprintf(b, "%s: 1", strconv.Quote(h))
	}
	b.WriteString("\n};\n")
}

func writeList(b *bytes.Buffer, name string, items []string, quote func(string) string) {
	fmt.Fprintf(b, "var %s = [", name)
	for i, it := range items {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  " + quote(it))
	}
	b.WriteString("\n];\n")
}
