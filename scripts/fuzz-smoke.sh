#!/usr/bin/env bash
# Runs every fuzz target of the module for a short fixed time (FUZZTIME, default 10s), one
# target at a time (go test -fuzz takes one target per run). New targets are found by
# themselves: any func FuzzXxx in a *_test.go file.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
found=0
while IFS= read -r file; do
  pkg="./$(dirname "$file")"
  for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
    found=$((found + 1))
    echo "fuzz: $pkg $target for $fuzztime"
    # Go ≤ 1.26's fuzz coordinator can fail a run at the -fuzztime boundary with a bare
    # "context deadline exceeded" and no failing input (golang/go#75804, fixed in Go 1.27):
    # such a run is retried, up to twice. Anything else, or a written failing input, fails.
    for attempt in 1 2 3; do
      if go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -parallel 2 >/tmp/fuzz-$$.log 2>&1; then
        break
      fi
      if [[ $attempt -lt 3 ]] && grep -q 'context deadline exceeded' /tmp/fuzz-$$.log &&
        ! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' /tmp/fuzz-$$.log; then
        echo "fuzz: $target hit Go's fuzztime deadline race (golang/go#75804), no failing input; retrying"
        continue
      fi
      cat /tmp/fuzz-$$.log; rm -f /tmp/fuzz-$$.log; exit 1
    done
    tail -n 1 /tmp/fuzz-$$.log
  done
done < <(git ls-files '*_test.go' 2>/dev/null || find . -name '*_test.go' -not -path './examples/*')
rm -f /tmp/fuzz-$$.log
echo "fuzz: $found targets passed"
