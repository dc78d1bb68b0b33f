package capture

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// ErrPermission is wrapped by the error for an interface customs may not capture on.
var ErrPermission = errors.New("capturing needs root or the CAP_NET_RAW capability")

// liveSource reads an interface through a TPACKET_V3 ring (gopacket's pure-Go afpacket).
type liveSource struct{ h *afpacket.TPacket }

// ReadInterface captures on iface until ctx ends, then reports the connections still open.
// filter, when not empty, is a tcpdump filter expression (compiled by tcpdump -ddd, so it needs
// tcpdump installed): only the packets it passes reach customs.
func (r *Reader) ReadInterface(ctx context.Context, iface, filter string) error {
	var prog []bpf.RawInstruction
	if filter != "" {
		var err error
		if prog, err = CompileFilter(filter); err != nil {
			return err
		}
	}
	// 32 blocks of 1 MiB: a burst of 32 MiB waits in the kernel ring while customs reads.
	h, err := afpacket.NewTPacket(afpacket.OptInterface(iface), afpacket.OptFrameSize(1<<16), afpacket.OptBlockSize(1<<20),
		afpacket.OptNumBlocks(32), afpacket.OptPollTimeout(200*time.Millisecond), afpacket.OptAddVLANHeader(true))
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return fmt.Errorf("capture on %s: %w (run as root, or grant it: setcap cap_net_raw+ep $(command -v customs))", iface, ErrPermission)
		}
		return fmt.Errorf("capture on %s: %w", iface, err)
	}
	src := &liveSource{h: h}
	defer src.close()
	if prog != nil {
		if err := h.SetBPF(prog); err != nil {
			return fmt.Errorf("capture on %s: filter: %w", iface, err)
		}
	}
	if r.opts.Live != nil {
		r.opts.Live(iface)
	}
	err = r.read(ctx, src)
	r.Flush()
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil // stopped, as asked
	}
	return err
}

func (s *liveSource) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	data, ci, err := s.h.ReadPacketData()
	if errors.Is(err, afpacket.ErrTimeout) {
		return nil, ci, 0, errTimeout
	}
	return data, ci, layers.LinkTypeEthernet, err
}

func (s *liveSource) close() error { s.h.Close(); return nil }

// errTimeout is a live source's poll timeout: no packet, a chance to look at the context.
var errTimeout = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string { return "no packet before the poll timeout" }
func (timeoutError) Timeout() bool { return true }

// CompileFilter compiles a tcpdump filter expression to classic BPF with tcpdump -ddd (customs
// has no libpcap of its own: it is pure Go).
func CompileFilter(expr string) ([]bpf.RawInstruction, error) {
	path, err := exec.LookPath("tcpdump")
	if err != nil {
		return nil, fmt.Errorf("--filter needs tcpdump to compile %q (apt install tcpdump): %w", expr, err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(path, append([]string{"-ddd", "-y", "EN10MB"}, strings.Fields(expr)...)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("filter %q: %s", expr, strings.TrimSpace(stderr.String()))
	}
	return parseDDD(out)
}

// parseDDD reads tcpdump -ddd's output: a count, then one "code jt jf k" line per instruction.
func parseDDD(out []byte) ([]bpf.RawInstruction, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	var prog []bpf.RawInstruction
	n := -1
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if n < 0 {
			c, err := strconv.Atoi(f[0])
			if err != nil || len(f) != 1 {
				return nil, fmt.Errorf("tcpdump -ddd: unexpected first line %q", sc.Text())
			}
			n = c
			continue
		}
		if len(f) != 4 {
			return nil, fmt.Errorf("tcpdump -ddd: unexpected line %q", sc.Text())
		}
		var v [4]uint64
		for i := range f {
			x, err := strconv.ParseUint(f[i], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("tcpdump -ddd: %q: %w", sc.Text(), err)
			}
			v[i] = x
		}
		prog = append(prog, bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
	}
	if n < 0 || len(prog) != n {
		return nil, fmt.Errorf("tcpdump -ddd: %d instructions announced, %d read", n, len(prog))
	}
	return prog, nil
}
