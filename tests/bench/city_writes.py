#!/usr/bin/env python3
"""city_writes.py: a model of the pages the hub writes in the full-city sync.

Explains "hub wrote N MiB to storage" of bench_city from the data alone. For
every B-tree the hub writes per change (the change log and its three indexes,
the entity tables and their indexes), it finds the leaf page each change
touches at the time of its group commit: the key's rank among the keys
inserted so far (a Fenwick tree over the keys' final order) divided by the
entries a leaf holds at the end (dbstat). Then:

  WAL frames       the distinct pages of each group commit (SQLite writes a
                   page once per commit that dirtied it), plus 4 per commit for
                   the meta and nodes rows and the interior pages;
  write-back       the distinct pages between two checkpoints, which the hub
                   runs once the WAL holds 1,000 pages (and, as a what-if,
                   4,000 and 16,000).

Interior pages, page splits and the WAL header are not modelled, so the model
comes in under the measured figure. Needs the kept hub database and the log
of a hub run with -vv (its "group of N pushes, M changes" lines):

  printf '#!/bin/sh\\nexec "$@" -vv\\n' > /tmp/hubvv.sh && chmod +x /tmp/hubvv.sh
  BENCH_HUB_WRAPPER=/tmp/hubvv.sh ./build-perf/tests/bench_city \\
      --dir /tmp/bc-keep --changes-per-village 1100 --keep
  python3 tests/bench/city_writes.py /tmp/bc-keep/hub.db /tmp/bc-keep/hub.log

Takes about 3 minutes for the city's 1.48 million changes. With
--commit-size N (after the two paths) the changes are cut into group commits
of N instead of the log's: what the same data would write in larger or
smaller commits.
"""
import re
import sqlite3
import sys
from collections import defaultdict

THRESHOLDS = (1000, 4000, 16000)  # WAL pages at which a checkpoint runs
EXTRA_PER_COMMIT = 4  # meta, nodes, and the interior pages, roughly


class Fenwick:
    """Counts inserted keys by final rank: rank(i) = inserted keys before i."""

    def __init__(self, n):
        self.t = [0] * (n + 1)

    def add(self, i):
        i += 1
        while i < len(self.t):
            self.t[i] += 1
            i += i & -i

    def rank(self, i):
        r = 0
        while i > 0:
            r += self.t[i]
            i -= i & -i
        return r


def sort_key(k):
    if isinstance(k, tuple):
        return tuple(v if isinstance(v, int) else str(v) for v in k)
    return k


