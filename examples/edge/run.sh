#!/usr/bin/env bash
# The edge example: the quickstart's providers (HTTP backends hello-1/hello-2 labelled v1/v2, plus
# a second v1 instance hello-3; the grpc-go greeter, the dubbo-go provider) behind the edge policies of
# examples/edge/rpcbridge.yaml, on ports of their own (38xxx) so that it runs beside the
# quickstart: a JWT-protected REST->Dubbo service with CORS and retries, an API-key-protected
# REST->gRPC service with a per-client rate limit, and a 10 % canary with retries and outlier
# detection on the HTTP service. It uploads the IDL, prints curl lines (tokens minted with the
# test-only key: go run ./examples/edge/mint -sub ada); Ctrl-C stops everything.
# Usage: examples/edge/run.sh [--smoke]
#   --smoke  check, loudly: 401 without a token, 200 with one and its sub claim at the dubbo-go
#            provider; 401 without an API key, 200 with one; a CORS preflight answered; a burst
#            answered with exactly 5 429s; the canary (x-canary: 1 exactly, the 10 % split
#            loosely); hello-1 killed: no request fails (retries), it is ejected (outlier
#            detection); `rpcbridge render` shows the filters and the retry and outlier
#            detection settings. Then stop (used by `make test`).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=bin
config=examples/edge/rpcbridge.yaml
admin=http://127.0.0.1:38901
gateway=http://127.0.0.1:38080
ports=(38000 38080 38901 38001 38002 38003 38101 38201) # xds, gateway, admin, hello-1..3, greeter, dubbo
work=$(mktemp -d)

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
fail() { echo "FAILED: $*" >&2; for f in "$work"/*.log; do echo "--- $f" >&2; tail -n 30 "$f" >&2; done; exit 1; }

for port in "${ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then fail "port $port is taken: stop what listens there"; fi
done

echo "building rpcbridge, the quickstart's backends and the token minter"
mkdir -p "$bin"
go build -o "$bin/rpcbridge" ./cmd/rpcbridge
go build -o "$bin/quickstart-backend" ./examples/quickstart/backend
go build -o "$bin/quickstart-greeter" ./examples/quickstart/greeter
go build -o "$bin/edge-mint" ./examples/edge/mint
echo "building the dubbo-go provider (cached; a cold build takes minutes): scripts/dubbo-provider.sh"
provider=$(scripts/dubbo-provider.sh)

# waitfor WHAT CMD...: retries CMD for up to 60 s.
waitfor() {
  local what=$1
  shift
  for _ in $(seq 1 300); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  fail "$what"
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

"$bin/quickstart-backend" -listen 127.0.0.1:38001 -name hello-1 >"$work/hello-1.log" 2>&1 & pids+=($!)
hello1_pid=$!
"$bin/quickstart-backend" -listen 127.0.0.1:38002 -name hello-2 >"$work/hello-2.log" 2>&1 & pids+=($!)
"$bin/quickstart-backend" -listen 127.0.0.1:38003 -name hello-3 >"$work/hello-3.log" 2>&1 & pids+=($!)
"$bin/quickstart-greeter" -listen 127.0.0.1:38101 -name greeter-1 >"$work/greeter.log" 2>&1 & pids+=($!)
# dubbo-go reads config files from its working directory and logs a lot: keep both in $work.
(cd "$work" && exec "$provider" -registry none -port 38201 -app edge-greeter >"$work/dubbo-provider.log" 2>&1) & pids+=($!)
"$bin/rpcbridge" serve --config "$config" >"$work/rpcbridge.log" 2>&1 & pids+=($!)
serve_pid=$!

waitfor "rpcbridge did not become ready (log: $work/rpcbridge.log)" curl -fsS "$admin/readyz"
waitfor "the grpc-go greeter did not start listening on 38101" listening 38101
waitfor "the dubbo-go provider did not start listening on 38201" listening 38201

echo "uploading the IDL: the gRPC service's descriptor set and the Dubbo API's Java sources"
"$bin/quickstart-greeter" -descriptor-set "$work/grpc-testing.pb"
"$bin/rpcbridge" idl push grpc-testing "$work/grpc-testing.pb" --admin "$admin"
"$bin/rpcbridge" idl push greeter-dubbo examples/quickstart/dubbo-api --admin "$admin"

token=$("$bin/edge-mint" -sub ada)
expired=$("$bin/edge-mint" -sub ada -ttl -10m)
acme_key=$(sed -n 's/^acme: //p' examples/edge/api-keys)
globex_key=$(sed -n 's/^globex: //p' examples/edge/api-keys)
dubbo=$gateway/dubbo/org.rpcbridge.test.GreeterService:1.0.0
grpc=$gateway/grpc.testing.TestService

# The routes of an upload reach the gateway a moment later (the waits use acme's key only: the
# burst below is globex's).
waitfor "the Dubbo routes did not reach the gateway (log: $work/rpcbridge.log)" \
  curl -fsS -H "Authorization: Bearer $token" "$dubbo/attachments"
waitfor "the gRPC routes did not reach the gateway (log: $work/rpcbridge.log)" \
  curl -fsS -X POST -H "x-api-key: $acme_key" "$grpc/EmptyCall" -d '{}'
waitfor "the hello routes did not reach the gateway (log: $work/rpcbridge.log)" curl -fsS "$gateway/hello/world"

cat <<MSG

The edge example is serving (logs in $work). Try:
  TOKEN=\$(go run ./examples/edge/mint -sub ada)       # test-only key; -ttl -1m: an expired one
  # REST -> Dubbo, policy users: JWT (sub -> x-user-sub attachment), CORS, retries
  curl -si $dubbo/attachments                                             # 401 Jwt is missing
  curl -s -H "Authorization: Bearer \$TOKEN" $dubbo/attachments           # {"x-user-sub":"ada",...}
  curl -s -H "Authorization: Bearer \$TOKEN" '$gateway/greetings/Ada?times=2'
  curl -si -X OPTIONS -H 'Origin: http://localhost:3000' -H 'Access-Control-Request-Method: GET' $dubbo/attachments   # preflight
  # REST -> gRPC, policy partners: API key (examples/edge/api-keys), 5 requests per client then 429
  curl -si -X POST $grpc/UnaryCall -d '{"responseSize": 3}'               # 401
  curl -si -X POST -H 'x-api-key: $acme_key' $grpc/UnaryCall -d '{"responseSize": 3}'
  # HTTP, policy hello-canary: 10 % to hello-2 (version v2), all of x-canary: 1
  curl -s $gateway/hello/world
  curl -s -H 'x-canary: 1' $gateway/hello/world
  bin/rpcbridge render --config $config | grep -o 'envoy.filters.http.[a-z_]*' | sort -u   # the Envoy filters
MSG

if [[ "${1:-}" != "--smoke" ]]; then
  echo "Press Ctrl-C to stop."
  wait "$serve_pid"
  exit 0
fi

# check WHAT PATTERN OUTPUT: the output must contain PATTERN (header names in any case).
check() {
  grep -qiF -- "$2" <<<"$3" || fail "$1: want $2 in:
$3"
  echo "ok  $1: $2"
}
# refute WHAT PATTERN OUTPUT: the output must not contain PATTERN.
refute() {
  if grep -qiF -- "$2" <<<"$3"; then fail "$1: did not want $2 in:
$3"; fi
  echo "ok  $1: no $2"
}
# answer CURL-ARGS...: the status line, headers and body of a request.
answer() { curl -sS -i "$@" 2>&1 || true; }

# The answers expected below are Envoy's, as docs/policies.md describes them per filter: jwt_authn
# (source/extensions/filters/http/jwt_authn), cors (cors_filter.cc), api_key_auth
# (api_key_auth.cc: 401 "Client authentication failed." for a missing or unknown key) and
# local_ratelimit (local_ratelimit.cc: 429 "local_rate_limited", x-ratelimit-* headers).
echo
echo "--- JWT on the REST->Dubbo service"
out=$(answer "$dubbo/attachments")
check "no token" "HTTP/1.1 401" "$out"
check "no token: the answer" "Jwt is missing" "$out"
check "no token: WWW-Authenticate" 'WWW-Authenticate: Bearer realm=' "$out"
out=$(answer -H "Authorization: Bearer $expired" "$dubbo/attachments")
check "expired token" "HTTP/1.1 401" "$out"
check "expired token: the answer" "Jwt is expired" "$out"
out=$(answer -H "Authorization: Bearer $token" -H "x-user-sub: admin" -H "x-client-ip: 203.0.113.9" "$dubbo/attachments")
check "valid token" "HTTP/1.1 200" "$out"
check "the sub claim at the dubbo-go provider" '"x-user-sub":"ada"' "$out"
refute "a client's own x-user-sub" '"x-user-sub":"admin"' "$out"
check "the client address at the dubbo-go provider" '"x-client-ip":"127.0.0.1"' "$out"
refute "a client's own x-client-ip" '203.0.113.9' "$out"
refute "the token at the provider" "${token:0:20}" "$out"
echo "    the provider's attachments: $(tail -n 1 <<<"$out")"
check "valid token, rpcRoutes rule" '"Hello, Ada Hello, Ada"' "$(answer -H "Authorization: Bearer $token" "$gateway/greetings/Ada?times=2")"

echo "--- CORS"
out=$(answer -X OPTIONS -H 'Origin: http://localhost:3000' -H 'Access-Control-Request-Method: GET' "$dubbo/attachments")
check "preflight from the allowed origin" "HTTP/1.1 200" "$out"
check "preflight: allow-origin" "Access-Control-Allow-Origin: http://localhost:3000" "$out"
check "preflight: allow-methods" "Access-Control-Allow-Methods: GET,POST" "$out"
out=$(answer -X OPTIONS -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: GET' "$dubbo/attachments")
check "preflight from another origin" "HTTP/1.1 200" "$out"
refute "preflight from another origin" "Access-Control-Allow-Origin" "$out"
out=$(answer -H 'Origin: http://localhost:3000' -H "Authorization: Bearer $token" "$dubbo/attachments")
check "actual request from the allowed origin" "Access-Control-Allow-Origin: http://localhost:3000" "$out"

echo "--- API key on the REST->gRPC service"
out=$(answer -X POST "$grpc/UnaryCall" -d '{"responseSize": 3}')
check "no key" "HTTP/1.1 401" "$out"
check "no key: the answer" "Client authentication failed." "$out"
check "unknown key" "HTTP/1.1 401" "$(answer -X POST -H 'x-api-key: not-a-key-of-this-example' "$grpc/UnaryCall" -d '{}')"
out=$(answer -X POST -H "x-api-key: $acme_key" "$grpc/UnaryCall" -d '{"responseSize": 3}')
check "acme's key" "HTTP/1.1 200" "$out"
check "acme's key: the grpc-go greeter answers" '"hostname":"greeter-1"' "$out"

# Buckets are per route and per client: the waits above and acme's calls took none of globex's
# EmptyCall tokens; a run starts with full buckets (they live in the gateway's memory).
echo "--- rate limit: a burst of 10 with globex's key (5 tokens, 1 a minute)"
ok=0 limited=0 other=0
for _ in $(seq 1 10); do
  code=$(curl -s -o "$work/burst.body" -D "$work/burst.headers" -w '%{http_code}' -X POST -H "x-api-key: $globex_key" "$grpc/EmptyCall" -d '{}')
  case $code in
    200) ok=$((ok + 1)) ;;
    429) limited=$((limited + 1)); last429=$(cat "$work/burst.headers" "$work/burst.body") ;;
    *) other=$((other + 1)) ;;
  esac
done
check "burst answers" "200=5 429=5 other=0" "200=$ok 429=$limited other=$other"
check "429: Retry-After" "Retry-After: 60" "${last429:-}"
check "429: x-ratelimit-limit" "x-ratelimit-limit: 5" "${last429:-}"
check "429: the answer" "local_rate_limited" "${last429:-}"
check "acme still has its own tokens" "HTTP/1.1 200" "$(answer -X POST -H "x-api-key: $acme_key" "$grpc/EmptyCall" -d '{}')"

echo "--- canary on the HTTP service: 10 % to version v2 (hello-2), all of x-canary: 1"
# instances N CURL-ARGS...: N GETs of /hello/world on one connection, one "instance" per line.
instances() {
  local n=$1
  shift
  local urls=()
  for _ in $(seq 1 "$n"); do urls+=("$gateway/hello/world"); done
  curl -sS -w '\n' "$@" "${urls[@]}" | sed -n 's/.*"instance":"\([^"]*\)".*/\1/p'
}
forced=$(instances 20 -H 'x-canary: 1')
check "x-canary: 1 lands on hello-2 only" "hello-2=20 others=0" \
  "hello-2=$(grep -cx hello-2 <<<"$forced") others=$(grep -cvx hello-2 <<<"$forced")"
