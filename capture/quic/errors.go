package quic

import "errors"

var (
	// ErrUnsupportedVersion is returned for a long-header packet of a QUIC
	// version this package has no Initial keys for; without them even the
	// packet's length is unknown, so the rest of the datagram is unreadable.
	ErrUnsupportedVersion = errors.New("unsupported QUIC version")

	// ErrDecrypt is returned when an Initial packet fails AEAD
	// authentication: it was corrupted, is not from the expected side, or
	// its keys come from another connection ID.
	ErrDecrypt = errors.New("initial packet authentication failed")

	// ErrTruncated is returned when the input ends before a length field
	// says it should.
	ErrTruncated = errors.New("truncated")

	// ErrMalformed is returned for input that is complete but breaks the
	// QUIC encoding rules in a way no server would accept either.
	ErrMalformed = errors.New("malformed")

	// ErrTooLarge is returned by CryptoStream.Add for data beyond the
	// stream's limit.
	ErrTooLarge = errors.New("crypto stream exceeds its limit")

	// ErrInconsistent is returned by CryptoStream.Add when retransmitted
	// bytes differ from the ones already held. RFC 9000 §2.2 forbids it; a
	// peer doing it is probably trying to show an observer a different
	// ClientHello than the server gets.
	ErrInconsistent = errors.New("crypto stream data changed on retransmission")
)
