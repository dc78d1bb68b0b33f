package inspect

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/customs-dev/customs/flow"
)

// A gRPC client reads no body from an answer customs gives in place of the vendor's: a call's
// outcome is its status, and customs sends it trailers-only (HTTP 200, a HEADERS frame that ends
// the stream with grpc-status and grpc-message), which every gRPC library raises as that status
// with customs' message.

// gRPC status codes customs answers with (grpc/doc/statuscodes.md).
const (
	GRPCUnknown           = 2
	GRPCInvalidArgument   = 3
	GRPCDeadlineExceeded  = 4
	GRPCPermissionDenied  = 7
	GRPCResourceExhausted = 8
	GRPCInternal          = 13
	GRPCUnavailable       = 14
	GRPCUnauthenticated   = 16
)

// GRPCCode maps the HTTP status of one of customs' own answers to the gRPC status a gRPC
// client is given instead.
func GRPCCode(status int) int {
	switch status {
	case http.StatusBadRequest, http.StatusMisdirectedRequest:
		return GRPCInvalidArgument
	case http.StatusForbidden:
		return GRPCPermissionDenied
	case http.StatusProxyAuthRequired, http.StatusUnauthorized:
		return GRPCUnauthenticated
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return GRPCResourceExhausted
	case http.StatusInternalServerError:
		return GRPCInternal
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return GRPCUnavailable
	case http.StatusGatewayTimeout:
		return GRPCDeadlineExceeded
	}
	return GRPCUnknown
}

// GRPCStatus is the header of a trailers-only gRPC answer with code and msg. As trailers of a
// call already answered (a stream customs ends), the same two fields go in the trailer.
func GRPCStatus(code int, msg string) http.Header {
	return http.Header{
		"Content-Type": {"application/grpc"},
		"Grpc-Status":  {strconv.Itoa(code)},
		"Grpc-Message": {grpcPercent(msg)},
	}
}

// grpcPercent encodes a status message as the gRPC spec asks: bytes outside printable ASCII,
// and '%', as %XX of their UTF-8.
func grpcPercent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '%' {
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// grpcRefusal is RefusalFor a gRPC call: PERMISSION_DENIED, trailers-only.
func grpcRefusal(f *flow.Flow, v flow.Verdict) Refusal {
	h := GRPCStatus(GRPCPermissionDenied, refusalMessage(f, v))
	return Refusal{Status: http.StatusOK, Header: h}
}
