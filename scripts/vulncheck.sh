#!/usr/bin/env bash
# Checks the module and the Go toolchain it builds with against the Go
# vulnerability database with govulncheck: a finding in code we call fails.
#
# govulncheck reads its database from vuln.go.dev, which may not be
# reachable where the Go module proxy is; the database's source, the
# golang.org/x/vulndb module, comes through the proxy, and
# scripts/vulndb turns its OSV entries into a database in a temp dir.
# VULNDB_VERSION pins that module's version (default: the newest the proxy
# serves, else the one below).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
export GOTOOLCHAIN=auto # the toolchain go.mod names (see setup.sh)
pinned=v0.0.0-20261105234957-e22db6528018
govulncheck=golang.org/x/vuln/cmd/govulncheck@v1.1.4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Outside this module, so that go.mod and go.sum are left alone.
download() { (cd "$work" && GOFLAGS=-mod=mod go mod download -json "golang.org/x/vulndb@$1" 2>/dev/null | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'); }
dir=""
if [[ -n "${VULNDB_VERSION:-}" ]]; then
  dir=$(download "$VULNDB_VERSION")
else
  dir=$(download latest) || true
  [[ -n "$dir" ]] || dir=$(download "$pinned")
fi
if [[ -z "$dir" || ! -d "$dir/data/osv" ]]; then
  echo "vulncheck: could not get golang.org/x/vulndb from the module proxy" >&2
  exit 1
fi
go run ./scripts/vulndb -osv "$dir/data/osv" -out "$work/db"
echo "vulncheck: database from $(basename "$dir"), $(ls "$work/db/ID" | wc -l) entries; $(go version)"
go run "$govulncheck" -db "file://$work/db" ./...
