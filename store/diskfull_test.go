package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// The fill helper: the test binary re-executed with fillDirEnv set records flows into a store
// on a small file system as fast as the writer takes them, printing its counters every 20 ms,
// until its stdin closes; then it closes the store and prints the final counters.
const (
	fillDirEnv     = "CUSTOMS_STORE_FILL_DIR"
	fillMinFreeEnv = "CUSTOMS_STORE_FILL_MIN_FREE"
)

// fillOptions are small sizing options, so that a disk of a few hundred MiB fills in seconds
// and the reserve they need (reserveFloor) is 48 MiB.
func fillOptions(dir string, minFree int64) Options {
	return Options{Dir: dir, GCInterval: -1, MemTableSize: 2 << 20, ValueLogFileSize: 4 << 20,
		BlockCacheSize: 8 << 20, IndexCacheSize: 4 << 20, MinFreeBytes: minFree,
		Logger: zerolog.New(os.Stderr).Level(zerolog.WarnLevel)}
}

func fillHelper(dir string) {
	minFree, _ := strconv.ParseInt(os.Getenv(fillMinFreeEnv), 10, 64)
	s, err := Open(fillOptions(dir, minFree))
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	stop := make(chan struct{})
	go func() { // the test closes stdin to stop
		io.Copy(io.Discard, os.Stdin)
		close(stop)
	}()
	report := func(what string) {
		st := s.Stats()
		fmt.Printf("%s written=%d dropped=%d errors=%d low=%v free=%d\n", what, st.Written, st.Dropped, st.WriteErrors, st.DiskLow, st.FreeBytes)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			err := s.Close(context.Background())
			report("closed")
			if err != nil {
				fmt.Println("close:", err)
				os.Exit(1)
			}
			return
		case <-tick.C:
			report("stats")
		default:
		}
		for len(s.queue) >= cap(s.queue)-64 { // as fast as the writer takes them
			time.Sleep(100 * time.Microsecond)
		}
		if s.diskLow.Load() {
			time.Sleep(50 * time.Microsecond) // a proxy's pace, not a spin
		}
		s.Record(chatFlow(time.Now(), i))
	}
}

// fillStats is one line of the helper.
type fillStats struct {
	what                   string
	written, dropped, errs uint64
	low                    bool
	free                   int64
}

func parseFill(line string) (fillStats, bool) {
	var st fillStats
	var low string
	_, err := fmt.Sscanf(line, "%s written=%d dropped=%d errors=%d low=%s free=%d", &st.what, &st.written, &st.dropped, &st.errs, &low, &st.free)
	st.low = low == "true"
	return st, err == nil
}

// mountSmall mounts a file system of size MiB at a new directory: tmpfs, or ext4 on a loop
// file. It skips the test where mounting is not possible (not root, no loop devices).
func mountSmall(t *testing.T, fs string, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system needs root")
	}
	base := t.TempDir()
	mnt := filepath.Join(base, "mnt")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	var cmds [][]string
	switch fs {
	case "tmpfs":
		cmds = [][]string{{"mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm", size), "tmpfs", mnt}}
	case "ext4":
		img := filepath.Join(base, "disk.img")
		if _, err := exec.LookPath("mkfs.ext4"); err != nil {
			t.Skip("mkfs.ext4 not installed (apt-get install e2fsprogs)")
		}
		cmds = [][]string{
			{"truncate", "-s", fmt.Sprintf("%dM", size), img},
			{"mkfs.ext4", "-q", "-F", "-m", "0", img}, // no blocks reserved for root: root fills it too
			{"mount", "-o", "loop", img, mnt},
		}
	}
	for _, c := range cmds {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Skipf("%s: %v: %s", strings.Join(c, " "), err, out)
		}
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v %s; detaching lazily", mnt, err, out)
			exec.Command("umount", "-l", mnt).Run()
		}
	})
	return mnt
}

// ballast takes n MiB of the disk with a file, to give back later.
func ballast(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	for range n {
		if _, err := f.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// fillRun is a running fill helper.
type fillRun struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	last   fillStats
	stderr *limitedLog
}

func startFill(t *testing.T, dir string, minFree int64) *fillRun {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fillDirEnv+"="+dir, fillMinFreeEnv+"="+strconv.FormatInt(minFree, 10))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &limitedLog{t: t}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &fillRun{cmd: cmd, stdin: stdin, lines: make(chan string, 1024), stderr: stderr}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			r.lines <- sc.Text()
		}
		close(r.lines)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return r
}

