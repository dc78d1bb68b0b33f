package tlshello

// ClientHello is what a TLS client offers in its first message. The lists keep GREASE values
// (RFC 8701) and wire order, so they describe the message as sent; JA4 drops GREASE itself.
type ClientHello struct {
	LegacyVersion       uint16   // legacy_version: 0x0303 for TLS 1.2 and 1.3 clients
	SupportedVersions   []uint16 // supported_versions (extension 43), in the client's order
	CipherSuites        []uint16
	Extensions          []uint16 // extension types in wire order, duplicates kept
	SignatureAlgorithms []uint16 // signature_algorithms (extension 13), in the client's order
	SupportedGroups     []uint16 // supported_groups (extension 10), in the client's order
	ALPN                []string // application_layer_protocol_negotiation (extension 16)

	// SNI is the host_name of the server_name extension (0), lower-cased and without a trailing
	// dot, when it is a valid DNS host name. BadSNI is set when the extension is present but holds
	// no such name (empty, an IP literal, bytes no host name has), which is itself a trait of the
	// client worth reporting; SNI is then empty.
	SNI    string
	BadSNI bool

	// ECH reports an encrypted_client_hello extension (0xfe0d): the real ClientHello is inside it
	// and SNI is only the outer, public name.
	ECH bool

	MessageLen int // bytes of the handshake message, its 4-byte header included
	Records    int // TLS records the message spanned; 0 when parsed from a bare message
}

const (
	extServerName          = 0
	extSupportedGroups     = 10
	extSignatureAlgorithms = 13
	extALPN                = 16
	extSupportedVersions   = 43
	extECH                 = 0xfe0d
)

// HasExtension reports whether the client sent an extension of type typ.
func (ch *ClientHello) HasExtension(typ uint16) bool {
	for _, e := range ch.Extensions {
		if e == typ {
			return true
		}
	}
	return false
}

// ParseClientHello reads the ClientHello from the first bytes a client sent on a TCP connection:
// TLS handshake records, whose fragments it joins. Bytes after the hello are ignored. It returns
// ErrNeedMore while stream is a valid but incomplete prefix, an error wrapping ErrNotTLS when the
// stream does not start like TLS, ErrTooLarge past MaxMessageSize, and an error wrapping
// ErrMalformed, saying what and where, for anything else wrong.
func ParseClientHello(stream []byte) (*ClientHello, error) {
	f := flight{stream: stream, who: "client hello"}
	msg, err := f.message(typeClientHello)
	if err != nil {
		return nil, err
	}
	return parseClientHello(msg, f.records)
}

// ParseClientHelloMessage reads a ClientHello given as a bare handshake message (type 1, 24-bit
// length, body) without the record layer, as QUIC's CRYPTO stream carries it. Bytes after the
// message are ignored; errors are those of ParseClientHello.
func ParseClientHelloMessage(msg []byte) (*ClientHello, error) {
	m, err := bareMessage("client hello", msg, typeClientHello)
	if err != nil {
		return nil, err
	}
	return parseClientHello(m, 0)
}

