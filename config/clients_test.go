package config

import "testing"

// TestClientNames: a proxy user's name wins over its address's; the most specific network
// wins; IPv4-mapped addresses and networks are the IPv4 ones; no match is no name.
func TestClientNames(t *testing.T) {
	cfg, err := Parse("customs.yaml", []byte(`clients:
  10.1.0.0/16: data-team
  10.1.7.0/24: notebooks
  10.3.0.7: billing-api
  "::ffff:10.9.0.0/112": mapped
  "fd00:10::/32": lab
  alice: research
`))
	if err != nil {
		t.Fatal(err)
	}
	name := cfg.Clients.Namer()
	for _, tc := range []struct{ ip, user, want string }{
		{"10.1.2.3", "", "data-team"},
		{"10.1.7.9", "", "notebooks"},
		{"10.1.7.9", "alice", "research"},
		{"10.1.7.9", "bob", "notebooks"},
		{"10.3.0.7", "", "billing-api"},
		{"10.3.0.8", "", ""},
		{"10.9.0.4", "", "mapped"},
		{"::ffff:10.1.0.1", "", "data-team"},
		{"fd00:10::5", "", "lab"},
		{"[fd00:10::5]", "", "lab"},
		{"192.168.1.1", "", ""},
		{"not-an-ip", "", ""},
		{"192.168.1.1", "alice", "research"},
	} {
		if got := name(tc.ip, tc.user); got != tc.want {
			t.Errorf("name(%q, %q) = %q, want %q", tc.ip, tc.user, got, tc.want)
		}
	}
	if Clients(nil).Namer() != nil {
		t.Error("no clients: want a nil namer")
	}
}

// FuzzClientKey: any key either fails with an error or names a network or a user, and a
// network key written back the way it parsed names the same network.
func FuzzClientKey(f *testing.F) {
	for _, k := range []string{"10.1.0.0/16", "10.1.2.3/16", "10.3.0.7", "fd00:10::/32", "::ffff:10.9.0.0/112", "alice", "bob smith", "", "1.2.3.4.5", "[::1]"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		r, err := parseClientKey(key)
		if err != nil {
			return
		}
		if r.prefix.IsValid() == (r.user != "") {
			t.Fatalf("%q: prefix %v and user %q", key, r.prefix, r.user)
		}
		if r.prefix.IsValid() {
			again, err := parseClientKey(r.prefix.String())
			if err != nil || again.prefix != r.prefix {
				t.Fatalf("%q parsed as %v, which parses as %v (%v)", key, r.prefix, again.prefix, err)
			}
		}
	})
}
