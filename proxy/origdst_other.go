//go:build !linux

package proxy

import (
	"context"
	"errors"
	"net"
	"net/netip"
)

func originalDst(net.Conn) (netip.AddrPort, error) {
	return netip.AddrPort{}, errors.New("transparent interception needs Linux (SO_ORIGINAL_DST or TPROXY)")
}

func setMark(uintptr, int) error { return errors.New("socket marks need Linux") }

// ListenTransparent is a plain listener here: only Linux redirects connections with their
// original destination (REDIRECT's SO_ORIGINAL_DST, TPROXY).
func ListenTransparent(ctx context.Context, addr string) (net.Listener, bool, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	return ln, false, err
}
