#!/usr/bin/env bash
# The valgrind job: builds gridsync in build-valgrind (Debug, no sanitizers) and
# runs the whole ctest suite under valgrind memcheck, the gridnode and gridhub
# processes the scenario tests start included (--trace-children). It passes
# only when every test passes and valgrind reports no error and no definite or
# indirect leak in any process.
#
#   bash scripts/valgrind.sh                        the job (2 cores: see docs/benchmarks.md)
#   VG_TESTS=test_soak bash scripts/valgrind.sh     only the tests matching a ctest regex
#   VG_UNTRACED= bash scripts/valgrind.sh           trace the children of every test (slow)
#   VG_NO_BUILD=1 bash scripts/valgrind.sh          use build-valgrind as it is
#   VG_BUILD_DIR=build VG_NO_BUILD=1 bash scripts/valgrind.sh
#                                                   the suite as scripts/test.sh built it
#                                                   (RelWithDebInfo): what CI runs
#
# How: `ctest -T memcheck` with valgrind as the memory checker. Check's fork per
# test is turned off (CK_FORK=no) for the unit tests and corpus replays: under
# valgrind each fork costs seconds (test_mpack: 73 s forked, 3 s not); the
# scenario tests keep it (their tests need a fresh process each). Every
# process, forked test children included, writes its own log,
# build-valgrind/valgrind-logs/PID.log (the last --log-file wins over the one
# ctest puts first, so ctest says it cannot find its own log files: expected);
# a process with errors exits 1 (--error-exitcode), which fails the test that
# ran it, and the logs with errors are printed at the end.
#
# The browser tests (label "browser": python driving Chromium) are left out.
#
# Scale: the scenario tests that read GS_TEST_SCALE run smaller (0.05 here:
# test_soak's seconds of chaos, test_sync's changes). Those that cannot be made
# small enough (VG_UNTRACED, a ctest regex; by default test_node_cli and
# test_node_import, 521 and 264 processes at ~1 s of CPU per process start
# under memcheck; test_node_durability, whose 20,000-row imports and kill delays
# are sized by a native run; test_converge, 10,000 offline changes; test_sync,
# whose 20 nodes and 10 hub kills do not scale; test_villages and test_hub_cli,
# which run a gridhub report or command per check, some hundreds, while
# test_reports traces the same report code; test_node_xlsx and test_export_xlsx,
# 328 s and 112 s traced, whose reader and writer test_xlsx and the xlsx replay
# trace; test_hub_web and test_hub_web_queue, 403 s and 295 s traced, and
# test_hub_web_hostile (some 450 hostile requests, each followed by a normal
# one), a hub with the whole village list behind every page: the HTTP layer they use is traced in
# test_http and the desk's pages in test_node_web*, and the ASan run checks the
# city's pages in their own processes) run with the test process under
# memcheck but their children not traced: traced, they would take the job far
# past its time (the first five each ran past 900 s here). VG_UNTRACED= traces
# everything (far longer).
# GS_UNDER_VALGRIND=1 is set for tests that must skip what valgrind falsifies
# (a child's ru_maxrss includes the RSS of its parent at fork, ~80 MB under
# memcheck) or make smaller what native timings size (test_node_durability's
# imports), and for test_security, which then runs once what it would only
# repeat, every distinct case still traced (its banner says what: one
# template for all its TCases, holding the honest node's first sync, instead
# of one per TCase and that sync in every test; one hub judging all the
# forbidden changes; `gridnode init` once per distinct refusal of the ~290
# truncated bundles, all of which the test process parses under memcheck; a
# fifth of the HELLO flood): 952 s traced alone before, 376 s in the job after.
# CK_TIMEOUT_MULTIPLIER=3 is set for Check's timeouts.
# The scenario tests run in two lanes at once, one test at a time in each:
# VG_LANE1 (default test_security, test_reports and test_node_web, ~10 minutes
# together) in one, the other traced ones and then the untraced ones in the
# other, about as long, so that the job stays within 12-15 minutes on 2 cores
# (docs/benchmarks.md, "Valgrind job"). A process SIGKILLed by a test gets no
# leak check (nothing can be said about it); one stopped with SIGTERM does.
# Shells and system tools the tests run are not traced. A leak reported in a
# unit test process on the path of a failed assertion is that failure's
# (CK_FORK=no: the assertion jumps out of the test).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
start=$(date +%s)
dir=${VG_BUILD_DIR:-build-valgrind}
jobs=$(nproc 2>/dev/null || echo 2)
untraced=${VG_UNTRACED-test_node_cli|test_node_import|test_node_durability|test_converge|test_sync|test_villages|test_hub_cli|test_node_xlsx|test_export_xlsx|test_hub_web|test_hub_web_queue|test_hub_web_hostile}

