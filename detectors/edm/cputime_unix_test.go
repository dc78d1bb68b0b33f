//go:build unix

package edm

import (
	"syscall"
	"time"
)

// cpuTime is the process's user and system CPU time: on a shared machine it tells the work a
// benchmark did from the time it waited for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
