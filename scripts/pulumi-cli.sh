#!/usr/bin/env bash
# Yields a working Pulumi CLI (pulumi + pulumi-language-nodejs + pulumi-resource-pulumi-nodejs) and prints
# the directory that holds it as the last line of stdout. Order: `pulumi` on PATH → cached build → build from
# the Go module proxy (needs Go). Idempotent: a finished build is reused.
#
# The CLI is pinned to the release that matches the @pulumi/pulumi SDK used by the tests (3.248.0, the last
# one that runs on Node 20). The language host module has no semver tags, so it is resolved by the
# pseudo-version of the pkg/v3.248.0 release commit.
set -euo pipefail

VERSION="v3.248.0"
LANGUAGE_HOST_PSEUDO="v3.0.0-20260624180030-dc7edd58bc13"
LEGACY_LANGUAGE_HOST_SDK="v3.68.0"
CLIPBOARD_FORK="github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e"
CACHE_ROOT="${PULUMI_OKMS_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-ovh-okms}"
ROOT="$CACHE_ROOT/pulumi-$VERSION"
PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { echo "[pulumi-cli] $*" >&2; }
fail() { echo "[pulumi-cli] error: $*" >&2; exit 1; }

# The dynamic-provider plugin is a shell script shipped inside @pulumi/pulumi; the engine finds it beside
# `pulumi` or on PATH.
place_nodejs_plugin() {
  local dir="$1" src="$PROJECT_DIR/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
  if [ -x "$dir/pulumi-resource-pulumi-nodejs" ] || command -v pulumi-resource-pulumi-nodejs >/dev/null 2>&1; then
    return 0
  fi
  [ -f "$src" ] || fail "$src is missing: run 'npm ci' first"
  install -m 755 "$src" "$dir/pulumi-resource-pulumi-nodejs"
}

if [ "${PULUMI_OKMS_FORCE_BUILD:-}" != "1" ] && command -v pulumi >/dev/null 2>&1; then
  dir="$(dirname "$(command -v pulumi)")"
  log "using pulumi from PATH: $dir ($(pulumi version 2>/dev/null || echo 'version unknown'))"
  if [ -w "$dir" ]; then place_nodejs_plugin "$dir"; fi
  echo "$dir"
  exit 0
fi

if [ -x "$ROOT/bin/pulumi" ] && [ -x "$ROOT/bin/pulumi-language-nodejs" ]; then
  place_nodejs_plugin "$ROOT/bin"
  log "using cached build $ROOT/bin ($("$ROOT/bin/pulumi" version))"
  echo "$ROOT/bin"
  exit 0
fi

command -v go >/dev/null 2>&1 || fail "no 'pulumi' on PATH, no cached build in $ROOT, and no Go toolchain to build one.
Install the Pulumi CLI (https://www.pulumi.com/docs/install/) or Go >= 1.25 and run this script again."

log "building Pulumi CLI $VERSION from the Go module proxy into $ROOT (first run takes several minutes)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rm -rf "$ROOT/bin.partial"
mkdir -p "$ROOT/bin.partial"
export GOFLAGS="${GOFLAGS:-} -mod=mod"
cd "$work"
go mod init local/pulumi-cli-build >/dev/null 2>&1 || fail "go mod init failed"
go mod edit -replace "github.com/atotto/clipboard=$CLIPBOARD_FORK"
log "resolving github.com/pulumi/pulumi/pkg/v3@$VERSION"
go get "github.com/pulumi/pulumi/pkg/v3@$VERSION" "github.com/pulumi/pulumi/sdk/v3@$VERSION" >&2 ||
  fail "could not resolve the Pulumi modules from the Go module proxy"
ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$VERSION"
log "compiling pulumi"
go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ldflags" -o "$ROOT/bin.partial/pulumi" \
  github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2 || fail "compiling pulumi failed"

# The language host is its own module without semver tags; the release's pseudo-version is tried first. Some
# module proxies refuse that module ("This module version is not available"); then we build the host from
# the last SDK release that still shipped it inside github.com/pulumi/pulumi/sdk/v3 (v3.68.0). The host only
# launches `node @pulumi/pulumi/cmd/run` and speaks the stable LanguageRuntime gRPC protocol, so the old host
# drives the pinned SDK and engine correctly (checked by the end-to-end suite, which runs a real program).
log "compiling pulumi-language-nodejs"
lh_dir="$work/language-host"
mkdir -p "$lh_dir"
if (cd "$lh_dir" && go mod init local/lh >/dev/null 2>&1 &&
  go mod edit -replace "github.com/atotto/clipboard=$CLIPBOARD_FORK" &&
  go get "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3@$LANGUAGE_HOST_PSEUDO" >&2 &&
  go get "github.com/pulumi/pulumi/pkg/v3@$VERSION" "github.com/pulumi/pulumi/sdk/v3@$VERSION" >&2 &&
  go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ldflags" -o "$ROOT/bin.partial/pulumi-language-nodejs" \
    github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 >&2); then
  log "language host built at $LANGUAGE_HOST_PSEUDO"
else
  log "the proxy does not serve the language host at $LANGUAGE_HOST_PSEUDO; building it from sdk/v3@$LEGACY_LANGUAGE_HOST_SDK"
  rm -rf "$lh_dir" && mkdir -p "$lh_dir"
  (cd "$lh_dir" && go mod init local/lh >/dev/null 2>&1 &&
    go get "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs@$LEGACY_LANGUAGE_HOST_SDK" >&2 &&
    go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$LEGACY_LANGUAGE_HOST_SDK" \
      -o "$ROOT/bin.partial/pulumi-language-nodejs" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs >&2) ||
    fail "compiling pulumi-language-nodejs failed"
fi
cd "$PROJECT_DIR"
rm -rf "$ROOT/bin"
mv "$ROOT/bin.partial" "$ROOT/bin"
place_nodejs_plugin "$ROOT/bin"
log "built $("$ROOT/bin/pulumi" version) in $ROOT/bin"
echo "$ROOT/bin"
