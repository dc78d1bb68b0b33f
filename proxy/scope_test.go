package proxy_test

import (
	"strings"
	"testing"

	"github.com/customs-dev/customs/proxy"
)

var connectTargets = []struct {
	in         string
	host, port string
	err        string
}{
	{"api.openai.com:443", "api.openai.com", "443", ""},
	{"API.OpenAI.com.:443", "api.openai.com", "443", ""},
	{"api.openai.com", "api.openai.com", "443", ""},
	{"[2001:db8::1]:8443", "2001:db8::1", "8443", ""},
	{"127.0.0.1:8443", "127.0.0.1", "8443", ""},
	{"2001:db8::1", "2001:db8::1", "443", ""},
	{"", "", "", "empty"},
	{":443", "", "", "empty host"},
	{"api.openai.com:", "", "", "empty port"},
	{"api.openai.com:0", "", "", "port 0"},
	{"api.openai.com:99999", "", "", "out of range"},
	{"api.openai.com:https", "", "", "not a number"},
	{"a b.com:443", "", "", "invalid character"},
	{"a\x00b:443", "", "", "invalid character"},
	{"-bad.com:443", "", "", "starts or ends"},
	{"a..b:443", "", "", "empty label"},
	{"[::1:443", "", "", "missing ']'"},
	{strings.Repeat("a", 64) + ".com:443", "", "", "longer than 63"},
}

func TestParseConnectTarget(t *testing.T) {
	for _, tt := range connectTargets {
		t.Run(tt.in, func(t *testing.T) {
			host, port, err := proxy.ParseConnectTarget(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil || host != tt.host || port != tt.port {
				t.Fatalf("got %q %q %v, want %q %q", host, port, err, tt.host, tt.port)
			}
		})
	}
}

func FuzzParseConnectTarget(f *testing.F) {
	for _, tt := range connectTargets {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		host, port, err := proxy.ParseConnectTarget(in)
		if err != nil {
			return
		}
		// Whatever is accepted must be safe to put in a certificate and a log line.
		if host == "" || port == "" || strings.ContainsAny(host, " \r\n\x00/") {
			t.Fatalf("accepted %q as host %q port %q", in, host, port)
		}
	})
}

func TestHostSetAndResolve(t *testing.T) {
	hs, err := proxy.NewHostSet([]string{"api.example.com", "*.corp.example", "LLM.Internal."})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{
		"api.example.com": true, "x.api.example.com": false, "a.corp.example": true, "a.b.corp.example": true,
		"corp.example": false, "evilcorp.example": false, "llm.internal": true,
	} {
		if got := hs.Match(host); got != want {
			t.Errorf("Match(%q) = %v, want %v", host, got, want)
		}
	}
	for _, bad := range []string{"", "*.", "a b", "*.-x.com"} {
		if _, err := proxy.NewHostSet([]string{bad}); err == nil {
			t.Errorf("NewHostSet(%q) accepted", bad)
		}
	}

	r, err := proxy.ParseResolve([]string{"api.openai.com=127.0.0.1:9443", "*.anthropic.com=127.0.0.2", "*=[::1]:8443"})
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"api.openai.com:443":    "127.0.0.1:9443",
		"api.anthropic.com:443": "127.0.0.2:443",
		"example.org:443":       "[::1]:8443",
		"not-a-hostport":        "not-a-hostport",
	} {
		if got := r.Rewrite(in); got != want {
			t.Errorf("Rewrite(%q) = %q, want %q", in, got, want)
		}
	}
	for _, bad := range []string{"noequals", "=1.2.3.4", "host=", "host=nohostport", "host=1.2.3.4:99999", "a b=1.2.3.4"} {
		if _, err := proxy.ParseResolve([]string{bad}); err == nil {
			t.Errorf("ParseResolve(%q) accepted", bad)
		}
	}
}

func FuzzParseResolve(f *testing.F) {
	for _, s := range []string{"api.openai.com=127.0.0.1:9443", "*=[::1]:8443", "*.x=1.2.3.4", "a=b", "=", "x=[::1"} {
		f.Add(s, "api.openai.com:443")
	}
	f.Fuzz(func(t *testing.T, spec, addr string) {
		r, err := proxy.ParseResolve([]string{spec})
		if err != nil {
			return
		}
		_ = r.Rewrite(addr)
	})
}
