//go:build !linux

package proxy

import (
	"errors"
	"net"
	"net/netip"
)

func originalDst(net.Conn) (netip.AddrPort, error) {
	return netip.AddrPort{}, errors.New("transparent interception needs Linux (SO_ORIGINAL_DST or TPROXY)")
}

func setMark(uintptr, int) error { return errors.New("socket marks need Linux") }
