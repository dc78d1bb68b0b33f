package decode

import "errors"

// Every way this package can fail to produce the whole text of a body has its own sentinel, so
// that the caller can make "inspected only part of it" a policy decision rather than a log line,
// and Reason names each one for metrics. What did decode is returned beside the error.
var (
	// ErrUnsupported means the Content-Encoding names a coding this package does not decode.
	ErrUnsupported = errors.New("unsupported content coding")
	// ErrTooManyCodings means the Content-Encoding stacks more codings than this package will
	// undo. It is a kind of ErrUnsupported (errors.Is matches both), so code written before it
	// existed still treats such a body as one it could not decode.
	ErrTooManyCodings error = &childError{msg: "too many stacked content codings", parent: ErrUnsupported}
	// ErrCorrupt means a coded stream (a content coding, or a UTF-16 or UTF-32 text) is corrupt or
	// truncated; only what decoded before the fault was returned. The decoder's own error is
	// wrapped too.
	ErrCorrupt = errors.New("corrupt or truncated stream")
	// ErrTooLarge means the decoded body exceeded the limit; only its first limit bytes were kept.
	ErrTooLarge = errors.New("decoded body exceeds limit")
	// ErrCharset means the Content-Type declares a character set this package does not convert,
	// on a body that is not plain ASCII; the body was returned as it is.
	ErrCharset = errors.New("unsupported charset")
	// ErrBudget means the process-wide decode Budget (or the client's share of it) had no room
	// for the body within the wait; only what decoded before was returned.
	ErrBudget = errors.New("decode budget exhausted")
)

// Reason returns a short, stable token for err, for metrics and for marks on a flow: "" for nil,
// "unsupported-coding", "too-many-codings", "corrupt-coding" (a content coding),
// "corrupt-charset" (a UTF-16 or UTF-32 text cut inside a character), "decode-limit",
// "decode-budget", "unsupported-charset", and "other" for an error outside this taxonomy (a negative limit, a
// failed read of the body).
func Reason(err error) string {
	var ce *codingError
	switch {
	case err == nil:
		return ""
	// The more specific sentinel first: ErrTooManyCodings is also ErrUnsupported.
	case errors.Is(err, ErrTooManyCodings):
		return "too-many-codings"
	case errors.Is(err, ErrUnsupported):
		return "unsupported-coding"
	case errors.Is(err, ErrCharset):
		return "unsupported-charset"
	case errors.Is(err, ErrTooLarge):
		return "decode-limit"
	case errors.Is(err, ErrBudget):
		return "decode-budget"
	case errors.As(err, &ce) && ce.text:
		return "corrupt-charset"
	case errors.Is(err, ErrCorrupt):
		return "corrupt-coding"
	}
	return "other"
}

// childError is a sentinel that is also a case of a broader one.
type childError struct {
	msg    string
	parent error
}

func (e *childError) Error() string { return e.msg }
func (e *childError) Unwrap() error { return e.parent }

// codingError is a fault inside one coded stream. Its message is the decoder's, prefixed by the
// coding ("decode gzip: unexpected EOF"), because that is what a responder reading a note needs;
// errors.Is finds both ErrCorrupt and the decoder's error.
type codingError struct {
	coding string // a content coding, or the charset for text
	text   bool   // a character encoding rather than a content coding
	err    error
}

func (e *codingError) Error() string   { return "decode " + e.coding + ": " + e.err.Error() }
func (e *codingError) Unwrap() []error { return []error{ErrCorrupt, e.err} }
