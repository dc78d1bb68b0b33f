package fleet

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testKey(t testing.TB, b byte) *Key {
	t.Helper()
	k, err := NewKey(bytes.Repeat([]byte{b}, keyLen))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	k, other := testKey(t, 1), testKey(t, 2)
	plain := []byte("a flow's record")
	sealed := k.seal(plain, "01KTESTFLOW", "paris")
	if bytes.Contains(sealed, plain) {
		t.Fatal("the sealed message holds the record in clear")
	}
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	for _, tc := range []struct {
		name     string
		key      *Key
		msg      []byte
		id, site string
		want     error // nil: opens to plain
		wantText string
	}{
		{name: "same key, id and site", key: k, msg: sealed, id: "01KTESTFLOW", site: "paris"},
		{name: "another key", key: other, msg: sealed, id: "01KTESTFLOW", site: "paris", want: ErrWrongKey},
		{name: "moved to another flow ID", key: k, msg: sealed, id: "01KOTHERFLOW", site: "paris", want: ErrWrongKey},
		{name: "moved to another site", key: k, msg: sealed, id: "01KTESTFLOW", site: "berlin", want: ErrWrongKey},
		{name: "altered", key: k, msg: flipped, id: "01KTESTFLOW", site: "paris", want: ErrWrongKey},
		{name: "cut", key: k, msg: sealed[:10], id: "01KTESTFLOW", site: "paris", wantText: "too short"},
		{name: "unknown version", key: k, msg: append([]byte{9}, sealed[1:]...), id: "01KTESTFLOW", site: "paris", wantText: "version 9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.key.open(tc.msg, tc.id, tc.site)
			switch {
			case tc.want == nil && tc.wantText == "":
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("open = %q, %v; want %q", got, err, plain)
				}
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("open error = %v; want %v", err, tc.want)
			case tc.wantText != "" && (err == nil || !strings.Contains(err.Error(), tc.wantText)):
				t.Fatalf("open error = %v; want one saying %q", err, tc.wantText)
			}
		})
	}
	if a, b := k.seal(plain, "x", "y"), k.seal(plain, "x", "y"); bytes.Equal(a, b) {
		t.Error("two seals of the same record are the same bytes: the nonce repeats")
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fleet.key")
	if _, err := LoadKey(path); err == nil || !strings.Contains(err.Error(), "customs fleet keygen") {
		t.Fatalf("LoadKey of a missing file = %v; want an error saying how to create it", err)
	}
	k, err := Keygen(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", st.Mode().Perm(), err)
	}
	if _, err := Keygen(path); err == nil {
		t.Fatal("Keygen replaced an existing key")
	}
	again, err := LoadKey(path)
	if err != nil || again.ID != k.ID {
		t.Fatalf("LoadKey = %v, %v; want the key made (id %s)", again, err, k.ID)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("LoadKey of a world-readable key = %v; want it refused", err)
	}
	short := filepath.Join(dir, "short.key")
	if err := os.WriteFile(short, []byte("abcd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(short); err == nil || !strings.Contains(err.Error(), "want 32") {
		t.Fatalf("LoadKey of a 2-byte key = %v", err)
	}
}

func TestSubjects(t *testing.T) {
	for _, tc := range []struct{ site, vendor, action, want string }{
		{"paris", "openai", "block", "customs.flows.paris.openai.block"},
		{"paris", "", "", "customs.flows.paris._._"},
		{"paris", "a.b*c>d e", "allow", "customs.flows.paris.a_b_c_d_e.allow"},
		{"paris", "ünï", "alert", "customs.flows.paris.__n__.alert"},
	} {
		if got := Subject(tc.site, tc.vendor, tc.action); got != tc.want {
			t.Errorf("Subject(%q, %q, %q) = %q; want %q", tc.site, tc.vendor, tc.action, got, tc.want)
		}
	}
}

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"policies.yaml": true, "team.yml": true, "../x.yaml": false, "a/b.yaml": false, `a\b.yaml`: false,
		".hidden.yaml": false, "notes.txt": false, "": false,
	} {
		if err := CheckName(name); (err == nil) != ok {
			t.Errorf("CheckName(%q) = %v; want ok %v", name, err, ok)
		}
	}
}

// FuzzOpen: whatever arrives on the stream, opening it fails cleanly or returns what was sealed.
func FuzzOpen(f *testing.F) {
	k := testKey(f, 7)
	f.Add(k.seal([]byte("record"), "01K", "s"), "01K", "s")
	f.Add([]byte{1}, "", "")
	f.Add([]byte{}, "x", "y")
	f.Fuzz(func(t *testing.T, msg []byte, id, site string) {
		plain, err := k.open(msg, id, site)
		if err == nil && len(plain) != len(msg)-1-nonceLen-k.aead.Overhead() {
			t.Fatalf("opened %d bytes from a message of %d", len(plain), len(msg))
		}
	})
}
