#!/usr/bin/env bash
# Writes every `gridhub report` (every kind, every area filter, with and
# without a period, in table, CSV with and without BOM, and JSON) of one hub
# database into a directory, one file per run, stdout then stderr and the exit
# status. Run it with the gridhub before and after a change and diff the two
# directories: the figures must be byte-for-byte what they were.
#
#   tests/compare/report_outputs.sh GRIDHUB HUB.db OUTDIR [AS_OF]
#   diff -r OUTDIR.before OUTDIR.after
set -euo pipefail
hub=$1 db=$2 out=$3 asof=${4:-2026-03-31}
mkdir -p "$out"
# copy the database: a report is read-only, but never risk the original
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$db" "$work/hub.db"
areas=("" "--county 411102" "--county 411171" "--county 411122" "--county unknown"
       "--township 411102100" "--township 411171102" "--village 411102100201"
       "--village 411122101201")
n=0
for kind in summary elections incidents councils nodes; do
  for area in "${areas[@]}"; do
    periods=("")
    [ "$kind" != nodes ] && periods+=("--since 2026-01-01 --until 2026-03-15")
    extra=("")
    [ "$kind" = elections ] && extra+=("--findings-only")
    for period in "${periods[@]}"; do
      for x in "${extra[@]}"; do
        for fmt in table csv "csv --bom" json; do
          name=$(echo "$kind $area $period $x $fmt" | tr -s ' /' '__')
          # shellcheck disable=SC2086
          { "$hub" --db "$work/hub.db" report $kind $area $period $x --format $fmt --as-of "$asof" \
              2>"$out/$name.err" >"$out/$name.out"; echo "exit $?" >"$out/$name.rc"; } || true
          n=$((n + 1))
        done
      done
    done
  done
done
echo "report_outputs: $n runs into $out"
