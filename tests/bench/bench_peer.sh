#!/usr/bin/env bash
# bench_peer.sh: gridsync against a real peer, PouchDB, replicating the very
# same incident records (Chinese text) from one village PC to one server on
# this machine: gridsync's `gridnode sync` to `gridhub serve` over ipc://
# (CURVE, SQLite WAL synchronous=FULL on both sides) and PouchDB's
# `local.replicate.to(remote)` to express-pouchdb over HTTP on 127.0.0.1
# (leveldb on both sides, PouchDB's default replication options).
#
# For each N (default 20,000 and 100,000) it prints, side by side:
#   full replication   N records, nothing at the receiver yet: records/s and the
#                      ratio of gridsync's rate to PouchDB's (goal >= 30x);
#   no-op resync       a sync with nothing new: for gridsync the whole
#                      `gridnode sync` command (process start, database open,
#                      CURVE handshake, HELLO..CHANGES, writes of the sync
#                      state), the protocol round trip HELLO -> WELCOME -> PULL
#                      -> CHANGES on an open connection (bench_efficiency rtt),
#                      the process start alone (`gridnode --version`), and a
#                      round of a running `gridnode sync --watch` on its kept
#                      connection (bench_efficiency watch: the same calls);
#                      for PouchDB one replicate.to() in a running process
#                      (goal: under 2 ms);
#   +1% incremental    N/100 more records added, then one sync (goal: gridsync
#                      >= 30x faster): the whole `gridnode sync` command, and
#                      (another N/100) one round of a running sync --watch;
#   the ceiling        what SQLite alone writes of the hub's rows for N changes
#                      of one node on this machine, in this run
#                      (`bench_efficiency --nodes 1 --changes N`, its raw
#                      writer; its own generated incidents of the same kind),
#                      and that rate as a multiple of PouchDB's: no sync path
#                      that stores what the hub stores can beat it.
# gridsync's figures are medians of RUNS (default 3) full syncs, each from a
# fresh copy of the same databases, and of NOOP (default 10) no-op syncs;
# PouchDB's full and incremental replications run once per N (100,000 takes
# minutes), its no-op NOOP times. Timestamps are taken around whole commands
# (bash, date +%s%N), so gridsync's times include its process start.
#
#   bash tests/bench/bench_peer.sh                 N = 20000 and 100000
#   bash tests/bench/bench_peer.sh 5000            another N
#   BUILD_DIR=build-perf RUNS=5 NOOP=20 WATCH=500 bash tests/bench/bench_peer.sh
#
# Needs Node.js 20 and the npm registry: the PouchDB packages are installed by
# this script into tests/bench/peer/node_modules (never committed, see
# tests/bench/peer/.gitignore). Not part of CI. Works in a temporary directory
# under $TMPDIR that it removes, on ipc:// and 127.0.0.1 only.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
peer="$root/tests/bench/peer"
build=${BUILD_DIR:-$root/build-perf}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
runs=${RUNS:-3}
noop=${NOOP:-10}
watchn=${WATCH:-200}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(20000 100000)

echo "== building gridhub, gridnode, bench_efficiency in $build (RelWithDebInfo)"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target gridhub gridnode bench_efficiency >/dev/null
H="$build/gridhub"
N_="$build/gridnode"
RTT="$build/tests/bench_efficiency"

if [ ! -d "$peer/node_modules/pouchdb-node" ] || [ ! -d "$peer/node_modules/express-pouchdb" ]; then
  echo "== npm install (pouchdb-node, express-pouchdb, express) into $peer/node_modules"
  (cd "$peer" && npm install --no-package-lock --no-audit --no-fund --loglevel=error)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/gridsync-peer.XXXXXX")
