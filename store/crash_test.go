package store

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The crash helper: the test binary re-executed with crashDirEnv set writes flows in batches
// and prints "ack ID" for every flow of a batch once Sync says it is committed, until killed.
const (
	crashDirEnv = "CUSTOMS_STORE_CRASH_DIR"
	crashKeyEnv = "CUSTOMS_STORE_CRASH_KEY"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashHelper(dir, os.Getenv(crashKeyEnv))
		os.Exit(0)
	}
	code := m.Run()
	cleanupLarge()
	os.Exit(code)
}

func crashHelper(dir, keyHex string) {
	var key []byte
	if keyHex != "" {
		key, _ = hex.DecodeString(keyHex)
	}
	s, err := Open(Options{Dir: dir, Key: key, GCInterval: -1, MemTableSize: 4 << 20, ValueLogFileSize: 4 << 20, BlockCacheSize: 8 << 20})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; {
		batch := make([]string, 0, 50)
		for range 50 {
			f := chatFlow(time.Now(), i)
			i++
			s.Record(f)
			batch = append(batch, f.ID)
		}
		if err := s.Sync(); err != nil {
			fmt.Fprintln(out, "sync:", err)
			out.Flush()
			os.Exit(1)
		}
		for _, id := range batch {
			fmt.Fprintln(out, "ack", id)
		}
		out.Flush()
	}
}

// TestKill9Recovery kills a writing process with SIGKILL in the middle of its batches, reopens
// the store and checks that every flow acknowledged before the kill is there, body and all.
func TestKill9Recovery(t *testing.T) {
	for _, encrypted := range []bool{false, true} {
		t.Run(fmt.Sprintf("encrypted=%v", encrypted), func(t *testing.T) {
			dir := t.TempDir()
			var key []byte
			if encrypted {
				key = randomKey(t)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashKeyEnv+"="+hex.EncodeToString(key))
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			want := 3000
			if testing.Short() {
				want = 1000
			}
			var acked []string
			sc := bufio.NewScanner(stdout)
			for len(acked) < want && sc.Scan() {
				id, ok := strings.CutPrefix(sc.Text(), "ack ")
				if !ok {
					t.Fatalf("helper: %s", sc.Text())
				}
				acked = append(acked, id)
			}
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			// Acks already printed before the kill count too.
			for sc.Scan() {
				if id, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
					acked = append(acked, id)
				}
			}
			err = cmd.Wait()
			if len(acked) < want {
				t.Fatalf("helper acknowledged only %d flows: %v", len(acked), err)
			}

			o := testOptions(t, dir)
			o.Key = key
			o.Now = time.Now
			s := openStore(t, o)
			missing := 0
			for _, id := range acked {
				r, err := s.Get(context.Background(), id)
				if err != nil || len(r.RequestBody) == 0 || len(r.Findings) != 3 {
					missing++
					if missing < 5 {
						t.Errorf("acknowledged flow %s: %v", id, err)
					}
				}
			}
			all, err := s.Query(context.Background(), Filter{Vendor: "openai"})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("killed after %d acknowledged flows; %d stored after reopening; %d missing", len(acked), len(all), missing)
			if missing > 0 || len(all) < len(acked) {
				t.Errorf("%d of %d acknowledged flows lost", missing, len(acked))
			}
			// The reopened store takes writes.
			s.Record(chatFlow(time.Now(), 1))
			sync_(t, s)
		})
	}
}
