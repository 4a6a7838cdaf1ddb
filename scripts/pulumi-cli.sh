#!/usr/bin/env bash
# Yields a working Pulumi CLI (pulumi + pulumi-language-nodejs + pulumi-resource-pulumi-nodejs) and prints
# the directory that holds it as the last line of stdout. Order: `pulumi` on PATH → cached build → build from
# the Go module proxy (needs Go). Idempotent: a finished build is reused.
#
#   bash scripts/pulumi-cli.sh [VERSION]      VERSION (or $PULUMI_OKMS_CLI_VERSION) defaults to 3.248.0
#
# The default is the release that matches the @pulumi/pulumi SDK of package-lock.json (3.248.0, the last one
# that runs on Node 20); .ci/run also builds the one matching the newest SDK for its Node 24 row. A `pulumi`
# on PATH is used as is when no version is asked for, and only if it is that version when one is.
#
# Each build records in <dir>/BUILD-INFO what it was built from (CLI module, language host module and why,
# Go version), so that CI can say what every suite ran with even from a warm cache.
set -euo pipefail

REQUESTED="${1:-${PULUMI_OKMS_CLI_VERSION:-}}"
VERSION="v${REQUESTED:-3.248.0}"
VERSION="v${VERSION#v}"
LANGUAGE_HOST_MODULE="github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3"
LEGACY_LANGUAGE_HOST_SDK="v3.68.0"
CLIPBOARD_FORK="github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e"
CACHE_ROOT="${PULUMI_OKMS_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-ovh-okms}"
ROOT="$CACHE_ROOT/pulumi-$VERSION"
PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { echo "[pulumi-cli] $*" >&2; }
fail() { echo "[pulumi-cli] error: $*" >&2; exit 1; }

# The dynamic-provider plugin is a shell script shipped inside @pulumi/pulumi (it runs the SDK's
# cmd/dynamic-provider that `node` resolves from the program's directory); the engine finds it beside
# `pulumi` or on PATH.
place_nodejs_plugin() {
  local dir="$1" src="$PROJECT_DIR/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
  if [ -x "$dir/pulumi-resource-pulumi-nodejs" ]; then
    return 0
  fi
  [ -f "$src" ] || fail "$src is missing: run 'npm ci' first"
  install -m 755 "$src" "$dir/pulumi-resource-pulumi-nodejs"
}

if [ "${PULUMI_OKMS_FORCE_BUILD:-}" != "1" ] && command -v pulumi >/dev/null 2>&1; then
  dir="$(dirname "$(command -v pulumi)")"
  found="$(pulumi version 2>/dev/null || echo 'version unknown')"
  if [ -z "$REQUESTED" ] || [ "$found" = "$VERSION" ]; then
    log "using pulumi from PATH: $dir ($found)"
    if [ -w "$dir" ] && ! command -v pulumi-resource-pulumi-nodejs >/dev/null 2>&1; then
      place_nodejs_plugin "$dir"
    fi
    echo "$dir"
    exit 0
  fi
  log "pulumi on PATH is $found, not $VERSION: using or building $VERSION"
fi

# BUILD-INFO of a build made before this script wrote one, from the build info Go embeds in the binaries.
describe_cached_build() {
  local dir="$1" lh
  lh="$(go version -m "$dir/pulumi-language-nodejs" 2>/dev/null |
    awk '$1 == "path" { p = $2 } $1 == "mod" { v = $3 } END { if (p != "") print v ", built from " p "@" v }')"
  [ -n "$lh" ] || return 0
  # Built from the SDK module rather than its own: the fallback described below.
  if [ "${lh#*sdk/v3/nodejs/cmd/}" != "$lh" ]; then lh="${lh/, built/ (fallback), built}"; fi
  {
    echo "pulumi: $("$dir/pulumi" version), built with $(go version -m "$dir/pulumi" | head -n 1 | awk '{print $2}')"
    echo "pulumi-language-nodejs: $lh (read from the binary)"
  } >"$dir/BUILD-INFO"
}

if [ -x "$ROOT/bin/pulumi" ] && [ -x "$ROOT/bin/pulumi-language-nodejs" ]; then
  place_nodejs_plugin "$ROOT/bin"
  if [ ! -f "$ROOT/bin/BUILD-INFO" ] && command -v go >/dev/null 2>&1; then
    describe_cached_build "$ROOT/bin"
  fi
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
info="$ROOT/bin.partial/BUILD-INFO"
export GOFLAGS="${GOFLAGS:-} -mod=mod"
cd "$work"
go mod init local/pulumi-cli-build >/dev/null 2>&1 || fail "go mod init failed"
go mod edit -replace "github.com/atotto/clipboard=$CLIPBOARD_FORK"
log "resolving github.com/pulumi/pulumi/pkg/v3@$VERSION"
go get "github.com/pulumi/pulumi/pkg/v3@$VERSION" "github.com/pulumi/pulumi/sdk/v3@$VERSION" >&2 ||
  fail "could not resolve github.com/pulumi/pulumi/pkg/v3@$VERSION and sdk/v3@$VERSION from the Go module proxy"
ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$VERSION"
log "compiling pulumi"
go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ldflags" -o "$ROOT/bin.partial/pulumi" \
  github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2 || fail "compiling pulumi failed"
{
  echo "pulumi: $VERSION, built from github.com/pulumi/pulumi/pkg/v3@$VERSION with $(go env GOVERSION)"
} >"$info"

