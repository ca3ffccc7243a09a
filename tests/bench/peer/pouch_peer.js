#!/usr/bin/env node
// pouch_peer.js: the PouchDB side of gridsync's peer benchmark (driven by
// tests/bench/bench_peer.sh, which gives gridsync the very same records).
//
//   node pouch_peer.js gen N FIRST OUT.csv   N incident records, numbered from FIRST,
//                                            as a CSV `gridnode import incidents` takes
//   node pouch_peer.js server DIR            express-pouchdb on 127.0.0.1 (an ephemeral
//                                            port, printed), leveldb files under DIR
//   node pouch_peer.js bench DIR FULL.csv MORE.csv [NOOP_RUNS]
//                                            the measurement; prints one JSON line
//
// The measurement: a local PouchDB (leveldb, under DIR/local) is loaded with the
// records of FULL.csv (bulkDocs, not timed), then `local.replicate.to(remote)`
// over HTTP to an express-pouchdb server in another process (leveldb, under
// DIR/server) with PouchDB's default options: the full replication (timed); the
// same again with nothing new, NOOP_RUNS times (the no-op resync); then the
// records of MORE.csv are added locally and replicated (the incremental sync).
// The remote's doc_count is checked after each step. Loopback only.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

// ---- the records -------------------------------------------------------------------

const PLACES = ['东街', '西街口', '村委会门口', '老槐树下', '二组', '三组后巷', '小学路口',
  '卫生室旁', '文化广场', '南坑塘边', '回民街', '集贸市场', '北地机井', '养老院', '幸福院',
  '村东桥头', '五组', '党群服务中心', '粮站旧址', '107国道边'];
const PROBLEMS = ['路灯不亮', '井盖缺失', '垃圾堆放', '邻里纠纷（漏水）', '宅基地边界争议',
  '燃气管道异味', '楼道堆放杂物', '独居老人需探访', '低保申请咨询', '留守儿童无人照看',
  '流浪人员求助', '道路破损积水', '私搭乱建', '电动车飞线充电', '沟渠堵塞', '秸秆焚烧',
  '占道经营', '噪音扰民', '家庭矛盾调解', '危房排查'];
const CATEGORIES = ['dispute.neighbour', 'dispute.land', 'safety.fire', 'sanitation',
  'livelihood.elderly', 'rescue', 'dispute', 'safety.flood', 'urban.unmanaged_compound'];
const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '赵', '马', '白', '孙'];
const GIVEN = ['桂兰', '建国', '秀英', '国强', '小二', '德明', '丽娟', '志刚'];
const COLUMNS = ['title', 'category', 'description', 'source', 'reporter', 'reported_at',
  'severity'];

// Record i, the same on every run (a small LCG seeded by i: no state between records).
function record(i) {
  let s = (i * 2654435761 + 97) >>> 0;
  const pick = (a) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return a[(s >>> 8) % a.length];
  };
  const num = (n) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
  const place = pick(PLACES), problem = pick(PROBLEMS);
  const two = (n) => String(n).padStart(2, '0');
  return {
    title: `${place}${problem}`,
    category: pick(CATEGORIES),
    // no ASCII comma or quote: the CSV needs no quoting, both sides read the same text
    description: `${place}附近${problem}，网格员巡查时发现，已拍照留存（第${i}条）`,
    source: num(3) ? 'patrol' : 'resident',
    reporter: pick(SURNAMES) + pick(GIVEN),
    reported_at: `2026-${two(1 + num(12))}-${two(1 + num(28))} ${two(7 + num(12))}:${two(num(60))}`,
    severity: 1 + num(4),
  };
}

function gen(n, first, out) {
  const lines = [COLUMNS.join(',')];
  for (let i = first; i < first + n; i++) {
    const r = record(i);
    lines.push(COLUMNS.map((c) => String(r[c])).join(','));
  }
  fs.writeFileSync(out, lines.join('\n') + '\n');
}

// The records of a CSV written by gen(), as PouchDB documents carrying the same
// fields the gridnode record has after import.
function docsFromCsv(file, village) {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length);
  const head = lines.shift().split(',');
  return lines.map((line) => {
    const v = line.split(',');
    const doc = { _id: idv7(), type: 'incident', village_code: village, status: 'reported' };
    head.forEach((c, k) => { doc[c] = c === 'severity' ? Number(v[k]) : v[k]; });
    return doc;
  });
}

