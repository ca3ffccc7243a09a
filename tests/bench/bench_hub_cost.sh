#!/usr/bin/env bash
# bench_hub_cost.sh: the hub's CPU instructions per change it takes in, counted
# by callgrind (repeatable whatever else the machine is doing), for one village
# node's backlog of incidents, elections with candidates, a council and affairs.
#
#   tests/bench/bench_hub_cost.sh BIN_DIR [N]
#
# BIN_DIR holds gridhub and gridnode (e.g. build); N incidents (default 4000),
# N/40 elections with 5 candidates each, one council, N/10 affairs. It makes a
# hub and a node in a temporary directory, imports the backlog on the node
# (not measured), then runs `gridhub serve` under callgrind while one
# `gridnode sync` pushes the backlog, and again with nothing to push (the
# hub's fixed cost: start, handshake, stop). It prints the hub's instructions
# of both runs and their difference per change. Run it with two builds (say
# the commit before a change and after) to compare them in one sitting.
set -euo pipefail
bin=$(cd "${1:?usage: bench_hub_cost.sh BIN_DIR [N]}" && pwd)
n=${2:-4000}
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v valgrind >/dev/null || { echo "bench_hub_cost: valgrind is needed" >&2; exit 1; }
d=$(mktemp -d "${TMPDIR:-/tmp}/gridsync-hubcost.XXXXXX")
[ -n "${KEEP:-}" ] && echo "kept in $d" >&2 || trap 'rm -rf "$d"' EXIT
V=411122101201
H="$bin/gridhub" N="$bin/gridnode"

# one hub run under callgrind while `gridnode sync` runs against it; prints Ir
measured_sync() {
  local tag=$1
  valgrind --tool=callgrind --callgrind-out-file="$d/cg.$tag" \
    "$H" --db "$d/hub.db" serve --bind "ipc://$d/hub.sock" >"$d/hub.$tag.log" 2>&1 &
  local pid=$!
  for _ in $(seq 600); do grep -q "gridhub: serving" "$d/hub.$tag.log" && break; sleep 0.1; done
  "$N" --db "$d/node.db" sync --timeout 600 --quiet >/dev/null
  kill -TERM "$pid"
  wait "$pid" || true
  grep -E '^(summary|totals):' "$d/cg.$tag" | head -1 | awk '{print $2}'
}

"$H" --db "$d/hub.db" init >/dev/null
"$H" --db "$d/hub.db" refdata load divisions "$root/data/luohe_divisions.csv" >/dev/null
"$H" --db "$d/hub.db" refdata load categories "$root/data/incident_categories.csv" >/dev/null
"$H" --db "$d/hub.db" node add --village $V --name 测试村 --endpoint "ipc://$d/hub.sock" \
  --out "$d/n.bundle" >/dev/null
"$N" --db "$d/node.db" init --bundle "$d/n.bundle" >/dev/null

# the backlog, entered offline on the node
ne=$((n / 40)) na=$((n / 10))
{
  echo "grid_code,category,title,status,severity"
  for i in $(seq "$n"); do
    echo "${V}00$((i % 9 + 1)),dispute.neighbour,邻里纠纷第${i}号,reported,$((i % 4 + 1))"
  done
} >"$d/incidents.csv"
{
  echo "id,committee,election_date,registered,voted,valid,invalid,seats_member"
  for i in $(seq "$ne"); do echo "e$i,村民委员会,2026-03-08,1200,$((900 + i % 300)),$((890 + i % 300)),10,4"; done
} >"$d/elections.csv"
{
  echo "election_id,name,gender,post,votes"
  for i in $(seq "$ne"); do
    for k in 1 2 3 4 5; do
      echo "e$i,候选人$i-$k,$([ $k = 2 ] && echo 女 || echo 男),$([ $k = 1 ] && echo 主任 || echo 委员),$((700 - k * 90 + i % 50))"
    done
  done
} >"$d/candidates.csv"
echo "name,max_tables,max_funeral_days,cremation_required" >"$d/councils.csv"
echo "红白理事会,10,3,是" >>"$d/councils.csv"
{
  echo "kind,host,event_date,tables,days,cremation"
  for i in $(seq "$na"); do echo "白事,事主$i,2026-06-03,$((i % 15)),$((i % 5 + 1)),是"; done
} >"$d/affairs.csv"
for t in incidents elections candidates councils affairs; do
  "$N" --db "$d/node.db" import "$t" "$d/$t.csv" >/dev/null
done
changes=$("$N" --db "$d/node.db" status --json | sed -n 's/.*"pending":\([0-9]*\).*/\1/p')

full=$(measured_sync full)
idle=$(measured_sync idle)
echo "hub ($bin): $changes changes; callgrind Ir: sync $full, idle sync $idle;" \
     "$(( (full - idle) / changes )) instructions per change"
