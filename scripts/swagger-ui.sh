#!/usr/bin/env bash
# Fetches the Swagger UI files that the admin console serves (and the binary embeds) from the npm
# registry: swagger-ui-dist at a pinned version, through `npm pack` (which runs no install
# scripts), checked against the tarball's pinned SHA-512 integrity. They are written to
# admin/console/swaggerui/ with their SHA-256 sums in SHA256SUMS, which a test of package console
# verifies against the embedded files.
#   scripts/swagger-ui.sh           fetch and write the files (review and commit the diff)
#   scripts/swagger-ui.sh --check   fetch and fail unless the checked-in files are exactly these
# To upgrade: change version and integrity (`npm view swagger-ui-dist@V dist.integrity`), run it.
set -euo pipefail
version=5.35.0
integrity=sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==
# The console's page loads the bundle and the stylesheet; the licence files go with them.
files=(swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=$root/admin/console/swaggerui
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "swagger-ui-dist@$version" >/dev/null)
tgz=$tmp/swagger-ui-dist-$version.tgz
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [[ $got != "$integrity" ]]; then
  echo "swagger-ui-dist@$version: tarball integrity $got, want $integrity" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$tmp"
mkdir -p "$tmp/out"
for f in "${files[@]}"; do cp "$tmp/package/$f" "$tmp/out/$f"; done
(cd "$tmp/out" && sha256sum "${files[@]}" >SHA256SUMS)

if [[ ${1:-} == --check ]]; then
  if ! diff -r "$tmp/out" "$dest" >/dev/null; then
    echo "admin/console/swaggerui differs from swagger-ui-dist@$version; run scripts/swagger-ui.sh" >&2
    diff -rq "$tmp/out" "$dest" >&2 || true
    exit 1
  fi
  echo "admin/console/swaggerui is swagger-ui-dist@$version"
  exit 0
fi
rm -rf "$dest"
mkdir -p "$dest"
cp "$tmp/out/"* "$dest/"
echo "wrote swagger-ui-dist@$version to $dest:"
cat "$dest/SHA256SUMS"