if [ -z "${VG_NO_BUILD:-}" ]; then
  bash scripts/deps.sh   # valgrind among them
  echo "== build ($dir: Debug, no sanitizers)"
  BUILD_DIR=$dir BUILD_TYPE=Debug bash scripts/build.sh -DGS_SANITIZE=OFF -DGS_FUZZ=OFF
fi
command -v valgrind >/dev/null 2>&1 || { echo "valgrind: not installed (bash scripts/deps.sh)"; exit 1; }

logs="$root/$dir/valgrind-logs"
rm -rf "$logs"
mkdir -p "$logs"
# LibreOffice (the XLSX tests convert workbooks with it) is not ours to check, nor the
# programs its start script runs.
skip='*/sh,*/dash,*/bash,*/iconv,*/sqlite3,*/cat,*/sleep,*/printf,*/env,*/timeout'
skip+=',*/soffice,*/soffice.bin,*/oosplash,*/sed,*/uname,*/dirname,*/basename,*/java'
opts="--leak-check=full --error-exitcode=1 --errors-for-leak-kinds=definite,indirect"
opts+=" --suppressions=$root/scripts/valgrind.supp"
opts+=" --show-leak-kinds=definite,indirect --num-callers=40 --read-inline-info=no"
opts+=" --log-file=$logs/%p.log"
# The scenario tests keep Check's fork per test: they rely on it for a fresh
# state in each test (test_security's loop tests do). The others do without.
scenario=$(cd tests && ls scenario/test_*.c soak/test_*.c | sed 's|.*/||; s/\.c$//' | paste -sd'|')

# memcheck WHAT TRACE FORK DIR JOBS [ctest selection...]: one ctest -T memcheck
# run in DIR (the build directory, or its tests/ subdirectory, which holds the
# same tests and keeps its own Testing/ records, so two runs can go at once)
status=0
memcheck() {
  local what=$1 trace=$2 fork=$3 in=$4 j=$5
  shift 5
  echo "== ctest -T memcheck: $what (GS_TEST_SCALE=${GS_TEST_SCALE:-0.05}, CK_FORK=$fork," \
       "--trace-children=$trace, -j$j)"
  local o="$opts --trace-children=$trace"
  [ "$trace" = yes ] && o+=" --trace-children-skip=$skip"
  (cd "$in" && CK_FORK=$fork CK_TIMEOUT_MULTIPLIER=3 GS_TEST_SCALE="${GS_TEST_SCALE:-0.05}" \
     GS_UNDER_VALGRIND=1 \
     ctest -T memcheck -LE browser --overwrite "MemoryCheckCommand=$(command -v valgrind)" \
           --overwrite "MemoryCheckCommandOptions=$o" --output-on-failure -j"$j" "$@") \
    || status=$?
}
if [ -n "${VG_TESTS:-}" ]; then
  memcheck "tests matching $VG_TESTS" yes yes "$dir" "$jobs" -R "$VG_TESTS"
else
  memcheck "unit tests and corpus replays, children traced" yes no "$dir" "$jobs" \
    -E "^($scenario)\$"
  # The scenario tests in two lanes at once, one test at a time in each:
  # VG_LANE1 (test_security, 29 tests against a traced hub, test_reports and
  # test_node_web) in one, the other traced ones and then the untraced ones in
  # the other.
  lane1=${VG_LANE1-test_security|test_reports|test_node_web}
  none='^$'
  ( memcheck "$lane1, children traced" yes yes "$dir/tests" 1 -R "^(${lane1:-^})\$" \
      >"$logs/lane1.out" 2>&1; exit $status ) &
  lane1_pid=$!
  memcheck "the other scenario tests, children traced" yes yes "$dir" 1 -R "^($scenario)\$" \
    -E "^(${lane1:-$none}|${untraced:-$none})\$"
  if [ -n "$untraced" ]; then
    memcheck "$untraced, children not traced" no yes "$dir" 1 -R "^($untraced)\$"
  fi
  wait "$lane1_pid" || status=$?
  cat "$logs/lane1.out"
fi

# Every process's log: errors or definite/indirect leaks fail the job.
bad=0
nlogs=0
for f in "$logs"/*.log; do
  [ -e "$f" ] || continue
  nlogs=$((nlogs + 1))
  if grep -qE 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]|indirectly lost: [1-9]' "$f"; then
    bad=$((bad + 1))
    echo "---- $(basename "$f"): $(grep -m1 -oE 'Command: .*' "$f" | cut -c1-200)"
    grep -vE '^==[0-9]+== *$' "$f" | sed -n '1,120p'
  fi
done
secs=$(( $(date +%s) - start ))
echo "== valgrind: $nlogs processes checked, $bad with errors or leaks; ctest exit $status;" \
     "$((secs / 60)) min $((secs % 60)) s in all; CPU time of this script and its children:"
times
if [ "$status" -ne 0 ] || [ "$bad" -ne 0 ]; then
  echo "== valgrind job FAILED"
  exit 1
fi
echo "== valgrind job passed"
