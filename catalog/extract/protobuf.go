package extract

import (
	"bytes"
	"errors"
	"strconv"
	"unicode/utf8"
)

// Protocol Buffers bodies (OTLP traces, Connect and gRPC-Web calls) are read without their
// .proto files: the wire format says where every length-delimited field lies, and a field that
// is a string is text the vendor receives. Where a schema is known (OTLP, otlp.go) fields are
// named as their JSON form names them, so that a policy or a finding reads the same path in
// either encoding; elsewhere fields are named by number (1[0].3[0]) and a length-delimited field
// is taken for a nested message when it parses as one and holds a length-delimited field
// itself, else for text when it is text, else for binary data.
//
// The walker reads; it never rewrites. A string's length is written before it, in every
// enclosing message too, so Redact cannot change one: texts found here are recorded as not
// rewritable (the caller blocks instead of redacting). gRPC bodies have a walker of their own
// (grpc.go) that records every length-delimited field, and so can write new lengths.

// pbMessage names the fields of one message type.
type pbMessage struct {
	fields map[int]pbField
	// keyed: the message is a key/value pair (OTLP's KeyValue): field 1 is the key, and the
	// value (field 2) is named by it: attributes(input.value) rather than attributes[3].value.
	keyed bool
	// mapEntry: the message is an entry of a protobuf map (key 1, value 2), read by the gRPC
	// walker as JSON reads an object's member: the value is at <map>.<key>, and the key is a
	// member name (#keys).
	mapEntry bool
}

// pbField is one field of a pbMessage.
type pbField struct {
	name     string
	msg      *pbMessage // nil: a string, or bytes when binary
	binary   bool       // bytes that are not text (trace and span IDs)
	repeated bool       // paths index its elements: spans[0]
	// For the gRPC walker (grpc.go). A field without a name stands for its message's path
	// (google.protobuf.Value's string_value is the value itself, as in JSON).
	mimeField int  // binary: the sibling string field that declares its media type (Blob)
	served    bool // a string naming the model that served an answer (modelVersion)
}

// Wire types (protobuf encoding spec).
const (
	pbVarint  = 0
	pbFixed64 = 1
	pbLen     = 2
	pbFixed32 = 5
)

var (
	errProtoTruncated = errors.New("protobuf: truncated field")
	errProtoWireType  = errors.New("protobuf: unsupported wire type (groups or invalid)")
	errProtoField     = errors.New("protobuf: field number 0")
	errProtoDepth     = errors.New("protobuf: nesting deeper than the limit")
)

// protoVisit receives a string field (s is a sub-slice of the walked data, valid UTF-8) or, for
// bytes that are not text, its size. path names the field.
type protoVisit struct {
	text   func(path string, s []byte)
	binary func(path string, size int)
}

// minProtoBinary: binary fields shorter than this (IDs, hashes) are not reported as media.
const minProtoBinary = 256

// walkProto visits the fields of the message in data, named by schema (nil: by number), under
// prefix. It stops at the first malformed field, nesting deeper than maxNest, and returns the
// error after having visited every field before it.
func walkProto(data []byte, schema *pbMessage, prefix string, maxNest int, v protoVisit) error {
	w := protoWalker{v: v, maxNest: maxNest}
	return w.message(data, schema, prefix, prefix, 0)
}

type protoWalker struct {
	v       protoVisit
	maxNest int
}

// pbNext reads one field header and value at data[i:]: the field number, wire type, the value
// of a length-delimited field, and the offset past the field.
func pbNext(data []byte, i int) (num, wire int, val []byte, next int, err error) {
	tag, n := pbVarintAt(data, i)
	if n == 0 {
		return 0, 0, nil, i, errProtoTruncated
	}
	i += n
	if tag>>3 == 0 || tag>>3 > 1<<29-1 {
		return 0, 0, nil, i, errProtoField
	}
	num, wire = int(tag>>3), int(tag&7)
	switch wire {
	case pbVarint:
		_, n := pbVarintAt(data, i)
		if n == 0 {
			return 0, 0, nil, i, errProtoTruncated
		}
		return num, wire, nil, i + n, nil
	case pbFixed64:
		if len(data)-i < 8 {
			return 0, 0, nil, i, errProtoTruncated
		}
		return num, wire, nil, i + 8, nil
	case pbFixed32:
		if len(data)-i < 4 {
			return 0, 0, nil, i, errProtoTruncated
		}
		return num, wire, nil, i + 4, nil
	case pbLen:
		l, n := pbVarintAt(data, i)
		if n == 0 || l > uint64(len(data)-i-n) {
			return 0, 0, nil, i, errProtoTruncated
		}
		i += n
		return num, wire, data[i : i+int(l)], i + int(l), nil
	}
	return 0, 0, nil, i, errProtoWireType
}

