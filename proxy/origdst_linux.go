package proxy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"unsafe"
)

// SO_ORIGINAL_DST (netfilter's, for IPv4 at SOL_IP) and IP6T_SO_ORIGINAL_DST (at SOL_IPV6)
// share the number 80.
const soOriginalDst = 80

// originalDst is where a redirected connection was going: SO_ORIGINAL_DST after REDIRECT (or
// DNAT); after TPROXY, which keeps the destination, the socket's own address.
func originalDst(c net.Conn) (netip.AddrPort, error) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return netip.AddrPort{}, errors.New("not a TCP connection")
	}
	local, err := addrPort(c.LocalAddr())
	if err != nil {
		return netip.AddrPort{}, err
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return netip.AddrPort{}, err
	}
	var dst netip.AddrPort
	var serr error
	err = raw.Control(func(fd uintptr) {
		if local.Addr().Is4() || local.Addr().Is4In6() {
			var sa syscall.RawSockaddrInet4
			l := uint32(unsafe.Sizeof(sa))
			_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.SOL_IP, soOriginalDst, uintptr(unsafe.Pointer(&sa)), uintptr(unsafe.Pointer(&l)), 0)
			if e != 0 {
				serr = e
				return
			}
			port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:])
			dst = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), port)
			return
		}
		var sa syscall.RawSockaddrInet6
		l := uint32(unsafe.Sizeof(sa))
		_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.SOL_IPV6, soOriginalDst, uintptr(unsafe.Pointer(&sa)), uintptr(unsafe.Pointer(&l)), 0)
		if e != 0 {
			serr = e
			return
		}
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:])
		dst = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), port)
	})
	if err != nil {
		return netip.AddrPort{}, err
	}
	if serr != nil {
		// No netfilter record: a TPROXY socket keeps the original destination as its address.
		if errors.Is(serr, syscall.ENOENT) || errors.Is(serr, syscall.ENOPROTOOPT) {
			return local, nil
		}
		return netip.AddrPort{}, fmt.Errorf("SO_ORIGINAL_DST: %w", serr)
	}
	return netip.AddrPortFrom(dst.Addr().Unmap(), dst.Port()), nil
}

// setMark sets SO_MARK on a socket customs dials, so that the firewall's redirect rule can
// exclude customs' own upstream connections.
func setMark(fd uintptr, mark int) error {
	return syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_MARK, mark)
}
