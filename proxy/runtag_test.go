package proxy_test

import (
	"testing"

	"github.com/customs-dev/customs/proxy"
)

func TestSplitRunTag(t *testing.T) {
	for _, c := range []struct{ in, user, run, command string }{
		{"customs-run.9f2c41d07ab3e655.python3", "", "9f2c41d07ab3e655", "python3"},
		{"alice+customs-run.9f2c41d07ab3e655.npm", "alice", "9f2c41d07ab3e655", "npm"},
		{"a+b+customs-run.01.x_y-z", "a+b", "01", "x_y-z"},
		{"alice", "alice", "", ""},
		{"alice+bob", "alice+bob", "", ""},
		{"customs-run..python3", "customs-run..python3", "", ""},         // no ID
		{"customs-run.9f2c.py/thon", "customs-run.9f2c.py/thon", "", ""}, // not a name
		{"customs-run.9f2c", "customs-run.9f2c", "", ""},                 // no command
		{"", "", "", ""},
	} {
		u, r, cmd := proxy.SplitRunTag(c.in)
		if u != c.user || r != c.run || cmd != c.command {
			t.Errorf("SplitRunTag(%q) = %q %q %q, want %q %q %q", c.in, u, r, cmd, c.user, c.run, c.command)
		}
	}
}
