// Package secretfile keeps an installation's small secrets — the finding key, the store key, the
// admin API token — the one way they are all kept: hex text in a file only its owner can read,
// created at random on first use.
package secretfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadOrCreate returns the trimmed text of the secret file at path. When the file does not exist
// it is created (directories 0700, the file 0600, synced) holding size random bytes in hex, and
// created is true. A file that group or others can read is refused (whoever can read it holds the
// secret), and so is an empty one. what names the secret in errors ("store key").
func LoadOrCreate(path, what string, size int) (text string, created bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		raw := make([]byte, size)
		if _, err := rand.Read(raw); err != nil {
			return "", false, fmt.Errorf("%s: %w", what, err)
		}
		text = hex.EncodeToString(raw)
		if err := write(path, text+"\n"); err != nil {
			return "", false, fmt.Errorf("create %s %s: %w", what, path, err)
		}
		return text, true, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s %s: %w", what, path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", false, fmt.Errorf("%s %s: %w", what, path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", false, fmt.Errorf("%s %s has mode %04o: it must be readable by its owner only (chmod 600 %s)", what, path, st.Mode().Perm(), path)
	}
	text = strings.TrimSpace(string(b))
	if text == "" {
		return "", false, fmt.Errorf("%s %s is empty", what, path)
	}
	return text, false, nil
}

// ErrNotHex: the file of a hex secret holds something else.
var ErrNotHex = errors.New("not hex")

// LoadOrCreateHex is LoadOrCreate for a secret used as bytes: the text is hex-decoded.
func LoadOrCreateHex(path, what string, size int) (secret []byte, created bool, err error) {
	text, created, err := LoadOrCreate(path, what, size)
	if err != nil {
		return nil, false, err
	}
	secret, err = hex.DecodeString(text)
	if err != nil {
		return nil, false, fmt.Errorf("%s %s: %w", what, path, ErrNotHex)
	}
	return secret, created, nil
}

// write creates path exclusively (a concurrent creator loses rather than both writing) and
// removes it again when it cannot be written whole.
func write(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.WriteString(text)
	if serr := f.Sync(); werr == nil {
		werr = serr
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
	}
	return werr
}