// pbVarintAt decodes a varint at data[i:]; n is 0 when it is truncated or longer than 10 bytes.
func pbVarintAt(data []byte, i int) (v uint64, n int) {
	for shift := uint(0); n < 10 && i+n < len(data); shift += 7 {
		b := data[i+n]
		n++
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v, n
		}
	}
	return 0, 0
}

// message walks the fields of one message. path is where it is (attributes[3]); base is the
// same without the element index (attributes), for a keyed message to name its value.
func (w *protoWalker) message(data []byte, m *pbMessage, path, base string, nest int) error {
	if nest > w.maxNest {
		return errProtoDepth
	}
	valuePath := ""
	if m != nil && m.keyed {
		if key, ok := pbKey(data); ok {
			valuePath = base + "(" + string(key) + ")"
		}
	}
	counts := map[int]int{}
	for i := 0; i < len(data); {
		num, wire, val, next, err := pbNext(data, i)
		if err != nil {
			return err
		}
		i = next
		idx := counts[num]
		counts[num]++
		if wire != pbLen {
			continue // numbers, enums, timestamps: not text
		}
		f, known := pbField{}, false
		if m != nil {
			f, known = m.fields[num]
		}
		var fpath, fbase string
		switch {
		case known && num == 2 && valuePath != "":
			fpath, fbase = valuePath, valuePath
		case known:
			fbase = joinField(path, f.name)
			fpath = fbase
			if f.repeated {
				fpath += "[" + strconv.Itoa(idx) + "]"
			}
		default:
			fbase = joinField(path, strconv.Itoa(num))
			fpath = fbase + "[" + strconv.Itoa(idx) + "]"
		}
		switch {
		case known && f.msg != nil:
			if err := w.message(val, f.msg, fpath, fbase, nest+1); err != nil {
				return err
			}
		case known && f.binary:
			w.bytes(fpath, val)
		case known:
			if utf8.Valid(val) {
				w.v.text(fpath, val)
			} else {
				w.bytes(fpath, val)
			}
		default:
			if err := w.unknown(val, fpath, nest); err != nil {
				return err
			}
		}
	}
	return nil
}

// unknown reads a length-delimited field of no known type: a nested message if it parses as one
// with a length-delimited field of its own, else text, else binary.
func (w *protoWalker) unknown(val []byte, path string, nest int) error {
	if pbLooksLikeMessage(val) {
		return w.message(val, nil, path, path, nest+1) // errProtoDepth past the limit
	}
	if pbIsText(val) {
		w.v.text(path, val)
		return nil
	}
	w.bytes(path, val)
	return nil
}

func (w *protoWalker) bytes(path string, val []byte) {
	if len(val) >= minProtoBinary && w.v.binary != nil {
		w.v.binary(path, len(val))
	}
}

// pbKey returns field 1 of a key/value message when it is a short string.
func pbKey(data []byte) ([]byte, bool) {
	for i := 0; i < len(data); {
		num, wire, val, next, err := pbNext(data, i)
		if err != nil {
			return nil, false
		}
		if num == 1 && wire == pbLen {
			ok := len(val) > 0 && len(val) <= 128 && pbIsText(val) && !bytes.ContainsAny(val, "()\n\r\t")
			return val, ok
		}
		i = next
	}
	return nil, false
}

// pbLooksLikeMessage reports whether data parses whole, one level deep, as a message with at
// least one length-delimited field. Text rarely does: its bytes seldom line up as tags of valid
// wire types with lengths that end exactly where the data does.
func pbLooksLikeMessage(data []byte) bool {
	if len(data) < 2 {
		return false
	}
	hasLen := false
	for i := 0; i < len(data); {
		_, wire, _, next, err := pbNext(data, i)
		if err != nil {
			return false
		}
		hasLen = hasLen || wire == pbLen
		i = next
	}
	return hasLen
}

// pbIsText: valid UTF-8 with no control bytes but tab, line feed and carriage return. Stricter
// than looksLikeText, which allows a tenth of them, because here binary framing must not pass.
func pbIsText(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return true
}

func joinField(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
