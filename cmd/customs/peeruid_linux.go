package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// peerUID is the user that owns the other end of a loopback TCP connection to this process:
// the socket whose local address is c's remote one and whose remote address is c's local one.
// A client may hold it as an IPv6 socket (the JVM does), listed in /proc/net/tcp6 with
// IPv4-mapped addresses.
func peerUID(c net.Conn) (int, error) {
	remote, ok1 := c.RemoteAddr().(*net.TCPAddr)
	local, ok2 := c.LocalAddr().(*net.TCPAddr)
	if !ok1 || !ok2 || remote.IP.To4() == nil || local.IP.To4() == nil {
		return 0, fmt.Errorf("peer of %v: not an IPv4 TCP connection", c.RemoteAddr())
	}
	for _, table := range []struct {
		path string
		addr func(*net.TCPAddr) string
	}{{"/proc/net/tcp", procAddr4}, {"/proc/net/tcp6", procAddr6}} {
		uid, ok, err := findOwner(table.path, table.addr(remote), table.addr(local))
		if err != nil || ok {
			return uid, err
		}
	}
	return 0, fmt.Errorf("peer of %v: no such socket", c.RemoteAddr())
}

func findOwner(path, local, remote string) (uid int, ok bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 8 || !strings.EqualFold(fs[1], local) || !strings.EqualFold(fs[2], remote) {
			continue
		}
		uid, err := strconv.Atoi(fs[7])
		return uid, err == nil, err
	}
	return 0, false, sc.Err()
}

// procAddr4 and procAddr6 write an IPv4 address and port as /proc/net/tcp and tcp6 do: each
// 32-bit word of the address as the host's (little-endian) number, in hex; in tcp6 the address
// is IPv4-mapped (::ffff:a.b.c.d).
func procAddr4(a *net.TCPAddr) string {
	ip := a.IP.To4()
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], a.Port)
}

func procAddr6(a *net.TCPAddr) string {
	ip := a.IP.To4()
	return fmt.Sprintf("0000000000000000FFFF0000%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], a.Port)
}

const relaySupported = true
