#!/usr/bin/env bash
# Regenerates the external fixtures of this directory from their public sources:
#   secrets/gitleaks.jsonl    gitleaks' rule samples (true and false positives), MIT
#   secrets/trufflehog.jsonl  trufflehog's pattern-test tables (test strings only), AGPL-3.0
#   pii/*.jsonl               example values of public npm packages, put into our sentences
#                             (pii/templates.txt)
# Sources are fetched with the Go module proxy (go mod download) and npm pack, into the module
# cache and a temporary directory; nothing is added to go.mod. gitleaks draws some samples at
# random when its rules are built, so a regeneration may change those values.
# Run from anywhere: bash testdata/external/regen.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

GITLEAKS=github.com/zricethezav/gitleaks/v8@v8.30.1
TRUFFLEHOG=github.com/trufflesecurity/trufflehog/v3@v3.90.0
# npm packages whose data the PII fixtures take (versions pinned; see LICENSES.md).
NPM_PACKAGES=(libphonenumber-js@1.13.18 iban@0.0.14 stdnum@1.12.0)

moddir() { # the module's source directory in the module cache, downloading it if needed
	(cd "$(mktemp -d)" && GOFLAGS=-mod=mod go mod download -json "$1") |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

gl=$(moddir "$GITLEAKS")
th=$(moddir "$TRUFFLEHOG")
go run ./internal/eval/cmd/extract gitleaks "$gl" "$here/secrets/gitleaks.jsonl"
go run ./internal/eval/cmd/extract trufflehog "$th" "$here/secrets/trufflehog.jsonl" "$here/secrets/gitleaks.jsonl"

mkdir -p "$tmp/npm"
for p in "${NPM_PACKAGES[@]}"; do
	name=${p%@*}
	(cd "$tmp/npm" && npm pack --silent "$p" >/dev/null)
	mkdir -p "$tmp/npm/$name"
	tar -xzf "$tmp/npm/"*.tgz -C "$tmp/npm/$name" --strip-components=1
	rm -f "$tmp/npm/"*.tgz
done
go run ./internal/eval/cmd/extract pii "$here/pii/templates.txt" "$tmp/npm" "$here/pii"
echo "fixtures regenerated under $here"
