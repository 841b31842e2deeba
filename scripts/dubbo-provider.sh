#!/usr/bin/env bash
# Builds the dubbo-go v3.3.2 test provider (internal/testpeers/dubbogo, a Go module of its own)
# once into a cache directory keyed by dubbo-go's version and a hash of the fixture's sources,
# and prints the binary's path. Later runs with unchanged sources find the binary and return at
# once. A cold build (module downloads included) takes several minutes on 2 cores.
#
# Tests find the binary through this script, or at $RPCBRIDGE_DUBBO_PROVIDER_BIN.
set -euo pipefail
version=v3.3.2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src="$root/internal/testpeers/dubbogo"
cache=${RPCBRIDGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rpcbridge}
hash=$(cd "$src" && cat go.mod go.sum $(ls *.go | LC_ALL=C sort) | sha256sum | cut -c1-12)
dir="$cache/dubbogo-$version-$hash"
bin="$dir/provider"
if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$dir"
echo "building the dubbo-go $version test provider into $dir (several minutes cold)" >&2
(cd "$src" && go build -trimpath -o "$bin.tmp.$$" .)
mv "$bin.tmp.$$" "$bin"
echo "$bin"
