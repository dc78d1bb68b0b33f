package fleet

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/customs-dev/customs/internal/secretfile"
)

// A sealed flow is version(1) | nonce(12) | AES-256-GCM(record) whose additional data is the
// flow's ID and site: a message moved to another ID or site (a replayed or forged header) does
// not open.
const (
	sealVersion = 1
	nonceLen    = 12
	keyLen      = 32
)

// ErrWrongKey: a message was sealed with another fleet key (or altered).
var ErrWrongKey = errors.New("the fleet key does not open this message: another fleet key sealed it, or it was altered")

// Key is the fleet's shared key: every site seals with it and every reader opens with it.
type Key struct {
	aead cipher.AEAD
	// ID names the key without revealing it (the first 8 bytes of SHA-256 of the key, in
	// hex): sent with every message, so a reader holding another key says so plainly.
	ID string
}

// NewKey builds a Key from its 32 bytes.
func NewKey(raw []byte) (*Key, error) {
	if len(raw) != keyLen {
		return nil, fmt.Errorf("fleet key: %d bytes; want %d (%d hex digits)", len(raw), keyLen, 2*keyLen)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	return &Key{aead: aead, ID: hex.EncodeToString(sum[:8])}, nil
}

// LoadKey reads the fleet key file. Unlike the store key it is never created here: every site
// and reader must hold the same key, so a missing file is an error that says how to make one.
func LoadKey(path string) (*Key, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("fleet key %s does not exist: create it once with `customs fleet keygen %s` and copy it (mode 0600) to every site and reader", path, path)
	}
	raw, _, err := secretfile.LoadOrCreateHex(path, "fleet key", keyLen)
	if err != nil {
		return nil, err
	}
	return NewKey(raw)
}

// Keygen creates a new fleet key file (0600); it refuses to overwrite one.
func Keygen(path string) (*Key, error) {
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("fleet key %s exists already; a new key would make the fleet's record unreadable to whoever holds the old one", path)
	}
	raw, created, err := secretfile.LoadOrCreateHex(path, "fleet key", keyLen)
	if err != nil {
		return nil, err
	}
	if !created {
		return nil, fmt.Errorf("fleet key %s exists already", path)
	}
	return NewKey(raw)
}

func aad(id, site string) []byte {
	b := make([]byte, 0, len(id)+len(site)+1)
	b = append(b, id...)
	b = append(b, 0)
	return append(b, site...)
}

// seal encrypts plain for the flow id of site.
func (k *Key) seal(plain []byte, id, site string) []byte {
	out := make([]byte, 1+nonceLen, 1+nonceLen+len(plain)+k.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1 : 1+nonceLen]); err != nil {
		panic(fmt.Sprintf("fleet: no randomness for a nonce: %v", err)) // crypto/rand does not fail on Linux
	}
	return k.aead.Seal(out, out[1:1+nonceLen], plain, aad(id, site))
}

// open decrypts a sealed message of flow id from site.
func (k *Key) open(msg []byte, id, site string) ([]byte, error) {
	if len(msg) < 1+nonceLen+k.aead.Overhead() {
		return nil, fmt.Errorf("sealed flow of %d bytes: too short", len(msg))
	}
	if msg[0] != sealVersion {
		return nil, fmt.Errorf("sealed flow version %d: this customs reads version %d", msg[0], sealVersion)
	}
	plain, err := k.aead.Open(nil, msg[1:1+nonceLen], msg[1+nonceLen:], aad(id, site))
	if err != nil {
		return nil, ErrWrongKey
	}
	return plain, nil
}
