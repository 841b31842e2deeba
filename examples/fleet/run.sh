#!/usr/bin/env bash
# The fleet: a real ZooKeeper (Debian's package, as `make test` uses), three `rpcbridge serve`
# replicas that keep their IDL in a ZooKeeper store, one standalone `rpcbridge gateway` following
# all three, and the quickstart's grpc-go server and dubbo-go provider. Everything is secured:
# a throwaway CA (openssl) signs the certificates; xDS is mTLS plus a bearer token, the admin APIs
# are HTTPS with an operator token, the gateway serves HTTPS. It prints what to try; Ctrl-C stops
# everything. Usage: examples/fleet/run.sh [--smoke]
#   --smoke  check, loudly: an IDL pushed to replica 1 answers through the gateway and is listed
#            by replica 3; a write without a token gets 401; the replica the gateway follows is
#            killed and calls keep answering (used by `make test`).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=bin
work=$(mktemp -d)
pki=$work/pki
zk_port=28181
gw_port=28443
gw_admin=127.0.0.1:28904
grpc_port=28101
dubbo_port=28201
xds_ports=(28001 28002 28003)
admin_ports=(28901 28902 28903)

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
fail() { echo "FAILED: $*" >&2; for f in "$work"/*.log; do echo "--- $f" >&2; tail -n 30 "$f" >&2; done; exit 1; }

for port in $zk_port $gw_port ${gw_admin##*:} $grpc_port $dubbo_port "${xds_ports[@]}" "${admin_ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then fail "port $port is taken: stop what listens there"; fi
done

echo "building rpcbridge and the quickstart's greeter"
mkdir -p "$bin"
go build -o "$bin/rpcbridge" ./cmd/rpcbridge
go build -o "$bin/quickstart-greeter" ./examples/quickstart/greeter
provider=$(scripts/dubbo-provider.sh)

echo "making a throwaway CA and certificates in $pki"
mkdir -p "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=rpcbridge-fleet-ca \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
# issue NAME EXTENDED-KEY-USAGE: a certificate for 127.0.0.1 and localhost signed by the CA.
issue() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
    -keyout "$pki/$1.key" -out "$pki/$1.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=%s\nkeyUsage=critical,digitalSignature\n' "$2" >"$pki/$1.ext"
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
    -extfile "$pki/$1.ext" -out "$pki/$1.crt" 2>/dev/null
}
issue control-plane serverAuth
issue gateway-client clientAuth
issue gateway serverAuth
openssl rand -hex 24 >"$work/operator-token"
openssl rand -hex 24 >"$work/xds-token"
chmod 600 "$work/operator-token" "$work/xds-token" "$pki"/*.key

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

echo "starting ZooKeeper on 127.0.0.1:$zk_port"
mkdir -p "$work/zk"
cat >"$work/zk/zoo.cfg" <<CFG
tickTime=2000
dataDir=$work/zk
clientPort=$zk_port
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=*
CFG
java -Xmx256m -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar \
  org.apache.zookeeper.server.ZooKeeperServerMain "$work/zk/zoo.cfg" >"$work/zookeeper.log" 2>&1 & pids+=($!)
zk_ok() { exec 3<>"/dev/tcp/127.0.0.1/$zk_port" && printf srvr >&3 && grep -q "Mode:" <&3; }
waitfor "ZooKeeper did not start (log: $work/zookeeper.log)" zk_ok

"$bin/quickstart-greeter" -listen "127.0.0.1:$grpc_port" -name greeter-1 >"$work/greeter.log" 2>&1 & pids+=($!)
(cd "$work" && exec "$provider" -registry none -port "$dubbo_port" -app fleet-greeter >"$work/dubbo-provider.log" 2>&1) & pids+=($!)

replica_pids=()
for i in 0 1 2; do
  n=$((i + 1))
  cat >"$work/replica-$n.yaml" <<CFG
# Replica $n of 3: the same file on every replica but for the listen addresses and dataDir.
xds:
  listen: 127.0.0.1:${xds_ports[$i]}
  tls:
    certificates: [{certFile: $pki/control-plane.crt, keyFile: $pki/control-plane.key}]
    clientCAFile: $pki/ca.crt
    requireClientCert: true
  auth:
    tokens: [{name: gateways, file: $work/xds-token}]
gateway:
  enabled: false
admin:
  listen: 127.0.0.1:${admin_ports[$i]}
  tls:
    certificates: [{certFile: $pki/control-plane.crt, keyFile: $pki/control-plane.key}]
  auth:
    tokens: [{name: operator, scopes: [read, write], file: $work/operator-token}]
    public: [metrics]
store:
  type: zookeeper
  zookeeper: {servers: ["127.0.0.1:$zk_port"], root: /rpcbridge-fleet}
dataDir: $work/data-$n
registries:
  - name: local
    type: static
    static:
      services:
        - name: grpc.testing.TestService
          protocol: grpc
          endpoints: [{address: 127.0.0.1, port: $grpc_port}]
        - name: greeter
          protocol: dubbo
          interface: org.rpcbridge.test.GreeterService
          version: 1.0.0
          endpoints: [{address: 127.0.0.1, port: $dubbo_port}]
CFG
  "$bin/rpcbridge" serve --config "$work/replica-$n.yaml" >"$work/replica-$n.log" 2>&1 & pids+=($!)
  replica_pids+=($!)
done
for i in 0 1 2; do
  waitfor "replica $((i + 1)) did not become ready (log: $work/replica-$((i + 1)).log)" \
    curl -fsS --cacert "$pki/ca.crt" "https://127.0.0.1:${admin_ports[$i]}/readyz"
done

xds_list=127.0.0.1:${xds_ports[0]},127.0.0.1:${xds_ports[1]},127.0.0.1:${xds_ports[2]}
"$bin/rpcbridge" gateway --xds "$xds_list" --node-id fleet-gateway-1 \
  --xds-ca-file "$pki/ca.crt" --xds-cert-file "$pki/gateway-client.crt" --xds-key-file "$pki/gateway-client.key" \
  --xds-token-file "$work/xds-token" \
  --tls-cert-file "$pki/gateway.crt" --tls-key-file "$pki/gateway.key" \
  --listen "127.0.0.1:$gw_port" --admin "$gw_admin" >"$work/gateway.log" 2>&1 & pids+=($!)
waitfor "the gateway did not become ready (log: $work/gateway.log)" curl -fsS "http://$gw_admin/readyz"

admin1=https://127.0.0.1:${admin_ports[0]}
admin3=https://127.0.0.1:${admin_ports[2]}
gateway=https://127.0.0.1:$gw_port
auth=(--token-file "$work/operator-token" --ca-file "$pki/ca.crt")
echo "pushing the IDL to replica 1 ($admin1): the gRPC descriptor set and the Dubbo API's Java sources"
"$bin/quickstart-greeter" -descriptor-set "$work/grpc-testing.pb"
"$bin/rpcbridge" idl push grpc-testing "$work/grpc-testing.pb" --admin "$admin1" "${auth[@]}"
"$bin/rpcbridge" idl push greeter-dubbo examples/quickstart/dubbo-api --admin "$admin1" "${auth[@]}"
grpc_call() { curl -fsS --cacert "$pki/ca.crt" -X POST "$gateway/grpc.testing.TestService/UnaryCall" -d '{"responseSize": 3}'; }
dubbo_call() { curl -fsS --cacert "$pki/ca.crt" "$gateway/dubbo/org.rpcbridge.test.GreeterService:1.0.0/sayHello~java.lang.String?name=Ada"; }
waitfor "the uploaded routes did not reach the gateway (log: $work/gateway.log)" grpc_call
waitfor "the uploaded Dubbo routes did not reach the gateway (log: $work/gateway.log)" dubbo_call

cat <<MSG

The fleet is serving (files in $work). Try:
  curl --cacert $pki/ca.crt -X POST $gateway/grpc.testing.TestService/UnaryCall -d '{"responseSize": 3}'
  curl --cacert $pki/ca.crt '$gateway/dubbo/org.rpcbridge.test.GreeterService:1.0.0/sayHello~java.lang.String?name=Ada'
  $bin/rpcbridge idl ls --admin $admin3 --token-file $work/operator-token --ca-file $pki/ca.crt   # replica 3 lists what replica 1 stored
  curl --cacert $pki/ca.crt -X DELETE $admin3/api/v1/idl/grpc-testing                           # no token: 401
  curl -s http://$gw_admin/metrics | grep rpcbridge_gateway_xds_connected                        # the replica the gateway follows
  kill <a replica's pid>: ${replica_pids[*]}  (replicas 1, 2, 3); the gateway moves to another one
MSG

if [[ "${1:-}" != "--smoke" ]]; then
  echo "Press Ctrl-C to stop."
  wait
  exit 0
fi

# check WHAT PATTERN OUTPUT: the output must contain PATTERN.
check() {
  echo "$1: $3"
  grep -qF -- "$2" <<<"$3" || fail "$1: want $2"
}
check "grpc through the gateway" '"hostname":"greeter-1"' "$(grpc_call)"
check "dubbo through the gateway" '"Hello, Ada"' "$(dubbo_call)"
check "replica 3 lists the upload made on replica 1" "greeter-dubbo" "$("$bin/rpcbridge" idl ls --admin "$admin3" "${auth[@]}")"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$pki/ca.crt" -X PUT --data-binary @"$work/grpc-testing.pb" \
  -H 'Content-Type: application/octet-stream' "$admin3/api/v1/idl/intruder")
check "a write without a token" 401 "$code"
if "$bin/rpcbridge" idl rm grpc-testing --admin "$admin3" --ca-file "$pki/ca.crt" >"$work/no-token.out" 2>&1; then
  fail "idl rm without a token succeeded"
fi
check "idl rm without a token" "401 unauthenticated" "$(cat "$work/no-token.out")"

# The replica the gateway follows is the one whose rpcbridge_gateway_xds_connected is 1.
followed() { curl -fsS "http://$gw_admin/metrics" | sed -n 's/^rpcbridge_gateway_xds_connected{server="\([^"]*\)"} 1$/\1/p'; }
first=$(followed)
[[ -n "$first" ]] || fail "the gateway follows no replica"
victim=""
for i in 0 1 2; do
  if [[ "$first" == "127.0.0.1:${xds_ports[$i]}" ]]; then victim=${replica_pids[$i]}; fi
done
[[ -n "$victim" ]] || fail "the gateway follows $first, which is none of the replicas"
echo "the gateway follows $first: killing that replica (pid $victim) while calls go on"
failures=0
for n in $(seq 1 60); do
  if [[ $n == 10 ]]; then kill -9 "$victim"; fi
  grpc_call >/dev/null 2>&1 || failures=$((failures + 1))
  dubbo_call >/dev/null 2>&1 || failures=$((failures + 1))
  sleep 0.05
done
check "failed calls while the followed replica died" "failures=0" "failures=$failures"
moved() { local now; now=$(followed); [[ -n "$now" && "$now" != "$first" ]]; }
waitfor "the gateway did not move to another replica (log: $work/gateway.log)" moved
echo "the gateway now follows $(followed)"
check "grpc after the failover" '"hostname":"greeter-1"' "$(grpc_call)"
echo "fleet smoke test passed"
