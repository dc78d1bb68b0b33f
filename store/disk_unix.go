//go:build linux || darwin

package store

import (
	"io/fs"
	"path/filepath"
	"syscall"
)

// freeBytes is the space available to this user on the disk holding dir.
func freeBytes(dir string) (int64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true
}

// diskUsage is what du reports for dir: allocated blocks, so badger's sparse, preallocated
// value-log and memtable files count for what they hold.
func diskUsage(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			n += int64(st.Blocks) * 512
		} else {
			n += info.Size()
		}
		return nil
	})
	return n
}
