#!/usr/bin/env bash
# The README's "Compatibility" table, generated from the facts files that scripts/ci-row.sh wrote for the rows
# of a CI run (.ci/run). Versions only: test counts change with every new test and are printed by .ci/run.
#
#   compat-table.sh FACTS...                     print the table
#   compat-table.sh --check README.md FACTS...   say whether README.md's table is the one this run tested
#   compat-table.sh --write README.md FACTS...   replace README.md's table with it
#
# The table sits between the lines `<!-- compatibility:begin -->` and `<!-- compatibility:end -->`.
set -euo pipefail

mode="print"
readme=""
case "${1:-}" in
  --check | --write) mode="${1#--}"; readme="${2:?$1 needs a README path}"; shift 2 ;;
esac
[ $# -gt 0 ] || { echo "usage: compat-table.sh [--check|--write README.md] FACTS..." >&2; exit 2; }

fact() { sed -n "s/^$2=//p" "$1" | head -n 1; }
table() {
  echo "| Node.js | \`@pulumi/pulumi\` | Pulumi CLI | Node.js language host | Package manager | Suites (npm scripts) |"
  echo "| --- | --- | --- | --- | --- | --- |"
  local f
  for f in "$@"; do
    local scripts
    scripts="$(fact "$f" scripts | sed 's/\([^ ]*\)/`\1`/g; s/ /, /g')"
    echo "| $(fact "$f" node) | $(fact "$f" sdk) | $(fact "$f" cli) | $(fact "$f" language_host | sed 's/,.*//') | npm $(fact "$f" npm) | $scripts |"
  done
}

begin="<!-- compatibility:begin -->"
end="<!-- compatibility:end -->"
# Formatted as `npm run lint` (prettier) wants the README's tables.
generated="$(table "$@" | (cd "$(dirname "${BASH_SOURCE[0]}")/.." && npx --no-install prettier --stdin-filepath README.md))"
case "$mode" in
  print) echo "$generated" ;;
  check | write)
    grep -qxF "$begin" "$readme" && grep -qxF "$end" "$readme" ||
      { echo "$readme has no $begin ... $end block" >&2; exit 1; }
    current="$(sed -n "/^$begin\$/,/^$end\$/p" "$readme" | sed '1d;$d')"
    # Blank lines around the table inside the block, as prettier formats it.
    if [ "$current" = $'\n'"$generated" ]; then
      echo "README Compatibility table: matches what this run tested"
    elif [ "$mode" = "check" ]; then
      echo "README Compatibility table: differs from what this run tested; this run's table is:"
      echo "$generated"
    else
      tmp="$(mktemp)"
      T="$generated" awk -v b="$begin" -v e="$end" '
        $0 == b { print; print ""; print ENVIRON["T"]; print ""; skip = 1; next }
        $0 == e { skip = 0 }
        !skip { print }' "$readme" >"$tmp"
      cat "$tmp" >"$readme" && rm -f "$tmp"
      echo "README Compatibility table: written to $readme"
    fi
    ;;
esac
