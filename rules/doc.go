// Package rules is customs' policy language: YAML rule files holding custom detectors, vendor
// additions, policies with CEL conditions, and the tests that check them.
//
// Loading runs in stages, once: decode the YAML through yaml.v3 nodes (so every value keeps
// its file, line and column, and unknown keys are caught with a "did you mean" hint), then
// compile (detector patterns with regexp, conditions with cel-go, type-checked as bool), then
// validate across files (duplicate IDs, tests naming policies that do not exist). Every problem
// of every file is reported at once, as Errors. Only Evaluate runs per flow; it reads nothing
// but its Input.
//
// Files merge in the order given: detectors, vendors, policies and tests are appended, and an
// ID defined twice is an error that names both places. Policies are evaluated in that order;
// see Set.Evaluate for how the first match, continue: true and runtime errors decide.
//
// Nothing never means "allow everything": a file with nothing in it (white space, comments),
// a "policies:" key with no list, and files that together define no policy are errors, so that
// a file an editor has truncated mid-save cannot be loaded as the policy. "policies: []" says
// that no policy is meant (Set.ExplicitlyEmpty).
//
// # The context of a condition
//
// This block is written to be copied into the README as it is.
//
//	vendor     the catalog vendor of the host
//	  .id, .name, .category, .country    string ("" when the host is not in the catalog)
//	  .subprocessors                     list(string), vendor IDs
//	  .verified                          bool: the catalog marks the vendor's entry as verified
//	  .known                             bool: false when the host is not in the catalog
//	api        string: the recognised API, e.g. "openai.chat"; "" when none was
//	  .model                             string: the model requested ("" when none was named)
//	  .served_model                      string: the model the answer named; "" until it is read
//	  .params                            map(string, string): retention parameters, every key of
//	                                     flow.ParamKeys, "" where the request did not set it
//	           (api stays a string: api.model and the others are variables of their own, which
//	           CEL's checker resolves as qualified names before a field of the string)
//	request
//	  .method, .host, .path              string (path without the query string)
//	  .headers                           map(string, string): lower-case names, repeated values joined by ", "
//	client
//	  .addr                              string: ip or ip:port
//	  .user                              string: the proxy user, when proxy authentication is on
//	findings   list of one entry per detector and path (and label and ref):
//	  .detector, .class, .severity, .path   string
//	  .count                             int: findings of that detector at that path
//	  .confidence                        double: the highest among them
//	  .label, .ref                       string: jewel.*: the label and the indexed file;
//	                                     record.match: the table's label; echo.*: the AI text's
//	                                     path and the AI flow's ID (ref)
//	  .share, .segment_share             double: share of the file (of the AI text) found, and
//	                                     of the segment that matched; the highest
//	  .rows                              int: record.match: rows matched; .columns list(string)
//	flow
//	  .source, .mode                     string: proxy|capture|replay, intercepted|tunnelled|plain
//	  .oversize                          bool: the body was larger than customs inspects
//	  .marks                             list(string): oversize, decode-error, ...
//
//	in_cidr(addr, cidr)          addr (ip or ip:port, IPv4 or IPv6) is in cidr ("10.0.0.0/8", or one IP)
//	host_matches(host, pattern)  host is pattern, or below it for "*.example.com"; case-insensitive
//	has_class(c)                 findings.exists(f, f.class == c)
//	has_detector(id)             a finding of detector id, in full (secret.aws-access-key-id) or
//	                             without its namespace (aws-access-key-id, acme-codename)
//
// Also available: CEL's standard library (findings.exists(f, ...), .all, .filter, .map, in,
// size, string functions such as startsWith and matches), the strings extension (lowerAscii,
// split, replace, ...) and optional values: request.headers[?"x-team"].orValue("") reads a
// header that may be absent. request.headers["x-team"] on a request without that header is an
// evaluation error (see below), not false.
//
// A literal CIDR or host pattern that can never match is refused at load time; one computed at
// run time that does not parse makes the condition fail.
//
// # Failures and limits
//
// A condition runs under a cost limit. When it fails at run time (over the limit, a missing
// map key, an interrupted EvaluateContext), the failure is recorded in Decision.Errors and the
// policy counts as not matched, except a block policy, which counts as matched: a security
// control must not fail open. Conditions that cannot exceed the limit on any flow of ordinary
// size run without the limit's bookkeeping (see cost.go); the decision is the same.
package rules
