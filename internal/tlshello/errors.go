package tlshello

import "errors"

// The sentinel errors. Descriptive errors wrap one of them, so callers branch with errors.Is and
// log the text.
var (
	// ErrNotTLS means the first bytes are not a TLS record of the kind expected (plaintext HTTP,
	// SSH, an SSLv2-style hello, noise). More bytes will not change the answer.
	ErrNotTLS = errors.New("tlshello: not a TLS handshake")
	// ErrNeedMore means the bytes are a valid prefix that was cut short: call again with them and
	// what followed. It is returned bare, without wrapping, because a capture calls the parser
	// again on every segment and the answer should cost no allocation.
	ErrNeedMore = errors.New("tlshello: need more bytes")
	// ErrMalformed is wrapped by the errors that describe bad content: what and at which offset.
	ErrMalformed = errors.New("tlshello: malformed")
	// ErrTooLarge means a handshake message announces more than MaxMessageSize bytes.
	ErrTooLarge = errors.New("tlshello: handshake message too large")
	// ErrAlert means the server answered with a TLS alert instead of a ServerHello.
	ErrAlert = errors.New("tlshello: alert")
)