split=$(instances 200)
total=$(grep -c . <<<"$split")
canary=$(grep -cx hello-2 <<<"$split" || true)
echo "weight 10: $canary of $total requests on hello-2"
[[ $total == 200 ]] || fail "the split: $total of 200 requests answered by a backend"
# 10 % of 200 is 20 (standard deviation 4.2); 2..45 fails with probability below 1e-7.
((canary >= 2 && canary <= 45)) || fail "the split: $canary of 200 on hello-2, want about 20 (2..45)"

echo "--- retries and outlier detection: hello-1 killed, then 100 GETs"
kill "$hello1_pid"
wait "$hello1_pid" 2>/dev/null || true
after=$(instances 100)
check "every GET answered by a live backend (retried on another endpoint)" "answered=100 hello-1=0" \
  "answered=$(grep -c . <<<"$after") hello-1=$(grep -cx hello-1 <<<"$after" || true)"
resilience=$(curl -fsS "$admin/metrics" | grep -E '^rpcbridge_gateway_(outlier_ejections|upstream_retries)_total' || true)
check "hello-1 ejected by outlier detection" \
  'rpcbridge_gateway_outlier_ejections_total{cluster="http:hello~!version=v2",type="consecutive_gateway_failure"} 1' \
  "$resilience"
check "connect failures retried" 'rpcbridge_gateway_upstream_retries_total{cluster="http:hello~!version=v2",condition="connect-failure"}' \
  "$resilience"

echo "--- rpcbridge render"
"$bin/rpcbridge" render --config "$config" >"$work/render.yaml" 2>"$work/render.log" || fail "render failed: $(cat "$work/render.log")"
for f in envoy.filters.http.cors envoy.filters.http.jwt_authn envoy.filters.http.api_key_auth \
  envoy.filters.http.local_ratelimit retryPolicy outlierDetection weightedClusters; do
  check "render shows" "$f" "$(grep -o -m1 -- "$f" "$work/render.yaml" || true)"
done
render=$(cat "$work/render.yaml")
check "render: the HTTP routes' retries" "retryOn: connect-failure,reset,5xx" "$render"
check "render: outlier detection on the HTTP clusters" "consecutive5xx: 3" "$render"
check "render: the 10 % split" "weight: 10" "$render"
echo "edge smoke test passed"