// limitedLog passes the helper's first log lines to the test log and keeps the first 64 KiB
// of its stderr (a crash report).
type limitedLog struct {
	t    *testing.T
	n    int
	mu   sync.Mutex
	kept []byte
}

func (l *limitedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n < 10 {
		l.n++
		l.t.Logf("helper: %s", firstLine(string(p)))
	}
	if len(l.kept) < 64<<10 {
		l.kept = append(l.kept, p[:min(len(p), 64<<10-len(l.kept))]...)
	}
	return len(p), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// crash is the helper's crash report, if it wrote one: its error and signal lines.
func (l *limitedLog) crash() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(string(l.kept), "\n") {
		if strings.HasPrefix(line, "[signal ") || strings.HasPrefix(line, "fatal error") || strings.HasPrefix(line, "panic:") {
			out = append(out, line)
		}
	}
	return strings.Join(out, " ")
}

// until reads the helper's lines until cond holds; it fails when the helper exits first (a
// crash: SIGBUS) or after a generous bound (a hang). The bound is not a measurement.
func (r *fillRun) until(t *testing.T, what string, cond func(fillStats) bool) {
	t.Helper()
	bound := time.After(2 * time.Minute)
	for {
		select {
		case line, ok := <-r.lines:
			if !ok {
				err := r.cmd.Wait()
				t.Fatalf("the writer died while waiting for %s: %v %s (last: %+v)", what, describeExit(err), r.stderr.crash(), r.last)
			}
			st, ok := parseFill(line)
			if !ok {
				t.Fatalf("helper: %s", line)
			}
			r.last = st
			if cond(st) {
				return
			}
		case <-bound:
			t.Fatalf("no %s after 2 minutes (last: %+v)", what, r.last)
		}
	}
}

func describeExit(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by " + ws.Signal().String()
		}
	}
	return fmt.Sprint(err)
}

// TestDiskFullKeepsRunning fills a small disk with flows — tmpfs and ext4, where badger's
// writes into its memory-mapped files died of SIGBUS — and checks that the writer stops
// before the disk is full and counts what it drops, that the process keeps recording (and
// dropping) without crashing, and that recording resumes when space is freed. Then it closes
// cleanly and every flow it counted as written is in the store.
//
// It needs root (mount) and runs for about 10 s (a minute under -race): not in -short.
// TestDiskLowDropsAndRecovers is its quick, unprivileged counterpart.
func TestDiskFullKeepsRunning(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts and fills two file systems: long")
	}
	for _, fs := range []string{"tmpfs", "ext4"} {
		t.Run(fs, func(t *testing.T) {
			mnt := mountSmall(t, fs, 160)
			dir := filepath.Join(mnt, "store")
			reserve := fillOptions(dir, 0)
			reserve.setDefaults()
			minFree := reserve.reserveFloor() // 48 MiB: what these options need
			ballast(t, filepath.Join(mnt, "ballast"), 40)

			r := startFill(t, dir, minFree)
			r.until(t, "the disk below the reserve", func(st fillStats) bool { return st.low && st.dropped > 0 })
			full := r.last
			// Keep recording on the nearly full disk: flows are dropped and counted, the
			// process lives, nothing is written.
			r.until(t, "drops counted while the disk stays full", func(st fillStats) bool { return st.dropped > full.dropped+2000 })
			t.Logf("disk below the reserve: written %d, dropped %d, %.1f MiB free (reserve %.1f MiB)",
				r.last.written, r.last.dropped, float64(r.last.free)/(1<<20), float64(minFree)/(1<<20))
			if r.last.written > full.written+uint64(cap(make(chan struct{}, defaultBatchSize))) || r.last.errs != 0 {
				t.Errorf("kept writing below the reserve: %+v then %+v", full, r.last)
			}
			var st syscall.Statfs_t
			if err := syscall.Statfs(mnt, &st); err != nil || int64(st.Bavail)*st.Bsize < minFree/2 {
				t.Errorf("free space fell to %d bytes (reserve %d): %v", int64(st.Bavail)*st.Bsize, minFree, err)
			}

			// Space comes back: recording resumes on its own.
			if err := os.Remove(filepath.Join(mnt, "ballast")); err != nil {
				t.Fatal(err)
			}
			before := r.last.written
			r.until(t, "recording to resume", func(st fillStats) bool { return !st.low && st.written > before+1000 })

			r.stdin.Close()
			var final fillStats
			for line := range r.lines {
				if st, ok := parseFill(line); ok && st.what == "closed" {
					final = st
				}
			}
			if err := r.cmd.Wait(); err != nil || final.what != "closed" {
				t.Fatalf("writer: %s; final %+v", describeExit(err), final)
			}
			t.Logf("closed: written %d, dropped %d", final.written, final.dropped)

			o := fillOptions(dir, -1)
			o.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
			s := openStore(t, o)
			got, err := s.Query(context.Background(), Filter{})
			if err != nil || uint64(len(got)) != final.written {
				t.Errorf("reopened: %d flows (%v), the writer counted %d written", len(got), err, final.written)
			}
		})
	}
}

