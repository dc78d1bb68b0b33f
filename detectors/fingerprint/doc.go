// Package fingerprint recognises copies of protected source code and documents in a text, even
// partly pasted, reformatted, re-indented, renamed or reordered, by winnowing (Schleimer,
// Wilkerson, Aiken 2003, the method of MOSS).
//
// # How
//
// A text is normalised for its class. Code: comments, whitespace, commas, semicolons and
// import/package/use statements are dropped, identifiers that are not keywords become one
// placeholder and string literals another, every other punctuation byte is a token (one lexer
// for all languages, since a prompt has no file name). Documents: case-folded words, punctuation
// ignored, licence and copyright paragraphs dropped. The tokens are cut into k-grams, each
// hashed with a rolling hash, and winnowing keeps the minimum of every window of w k-grams; the
// kept k-grams, keyed with SipHash-2-4 under a subkey of the installation key, are the text's
// prints. Two texts sharing a run of k+w-1 tokens share a print; reordered paragraphs and moved
// functions keep theirs.
//
// An Index maps prints to files (Builder: AddFile, AddTree, Build). At Build a print in many
// files is boilerplate and dropped. Scanning a text computes its prints once per class and
// looks them up; a file is a Match when enough of its prints are in the text (ScanOptions). A
// Set scans several indexes (one per label, as serve loads them) at once.
//
// # What an index holds
//
// No text. Prints are keyed: without the key an index (file or memory) cannot even confirm a
// guess of what was indexed. Kept are the 16 bits of each print below its bucket's bits (a
// lookup hits a wrong entry about once in 5,000; a match needs several prints of one file),
// file names, labels and counts. An index file is versioned and checksummed and carries a key
// check value, so that a file built under another key, by another version or damaged fails to
// load with its own error (ErrWrongKey, ErrVersion, ErrChecksum, ErrBadMagic, ErrCorrupt).
//
// # Measured (go1.26, 2 vCPUs shared with other jobs; bench_test.go, TestGorootQuality)
//
// $GOROOT/src, a 128 MB tree: 9,078 files (61 MB) indexed, the rest binary, generated or
// vendored. The index holds 586,576 prints in 2.7 MB: 4.4% of the indexed bytes (2.1% of the
// tree), 4.5% as heap after ReadIndex; 2.4 MB on disk. It builds at about 110 MB/s on one core
// and scans a 16 KiB segment (half pasted, half unrelated, both classes) in about 80 µs. On a
// 1.1 GB tree ($GOROOT/src, the module cache, two Python standard libraries, /usr/include; 330 MB
// indexed) the index took 3.5% of the indexed bytes (1.1% of the tree), the build 85 MB/s of CPU
// and the same scan 83 µs.
//
// 96% of 15-line pastes of indexed Go files are found (95% re-indented); 1.2% of 15-line pastes
// of unrelated Go code match a file they share no line with (structurally identical test
// idioms: renamed-identifier matching cannot tell them from a renamed copy). 99% of pasted
// paragraphs of 40-120 words are found; unrelated prose never matched.
//
// # Using it
//
// The key is the installation key (at least 16 bytes; the 32 random bytes of finding.key do),
// the same for building and loading: a rotated key means rebuilding the indexes. Write one index
// file per label (WriteTo to a temporary file, then rename), load them all with ReadIndex and
// scan with NewSet. Fingerprints gives the prints of any text for other uses (telemetry echo);
// a Fingerprinter avoids its per-call cache lookup.
package fingerprint
