package store

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// Key layout (see the package documentation).
const (
	dayLen   = 4  // uint32 big-endian, days since 1970-01-01 UTC
	idLen    = 16 // binary ULID
	maxValue = 255

	famMeta     byte = 'm'
	famBody     byte = 'b'
	famVendor   byte = 'v'
	famCategory byte = 'c'
	famClient   byte = 'i' // client IP, without port
	famUser     byte = 'u'
	famDetector byte = 'd'
	famAction   byte = 'a'
	famAPI      byte = 'p'
	famHost     byte = 'h'

	// sysPrefix leads the store's own keys. Day numbers never reach 0xFF000000 (year 45 million),
	// so system keys sort after every day and no day prefix covers them.
	sysPrefix byte = 0xFF
)

var schemaKey = []byte{sysPrefix, 's', 'c', 'h', 'e', 'm', 'a'}

const schemaVersion = "1"

const dayMillis = 24 * 60 * 60 * 1000

type id = [idLen]byte

// dayOfMs is the day number of a ULID timestamp.
func dayOfMs(ms uint64) uint32 { return uint32(ms / dayMillis) }

// dayOf is the day number of t (UTC), clamped to the ULID range.
func dayOf(t time.Time) uint32 { return dayOfMs(msOf(t)) }

func dayOfID(x id) uint32 { return dayOfMs(ulid.ULID(x).Time()) }

// msOf is t in Unix milliseconds, clamped to what a ULID can hold.
func msOf(t time.Time) uint64 {
	ms := t.UnixMilli()
	if ms < 0 {
		return 0
	}
	return min(uint64(ms), ulid.MaxTime())
}

// dayStart is the first instant of day d.
func dayStart(d uint32) time.Time { return time.UnixMilli(int64(d) * dayMillis).UTC() }

// idAt is the smallest ULID of millisecond ms: the lower bound of that millisecond's flows.
func idAt(ms uint64) id {
	var u ulid.ULID
	_ = u.SetTime(ms) // ms is clamped to MaxTime by every caller
	return id(u)
}

func dayPrefix(d uint32) []byte { return binary.BigEndian.AppendUint32(make([]byte, 0, dayLen), d) }

// famPrefix is day | family: the prefix of the meta and body families.
func famPrefix(d uint32, fam byte) []byte {
	return append(dayPrefix(d), fam)
}

// indexPrefix is day | family | len | value: the prefix of one index value's flow IDs.
func indexPrefix(d uint32, fam byte, value string) []byte {
	value = clampValue(value)
	b := make([]byte, 0, dayLen+2+len(value)+idLen)
	b = binary.BigEndian.AppendUint32(b, d)
	b = append(b, fam, byte(len(value)))
	return append(b, value...)
}

func recordKey(fam byte, x id) []byte {
	b := make([]byte, 0, dayLen+1+idLen)
	b = binary.BigEndian.AppendUint32(b, dayOfID(x))
	b = append(b, fam)
	return append(b, x[:]...)
}

// clampValue cuts an index value to what a key holds; queries verify the full value against the
// metadata, so a cut value costs only selectivity.
func clampValue(v string) string {
	if len(v) > maxValue {
		return v[:maxValue]
	}
	return v
}

// keyDay is the day a flow key belongs to; ok is false for system keys.
func keyDay(k []byte) (uint32, bool) {
	if len(k) < dayLen || k[0] == sysPrefix {
		return 0, false
	}
	return binary.BigEndian.Uint32(k), true
}

// keyID is the flow ID at the end of a flow key.
func keyID(k []byte) (x id, ok bool) {
	if len(k) < dayLen+1+idLen {
		return x, false
	}
	copy(x[:], k[len(k)-idLen:])
	return x, true
}

// clientIP is the index value of a client address: its IP without port or zone, IPv4-mapped
// IPv6 addresses unmapped. Addresses that are not IPs are kept as they are, lower-cased.
func clientIP(addr string) string {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().WithZone("").String()
	}
	return strings.ToLower(host)
}

// inc and dec step a ULID by one; ok is false on overflow.
func inc(x id) (id, bool) {
	for i := idLen - 1; i >= 0; i-- {
		x[i]++
		if x[i] != 0 {
			return x, true
		}
	}
	return x, false
}

func dec(x id) (id, bool) {
	for i := idLen - 1; i >= 0; i-- {
		x[i]--
		if x[i] != 0xFF {
			return x, true
		}
	}
	return x, false
}
