//go:build race

package decode_test

// raceEnabled shrinks the compression bombs: the race detector makes compressing 1 GiB take
// minutes, and the bytes past the limit are never decoded anyway.
const raceEnabled = true
