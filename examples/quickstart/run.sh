#!/usr/bin/env bash
# Starts the quickstart: two instances of a tiny HTTP backend, a grpc-go server (greeter/), a
# dubbo-go provider (internal/testpeers/dubbogo, no registry) and `rpcbridge serve` with the
# embedded gateway and a static registry naming all three; uploads the gRPC descriptor set and
# the Dubbo API's Java sources with `rpcbridge idl push`, then prints curl lines that reach every
# backend through the gateway. Ctrl-C stops everything. Usage: examples/quickstart/run.sh [--smoke]
#   --smoke  run the curls, check their answers, and stop (used by the tests).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=bin
admin=http://127.0.0.1:19901
gateway=http://127.0.0.1:18080
mkdir -p "$bin"
work=$(mktemp -d)

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "building rpcbridge and the quickstart's backends"
go build -o "$bin/rpcbridge" ./cmd/rpcbridge
go build -o "$bin/quickstart-backend" ./examples/quickstart/backend
go build -o "$bin/quickstart-greeter" ./examples/quickstart/greeter
echo "building the dubbo-go provider (cached; a cold build takes minutes): scripts/dubbo-provider.sh"
provider=$(scripts/dubbo-provider.sh)

# waitport HOST PORT WHAT: waits up to 60 s until something listens there.
waitport() {
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "$3 did not start listening on $1:$2" >&2
  exit 1
}

"$bin/quickstart-backend" -listen 127.0.0.1:19001 -name hello-1 & pids+=($!)
"$bin/quickstart-backend" -listen 127.0.0.1:19002 -name hello-2 & pids+=($!)
"$bin/quickstart-greeter" -listen 127.0.0.1:19101 -name greeter-1 & pids+=($!)
# dubbo-go reads config files from its working directory and logs a lot: keep both in $work.
(cd "$work" && exec "$provider" -registry none -port 19201 -app quickstart-greeter >"$work/dubbo-provider.log" 2>&1) & pids+=($!)
"$bin/rpcbridge" serve --config examples/quickstart/rpcbridge.yaml & pids+=($!)
serve_pid=$!

for _ in $(seq 1 100); do
  if curl -fsS "$admin/readyz" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
curl -fsS "$admin/readyz" >/dev/null || { echo "rpcbridge did not become ready" >&2; exit 1; }
waitport 127.0.0.1 19101 "the grpc-go greeter"
waitport 127.0.0.1 19201 "the dubbo-go provider (log: $work/dubbo-provider.log)"

echo "uploading the IDL: the gRPC service's descriptor set and the Dubbo API's Java sources"
"$bin/quickstart-greeter" -descriptor-set "$work/grpc-testing.pb"
"$bin/rpcbridge" idl push grpc-testing "$work/grpc-testing.pb" --admin "$admin"
"$bin/rpcbridge" idl push greeter-dubbo examples/quickstart/dubbo-api --admin "$admin"

# The routes of an upload reach the gateway a moment later.
for _ in $(seq 1 100); do
  if curl -fsS "$gateway/greetings/Ada?times=1" >/dev/null 2>&1 &&
     curl -fsS -X POST "$gateway/grpc.testing.TestService/EmptyCall" -d '{}' >/dev/null 2>&1; then break; fi
  sleep 0.2
done

user='{"user": {"id": "9007199254740993", "name": "Ada", "balance": "12345678901234567890.123456789", "level": "GOLD", "created": "2024-05-06T07:08:09Z", "tags": ["a"], "scores": {"x": 1}, "address": {"city": "Paris"}}}'
cat <<MSG

rpcbridge is serving. Try:
  curl -s http://127.0.0.1:18080/hello/world      # default route /hello/ -> backend path /world
  curl -s http://127.0.0.1:18080/greet            # rule: GET /greet, 2 s timeout
  # REST -> gRPC (grpc-go, grpc.testing.TestService; unannotated methods: POST /<pkg>.<Service>/<Method>)
  curl -s -X POST http://127.0.0.1:18080/grpc.testing.TestService/UnaryCall -d '{"responseSize": 3}'
  # REST -> Dubbo (dubbo-go, org.rpcbridge.test.GreeterService 1.0.0, hessian2)
  curl -s 'http://127.0.0.1:18080/dubbo/org.rpcbridge.test.GreeterService:1.0.0/sayHello~java.lang.String?name=Ada'
  curl -s 'http://127.0.0.1:18080/greetings/Ada?times=2'     # rpcRoutes rule: the other overload
  curl -s -X POST http://127.0.0.1:18080/dubbo/org.rpcbridge.test.GreeterService:1.0.0/echoUser -d '$user'
  curl -s -X POST http://127.0.0.1:18080/dubbo/org.rpcbridge.test.GreeterService:1.0.0/fail -d '{"message": "boom"}'   # a Java exception: 500
  curl -s http://127.0.0.1:19901/api/v1/catalog   # what rpcbridge discovered
  curl -s http://127.0.0.1:19901/openapi.json     # every REST route as OpenAPI 3.1
  open http://127.0.0.1:19901/                    # the web console: catalog, routes, IDL, Swagger UI try-it, live figures
  bin/rpcbridge render --config examples/quickstart/rpcbridge.yaml   # the Envoy resources
Edit examples/quickstart/rpcbridge.yaml while it runs: the gateway follows without a restart.
MSG

# check WHAT PATTERN CURL-ARGS...: runs curl and greps its answer.
check() {
  local what=$1 pattern=$2
  shift 2
  local out
  out=$(curl -sS "$@")
  echo "$what: $out"
  grep -qF -- "$pattern" <<<"$out" || { echo "FAILED: $what: want $pattern" >&2; exit 1; }
}

if [[ "${1:-}" == "--smoke" ]]; then
  check "http default route" '"path":"/world"' "$gateway/hello/world"
  check "http rule" '"path":"/greet"' "$gateway/greet"
  check "grpc UnaryCall" '"hostname":"greeter-1"' -X POST "$gateway/grpc.testing.TestService/UnaryCall" -d '{"responseSize": 3}'
  check "dubbo sayHello(String)" '"Hello, Ada"' "$gateway/dubbo/org.rpcbridge.test.GreeterService:1.0.0/sayHello~java.lang.String?name=Ada"
  check "dubbo rule sayHello(String, int)" '"Hello, Ada Hello, Ada"' "$gateway/greetings/Ada?times=2"
  check "dubbo echoUser" '"balance":"12345678901234567890.123456789"' -X POST \
    "$gateway/dubbo/org.rpcbridge.test.GreeterService:1.0.0/echoUser" -d "$user"
  check "dubbo Java exception" '"exception":"org.rpcbridge.test.GreeterException"' -X POST \
    "$gateway/dubbo/org.rpcbridge.test.GreeterService:1.0.0/fail" -d '{"message": "boom"}'
  echo "quickstart smoke test passed"
  exit 0
fi
echo "Press Ctrl-C to stop."
wait "$serve_pid"
