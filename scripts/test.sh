#!/usr/bin/env bash
# Sets up what the tests need and runs them all: vet, then every package's
# tests (unit, golden, end-to-end against the real binary, ffmpeg and flite,
# and the distributed mode against PostgreSQL and a real S3 server), the
# studio's build check and its browser tests in Chromium, the
# renderer's vector kernels, then govulncheck and a short run of every fuzz
# target.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export PATH=/usr/local/go/bin:$PATH
export GOTOOLCHAIN=auto # the toolchain go.mod names (see setup.sh)
source scripts/test-services.sh
unformatted=$(gofmt -l cmd internal)
if [[ -n "$unformatted" ]]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
go test -count=1 -timeout 25m ./... "$@"
# The studio: its committed build matches its sources, and it works in
# Chromium against the real binary (web/e2e).
npm --prefix web run check
STILLMOTION_BIN="$PWD/bin/stillmotion" npm --prefix web run test:e2e
# The renderer's vector kernels, built with Go's SIMD experiment (opt-in:
# see BENCHMARKS.md), against their scalar arithmetic.
GOEXPERIMENT=simd go test -count=1 -run 'TestDownLanes|TestAnimate' ./internal/render/
bash scripts/vulncheck.sh
FUZZBUDGET=${FUZZBUDGET:-20} bash scripts/fuzz.sh
