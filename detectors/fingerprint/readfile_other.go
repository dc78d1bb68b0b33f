//go:build !unix

package fingerprint

import (
	"errors"
	"io"
	"os"
)

// readFile reads path into buf (grown as needed, up to limit+1 bytes so that a file over limit
// is noticed).
func readFile(path string, buf []byte, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return buf[:0], err
	}
	defer f.Close()
	n := 0
	buf = buf[:cap(buf)]
	for {
		if n == len(buf) {
			if int64(n) > limit {
				break
			}
			buf = grow(buf, limit)
		}
		m, err := f.Read(buf[n:])
		n += m
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return buf[:0], err
		}
	}
	return buf[:n], nil
}
