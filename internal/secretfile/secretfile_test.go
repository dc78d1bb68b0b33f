package secretfile

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "x.key")
	key, created, err := LoadOrCreateHex(path, "test key", 32)
	if err != nil || !created || len(key) != 32 {
		t.Fatalf("create: %v created=%v len=%d", err, created, len(key))
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", st.Mode().Perm(), err)
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v, %v", st.Mode().Perm(), err)
	}
	again, created, err := LoadOrCreateHex(path, "test key", 32)
	if err != nil || created || !bytes.Equal(again, key) {
		t.Fatalf("reload: %v created=%v same=%v", err, created, bytes.Equal(again, key))
	}

	for _, tc := range []struct {
		name, content string
		mode          fs.FileMode
		want          string // error substring; "" for none
	}{
		{"group readable", "abcd", 0o640, "test key " + "%s has mode 0640: it must be readable by its owner only (chmod 600 %s)"},
		{"other readable", "abcd", 0o604, "has mode 0604"},
		{"empty", "\n", 0o600, "is empty"},
		{"not hex", "zz", 0o600, "not hex"},
		{"read only for the owner", "abcd\n", 0o400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "k")
			if err := os.WriteFile(p, []byte(tc.content), tc.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(p, tc.mode)
			_, created, err := LoadOrCreateHex(p, "test key", 32)
			want := strings.ReplaceAll(tc.want, "%s", p)
			switch {
			case created:
				t.Error("created a secret over an existing file")
			case want == "" && err != nil:
				t.Fatal(err)
			case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
				t.Fatalf("err = %v, want %q", err, want)
			}
		})
	}
}