hub_pid=""
cleanup() {
  [ -n "$hub_pid" ] && kill "$hub_pid" 2>/dev/null && wait "$hub_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# prints the elapsed microseconds of a command (its output discarded; a failure stops the script)
timed() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>"$work/last.err" || { echo "failed: $*" >&2; cat "$work/last.err" >&2; exit 1; }
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
fsname() { stat -f -c %T "$1" 2>/dev/null || echo unknown; }

start_hub() {
  "$H" --db "$1/hub.db" serve --bind "ipc://$1/hub.sock" 2>>"$1/hub.log" &
  hub_pid=$!
  for _ in $(seq 1 400); do
    grep -q "gridhub: serving" "$1/hub.log" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "gridhub serve did not start" >&2; cat "$1/hub.log" >&2; exit 1
}
stop_hub() { kill "$hub_pid"; wait "$hub_pid" || true; hub_pid=""; }
hub_count() { sqlite3 "$1/hub.db" "SELECT count(*) FROM changes WHERE origin = '$2'"; }

echo "gridsync vs PouchDB, the same records"
echo "  machine   $(nproc) CPUs (nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "  system    $(uname -sr), Node.js $(node --version), $(sqlite3 --version | cut -d' ' -f1-1) SQLite"
echo "  disk      $work ($(fsname "$work"))"
echo "  load      $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min at the start)"
village=411122101201

for n in "${sizes[@]}"; do
  m=$(( n / 100 ))
  d="$work/n$n"
  mkdir -p "$d/tpl" "$d/run"
  node "$peer/pouch_peer.js" gen "$n" 0 "$d/full.csv"
  node "$peer/pouch_peer.js" gen "$m" "$n" "$d/more.csv"
  node "$peer/pouch_peer.js" gen "$m" "$((n + m))" "$d/more2.csv"
  echo
  echo "== N = $n records (+1% = $m), $(du -k "$d/full.csv" | cut -f1) KiB of CSV"

  # ---- gridsync: one village node, one hub, both fresh
  t="$d/tpl"
  "$H" --db "$t/hub.db" init >/dev/null
  "$H" --db "$t/hub.db" refdata load divisions "$root/data/luohe_divisions.csv" >/dev/null
  "$H" --db "$t/hub.db" refdata load categories "$root/data/incident_categories.csv" >/dev/null
  id=$("$H" --db "$t/hub.db" node add --village $village --name 对比节点 \
        --endpoint "ipc://$d/run/hub.sock" --out "$t/node.bundle")
  "$N_" --db "$t/node.db" init --bundle "$t/node.bundle" >/dev/null
  imp=$(timed "$N_" --db "$t/node.db" import incidents "$d/full.csv")
  echo "  gridsync  import of the CSV into the node (not part of the sync): $((imp / 1000)) ms"

  fulls=()
  for r in $(seq 1 "$runs"); do
    rm -f "$d/run/"*
    cp "$t/hub.db" "$t/hub.db.key" "$t/node.db" "$d/run/"
    sync
    start_hub "$d/run"
    us=$(timed "$N_" --db "$d/run/node.db" sync --quiet)
    fulls+=("$us")
    [ "$(hub_count "$d/run" "$id")" = "$n" ] || { echo "the hub does not hold $n changes" >&2; exit 1; }
    if [ "$r" -lt "$runs" ]; then stop_hub; fi
  done
  full_us=$(printf '%s\n' "${fulls[@]}" | median)

  # no-op: whole commands, then the protocol alone, then the process start alone
  noops=()
  for _ in $(seq 1 "$noop"); do noops+=("$(timed "$N_" --db "$d/run/node.db" sync --quiet)"); done
  noop_us=$(printf '%s\n' "${noops[@]}" | median)
  starts=()
  for _ in $(seq 1 "$noop"); do starts+=("$(timed "$N_" --version)"); done
  start_us=$(printf '%s\n' "${starts[@]}" | median)
  "$RTT" rtt "$d/run/node.db" 200 >"$d/rtt.txt"
  rtt_med=$(awk '/^rtt_median_ms/ {print $2}' "$d/rtt.txt")
  rtt_first=$(awk '/^rtt_first_ms/ {print $2}' "$d/rtt.txt")
  rtt_hw=$(awk '/^hello_welcome_median_ms/ {print $2}' "$d/rtt.txt")
  rtt_pc=$(awk '/^pull_changes_median_ms/ {print $2}' "$d/rtt.txt")

  # +1%: the new records entered (not timed), then one sync
  "$N_" --db "$d/run/node.db" import incidents "$d/more.csv" >/dev/null
  incr_us=$(timed "$N_" --db "$d/run/node.db" sync --quiet)
  [ "$(hub_count "$d/run" "$id")" = "$((n + m))" ] || { echo "the hub does not hold $((n + m)) changes" >&2; exit 1; }

  # the same as a running `gridnode sync --watch` does them, on its kept
  # connection: WATCH no-op rounds, then another +1% imported and one round
  "$RTT" watch "$d/run/node.db" "$watchn" "$d/more2.csv" >"$d/watch.txt"
  w_noop=$(awk '/^watch_noop_median_ms/ {print $2}' "$d/watch.txt")
  w_p95=$(awk '/^watch_noop_p95_ms/ {print $2}' "$d/watch.txt")
  w_incr=$(awk '/^watch_incr_ms/ {print $2}' "$d/watch.txt")
  [ "$(hub_count "$d/run" "$id")" = "$((n + 2 * m))" ] || { echo "the hub does not hold $((n + 2 * m)) changes" >&2; exit 1; }
  stop_hub

  # ---- the raw SQLite ceiling of the hub's writes, one node, N changes
  "$RTT" --nodes 1 --changes "$n" --runs "$runs" >"$d/ceiling.txt" 2>&1 ||
    { cat "$d/ceiling.txt" >&2; exit 1; }
  ceil=$(awk '/^  median / {print $6}' "$d/ceiling.txt")
  ceil_e2e=$(awk '/^  median / {print $3}' "$d/ceiling.txt")

  # ---- PouchDB
  pj=$(node "$peer/pouch_peer.js" bench "$d/pouch" "$d/full.csv" "$d/more.csv" "$noop")
  pget() { node -e "process.stdout.write(String(JSON.parse(process.argv[1])['$1']))" "$pj"; }
  p_full=$(pget full_ms); p_noop=$(pget noop_median_ms); p_incr=$(pget incr_ms); p_load=$(pget load_ms)
  rm -rf "$d/pouch"

  awk -v n="$n" -v m="$m" -v full="$full_us" -v noop="$noop_us" -v start="$start_us" \
      -v rtt="$rtt_med" -v first="$rtt_first" -v hw="$rtt_hw" -v pc="$rtt_pc" -v incr="$incr_us" \
      -v pfull="$p_full" -v pnoop="$p_noop" -v pincr="$p_incr" -v pload="$p_load" -v runs="$runs" \
      -v noopn="$noop" -v wnoop="$w_noop" -v wp95="$w_p95" -v wincr="$w_incr" -v watchn="$watchn" \
      -v ceil="$ceil" -v ceile2e="$ceil_e2e" 'BEGIN {
    g = n / (full / 1e6); p = n / (pfull / 1000);
    printf "  PouchDB   bulkDocs of the records into the local database (not part of the sync): %.0f ms\n", pload;
    printf "  %-22s %-40s %-26s %s\n", "", "gridsync", "PouchDB", "gridsync advantage";
    printf "  %-22s %-40s %-26s %.1fx (goal >= 30x)\n", "full replication",
           sprintf("%.2f s, %.0f records/s (median of %d)", full / 1e6, g, runs),
           sprintf("%.2f s, %.0f records/s", pfull / 1000, p), g / p;
    printf "  %-22s %-40s %-26s %.1fx\n", "  raw SQLite ceiling",
           sprintf("%.0f records/s (%.0f end to end there)", ceil, ceile2e), "", ceil / p;
    printf "  %-22s %-40s %-26s %s\n", "no-op resync",
           sprintf("%.1f ms whole command (median of %d)", noop / 1000, noopn),
           sprintf("%.1f ms (median of %d)", pnoop, noopn),
           sprintf("%.1fx (goal < 2 ms)", pnoop / (noop / 1000));
    printf "  %-22s %-40s %-26s %s\n", "", sprintf("%.3f ms a sync --watch round (median of %d, p95 %.3f)", wnoop, watchn, wp95),
           "", sprintf("%.1fx", pnoop / wnoop);
    printf "  %-22s %-40s\n", "", sprintf("%.3f ms protocol round trip HELLO..CHANGES", rtt);
    printf "  %-22s %-40s\n", "", sprintf("  (%.3f HELLO->WELCOME + %.3f PULL->CHANGES, median of 200)", hw, pc);
    printf "  %-22s %-40s\n", "", sprintf("%.1f ms first round trip on a new connection (CURVE handshake)", first);
    printf "  %-22s %-40s\n", "", sprintf("%.1f ms process start alone (gridnode --version)", start / 1000);
    printf "  %-22s %-40s %-26s %.1fx faster (goal >= 30x)\n", sprintf("+1%% incremental (%d)", m),
           sprintf("%.1f ms whole command", incr / 1000), sprintf("%.1f ms", pincr), pincr / (incr / 1000);
    printf "  %-22s %-40s %-26s %.1fx faster (goal >= 30x)\n", "",
           sprintf("%.1f ms a sync --watch round", wincr), "", pincr / wincr;
  }'
done
