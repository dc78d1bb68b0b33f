package extract

// datadogBody reads a Datadog logs or RUM intake body: a JSON object or array (server SDKs,
// agentless logging), or one JSON event per line (the browser SDK, declared text/plain). With
// compressIntakeRequests the browser SDK deflates the body and says so in the query
// (dd-evp-encoding=deflate), because sendBeacon cannot set Content-Encoding; that is a
// content coding in all but name, so the decoded events keep the paths an undeflated body
// would give ([0].message), as for a body the proxy decoded from Content-Encoding.
func datadogBody(r *Request, e *emitter) {
	body := r.Body
	enc := queryParam(r.RawQuery, "dd-evp-encoding")
	if enc == "deflate" || enc == "" && isZlib(body) && !looksLikeText(body) {
		data, err := inflate(body, e.budget())
		if err != nil {
			e.note("body: dd-evp-encoding=deflate: %v", err)
			if len(data) == 0 {
				e.byContentType("", "", body, 0)
				return
			}
		}
		e.recDecoded(data, body, deflateCodec{}, err)
		body = data
	} else if enc != "" {
		e.note("body: unknown dd-evp-encoding %q; read as it stands", enc)
	}
	e.jsonOrNDJSON("", r.ContentType, body, 0)
}
