package quic

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// The QUIC versions whose Initial packets this package can open.
const (
	Version1 uint32 = 0x00000001 // RFC 9000
	Version2 uint32 = 0x6b3343cf // RFC 9369
)

// versionParams is what differs between versions for Initial packets. RFC
// 9369 changed exactly these so that middleboxes which hard-coded version 1
// break loudly instead of silently misreading version 2.
type versionParams struct {
	salt                       [20]byte
	keyLabel, ivLabel, hpLabel string
	// types maps the two long-header type bits to a packet type; version 2
	// rotated them (RFC 9369 §3.2).
	types [4]PacketType
}

// paramsFor returns the Initial parameters of version v. A function rather
// than a table so that nothing package-level can be mutated.
func paramsFor(v uint32) (versionParams, bool) {
	switch v {
	case Version1:
		return versionParams{
			// RFC 9001 §5.2
			salt:     [20]byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a},
			keyLabel: "quic key",
			ivLabel:  "quic iv",
			hpLabel:  "quic hp",
			types:    [4]PacketType{PacketInitial, Packet0RTT, PacketHandshake, PacketRetry},
		}, true
	case Version2:
		return versionParams{
			// RFC 9369 §3.3.1
			salt:     [20]byte{0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9},
			keyLabel: "quicv2 key",
			ivLabel:  "quicv2 iv",
			hpLabel:  "quicv2 hp",
			types:    [4]PacketType{PacketRetry, PacketInitial, Packet0RTT, PacketHandshake},
		}, true
	}
	return versionParams{}, false
}

// side names whose Initial packets are opened: each direction has its own
// secret, both derived from the client's first Destination Connection ID.
type side int

const (
	sideClient side = iota
	sideServer
)

func (s side) label() string {
	if s == sideServer {
		return "server in"
	}
	return "client in"
}

// initialSecrets are the raw outputs of the RFC 9001 §5.2 key schedule, kept
// apart from the ciphers so tests can hold them against the RFC's values.
type initialSecrets struct {
	initial, secret []byte // initial_secret and client/server_initial_secret
	key, iv, hp     []byte
}

func deriveSecrets(p versionParams, dcid []byte, s side) (initialSecrets, error) {
	var out initialSecrets
	var err error
	if out.initial, err = hkdf.Extract(sha256.New, dcid, p.salt[:]); err != nil {
		return out, fmt.Errorf("initial secret: %w", err)
	}
	if out.secret, err = expandLabel(out.initial, s.label(), sha256.Size); err != nil {
		return out, err
	}
	if out.key, err = expandLabel(out.secret, p.keyLabel, 16); err != nil {
		return out, err
	}
	if out.iv, err = expandLabel(out.secret, p.ivLabel, 12); err != nil {
		return out, err
	}
	if out.hp, err = expandLabel(out.secret, p.hpLabel, 16); err != nil {
		return out, err
	}
	return out, nil
}

// expandLabel is HKDF-Expand-Label of TLS 1.3 (RFC 8446 §7.1) with an empty
// context, the only form QUIC's Initial key schedule uses. The standard
// library keeps its own copy internal to crypto/tls.
func expandLabel(secret []byte, label string, length int) ([]byte, error) {
	const prefix = "tls13 "
	info := make([]byte, 0, 2+1+len(prefix)+len(label)+1)
	info = binary.BigEndian.AppendUint16(info, uint16(length))
	info = append(info, byte(len(prefix)+len(label)))
	info = append(info, prefix...)
	info = append(info, label...)
	info = append(info, 0) // empty context
	out, err := hkdf.Expand(sha256.New, secret, string(info), length)
	if err != nil {
		return nil, fmt.Errorf("expand label %q: %w", label, err)
	}
	return out, nil
}

// initialKeys are ready-to-use ciphers for one direction of one connection.
type initialKeys struct {
	version uint32
	dcid    []byte // the connection ID they were derived from
	aead    cipher.AEAD
	iv      [12]byte
	hp      cipher.Block
}

func newInitialKeys(version uint32, p versionParams, dcid []byte, s side) (*initialKeys, error) {
	sec, err := deriveSecrets(p, dcid, s)
	if err != nil {
		return nil, fmt.Errorf("quic initial: keys: %w", err)
	}
	block, err := aes.NewCipher(sec.key)
	if err != nil {
		return nil, fmt.Errorf("quic initial: packet key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("quic initial: packet key: %w", err)
	}
	hp, err := aes.NewCipher(sec.hp)
	if err != nil {
		return nil, fmt.Errorf("quic initial: header key: %w", err)
	}
	k := &initialKeys{version: version, dcid: dcid, aead: aead, hp: hp}
	copy(k.iv[:], sec.iv)
	return k, nil
}
