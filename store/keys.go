package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
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
	// famOutbox holds one empty key per flow the fleet has not yet received (Options.Outbox):
	// day | 'o' | flowID, like the meta and body keys, so that a day's drop takes it too.
	famOutbox byte = 'o'

	// sysPrefix leads the store's own keys. Day numbers never reach 0xFF000000 (year 45 million),
	// so system keys sort after every day and no day prefix covers them.
	sysPrefix byte = 0xFF
)

var schemaKey = []byte{sysPrefix, 's', 'c', 'h', 'e', 'm', 'a'}

// schemaVersion 3 writes bodies compressed (body value version 2, see codec.go); version 2
// kept the index as posting lists (one key per value per write batch per posting span), as 3
// does; version 1 had one empty key per flow per value. Open migrates both: a version-1
// index is rewritten as posting lists; bodies written uncompressed (value version 1) are read
// as they are, so 2 becomes 3 by its schema key alone. The version keeps an older customs
// from opening a store it would find every body of damaged.
const (
	schemaVersion   = "3"
	schemaVersionV2 = "2"
	schemaVersionV1 = "1"
)

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

// keyID is the flow ID at the end of a flow key: for an index key (a posting), the largest
// flow ID of its list.
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

// Posting lists. An index key day | family | len | value | maxID holds the IDs, ascending, of
// the flows with that value that one write batch committed and that started within the same
// posting span (2^postingShift ms of the ULID's time); maxID is the largest of them, so the
// key is unique (a flow is in one batch only) and all of a span's postings sort together. A
// cursor loads one span at a time: spans never overlap, while postings of one span (several
// batches) do — flows end, and are written, in another order than they start.
const (
	postingShift   = 8 // 256 ms spans: flows of a batch mostly share one; a span's load stays small
	postingVersion = 1
	// postingMax bounds the IDs of one posting so that its value (a version byte and 16 bytes
	// an ID: 241 bytes) stays under valueThreshold, in the LSM tree: retention drops the index
	// families by day | family, which removes whole tables without counting the value-log
	// space their values point to (see Retention), so a posting there would never be freed.
	postingMax = (valueThreshold - 1 - 1) / idLen
)

// span is the posting span of flow ID x.
func span(x id) uint64 { return ulid.ULID(x).Time() >> postingShift }

// spanBounds are the first and last IDs of span sp.
func spanBounds(sp uint64) (first, last id) {
	first = idAt(min(sp<<postingShift, ulid.MaxTime()))
	if next := (sp + 1) << postingShift; next > ulid.MaxTime() {
		for i := range last {
			last[i] = 0xFF
		}
	} else {
		last, _ = dec(idAt(next))
	}
	return first, last
}

// appendPosting encodes a posting's value: a version byte, then the IDs (ascending, 16 bytes
// each).
func appendPosting(b []byte, ids []id) []byte {
	b = append(b, postingVersion)
	for _, x := range ids {
		b = append(b, x[:]...)
	}
	return b
}

// appendPostingIDs appends the IDs an index key and its value hold to out. An empty value is a
// posting of one flow, the one whose ID ends the key: as format 1 wrote every index entry, so
// that a migration interrupted by a crash reads as before.
func appendPostingIDs(out []id, key, value []byte) ([]id, error) {
	if len(value) == 0 {
		x, ok := keyID(key)
		if !ok {
			return out, fmt.Errorf("index key of %d bytes", len(key))
		}
		return append(out, x), nil
	}
	if value[0] != postingVersion {
		return out, fmt.Errorf("posting list version %d, this customs reads %d", value[0], postingVersion)
	}
	if (len(value)-1)%idLen != 0 {
		return out, fmt.Errorf("posting list of %d bytes", len(value))
	}
	for b := value[1:]; len(b) > 0; b = b[idLen:] {
		out = append(out, id(b[:idLen]))
	}
	return out, nil
}

func isIndexFamily(f byte) bool { return bytes.IndexByte(indexFamilies, f) >= 0 }

// outboxKeyID is the flow ID of an outbox key; ok is false for every other key.
func outboxKeyID(k []byte) (x id, ok bool) {
	if len(k) != dayLen+1+idLen || k[0] == sysPrefix || k[dayLen] != famOutbox {
		return x, false
	}
	return keyID(k)
}
