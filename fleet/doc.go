// Package fleet connects many customs to one record and one rule book through NATS JetStream:
// every site publishes every flow it stores to one stream, and follows one rule book kept in a
// key-value bucket.
//
// # The record
//
// A site's store is the buffer (store.Options.Outbox): each flow it commits gets an outbox key in
// the same badger transaction, and the Publisher sends the outbox oldest first, in rounds of
// Options.Batch flows published asynchronously, removing a flow from the outbox only when the
// stream has acknowledged it. A round that fails (no server, a timeout, a leader election) leaves
// its flows where they are and is tried again with a backoff of up to 5 s: an outage of the
// whole cluster loses nothing and is caught up when it ends (at least once). The stream
// de-duplicates by flow ID (the Nats-Msg-Id header) within its duplicate window, so a flow sent
// again after a lost acknowledgement is stored once; past the window a reader still hands each
// flow over once (Conn.Each keeps the IDs it has seen).
//
// Each flow is one message on customs.flows.<site>.<vendor>.<action> — the catalog vendor ID
// ("_" for none) and the verdict's action ("_" for none), each made one subject token — so that
// a consumer filters by site, vendor and action without the key. The message is the store's
// encoding of the whole record (store.MarshalRecord: metadata, headers, bodies compressed as
// the store compresses them) sealed with AES-256-GCM under the fleet key, with the flow ID and
// site as additional data: the servers never see a body, a header value, a finding or a URL in
// clear, and a message moved to another flow ID or site does not open. Headers carry the flow
// ID, the site and the key's ID (a hash prefix, not the key). A record over the servers'
// max_payload (1 MiB by default) goes with its bodies cut to fit and a note saying so.
//
// A reader (customs flows --fleet, report, replay, exposure) reads the stream with an ordered
// consumer filtered by subject from the window's start less ClockSkew (a flow is published
// after it starts, so no earlier message can be in the window), opens each message and applies
// the rest of the filter after opening, exactly as store.Filter.Matches says. With a limit it
// keeps the best N; without one it hands flows over in the order the stream received them,
// holding none (a report over a million flows). It reads up to the stream's last message at
// the start of the read.
//
// # The stream
//
// EnsureStream creates the stream (CUSTOMS_FLOWS, file storage, limits retention, discard old)
// or brings its limits to the configuration: MaxAge (fleet.max_age, 90 days by default),
// MaxBytes (fleet.max_bytes), the duplicate window, and Replicas — 3 on a cluster of three or
// more servers, else 1, unless fleet.replicas says. Sizing: a message is the sealed record,
// about the store's bytes per flow plus 40 (2.9 KB for a chat flow of BenchmarkIngest); the
// stream needs messages per day × days × size × replicas, on each server a third of that times
// the replicas. The duplicate window holds one ID per flow in the servers' memory for its
// length (10 minutes at 5,000 flows/s: 3 million IDs).
//
// # The rule book
//
// customs rules publish validates rule files as a reload does and puts them, sealed with the
// fleet key, under the key "book" of a key-value bucket (fleet.rules_bucket); the revision is
// the version, and the bucket keeps the last 64 for customs rules rollback. Every site with
// fleet.watch_rules polls it (every 2 s, which survives server restarts without rebuilding a
// watch), writes a new version under DIR/fleet-rules/vN and reloads from it in place of its own
// rule files, with the same validation as a local reload: a version that does not load — or
// does not open, having been sealed with another key — leaves the rules in force. Each site
// reports the version in force, the newest seen and the errors in a second bucket
// (<bucket>_sites), which customs rules status --fleet reads. A site restarted while the fleet
// is out of reach starts with the last version it ran.
package fleet
