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
    go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -parallel 2 >/tmp/fuzz-$$.log 2>&1 || {
      cat /tmp/fuzz-$$.log; rm -f /tmp/fuzz-$$.log; exit 1; }
    tail -n 1 /tmp/fuzz-$$.log
  done
done < <(git ls-files '*_test.go' 2>/dev/null || find . -name '*_test.go' -not -path './examples/*')
rm -f /tmp/fuzz-$$.log
echo "fuzz: $found targets passed"
