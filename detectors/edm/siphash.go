package edm

import "github.com/customs-dev/customs/internal/siphash"

// sipKey is the table's SipHash-2-4 key. SipHash is used instead of HMAC-SHA256 because a scan
// hashes a few hundred short values and a build tens of millions: SipHash is a PRF built for
// short inputs, several times cheaper than HMAC here (see BenchmarkHash), and a 64-bit output is
// all the index keeps anyway. Each value is hashed with a tag byte of its kind (SumTagged), so
// an e-mail and an account ID with the same bytes never share an index key.
type sipKey = siphash.Key
