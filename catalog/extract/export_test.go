package extract

// RawSpan returns the range of the request's raw bytes that carries the segments at path: the
// outermost encoded values they were decoded from (a JSON string, a form value, the whole body
// for gzip), in the query when inQuery is set, else in the body; for a path that names several
// segments, the range from the first to the last. Redact may change bytes inside it and nowhere
// else. ok is false when a segment's text is not from the body or the query.
func RawSpan(r *Request, lim Limits, path string) (inQuery bool, start, end int, ok bool) {
	rec := newRecorder(r)
	e := &emitter{lim: lim.withDefaults(), rec: rec}
	res := e.request(r)
	start = -1
	for i, s := range res.Segments {
		if s.Path != path || s.Media != "" {
			continue
		}
		o := rec.origin(i)
		n, a, b := o.n, o.off, o.off+len(s.Text)
		if n == nil {
			return false, 0, 0, false
		}
		for n.parent != nil {
			n, a, b = n.parent, n.start, n.end
		}
		if n != rec.body && n != rec.query || start >= 0 && inQuery != (n == rec.query) {
			return false, 0, 0, false
		}
		inQuery = n == rec.query
		if start < 0 || a < start {
			start = a
		}
		end = max(end, b)
	}
	return inQuery, start, end, start >= 0
}
