#!/usr/bin/env bash
# Installs what the full test suite needs on a Debian machine, idempotently:
#   - Go >= 1.26 must already be on PATH (the module needs it; Debian's golang is older);
#   - ZooKeeper (Debian package), run by the tests themselves on free ports;
#   - a JDK's javac, for the Java class-file fixtures;
#   - curl for the quickstart and fleet smoke tests, openssl for the fleet example's throwaway CA;
#   - Debian's chromium, the real headless browser the console tests drive (chromedp);
#   - the test peers built from the Go module proxy, cached by version outside the checkout
#     (scripts/dubbo-provider.sh, scripts/consul-agent.sh): minutes cold, instant when cached.
set -euo pipefail
# Concurrent runs (several checkouts, parallel jobs) take turns: apt and the peer caches are shared.
exec 9>"${TMPDIR:-/tmp}/rpcbridge-test-deps.lock"
flock 9
need=()
[[ -f /usr/share/java/zookeeper.jar ]] || need+=(zookeeper)
[[ -f /usr/share/java/slf4j-simple.jar ]] || need+=(libslf4j-java)
command -v javac >/dev/null 2>&1 || need+=(default-jdk-headless)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if ((${#need[@]})); then
  echo "installing: ${need[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if ! command -v go >/dev/null 2>&1; then
  echo "go is not on PATH: install Go 1.26 or newer (https://go.dev/doc/install)" >&2
  exit 1
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
for peer in dubbo-provider consul-agent; do
  if [[ -x "$root/scripts/$peer.sh" ]]; then
    start=$SECONDS
    path=$("$root/scripts/$peer.sh")
    echo "$peer: $path ($((SECONDS - start)) s)"
  fi
done
echo "test dependencies present: $(go version | cut -d' ' -f3), zookeeper $(dpkg-query -W -f='${Version}' zookeeper 2>/dev/null || echo '?'), $(javac -version 2>&1), $(chromium --version 2>/dev/null || echo 'chromium ?')"
