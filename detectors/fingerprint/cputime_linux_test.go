//go:build linux

package fingerprint

import (
	"syscall"
	"time"
)

// threadCPU is the CPU time of the calling OS thread: benchmarks lock their goroutine to a thread
// and report it beside wall time, which on a shared machine also counts time spent descheduled.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