# The language host is its own module without semver tags: the release's commit names it by a pseudo-version,
# v3.0.0-<commit time>-<12 hex of the commit>. The proxy's .info of pkg/v3@VERSION gives that commit when it
# recorded the tag's origin (it did for 3.248.0, not for every later release). The proxy may also refuse the
# module outright ("This module version is not available"). Either way we build the host from the last SDK
# release that still shipped it inside github.com/pulumi/pulumi/sdk/v3 (v3.68.0): the host only launches
# `node @pulumi/pulumi/cmd/run` of the program's own SDK and speaks the stable LanguageRuntime gRPC protocol,
# so the old host drives the new SDK and engine (checked by the end-to-end suites that run a real program,
# test/e2e/quickstart.spec.ts and test/e2e/tarball.spec.ts).
hash="$(go mod download -json "github.com/pulumi/pulumi/pkg/v3@$VERSION" 2>/dev/null |
  sed -n 's/^[[:space:]]*"Hash": "\([0-9a-f]\{12\}\).*/\1/p' | head -n 1)"
stamp="$(go list -m -json "github.com/pulumi/pulumi/pkg/v3@$VERSION" 2>/dev/null |
  sed -n 's/^[[:space:]]*"Time": "\([0-9T:-]*\)Z".*/\1/p' | head -n 1 | tr -d 'T:-')"
log "compiling pulumi-language-nodejs"
lh_dir="$work/language-host"
mkdir -p "$lh_dir"
why=""
if [ -z "$hash" ] || [ -z "$stamp" ]; then
  why="the proxy's github.com/pulumi/pulumi/pkg/v3/@v/$VERSION.info names no commit (no Origin), so no pseudo-version of $LANGUAGE_HOST_MODULE can be formed"
else
  pseudo="v3.0.0-$stamp-$hash"
  if (cd "$lh_dir" && go mod init local/lh >/dev/null 2>&1 &&
    go mod edit -replace "github.com/atotto/clipboard=$CLIPBOARD_FORK" &&
    go get "$LANGUAGE_HOST_MODULE@$pseudo" >"$lh_dir.log" 2>&1 &&
    go get "github.com/pulumi/pulumi/pkg/v3@$VERSION" "github.com/pulumi/pulumi/sdk/v3@$VERSION" >&2 &&
    go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ldflags" -o "$ROOT/bin.partial/pulumi-language-nodejs" \
      "$LANGUAGE_HOST_MODULE" >&2); then
    log "language host built at $pseudo"
    echo "pulumi-language-nodejs: $VERSION, built from $LANGUAGE_HOST_MODULE@$pseudo" >>"$info"
  else
    why="the proxy refused $LANGUAGE_HOST_MODULE@$pseudo: $(grep -m1 -o 'server response: .*\|[0-9]\{3\} [A-Z][a-z]*' "$lh_dir.log" || echo 'see the go output above')"
    cat "$lh_dir.log" >&2 || true
  fi
fi
if [ -n "$why" ]; then
  log "$why; building the language host from sdk/v3@$LEGACY_LANGUAGE_HOST_SDK"
  rm -rf "$lh_dir" && mkdir -p "$lh_dir"
  (cd "$lh_dir" && go mod init local/lh >/dev/null 2>&1 &&
    go get "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs@$LEGACY_LANGUAGE_HOST_SDK" >&2 &&
    go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$LEGACY_LANGUAGE_HOST_SDK" \
      -o "$ROOT/bin.partial/pulumi-language-nodejs" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs >&2) ||
    fail "compiling pulumi-language-nodejs failed"
  echo "pulumi-language-nodejs: $LEGACY_LANGUAGE_HOST_SDK (fallback), built from github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs@$LEGACY_LANGUAGE_HOST_SDK because $why" >>"$info"
fi
cd "$PROJECT_DIR"
rm -rf "$ROOT/bin"
mv "$ROOT/bin.partial" "$ROOT/bin"
place_nodejs_plugin "$ROOT/bin"
log "built $("$ROOT/bin/pulumi" version) in $ROOT/bin"
echo "$ROOT/bin"
