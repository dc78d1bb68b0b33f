package config

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// User is one proxy_auth account. Exactly one of Password, PasswordSHA256
// and PasswordFile is set.
type User struct {
	Name           string `yaml:"name"`            // no ':' (Basic credentials split at the first colon)
	Password       string `yaml:"password"`        // in clear
	PasswordSHA256 string `yaml:"password_sha256"` // hex SHA-256 of the password
	PasswordFile   string `yaml:"password_file"`   // file whose first line is the password; relative to the config file

	// fileDigest is the SHA-256 of PasswordFile's password, read when the
	// configuration loads so that no file I/O happens per request.
	fileDigest *[sha256.Size]byte
}

// maxPasswordFile bounds the read of a password file: the password is on its
// first line, and a path such as /dev/zero must not exhaust memory.
const maxPasswordFile = 64 << 10

// Matches reports whether password is u's password. Digests are compared in
// constant time, so the time taken reveals neither the password's content
// nor its length. A user whose PasswordFile was not read by Load or Parse
// matches nothing.
func (u User) Matches(password string) bool {
	var want [sha256.Size]byte
	switch {
	case u.Password != "":
		want = sha256.Sum256([]byte(u.Password))
	case u.PasswordSHA256 != "":
		if n, err := hex.Decode(want[:], []byte(u.PasswordSHA256)); err != nil || n != len(want) {
			return false
		}
	case u.PasswordFile != "" && u.fileDigest != nil:
		want = *u.fileDigest
	default:
		return false
	}
	got := sha256.Sum256([]byte(password))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// loadSecrets reads every password_file, resolving relative paths against
// dir and storing the resolved path, so that later messages name the file
// actually read.
func (c *Config) loadSecrets(v *validator, dir string) {
	for i := range c.ProxyAuth.Users {
		u := &c.ProxyAuth.Users[i]
		if u.PasswordFile == "" {
			continue
		}
		if !filepath.IsAbs(u.PasswordFile) {
			u.PasswordFile = filepath.Join(dir, u.PasswordFile)
		}
		pw, err := readPasswordFile(u.PasswordFile)
		if err != nil {
			v.errorf(fmt.Sprintf("proxy_auth.users[%d].password_file", i), "%v", err)
			continue
		}
		sum := sha256.Sum256([]byte(pw))
		u.fileDigest = &sum
	}
}

func readPasswordFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	// Only regular files: a FIFO or device would block or never end.
	if fi, err := f.Stat(); err != nil {
		return "", err
	} else if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s: not a regular file", path)
	}
	line, err := bufio.NewReader(io.LimitReader(f, maxPasswordFile)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if !strings.HasSuffix(line, "\n") && len(line) == maxPasswordFile {
		return "", fmt.Errorf("%s: first line is longer than %d bytes", path, maxPasswordFile)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", fmt.Errorf("%s: first line is empty", path)
	}
	return line, nil
}
