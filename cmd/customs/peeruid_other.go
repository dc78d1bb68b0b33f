//go:build !linux

package main

import (
	"errors"
	"net"
)

func peerUID(net.Conn) (int, error) {
	return 0, errors.New("the owner of a connection is known on Linux only")
}

// relaySupported: without a connection's owner the JVM's relay would serve any local user with
// the run's credentials, so there is none (the JVM's flows are then untagged).
const relaySupported = false
