package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// packetSource is what the reader loop needs of a capture: pcap and pcapng files, and live
// interfaces.
type packetSource interface {
	// next returns the next frame, its capture info and its link type; io.EOF at the end.
	next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error)
	close() error
}

// ErrFormat is wrapped by the error for a file that is not a capture customs reads.
var ErrFormat = errors.New("not a pcap or pcapng capture")

// fileSource reads a pcap or pcapng file, gzip-compressed or not.
type fileSource struct {
	f    *os.File
	gz   *gzip.Reader
	pcap *pcapgo.Reader
	ng   *pcapgo.NgReader
}

const (
	magicPcapMicro   = 0xa1b2c3d4
	magicPcapNano    = 0xa1b23c4d
	magicPcapngBlock = 0x0a0d0d0a
)

// openFile opens a capture file: its first bytes say which format (gzip, then pcap in either
// byte order and resolution, or pcapng), never its name.
func openFile(path string) (*fileSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	src := &fileSource{f: f}
	br := bufio.NewReaderSize(f, 1<<16)
	var r io.Reader = br
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		if src.gz, err = gzip.NewReader(br); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: gzip: %w", path, err)
		}
		gbr := bufio.NewReaderSize(src.gz, 1<<16)
		r = gbr
		br = gbr
	}
	head, err := br.Peek(4)
	if err != nil {
		src.close()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w: the file holds %d bytes, shorter than any capture header", path, ErrFormat, len(head))
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	le, be := binary.LittleEndian.Uint32(head), binary.BigEndian.Uint32(head)
	switch {
	case le == magicPcapngBlock:
		src.ng, err = pcapgo.NewNgReader(r, pcapgo.NgReaderOptions{SkipUnknownVersion: true})
	case le == magicPcapMicro || be == magicPcapMicro || le == magicPcapNano || be == magicPcapNano:
		src.pcap, err = pcapgo.NewReader(r)
	default:
		src.close()
		return nil, fmt.Errorf("%s: %w (first bytes %#08x)", path, ErrFormat, be)
	}
	if err != nil {
		src.close()
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	return src, nil
}

func (s *fileSource) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	// The frame is valid until the next read: the reassembler copies what it keeps out of
	// order, and the reader copies what it keeps of a stream.
	if s.pcap != nil {
		data, ci, err := s.pcap.ZeroCopyReadPacketData()
		return data, ci, s.pcap.LinkType(), err
	}
	data, ci, err := s.ng.ZeroCopyReadPacketData()
	if err != nil {
		return nil, ci, 0, err
	}
	lt := s.ng.LinkType()
	if ci.InterfaceIndex > 0 {
		if ifc, err := s.ng.Interface(ci.InterfaceIndex); err == nil {
			lt = ifc.LinkType
		}
	}
	return data, ci, lt, nil
}

func (s *fileSource) close() error {
	if s.gz != nil {
		s.gz.Close()
	}
	return s.f.Close()
}