def main():
    args = sys.argv[1:]
    size = 0
    if len(args) == 4 and args[2] == "--commit-size" and args[3].isdigit() and int(args[3]) > 0:
        size = int(args[3])
    elif len(args) != 2:
        sys.exit("usage: city_writes.py HUB_DB HUB_LOG [--commit-size N]   (a hub log of serve -vv)")
    db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    with open(sys.argv[2], errors="replace") as f:
        groups = [int(n) for n in re.findall(r"group of \d+ pushes, (\d+) changes: committed", f.read())]
    if not groups:
        sys.exit(f"{sys.argv[2]}: no 'group of N pushes, M changes: committed' line (run the hub with -vv)")
    if size:
        n = sum(groups)
        groups = [size] * (n // size) + ([n % size] if n % size else [])
    pagesize = db.execute("PRAGMA page_size").fetchone()[0]
    per_leaf = {
        name: cells / leaves
        for name, leaves, cells in db.execute(
            "SELECT name, sum(pagetype = 'leaf'), sum(CASE WHEN pagetype = 'leaf' THEN ncell END) "
            "FROM dbstat GROUP BY name")
        if leaves
    }
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def table_of(rtype):
        for t in (rtype + "s", rtype[:-1] + "ies", rtype):
            if t in tables:
                return t
        sys.exit(f"no table for record type {rtype}")

    # each entity index's key of each record: (indexed values..., record id)
    index_keys = defaultdict(dict)  # table -> {rid: [(index, key), ...]}
    for name, table in db.execute(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"):
        if table in ("changes", "nodes", "quarantine", "meta"):
            continue
        cols = [c[2] for c in db.execute(f"PRAGMA index_info('{name}')")]
        pk = next(c[1] for c in db.execute(f"PRAGMA table_info('{table}')") if c[5])
        for row in db.execute(f"SELECT {pk}, {', '.join(cols)} FROM {table}"):
            key = tuple("" if v is None else v for v in row[1:]) + (row[0],)
            index_keys[table].setdefault(row[0], []).append((name, key))

    # per change, in hub_seq order: the (B-tree, key, inserts?) it writes
    ops, seen = [], set()
    for hub_seq, origin, seq, rtype, rid, scope in db.execute(
            "SELECT hub_seq, origin, seq, rtype, rid, scope FROM changes ORDER BY hub_seq"):
        table = table_of(rtype)
        new = (table, rid) not in seen
        seen.add((table, rid))
        o = [("changes", hub_seq, True), ("changes_origin_seq", (origin, seq), True),
             ("changes_scope", (scope or "", hub_seq, origin), True),
             ("changes_record", (rtype, rid, hub_seq), True), (table, rid, new)]
        if new:
            o += [(name, key, True) for name, key in index_keys[table].get(rid, [])]
        ops.append(o)
    if sum(groups) > len(ops):
        sys.exit(f"the log's group commits hold {sum(groups)} changes, the database {len(ops)}")

    keys = defaultdict(set)
    for o in ops:
        for tree, key, _ in o:
            keys[tree].add(key)
    rank = {t: {k: i for i, k in enumerate(sorted(ks, key=sort_key))} for t, ks in keys.items()}
    fen = {t: Fenwick(len(r)) for t, r in rank.items()}

    def page(tree, key, insert):
        r = rank[tree][key]
        if insert:
            fen[tree].add(r)
        return int(fen[tree].rank(r) / per_leaf.get(tree, 1))

    first = len(ops) - sum(groups)  # the city's own changes (refdata), before any sync
    for o in ops[:first]:
        for tree, key, insert in o:
            page(tree, key, insert)
    wal, writes = 0, defaultdict(int)
    cps = {t: {"pages": set(), "frames": 0, "count": 0, "written": 0} for t in THRESHOLDS}
    i = first
    for g in groups:
        touched = {(tree, page(tree, key, insert)) for o in ops[i:i + g] for tree, key, insert in o}
        i += g
        for tree, _ in touched:
            writes[tree] += 1
        frames = len(touched) + EXTRA_PER_COMMIT
        wal += frames
        for t, cp in cps.items():
            cp["pages"] |= touched
            cp["frames"] += frames
            if cp["frames"] >= t:
                cp["written"] += len(cp["pages"]) + EXTRA_PER_COMMIT
                cp["count"] += 1
                cp["pages"], cp["frames"] = set(), 0
    for cp in cps.values():
        cp["written"] += len(cp["pages"])

    def mib(pages):
        return pages * (pagesize + 24) / 2**20

    n = sum(groups)
    print(f"{len(groups)} group commits, {n} changes ({n / len(groups):.0f} a commit), page size {pagesize}")
    print(f"WAL frames: {wal} ({mib(wal):.0f} MiB, {wal / n:.2f} a change)")
    for t, cp in cps.items():
        print(f"checkpoint at {t} WAL pages: {cp['count']} checkpoints, {cp['written']} pages written back "
              f"({mib(cp['written']):.0f} MiB); with the WAL {mib(wal + cp['written']):.0f} MiB")
    print("pages written in commits, by B-tree:")
    for tree, w in sorted(writes.items(), key=lambda x: -x[1])[:10]:
        print(f"  {tree:26s} {w:8d} ({w / n:.3f} a change; {per_leaf.get(tree, 0):.1f} entries a leaf)")


if __name__ == "__main__":
    try:
        main()
    except OSError as e:
        sys.exit(f"city_writes.py: {e.filename}: {e.strerror}")
    except sqlite3.Error as e:
        sys.exit(f"city_writes.py: {sys.argv[1]}: {e} (a hub database kept by bench_city --keep?)")
