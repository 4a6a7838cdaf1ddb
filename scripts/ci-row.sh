#!/usr/bin/env bash
# One row of the CI matrix (.ci/run): a Node.js runtime, an @pulumi/pulumi SDK and the Pulumi CLI built for
# it, running some of the package's npm scripts. Prints what the row ran with, tees the test output and
# writes the row's facts (versions, suites, test counts) to FACTS as `key=value` lines for
# scripts/compat-table.sh.
#
#   ci-row.sh FACTS [--node VERSION --sdk VERSION] -- SCRIPT...
#
# Without --node/--sdk the row runs in this checkout on the `node` on PATH, with the SDK of package-lock.json
# (npm ci done by the caller). With them it runs on a copy of the checkout (tracked and unignored files) whose
# npm ci is done by that Node.js (fetched by scripts/node-runtime.sh), with @pulumi/pulumi@VERSION installed
# over the locked one, so every process of the suites (mocha, the language host's program, the
# dynamic-provider host, npm in the tarball suite) runs on that Node.js and SDK.
set -euo pipefail

FACTS="${1:?usage: ci-row.sh FACTS [--node VERSION --sdk VERSION] -- SCRIPT...}"
shift
NODE_VERSION=""
SDK_VERSION=""
while [ $# -gt 0 ]; do
  case "$1" in
    --node) NODE_VERSION="${2#v}"; shift 2 ;;
    --sdk) SDK_VERSION="${2#v}"; shift 2 ;;
    --) shift; break ;;
    *) echo "[ci-row] unknown argument $1" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "[ci-row] no npm script to run" >&2; exit 2; }
SCRIPTS=("$@")
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { echo "[ci-row] $*" >&2; }

tree="$REPO"
scratch=""
cleanup() { if [ -n "$scratch" ]; then rm -rf "$scratch"; fi; }
trap cleanup EXIT
if [ -n "$NODE_VERSION" ]; then
  [ -n "$SDK_VERSION" ] || { echo "[ci-row] --node needs --sdk" >&2; exit 2; }
  node_bin="$(bash "$REPO/scripts/node-runtime.sh" "$NODE_VERSION" | tail -n 1)"
  export PATH="$node_bin:$PATH"
  scratch="$(mktemp -d)"
  tree="$scratch/pulumi-ovh-okms"
  mkdir -p "$tree"
  log "copying the checkout to $tree"
  (cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -xf - -C "$tree"
  cd "$tree"
  log "npm ci on Node.js $(node --version), then @pulumi/pulumi@$SDK_VERSION over the locked one"
  npm ci --no-audit --no-fund --loglevel=error
  # --no-save: the lockfile stays the Node 20 row's; the row's tree alone gets the newer SDK.
  npm install --no-save --no-audit --no-fund --loglevel=error "@pulumi/pulumi@$SDK_VERSION"
  # That install prunes node_modules/pulumi-ovh-okms (the self link of scripts/link-self.js) as extraneous.
  npm run prepare --silent
fi
cd "$tree"
sdk="$(node -p 'require("@pulumi/pulumi/package.json").version')"
if [ -n "$SDK_VERSION" ] && [ "$sdk" != "$SDK_VERSION" ]; then
  echo "[ci-row] npm installed @pulumi/pulumi $sdk, not $SDK_VERSION" >&2
  exit 1
fi
cli_dir="$(bash scripts/pulumi-cli.sh "$sdk" | tail -n 1)"
export PATH="$cli_dir:$PATH"
if [ -n "$NODE_VERSION" ]; then
  export PATH="$node_bin:$PATH"
fi
export PULUMI_CLI_DIR="$cli_dir"

node="$(node --version)"
npm_version="$(npm --version)"
cli="$(pulumi version)"
info() { sed -n "s/^$1: //p" "$cli_dir/BUILD-INFO" 2>/dev/null | head -n 1; }
language_host="$(info pulumi-language-nodejs)"
language_host="${language_host:-not recorded (no BUILD-INFO in $cli_dir)}"
echo "ran with: Node.js $node (node: $(command -v node)), npm $npm_version, @pulumi/pulumi $sdk"
echo "ran with: Pulumi CLI $cli ($cli_dir), language host $language_host"
echo "ran with: npm scripts: ${SCRIPTS[*]}"

out="$(mktemp)"
status=0
for s in "${SCRIPTS[@]}"; do
  set +e
  npm run "$s" 2>&1 | tee -a "$out"
  st=${PIPESTATUS[0]}
  set -e
  if [ "$st" -ne 0 ]; then
    status=$st
    break
  fi
done
sum() { sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -E "^ +[0-9]+ $1" | awk '{s += $1} END {print s + 0}'; }
{
  echo "node=${node#v}"
  echo "npm=$npm_version"
  echo "sdk=$sdk"
  echo "cli=$cli"
  echo "language_host=$language_host"
  echo "scripts=${SCRIPTS[*]}"
  echo "passed=$(sum passing)"
  echo "failed=$(sum failing)"
  echo "skipped=$(sum pending)"
  echo "status=$status"
} >"$FACTS"
rm -f "$out"
exit "$status"