// parseClientHello decodes a whole ClientHello message (RFC 8446 4.1.2, RFC 5246 7.4.1.2).
func parseClientHello(msg []byte, records int) (*ClientHello, error) {
	var err error
	r := newReader(partClientHello, msg, &err)
	ch := &ClientHello{MessageLen: len(msg), Records: records}
	ch.LegacyVersion = uint16(r.u16("legacy_version"))
	r.take("random", 32)
	if sid := r.vec("legacy_session_id", 1); len(sid.b) > 32 {
		sid.invalid("legacy_session_id", "length %d, limit 32", len(sid.b))
	}
	suites := r.u16list("cipher_suites", 2)
	r.vec("legacy_compression_methods", 1)
	var exts reader
	if len(r.b) > 0 {
		// Before TLS 1.3 the extension block is optional: SSL 3.0-era clients end here.
		exts = r.vec("extensions", 2)
		r.end("extensions")
	}
	if err != nil {
		return nil, err
	}

	// First walk: check the framing of every extension and find the ones read below. Their
	// values are counted before anything is allocated, so all the uint16 lists share one array.
	var sni, alpn, sigs, groups, versions reader
	var haveSNI, haveALPN, haveSigs, haveGroups, haveVersions bool
	nExt := 0
	for e := exts; len(e.b) > 0; {
		typ := uint16(e.u16("extension type"))
		body := e.vec("extension data", 2)
		if err != nil {
			return nil, err
		}
		nExt++
		// A repeated extension is illegal (RFC 8446 4.2) but is what the client sent: the list
		// keeps both and the first one's content counts.
		switch {
		case typ == extServerName && !haveSNI:
			sni, haveSNI = body, true
		case typ == extALPN && !haveALPN:
			alpn, haveALPN = body, true
		case typ == extSignatureAlgorithms && !haveSigs:
			sigs, haveSigs = body, true
		case typ == extSupportedGroups && !haveGroups:
			groups, haveGroups = body, true
		case typ == extSupportedVersions && !haveVersions:
			versions, haveVersions = body, true
		case typ == extECH:
			ch.ECH = true
		}
	}

	// An empty extension body is read as an empty list rather than an error: servers ignore it
	// and JA4 (like the published implementations) still fingerprints the client.
	var sigList, groupList, versionList reader
	if len(sigs.b) > 0 {
		sigList = sigs.u16list("signature_algorithms", 2)
		sigs.end("signature_algorithms")
	}
	if len(groups.b) > 0 {
		groupList = groups.u16list("supported_groups", 2)
		groups.end("supported_groups")
	}
	if len(versions.b) > 0 {
		versionList = versions.u16list("supported_versions", 1)
		versions.end("supported_versions")
	}
	if haveALPN {
		ch.ALPN = parseALPN(alpn)
	}
	if haveSNI {
		ch.SNI, ch.BadSNI = parseSNI(sni)
	}
	if err != nil {
		return nil, err
	}

	n := len(suites.b)/2 + nExt + len(sigList.b)/2 + len(groupList.b)/2 + len(versionList.b)/2
	all := make([]uint16, 0, n)
	ch.CipherSuites, all = carve(all, suites.b)
	ch.SignatureAlgorithms, all = carve(all, sigList.b)
	ch.SupportedGroups, all = carve(all, groupList.b)
	ch.SupportedVersions, all = carve(all, versionList.b)
	if nExt > 0 {
		start := len(all)
		for e := exts.b; len(e) >= 4; {
			all = append(all, uint16(e[0])<<8|uint16(e[1]))
			e = e[4+(int(e[2])<<8|int(e[3])):]
		}
		ch.Extensions = all[start:len(all):len(all)]
	}
	return ch, nil
}

// carve appends the values of b to all and returns them as their own slice, capped so that an
// append by the caller reallocates instead of overwriting the next list; nil when b is empty.
func carve(all []uint16, b []byte) (list, rest []uint16) {
	if len(b) == 0 {
		return nil, all
	}
	start := len(all)
	all = u16s(all, b)
	return all[start:len(all):len(all)], all
}

// parseALPN reads a ProtocolNameList (RFC 7301 3.1). Empty names are kept, not refused: JA4 has a
// rule for them and a client sending one is worth seeing.
func parseALPN(body reader) []string {
	if len(body.b) == 0 {
		return nil
	}
	list := body.vec("protocol_name_list", 2)
	body.end("protocol_name_list")
	count := 0
	for l := list; len(l.b) > 0; count++ {
		l.vec("protocol_name", 1)
	}
	if body.failed() || count == 0 {
		return nil
	}
	// One string holds every name; the names are substrings of it.
	all := string(list.b)
	names := make([]string, 0, count)
	for i := 0; i < len(all); {
		n := int(all[i])
		names = append(names, all[i+1:i+1+n])
		i += 1 + n
	}
	return names
}

// parseSNI reads a ServerNameList (RFC 6066 3) and returns its first host_name, normalised, or
// bad when there is none fit to report.
func parseSNI(body reader) (name string, bad bool) {
	if len(body.b) == 0 {
		return "", true
	}
	list := body.vec("server_name_list", 2)
	body.end("server_name_list")
	var host []byte
	found := false
	for len(list.b) > 0 {
		typ := list.u8("name_type")
		v := list.vec("host_name", 2)
		if typ == 0 && !found {
			host, found = v.b, true
		}
	}
	if body.failed() || !found {
		return "", true
	}
	name, ok := hostName(host)
	return name, !ok
}
