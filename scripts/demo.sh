#!/usr/bin/env bash
# The gridsync demo: a city hub with the real Luohe village list (1,334 villages
# and communities, data/luohe_villages.csv) and four village nodes of it, data entered
# offline by command and by a GBK CSV file as Chinese Excel saves it, synced to
# a hub that starts late and is restarted once, a city decision sent back down,
# and the city's summary report.
#
#   bash scripts/demo.sh            the demo (installs packages, builds, runs)
#   DEMO_DIR=/tmp/x bash scripts/demo.sh   keep the databases in /tmp/x
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/deps.sh >/dev/null
echo "== building"
BUILD_DIR=build TARGETS="gridhub gridnode" bash scripts/build.sh >/dev/null
H="$root/build/gridhub"
N="$root/build/gridnode"

dir=${DEMO_DIR:-$(mktemp -d /tmp/gridsync-demo.XXXXXX)}
mkdir -p "$dir"
cd "$dir"
rm -f ./*.db ./*.db-* ./*.key ./*.bundle ./*.log ./*.csv
endpoint="ipc://$dir/hub.sock"
hub_pid=""
stop_hub() { [ -n "$hub_pid" ] && kill "$hub_pid" 2>/dev/null && wait "$hub_pid" 2>/dev/null; hub_pid=""; }
trap stop_hub EXIT
start_hub() { "$H" --db hub.db serve --bind "$endpoint" -v 2>>hub.log & hub_pid=$!; sleep 0.3; }
say() { printf '\n== %s\n' "$*"; }

say "市民政局: the city hub is set up, with the real Luohe division codes and village list"
"$H" --db hub.db init | head -2
"$H" --db hub.db refdata load divisions "$root/data/luohe_divisions.csv"
"$H" --db hub.db refdata load categories "$root/data/incident_categories.csv"
# The villages the city expects: NBS codes and names, 村民委员会 or 居民委员会.
villages="$root/data/luohe_villages.csv"
"$H" --db hub.db refdata load divisions "$villages"

say "the city registers one node per village and writes each a bundle (mode 0600)"
# 营王村 (繁城回族镇), 滨西社区 (老街街道), 王庄村 (邓襄镇), 大杨庄村 (舞泉镇)
for v in 411122101201 411102001001 411171102201 411121100201; do
  id=$("$H" --db hub.db node add --village "$v" --name "$(grep "^$v," "$villages" | cut -d, -f2)" \
        --endpoint "$endpoint" --out "$v.bundle")
  "$N" --db "$v.db" init --bundle "$v.bundle"
  rm "$v.bundle"
done

say "villages work offline (the hub is not running yet)"
A=411122101201; B=411102001001; C=411171102201; D=411121100201
i1=$("$N" --db $A.db incident add --grid ${A}001 --category dispute.land \
      --title "宅基地边界纠纷：王家与李家" --reporter 网格员马丽 --severity 3)
"$N" --db $A.db incident update "$i1" --status accepted --note "已受理，约双方周三调解"
"$N" --db $A.db incident add --grid ${A}002 --category safety.fire --title "消防通道被杂物占用" >/dev/null
# an election with a finding: turnout just at half is invalid by law (2*voted <= registered)
e1=$("$N" --db $A.db election add --committee 村民委员会 --election-date 2026-03-08 \
      --registered 1200 --voted 1130 --valid 1118 --invalid 12 --seats-chair 1 --seats-member 4)
for c in "张建国 男 主任 702 是" "李秀英 女 主任 420 否" "王强 男 委员 860 否" "赵敏 女 委员 790 否" \
         "孙伟 男 委员 610 否" "周芳 女 委员 566 否" "吴磊 男 委员 300 否"; do
  set -- $c
  "$N" --db $A.db candidate add --election "$e1" --name "$1" --gender "$2" --post "$3" --votes "$4" \
     --party-secretary "$5" >/dev/null 2>&1
done
"$N" --db $A.db election show "$e1" | grep -v '^  [^ ]*编号\|^历史\|^  20'
"$N" --db $A.db council add --name "营王村红白理事会" --max-tables 10 --max-cost-per-table 300 \
   --max-gift 200 --max-cars 6 --max-funeral-days 3 --cremation-required 是 >/dev/null
"$N" --db $A.db affair add --kind 红事 --host 刘洋 --event-date 2026-05-01 --tables 16 \
   --cost-per-table 280 --cars 6 >/dev/null 2>&1
# a Hui household's funeral in 繁城回族镇: burial with an exemption is not a violation
"$N" --db $A.db affair add --kind 白事 --host 马德福 --event-date 2026-06-12 --days 1 \
   --cremation 豁免 --exemption "回族丧葬习俗(殡葬管理条例第六条)" >/dev/null
e2=$("$N" --db $B.db election add --committee 居民委员会 --election-date 2026-04-12 \
      --registered 3000 --voted 1500 --valid 1490 --invalid 10 --seats-chair 1 --seats-member 6 2>/dev/null)
echo "社区选举 $e2: 投票人数恰好半数 (1500/3000) → $("$N" --db $B.db election show "$e2" --json | grep -o '"findings":"[^"]*"')"

# staff in 老街街道 keep their incident log in Excel; Chinese Excel saves CSV as GBK
cat > incidents.utf8.csv <<EOF
村社区代码,网格编码,事件类别,标题,描述,上报人,上报时间,紧急程度
$B,${B}001,sanitation,"小区垃圾清运不及时","三号楼前垃圾堆放两天",网格员陈静,2026-11-20 09:10,2
$B,${B}001,urban.unmanaged_compound,"三无楼院路灯损坏",,网格员陈静,2026/11/21 19:30,3
$B,${B}002,livelihood.elderly,"独居老人需要助餐服务","张奶奶,82岁,行动不便",网格员陈静,2026年11月22日,2
$B,${B}002,dispute.neighbour,"楼上漏水引发邻里纠纷",,网格员李娜,2026-11-23 14:00,3
EOF
iconv -f UTF-8 -t GB18030 incidents.utf8.csv > incidents.gbk.csv
"$N" --db $B.db import incidents incidents.gbk.csv
"$N" --db $C.db incident add --grid ${C}001 --category rescue --title "发现流浪人员一名，已联系救助站" >/dev/null
"$N" --db $D.db incident add --grid ${D}001 --category safety.flood --title "汛期河道巡查发现堤坝渗水" --severity 4 >/dev/null
"$N" --db $A.db status | sed -n '/同步/,$p'

say "the hub starts late; the villages sync; the hub is killed mid-way and restarted once"
start_hub
"$N" --db $A.db sync --quiet --timeout 10
"$N" --db $B.db sync --quiet --timeout 10
kill -9 "$hub_pid"; wait "$hub_pid" 2>/dev/null || true; hub_pid=""
echo "(hub killed with SIGKILL)"
if "$N" --db $C.db sync --quiet --timeout 2 2>err.txt; then :; else echo "village $C: $(cat err.txt)"; fi
start_hub
for v in $A $B $C $D; do "$N" --db $v.db sync --quiet --timeout 10; done

say "the city decides on a village's incident; the decision goes down to the village"
"$H" --db hub.db incident update "$i1" --status registered --note "市民政局：纳入矛盾纠纷台账，限期调解" --assignee 繁城回族镇司法所
"$N" --db $A.db sync --quiet --timeout 10
"$N" --db $A.db incident show "$i1"

say "every node's hash chain matches the hub's copy"
for v in $A $B $C $D; do printf '%s: ' "$v"; "$N" --db $v.db verify | tail -1; done

say "the city's figures: every rate over the 1,334 villages the city expects"
"$H" --db hub.db node list
"$H" --db hub.db report summary

say "老街街道: the villages with no node yet (未开通) or silent"
"$H" --db hub.db report nodes --township 411102001
echo
echo "demo databases and logs are in $dir"