// Time-ordered ids like gridnode's UUIDv7 (random keys would scatter the B-trees).
let lastMs = 0, counter = 0;
function idv7() {
  const ms = Date.now();
  counter = ms === lastMs ? counter + 1 : 0;
  lastMs = ms;
  const hex = ms.toString(16).padStart(12, '0');
  const c = counter.toString(16).padStart(4, '0');
  const rnd = Math.floor(Math.random() * 2 ** 48).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8)}-7${c.slice(1)}-8${rnd.slice(0, 3)}-${rnd.slice(3)}000`;
}

// ---- the server ---------------------------------------------------------------------

function server(dir) {
  const PouchDB = require('pouchdb-node');
  const express = require('express');
  fs.mkdirSync(dir, { recursive: true });
  const Prefixed = PouchDB.defaults({ prefix: dir + path.sep });
  const app = express();
  app.use('/', require('express-pouchdb')(Prefixed, {
    mode: 'minimumForPouchDB',
    inMemoryConfig: true,
    logPath: path.join(dir, 'log.txt'),
  }));
  const srv = app.listen(0, '127.0.0.1', () => {
    process.stdout.write(`listening ${srv.address().port}\n`);
  });
  process.on('SIGTERM', () => srv.close(() => process.exit(0)));
}

// ---- the measurement ------------------------------------------------------------------

function startServer(dir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, 'server', dir],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /listening (\d+)/.exec(buf);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
}

const ms = () => Number(process.hrtime.bigint()) / 1e6;
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function replicate(local, remote) {
  const t0 = ms();
  const info = await local.replicate.to(remote);
  const t = ms() - t0;
  if (!info.ok || info.errors.length)
    throw new Error(`replication failed: ${JSON.stringify(info.errors).slice(0, 400)}`);
  return { ms: t, written: info.docs_written };
}

async function bench(dir, fullCsv, moreCsv, noopRuns) {
  const PouchDB = require('pouchdb-node');
  fs.mkdirSync(dir, { recursive: true });
  const village = '411122101201';
  const { child, port } = await startServer(path.join(dir, 'server'));
  const res = { pouchdb: require('pouchdb-node/package.json').version, node: process.version };
  try {
    const local = new PouchDB(path.join(dir, 'local'));
    const remote = new PouchDB(`http://127.0.0.1:${port}/incidents`);
    await remote.info(); // creates it

    const full = docsFromCsv(fullCsv, village);
    let t0 = ms();
    for (let i = 0; i < full.length; i += 1000) await local.bulkDocs(full.slice(i, i + 1000));
    res.load_ms = ms() - t0;
    res.n = full.length;

    const f = await replicate(local, remote);
    res.full_ms = f.ms;
    res.full_written = f.written;
    res.full_rate = full.length / (f.ms / 1000);
    if ((await remote.info()).doc_count !== full.length)
      throw new Error('the remote does not hold every record after the full replication');

    const noop = [];
    for (let k = 0; k < noopRuns; k++) {
      const r = await replicate(local, remote);
      if (r.written) throw new Error('a no-op replication wrote documents');
      noop.push(r.ms);
    }
    res.noop_median_ms = median(noop);
    res.noop_min_ms = Math.min(...noop);

    const more = docsFromCsv(moreCsv, village);
    await local.bulkDocs(more);
    const m = await replicate(local, remote);
    res.incr_n = more.length;
    res.incr_ms = m.ms;
    if ((await remote.info()).doc_count !== full.length + more.length)
      throw new Error('the remote does not hold every record after the incremental replication');
    await local.close();
    await remote.close();
  } finally {
    child.kill('SIGTERM');
  }
  process.stdout.write(JSON.stringify(res) + '\n');
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'gen' && args.length === 3) {
  gen(Number(args[0]), Number(args[1]), args[2]);
} else if (mode === 'server' && args.length === 1) {
  server(args[0]);
} else if (mode === 'bench' && args.length >= 3) {
  bench(args[0], args[1], args[2], Number(args[3] || 10)).catch((e) => {
    process.stderr.write(`pouch_peer: ${e.stack || e}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write('usage: pouch_peer.js gen N FIRST OUT.csv | server DIR | ' +
    'bench DIR FULL.csv MORE.csv [NOOP_RUNS]\n');
  process.exit(2);
}
