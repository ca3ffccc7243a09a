#!/usr/bin/env bash
# The larger demo: the whole city of Luohe, every village it has. The 1,334
# real villages and communities of data/luohe_villages.csv (NBS codes and
# registered names: 1,259 村民委员会, 75 居民委员会) are each a node; each gets a
# Party-organisation election; 69 also hold a village or residents committee
# election; 1,258 have a red-white council with its standards and affairs (the
# 2020 review's 1,269 of 1,346, scaled; a fixed subset spread evenly in code
# order, so the 76 without one fall across the whole city); every village has
# grids and incidents. All of it is entered through the node's own entry rules,
# then every node syncs to one city hub with the real gridnode and gridhub, and
# the city's summary (every rate over the 1,334 villages) and the villages
# without a node or silent are printed.
#
#   bash scripts/demo-large.sh                 build, generate, sync, report
#   DEMO_DIR=/tmp/city bash scripts/demo-large.sh   keep everything in /tmp/city
#   PARALLEL=4 bash scripts/demo-large.sh      processes at once (default 8)
#
# About 3-4 minutes on 2 cores (see docs/benchmarks.md, "City scale").
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
start=$(date +%s)
bash scripts/deps.sh >/dev/null
echo "== building gridhub, gridnode and bench_city"
BUILD_DIR=build TARGETS="gridhub gridnode bench_city" bash scripts/build.sh >/dev/null
H="$root/build/gridhub"

if [ -n "${DEMO_DIR:-}" ]; then
  dir=$DEMO_DIR
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
    echo "demo-large: DEMO_DIR=$dir is not empty; give a new or empty directory" >&2
    exit 2
  fi
else
  dir=$(mktemp -d /tmp/gridsync-city.XXXXXX)
fi

echo "== generating the city and syncing every node to the hub (this takes a few minutes)"
out=$(mktemp /tmp/gridsync-city-out.XXXXXX)
trap 'rm -f "$out"' EXIT
if ! "$root/build/tests/bench_city" --dir "$dir" --parallel "${PARALLEL:-8}" --keep | tee "$out"; then
  echo "demo-large: bench_city failed; its files are in $dir" >&2
  exit 1
fi

echo
echo "== the city's figures"
"$H" --db "$dir/hub.db" report summary
echo
echo "== villages without a node (未开通) or silent, city-wide (totals)"
"$H" --db "$dir/hub.db" report nodes | sed -n '/^== 村社区 villages/,$p' | tail -n 5

echo
grep '^全市 city:' "$out" | sed 's/^全市 city: /全市 city-wide: /'
echo "demo-large: done in $(( $(date +%s) - start )) s; databases, bundles and logs are in $dir"
