#!/usr/bin/env bash
# Starts the quickstart: two instances of a tiny HTTP backend and `rpcbridge serve` with the
# embedded gateway, then prints curl lines that reach the backends through the gateway.
# Ctrl-C stops everything. Usage: examples/quickstart/run.sh [--smoke]
#   --smoke  run the curls, check their answers, and stop (used by the tests).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=bin
mkdir -p "$bin"
go build -o "$bin/rpcbridge" ./cmd/rpcbridge
go build -o "$bin/quickstart-backend" ./examples/quickstart/backend

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$bin/quickstart-backend" -listen 127.0.0.1:19001 -name hello-1 & pids+=($!)
"$bin/quickstart-backend" -listen 127.0.0.1:19002 -name hello-2 & pids+=($!)
"$bin/rpcbridge" serve --config examples/quickstart/rpcbridge.yaml & pids+=($!)

for _ in $(seq 1 100); do
  if curl -fsS http://127.0.0.1:19901/readyz >/dev/null 2>&1; then break; fi
  sleep 0.2
done
curl -fsS http://127.0.0.1:19901/readyz >/dev/null || { echo "rpcbridge did not become ready" >&2; exit 1; }

cat <<'MSG'

rpcbridge is serving. Try:
  curl -s http://127.0.0.1:18080/hello/world      # default route /hello/ -> backend path /world
  curl -s http://127.0.0.1:18080/greet            # rule: GET /greet, 2 s timeout
  curl -s http://127.0.0.1:19901/api/v1/catalog   # what rpcbridge discovered
  bin/rpcbridge render --config examples/quickstart/rpcbridge.yaml   # the Envoy resources
Edit examples/quickstart/rpcbridge.yaml while it runs: the gateway follows without a restart.
MSG

if [[ "${1:-}" == "--smoke" ]]; then
  out=$(curl -fsS http://127.0.0.1:18080/hello/world)
  echo "$out"
  grep -q '"path":"/world"' <<<"$out"
  out=$(curl -fsS http://127.0.0.1:18080/greet)
  echo "$out"
  grep -q '"path":"/greet"' <<<"$out"
  echo "quickstart smoke test passed"
  exit 0
fi
echo "Press Ctrl-C to stop."
wait "${pids[2]}"
