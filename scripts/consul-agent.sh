#!/usr/bin/env bash
# Builds the Consul agent that rpcbridge's tests run against (internal/testpeers/consul), once,
# into a cache directory keyed by version, and prints the binary's path.
#
# Consul >= 1.15.8 is licensed under the Business Source License 1.1 (BUSL-1.1). The binary is a
# test fixture only: it is built locally from internal/testpeers/consul/agent (a Go module of its
# own) and never shipped with rpcbridge.
#
# A cold build (module downloads included) takes about 17 minutes on 2 cores; later runs find the
# cached binary and return at once. Tests find it at the same path, or at $RPCBRIDGE_CONSUL_BIN.
set -euo pipefail
version=v1.20.1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${RPCBRIDGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rpcbridge}
dir="$cache/consul-$version"
bin="$dir/consul"
if [[ -x "$bin" ]] && "$bin" version >/dev/null 2>&1; then
  echo "$bin"
  exit 0
fi
mkdir -p "$dir"
# One build at a time: a second caller waits for the first and then finds the binary.
exec 9>"$dir/.lock"
flock 9
if ! { [[ -x "$bin" ]] && "$bin" version >/dev/null 2>&1; }; then
  echo "building consul $version into $dir (test fixture, BUSL-1.1; ~17 min cold)" >&2
  tmp=$(mktemp "$dir/consul.XXXXXX")
  trap 'rm -f "$tmp"' EXIT
  (cd "$root/internal/testpeers/consul/agent" && go build -trimpath -o "$tmp" .)
  mv "$tmp" "$bin"
  "$bin" version >&2
fi
echo "$bin"
