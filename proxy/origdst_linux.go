package proxy

import (
	"context"
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
	// The answer is a sockaddr_in (at SOL_IP) or sockaddr_in6 (at SOL_IPV6): the port at bytes
	// 2-3 in network order, the address at 4-7 or 8-23.
	v4 := local.Addr().Is4() || local.Addr().Is4In6()
	level := syscall.SOL_IPV6
	if v4 {
		level = syscall.SOL_IP
	}
	var sa [28]byte
	var serr error
	err = raw.Control(func(fd uintptr) {
		l := uint32(len(sa))
		if _, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, uintptr(level), soOriginalDst, uintptr(unsafe.Pointer(&sa[0])), uintptr(unsafe.Pointer(&l)), 0); e != 0 {
			serr = e
		}
	})
	port := binary.BigEndian.Uint16(sa[2:4])
	dst := netip.AddrPortFrom(netip.AddrFrom16([16]byte(sa[8:24])), port)
	if v4 {
		dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(sa[4:8])), port)
	}
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

// ipv6Transparent is IPV6_TRANSPARENT (linux/in6.h), which package syscall does not name.
const ipv6Transparent = 75

// ListenTransparent listens on addr for connections a firewall redirects to customs. The socket
// is made transparent (IP_TRANSPARENT, and IPV6_TRANSPARENT for an IPv6 or dual-stack one) so
// that TPROXY may hand it connections for addresses that are not the host's own; that needs
// CAP_NET_ADMIN. Without it the listener still takes REDIRECTed connections, and tproxy says
// TPROXY will not reach it.
func ListenTransparent(ctx context.Context, addr string) (ln net.Listener, tproxy bool, err error) {
	lc := net.ListenConfig{Control: func(network, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			e4 := syscall.SetsockoptInt(int(fd), syscall.SOL_IP, syscall.IP_TRANSPARENT, 1)
			if network == "tcp4" {
				tproxy = e4 == nil
				return
			}
			e6 := syscall.SetsockoptInt(int(fd), syscall.SOL_IPV6, ipv6Transparent, 1)
			tproxy = e6 == nil
		})
	}}
	ln, err = lc.Listen(ctx, "tcp", addr)
	return ln, tproxy && err == nil, err
}
