#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) into build-fuzz and runs
# each for FUZZ_SECONDS (default 60) from a copy of its seed corpus in
# tests/fuzz/corpus/; fails on the first crash, leak or sanitizer report and
# prints the end of that target's log. FUZZ_TARGETS (e.g. "msg csv") picks
# targets; FUZZ_KEEP=DIR keeps each grown corpus and log in DIR/<target>.
#
#   bash scripts/fuzz.sh                              60 s each (what CI runs)
#   FUZZ_SECONDS=600 FUZZ_KEEP=/tmp/fz bash scripts/fuzz.sh   a longer run
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
BUILD_DIR=build-fuzz BUILD_TYPE=Debug CC=clang bash scripts/build.sh -DGS_FUZZ=ON
targets=${FUZZ_TARGETS:-$(cd tests/fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//' | tr '\n' ' ')}
for what in $targets; do
  f=build-fuzz/tests/fuzz_$what
  if [ -n "${FUZZ_KEEP:-}" ]; then
    work=$FUZZ_KEEP/$what
    mkdir -p "$work/corpus"
  else
    work=$(mktemp -d)
    mkdir -p "$work/corpus"
  fi
  cp -r "tests/fuzz/corpus/$what/." "$work/corpus/"
  log=$work/fuzz.log
  st=0
  t0=$(date +%s)
  "$f" -max_total_time="$secs" -rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$work/" \
    "$work/corpus" >"$log" 2>&1 || st=$?
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  echo "fuzz_$what: ${execs:-?} executions in $(( $(date +%s) - t0 )) s," \
       "corpus $(ls "$work/corpus" | wc -l) inputs, exit $st"
  if [ "$st" -ne 0 ]; then
    tail -n 60 "$log"
    exit 1
  fi
  [ -n "${FUZZ_KEEP:-}" ] || rm -rf "$work"
done