// TestDiskFullCrashWithoutReserve is the control: without the reserve the same writer dies
// of SIGBUS on the same disks (so the test above can tell a crash).
func TestDiskFullCrashWithoutReserve(t *testing.T) {
	if testing.Short() {
		t.Skip("the control run: slow")
	}
	for _, fs := range []string{"tmpfs", "ext4"} {
		t.Run(fs, func(t *testing.T) {
			mnt := mountSmall(t, fs, 160)
			r := startFill(t, filepath.Join(mnt, "store"), -1)
			for line := range r.lines {
				if st, ok := parseFill(line); ok {
					r.last = st
				}
			}
			err := r.cmd.Wait()
			crash := r.stderr.crash()
			t.Logf("without a reserve, after %d flows written: %s: %s", r.last.written, describeExit(err), crash)
			if err == nil || !strings.Contains(crash, "SIGBUS") {
				t.Error("the writer without a reserve did not die of SIGBUS on a full disk: the test cannot tell a crash")
			}
		})
	}
}

// TestDiskLowDropsAndRecovers is the reserve without a real disk: the free space the writer
// sees is set by the test. Below the reserve, batches are not written and every flow is
// counted as dropped (Record drops at once, RecordDurable fails with ErrDiskFull), the drop is
// logged, value-log GC does not run; with space back (and the margin), recording resumes.
func TestDiskLowDropsAndRecovers(t *testing.T) {
	var logs syncBuffer
	o := testOptions(t, t.TempDir())
	o.MinFreeBytes = 100 << 20
	o.Logger = zerolog.New(&logs)
	s := openStore(t, o)
	var free atomic.Int64
	free.Store(1 << 30)
	fake := func(string) (int64, bool) { return free.Load(), true }
	s.freeSpace.Store(&fake)

	writeFlows(t, s, 10)
	free.Store(100<<20 + 1<<10) // above the reserve, but not by a batch
	for i := range 50 {
		s.Record(chatFlow(base.Add(-time.Duration(i)*time.Second), 100+i))
	}
	sync_(t, s)
	st := s.Stats()
	if st.Written != 10 || st.Dropped != 50 || !st.DiskLow || st.FreeBytes != 100<<20+1<<10 {
		t.Fatalf("below the reserve: %+v", st)
	}
	if err := s.RecordDurable(chatFlow(base, 999)); !errors.Is(err, ErrDiskFull) {
		t.Errorf("RecordDurable below the reserve = %v", err)
	}
	if n := s.gcValueLog(); n != 0 || !strings.Contains(logs.String(), "value-log GC skipped") {
		t.Errorf("value-log GC ran below the reserve: %d files", n)
	}
	// Space back, but within the margin: still dropping.
	free.Store(100<<20 + 100<<20/16)
	s.writeMu.Lock()
	s.diskRoom(0)
	s.writeMu.Unlock()
	if !s.Stats().DiskLow {
		t.Error("resumed inside the margin")
	}
	free.Store(1 << 30)
	s.writeMu.Lock()
	s.diskRoom(0) // what the writer's tick does
	s.writeMu.Unlock()
	writeFlows(t, s, 20)
	if st := s.Stats(); st.DiskLow || st.Written != 30 {
		t.Errorf("after space came back: %+v", st)
	}
	out := logs.String()
	for _, want := range []string{"store: disk nearly full", `"reason":"disk nearly full: 100.0 MiB free, reserve 100.0 MiB"`, "store: disk space is back"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
