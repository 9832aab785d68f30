#!/usr/bin/env bash
# Runs every native fuzz target (each func FuzzX in a _test.go file) for a
# short while: FUZZTIME per target (a go test -fuzztime: 1s by default, or
# e.g. 500x), within FUZZBUDGET seconds in all (90 by default; 0: none).
#
# A target that fails is named at the end and the script exits 1; go test
# has then written the failing input under the package's
# testdata/fuzz/FuzzX/: fix the bug and commit the input as a regression
# seed, which every go test run replays.
#
# Fuzzing builds every package a target imports again, instrumented: with
# an empty build cache that takes minutes, so the budget may end the run
# before every target has had its turn. Those left are listed, which is not
# a failure; the first target is chosen by the day, so that every one gets
# its turn over a few runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
export GOTOOLCHAIN=auto # the toolchain go.mod names (see setup.sh)
fuzztime=${FUZZTIME:-1s}
budget=${FUZZBUDGET:-90}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# "package target", one a line, from "file:func FuzzX(f *testing.F)".
targets=()
while IFS=: read -r file decl; do
  name=${decl#func }
  targets+=("./$(dirname "$file") ${name%%(*}")
done < <(grep -rHo --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' cmd internal client | sort)
n=${#targets[@]}
first=$(($(date +%s) / 86400 % (n > 0 ? n : 1)))

failed=() left=()
start=$SECONDS
for ((i = 0; i < n; i++)); do
  read -r pkg name <<<"${targets[(first + i) % n]}"
  limit=()
  if ((budget > 0)); then
    remaining=$((budget - (SECONDS - start)))
    if ((remaining <= 0)); then
      left+=("$pkg $name")
      continue
    fi
    limit=(timeout --kill-after=10 "$remaining")
  fi
  t0=$SECONDS
  status=0
  "${limit[@]}" go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" >"$log" 2>&1 || status=$?
  case $status in
  0) echo "fuzz: ok   $pkg $name ($((SECONDS - t0))s)" ;;
  124 | 137) left+=("$pkg $name (stopped: the budget ran out)") ;;
  *)
    echo "fuzz: FAIL $pkg $name"
    tail -n 40 "$log"
    failed+=("$pkg $name")
    ;;
  esac
done

echo "fuzz: $n targets, $((SECONDS - start))s in all, $fuzztime each, budget ${budget}s"
if ((${#left[@]} > 0)); then
  echo "fuzz: not run within the budget (FUZZBUDGET=0 runs them all):"
  printf '  %s\n' "${left[@]}"
fi
if ((${#failed[@]} > 0)); then
  echo "fuzz: failing targets (their inputs are under the package's testdata/fuzz/):"
  printf '  %s\n' "${failed[@]}"
  exit 1
fi
