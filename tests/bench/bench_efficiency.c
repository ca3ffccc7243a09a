/*
 * bench_efficiency.c: how close the hub's end-to-end sync rate comes to
 * what SQLite alone can do with the same rows on the same machine.
 *
 * Two figures, measured side by side in every run, alternating which goes
 * first, so that whatever else loads the machine weighs on both:
 *
 *   e2e  K village nodes (default 10, one village each) holding N changes in
 *        all (default 100,000 incidents with Chinese text, imported from a
 *        CSV) run `gridnode sync` at the same time against one `gridhub
 *        serve` over ipc://, CURVE on. The clock runs from the start of the
 *        first sync process to the exit of the last, i.e. until every change
 *        is acked (after the hub's group commit) and each node has pulled
 *        the city's reference data. Rate = N / that time.
 *   raw  the ceiling: this process writes exactly the rows the hub wrote, in
 *        a copy of the same fresh hub database (made by `gridhub init`, so
 *        the schema, indexes and PRAGMAs are identical: WAL,
 *        synchronous=FULL, cache_size as hub/store.c sets them), in
 *        transactions of exactly the sizes the hub's group commits had in
 *        the e2e run of the same round (read from its -vv log). Per change:
 *        gs_replica_apply_in (the entity row: its SELECT, which also checks
 *        the record's village, and its INSERT ... ON CONFLICT DO UPDATE with
 *        the _clock blob) and the INSERT into `changes` of hub/store.c
 *        (its log hash chained as there); per push one UPDATE of nodes
 *        (acked_through, chain_head); per group BEGIN IMMEDIATE, SELECT
 *        max(hub_seq), the meta hlc and COMMIT. The change bodies are the nodes' own, decoded
 *        before the clock starts: what is left is SQLite's work alone.
 *
 * efficiency = e2e rate / raw rate, per round; the median is the figure.
 * The CPU time of the hub and of the node processes (from wait4) says where
 * the e2e time goes when the ratio is low.
 *
 * A second mode measures the sync protocol's no-op round trip without the
 * process start-up and the CURVE handshake that `gridnode sync` pays on
 * every run: one DEALER connection with the node's keys, then HELLO ->
 * WELCOME -> PULL -> CHANGES again and again (bench_peer.sh uses it).
 *
 * A third mode, watch, measures what `gridnode sync --watch` does on each of
 * its rounds, through the very functions it calls (node_sync_open once,
 * then node_sync_run per round on the kept connection): a first sync, then
 * ROUNDS no-op syncs, then, if a CSV is given, `gridnode import` of it by
 * another process (as staff would while the watch runs; not timed) and one
 * more sync, which pushes those records and is timed alone.
 *
 * --raw-sql SQL is a what-if: SQL (e.g. "DROP INDEX changes_record") runs on
 * the raw writer's copy before it writes, to see what the ceiling would be
 * with a thinner schema; the e2e half is the real hub, so the ratio printed
 * is then not the efficiency.
 *
 * usage: bench_efficiency [--changes N] [--nodes K] [--runs R] [--keep] [--raw-sql SQL]
 *        bench_efficiency rtt NODE_DB [ROUNDS]
 *        bench_efficiency watch NODE_DB [ROUNDS [MORE_CSV]]
 * Build: cmake --build BUILD --target gridhub gridnode bench; run
 * BUILD/tests/bench_efficiency. Not a test: ctest never runs it. It works in
 * a temporary directory under $TMPDIR that it removes, on ipc:// only.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "gridsync/change.h"
#include "gridsync/hlc.h"
#include "gridsync/msg.h"
#include "gridsync/replica.h"
#include "gridsync/stmt.h"
#include "gsbench.h"
#include "gstest.h"
#include "store.h"
#include "sync.h"

#define MAX_NODES 58     /* one village under each township of the city */
#define PUSH_CHANGES 512 /* node/sync.c: batch_changes */
#define MAX_GROUPS 100000

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_efficiency: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* Runs a command to completion; exits the benchmark if it fails. */
static void must_run(const char *const argv[])
{
    gst_result r = {0};
    if (gst_run(&r, NULL, argv) != 0 || r.status != 0)
        fatal("%s %s failed (status %d)\n%s%s", argv[0], argv[1] ? argv[1] : "", r.status,
              r.out ? r.out : "", r.err ? r.err : "");
    gst_result_free(&r);
}

/* ---- the machine -------------------------------------------------------------- */

static void loadavg(char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fgets(out, (int)cap, f))
            out[strcspn(out, "\n")] = '\0';
        fclose(f);
    }
}

static void print_machine(const char *dir)
{
    char model[256], load[128];
    struct utsname un;
    gsb_cpu_model(model, sizeof model);
    loadavg(load, sizeof load);
    uname(&un);
    printf("  machine     %ld CPUs (nproc), %s\n", sysconf(_SC_NPROCESSORS_ONLN), model);
    printf("  system      %s %s %s; SQLite %s, libzmq %d.%d.%d\n", un.sysname, un.release,
           un.machine, sqlite3_libversion(), ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR,
           ZMQ_VERSION_PATCH);
    printf("  disk        %s (%s)\n", dir, gsb_fs_name(dir));
    printf("  load        %s (/proc/loadavg at the start)\n", load);
#if defined(__SANITIZE_ADDRESS__)
    printf("  build       WITH SANITIZERS: figures are not representative\n");
#elif defined(__OPTIMIZE__)
    printf("  build       optimized\n");
#else
    printf("  build       NOT optimized (-O0): figures are not representative\n");
#endif
}

/* ---- generated incidents --------------------------------------------------------- */

static const char *const places[] = {
    "东街",   "西街口", "村委会门口", "老槐树下", "二组",     "三组后巷",     "小学路口",
    "卫生室旁", "文化广场", "南坑塘边", "回民街", "集贸市场", "北地机井",     "养老院",
    "幸福院", "村东桥头", "五组",       "党群服务中心", "粮站旧址", "107国道边",
};
static const char *const problems[] = {
    "路灯不亮",     "井盖缺失",       "垃圾堆放",       "邻里纠纷（漏水）", "宅基地边界争议",
    "燃气管道异味", "楼道堆放杂物",   "独居老人需探访", "低保申请咨询",     "留守儿童无人照看",
    "流浪人员求助", "道路破损积水",   "私搭乱建",       "电动车飞线充电",   "沟渠堵塞",
    "秸秆焚烧",     "占道经营",       "噪音扰民",       "家庭矛盾调解",     "危房排查",
};
static const char *const categories[] = {
    "dispute.neighbour", "dispute.land", "safety.fire", "sanitation",      "livelihood.elderly",
    "rescue",            "dispute",      "safety.flood", "urban.unmanaged_compound",
};
static const char *const surnames[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "马", "白", "孙"};
static const char *const given[] = {"桂兰", "建国", "秀英", "国强", "小二", "德明", "丽娟", "志刚"};

/* xorshift64: the same data on every run, without rand(). */
static uint64_t rng = 20240601;
static unsigned pick(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}
#define PICK(a) (a)[pick(sizeof(a) / sizeof((a)[0]))]

/* Writes rows incidents in the CSV header of `gridnode template incidents`. */
static void write_csv(const char *path, long rows, int node)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fatal("%s: %s", path, strerror(errno));
    fputs("title,category,description,source,reporter,reported_at,severity\r\n", f);
    for (long i = 0; i < rows; i++) {
        const char *place = PICK(places), *problem = PICK(problems);
        fprintf(f,
                "%s%s,%s,\"%s附近%s，网格员巡查时发现，已拍照留存（%d号点位第%ld条）\",%s,%s%s,"
                "2026-%02u-%02u %02u:%02u,%u\r\n",
                place, problem, PICK(categories), place, problem, node, i,
                pick(3) ? "patrol" : "resident", PICK(surnames), PICK(given), 1 + pick(12),
                1 + pick(28), 7 + pick(12), pick(60), 1 + pick(4));
    }
    if (fclose(f) != 0)
        fatal("writing %s: %s", path, strerror(errno));
}

/* ---- files ------------------------------------------------------------------------- */

static void copy_file(const char *from, const char *to)
{
    size_t len = 0;
    char *data = gst_read_file(from, &len);
    if (!data) {
        if (errno == ENOENT) { /* e.g. no -wal left: make sure none is at `to` either */
            unlink(to);
            return;
        }
        fatal("%s: %s", from, strerror(errno));
    }
    if (gst_write_file(to, data, len) != 0)
        fatal("%s: %s", to, strerror(errno));
    free(data);
}

/* Copies a database with its -wal and -shm (when present). */
static void copy_db(const char *from, const char *to)
{
    char a[4200], b[4200];
    copy_file(from, to);
    snprintf(a, sizeof a, "%s-wal", from);
    snprintf(b, sizeof b, "%s-wal", to);
    copy_file(a, b);
    snprintf(a, sizeof a, "%s-shm", from);
    snprintf(b, sizeof b, "%s-shm", to);
    copy_file(a, b);
}

/* ---- the setup ---------------------------------------------------------------------- */

typedef struct bench {
    char dir[4096], tpl[4200], run[4200], raw[4200];
    char endpoint[4300];
    int nodes;
    long changes; /* in all */
    long per_node;
    char village[MAX_NODES][13];
    char node_id[MAX_NODES][GS_ORIGIN_MAX + 1];
    const char *raw_sql; /* --raw-sql: run on the raw writer's copy first (a what-if) */
} bench;

/* Makes the template: a fresh hub with the city's reference data and K
 * registered nodes, and K node databases holding per_node incidents each,
 * not yet synced. Every round starts from a copy of it. */
static void setup(bench *b)
{
    char hub[4400], path[4400], bundle[4400];
    snprintf(hub, sizeof hub, "%s/hub.db", b->tpl);
    must_run((const char *[]){"gridhub", "--db", hub, "init", NULL});
    must_run((const char *[]){"gridhub", "--db", hub, "refdata", "load", "divisions",
                              GS_TEST_SRC_DIR "/data/luohe_divisions.csv", NULL});
    must_run((const char *[]){"gridhub", "--db", hub, "refdata", "load", "categories",
                              GS_TEST_SRC_DIR "/data/incident_categories.csv", NULL});
    int k = gst_villages(b->village, b->nodes);
    if (k < 0)
        fatal("cannot read data/luohe_divisions.csv");
    if (k < b->nodes)
        fatal("only %d townships in data/luohe_divisions.csv, %d nodes asked for", k, b->nodes);
    for (int i = 0; i < b->nodes; i++) {
        char name[64];
        snprintf(name, sizeof name, "基准节点%d", i + 1);
        snprintf(bundle, sizeof bundle, "%s/n%d.bundle", b->tpl, i);
        gst_result r = {0};
        if (gst_runv(&r, NULL, "gridhub", "--db", hub, "node", "add", "--village", b->village[i],
                     "--name", name, "--endpoint", b->endpoint, "--out", bundle, (char *)NULL) ||
            r.status)
            fatal("node add: %s", r.err ? r.err : "");
        snprintf(b->node_id[i], sizeof b->node_id[i], "%.*s", (int)strcspn(r.out, "\n"), r.out);
        gst_result_free(&r);
        snprintf(path, sizeof path, "%s/n%d.db", b->tpl, i);
        must_run((const char *[]){"gridnode", "--db", path, "init", "--bundle", bundle, NULL});
        char csv[4400];
        snprintf(csv, sizeof csv, "%s/n%d.csv", b->tpl, i);
        write_csv(csv, b->per_node, i + 1);
        must_run((const char *[]){"gridnode", "--db", path, "import", "incidents", csv, NULL});
        unlink(csv);
        unlink(bundle);
    }
}

/* A thread's scheduler times from /proc (schedstat): on a CPU, and runnable
 * but waiting for one; the rest of the wall time it was blocked (I/O, fsync,
 * or waiting for a message). Zeros when unavailable. */
typedef struct sched_times {
    double run_s, wait_s;
} sched_times;

static sched_times sched_of(pid_t pid, pid_t tid)
{
    sched_times t = {0, 0};
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
    FILE *f = fopen(path, "r");
    if (f) {
        unsigned long long run = 0, wait = 0;
        if (fscanf(f, "%llu %llu", &run, &wait) == 2) {
            t.run_s = (double)run / 1e9;
            t.wait_s = (double)wait / 1e9;
        }
        fclose(f);
    }
    return t;
}

/* ---- e2e ------------------------------------------------------------------------------ */

typedef struct group {
    int pushes;
    long changes;
} group;

typedef struct e2e_result {
    double ms;
    double hub_cpu_s, nodes_cpu_s;
    sched_times hub_main; /* the hub's main thread during the e2e interval */
    group *groups;
    int ngroups;
} e2e_result;

static double cpu_s(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
           (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

/* Waits for pid; returns its exit status (128 + signal) and its CPU time. */
static int wait_cpu(pid_t pid, double *cpu)
{
    int ws;
    struct rusage ru;
    while (wait4(pid, &ws, 0, &ru) < 0)
        if (errno != EINTR)
            fatal("wait4: %s", strerror(errno));
    *cpu = cpu_s(&ru);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* The group commits of one hub run, from its -vv log. */
static void parse_groups(const char *log, e2e_result *res)
{
    char *text = gst_read_file(log, NULL);
    if (!text)
        fatal("%s: %s", log, strerror(errno));
    res->groups = calloc(MAX_GROUPS, sizeof *res->groups);
    res->ngroups = 0;
    for (const char *p = text; (p = strstr(p, "group of ")); p++) {
        int pushes;
        long changes;
        char how[16];
        if (sscanf(p, "group of %d pushes, %ld changes: %15s", &pushes, &changes, how) == 3) {
            if (strcmp(how, "committed"))
                fatal("the hub logged a failed group commit; see %s", log);
            if (res->ngroups < MAX_GROUPS)
                res->groups[res->ngroups++] = (group){pushes, changes};
        }
    }
    free(text);
}

/* Checks that the hub holds each node's changes exactly once. */
static void check_hub(const bench *b, const char *hub_db)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open_v2(hub_db, &db, SQLITE_OPEN_READONLY, NULL) ||
        sqlite3_prepare_v2(db,
                           "SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM changes "
                           "WHERE origin = ?1",
                           -1, &st, NULL))
        fatal("%s: %s", hub_db, sqlite3_errmsg(db));
    for (int i = 0; i < b->nodes; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, b->node_id[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
            fatal("%s: %s", hub_db, sqlite3_errmsg(db));
        long n = (long)sqlite3_column_int64(st, 0), d = (long)sqlite3_column_int64(st, 1);
        long lo = (long)sqlite3_column_int64(st, 2), hi = (long)sqlite3_column_int64(st, 3);
        if (n != b->per_node || d != n || lo != 1 || hi != b->per_node)
            fatal("%s: the hub holds %ld changes (%ld distinct, seq %ld..%ld) of %s, not %ld",
                  hub_db, n, d, lo, hi, b->node_id[i], b->per_node);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* One e2e round from a fresh copy of the template. */
static void run_e2e(const bench *b, e2e_result *res)
{
    char hub[4400], log[4400], path[4400], nlog[4400];
    snprintf(hub, sizeof hub, "%s/hub.db", b->run);
    snprintf(log, sizeof log, "%s/hub.log", b->run);
    snprintf(path, sizeof path, "%s/hub.db", b->tpl);
    copy_db(path, hub);
    char kfrom[4400], kto[4400];
    snprintf(kfrom, sizeof kfrom, "%s/hub.db.key", b->tpl);
    snprintf(kto, sizeof kto, "%s/hub.db.key", b->run);
    copy_file(kfrom, kto);
    chmod(kto, 0600);
    for (int i = 0; i < b->nodes; i++) {
        char from[4400];
        snprintf(from, sizeof from, "%s/n%d.db", b->tpl, i);
        snprintf(path, sizeof path, "%s/n%d.db", b->run, i);
        copy_db(from, path);
    }
    unlink(log);
    sync(); /* the copies' dirty pages are not the benchmark's to flush */

    const char *hargv[] = {"gridhub", "--db", hub, "serve", "--bind", b->endpoint, "-vv", NULL};
    pid_t hub_pid = gst_spawn(hargv, log);
    if (hub_pid < 0)
        fatal("cannot start gridhub: %s", strerror(errno));
    double end = gst_clock_ms() + 20000;
    while (gst_count_in_file(log, "gridhub: serving ") == 0) {
        if (gst_clock_ms() > end || waitpid(hub_pid, NULL, WNOHANG) == hub_pid)
            fatal("gridhub serve did not start; see %s", log);
        gst_sleep_ms(5);
    }

    pid_t pids[MAX_NODES];
    sched_times h0 = sched_of(hub_pid, hub_pid);
    double t0 = gst_clock_ms();
    for (int i = 0; i < b->nodes; i++) {
        snprintf(path, sizeof path, "%s/n%d.db", b->run, i);
        snprintf(nlog, sizeof nlog, "%s/n%d.log", b->run, i);
        unlink(nlog);
        const char *argv[] = {"gridnode", "--db", path, "sync", "--quiet", "--timeout", "120",
                              NULL};
        if ((pids[i] = gst_spawn(argv, nlog)) < 0)
            fatal("cannot start gridnode: %s", strerror(errno));
    }
    res->nodes_cpu_s = 0;
    for (int i = 0; i < b->nodes; i++) {
        double cpu;
        int st = wait_cpu(pids[i], &cpu);
        res->nodes_cpu_s += cpu;
        if (st != 0) {
            snprintf(nlog, sizeof nlog, "%s/n%d.log", b->run, i);
            char *text = gst_read_file(nlog, NULL);
            kill(hub_pid, SIGKILL);
            fatal("gridnode sync of node %d exited %d:\n%s", i, st, text ? text : "");
        }
    }
    res->ms = gst_clock_ms() - t0;
    sched_times h1 = sched_of(hub_pid, hub_pid);
    res->hub_main = (sched_times){h1.run_s - h0.run_s, h1.wait_s - h0.wait_s};
    kill(hub_pid, SIGTERM);
    if (wait_cpu(hub_pid, &res->hub_cpu_s) != 0)
        fatal("gridhub serve did not stop cleanly; see %s", log);
    parse_groups(log, res);
    check_hub(b, hub);
}

/* ---- raw ------------------------------------------------------------------------------- */

/* Every node's changes, as the hub receives them, decoded in advance. */
typedef struct node_log {
    char id[GS_ORIGIN_MAX + 1];
    long n;
    gs_change *ch;
    uint8_t **body;
    size_t *len;
    uint8_t (*hash)[GS_HASH_LEN];
} node_log;

static void load_logs(const bench *b, node_log *logs)
{
    for (int i = 0; i < b->nodes; i++) {
        node_log *l = &logs[i];
        char path[4400];
        snprintf(path, sizeof path, "%s/n%d.db", b->tpl, i);
        snprintf(l->id, sizeof l->id, "%s", b->node_id[i]);
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ||
            sqlite3_prepare_v2(db,
                               "SELECT seq, body, hash FROM changes WHERE origin = ?1 ORDER BY seq",
                               -1, &st, NULL))
            fatal("%s: %s", path, sqlite3_errmsg(db));
        sqlite3_bind_text(st, 1, l->id, -1, SQLITE_STATIC);
        l->ch = calloc((size_t)b->per_node, sizeof *l->ch);
        l->body = calloc((size_t)b->per_node, sizeof *l->body);
        l->len = calloc((size_t)b->per_node, sizeof *l->len);
        l->hash = calloc((size_t)b->per_node, sizeof *l->hash);
        if (!l->ch || !l->body || !l->len || !l->hash)
            fatal("out of memory");
        while (sqlite3_step(st) == SQLITE_ROW && l->n < b->per_node) {
            size_t len = (size_t)sqlite3_column_bytes(st, 1);
            l->body[l->n] = malloc(len ? len : 1);
            if (!l->body[l->n])
                fatal("out of memory");
            memcpy(l->body[l->n], sqlite3_column_blob(st, 1), len);
            l->len[l->n] = len;
            memcpy(l->hash[l->n], sqlite3_column_blob(st, 2), GS_HASH_LEN);
            gs_errbuf eb = {{0}};
            if (gs_change_decode(l->body[l->n], len, &l->ch[l->n], &eb))
                fatal("%s: change %ld: %s", path, l->n + 1, eb.msg);
            l->n++;
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        if (l->n != b->per_node)
            fatal("%s holds %ld changes of its own, expected %ld", path, l->n, b->per_node);
    }
}

static void free_logs(node_log *logs, int n)
{
    for (int i = 0; i < n; i++) {
        for (long k = 0; k < logs[i].n; k++) {
            gs_change_clear(&logs[i].ch[k]);
            free(logs[i].body[k]);
        }
        free(logs[i].ch);
        free(logs[i].body);
        free(logs[i].len);
        free(logs[i].hash);
    }
}

static void sql_must(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fatal("%s: %s", sql, msg ? msg : sqlite3_errmsg(db));
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        fatal("preparing %s: %s", sql, sqlite3_errmsg(db));
    return st;
}

static void step_done(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
    if (sqlite3_step(st) != SQLITE_DONE)
        fatal("%s: %s", what, sqlite3_errmsg(db));
    sqlite3_reset(st);
}

typedef struct raw_result {
    double ms;
    double cpu_s;       /* this process's CPU time during the raw writes */
    sched_times sched;  /* this thread's scheduler times during them */
    int groups;
    char journal[16];
    int synchronous;
} raw_result;

/* The ceiling: the hub's rows written straight into a copy of the fresh hub
 * database, in groups of the sizes the hub's e2e run committed. Pushes are
 * taken round robin from the nodes, PUSH_CHANGES changes each, as K nodes
 * sending at once deliver them. */
static void run_raw(const bench *b, node_log *logs, const e2e_result *e, raw_result *res)
{
    char hub[4400], from[4400];
    snprintf(hub, sizeof hub, "%s/hub.db", b->raw);
    snprintf(from, sizeof from, "%s/hub.db", b->tpl);
    copy_db(from, hub);
    sync();

    sqlite3 *db = NULL;
    if (sqlite3_open_v2(hub, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) /* as hub/store.c opens it */
        fatal("%s: %s", hub, sqlite3_errmsg(db));
    /* exactly hub/store.c's configure() */
    sqlite3_busy_timeout(db, 30000);
    sql_must(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                 "PRAGMA cache_size=-16384;");
    if (b->raw_sql)
        sql_must(db, b->raw_sql);
    gs_replica *rep = NULL;
    gs_errbuf eb = {{0}};
    if (gs_replica_open(&rep, db, &eb))
        fatal("%s", eb.msg);
    sqlite3_stmt *ins = prep(db, "INSERT INTO changes (hub_seq, origin, seq, hlc, rtype, rid, "
                                 "scope, op, body, hash, received_ms, log_hash) VALUES "
                                 "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)");
    sqlite3_stmt *acked =
        prep(db, "UPDATE nodes SET acked_through = ?2, chain_head = ?3 WHERE id = ?1");
    sqlite3_stmt *meta = prep(db, "INSERT OR REPLACE INTO meta VALUES (?1, ?2)");
    sqlite3_stmt *head = prep(db, "SELECT max(hub_seq) FROM changes");

    long *next = calloc((size_t)b->nodes, sizeof *next); /* per node: next change index */
    if (!next)
        fatal("out of memory");
    int turn = 0;
    long left = b->changes;
    gs_hlc hlc = 0;
    uint8_t log_hash[GS_HASH_LEN] = {0}; /* the change log's running hash, as the hub's */
    res->groups = 0;
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    sched_times s0 = sched_of(getpid(), getpid());
    double t0 = gst_clock_ms();
    for (int g = 0; left > 0; g++) {
        /* the e2e group's push count; any remainder in groups of the median's size */
        int pushes = g < e->ngroups ? e->groups[g].pushes : 8;
        sql_must(db, "BEGIN IMMEDIATE");
        sqlite3_reset(head);
        if (sqlite3_step(head) != SQLITE_ROW)
            fatal("max(hub_seq): %s", sqlite3_errmsg(db));
        int64_t hub_seq = sqlite3_column_int64(head, 0);
        sqlite3_reset(head);
        for (int p = 0; p < pushes && left > 0; p++) {
            while (next[turn] >= logs[turn].n) /* a node with nothing left */
                turn = (turn + 1) % b->nodes;
            node_log *l = &logs[turn];
            long k = next[turn], end = k + PUSH_CHANGES < l->n ? k + PUSH_CHANGES : l->n;
            for (; k < end; k++) {
                const gs_change *c = &l->ch[k];
                const char *scope = gs_record_scope(c->rec);
                if (gs_replica_apply_in(rep, c, scope, NULL, &eb))
                    fatal("gs_replica_apply_in: %s", eb.msg);
                sqlite3_bind_int64(ins, 1, ++hub_seq);
                sqlite3_bind_text(ins, 2, c->origin, -1, SQLITE_STATIC);
                sqlite3_bind_int64(ins, 3, (sqlite3_int64)c->seq);
                sqlite3_bind_int64(ins, 4, (sqlite3_int64)c->hlc);
                sqlite3_bind_text(ins, 5, c->rec->rt->name, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 6, gs_record_key(c->rec), -1, SQLITE_STATIC);
                if (scope)
                    sqlite3_bind_text(ins, 7, scope, -1, SQLITE_STATIC);
                else
                    sqlite3_bind_null(ins, 7);
                sqlite3_bind_int(ins, 8, (int)c->op);
                sqlite3_bind_blob(ins, 9, l->body[k], (int)l->len[k], SQLITE_STATIC);
                sqlite3_bind_blob(ins, 10, l->hash[k], GS_HASH_LEN, SQLITE_STATIC);
                sqlite3_bind_int64(ins, 11, (sqlite3_int64)gs_wall_ms());
                gs_chain_next(log_hash, l->hash[k], GS_HASH_LEN, log_hash);
                sqlite3_bind_blob(ins, 12, log_hash, GS_HASH_LEN, SQLITE_STATIC);
                step_done(db, ins, "inserting a change");
                if (c->hlc > hlc)
                    hlc = c->hlc;
                left--;
            }
            next[turn] = end;
            sqlite3_bind_text(acked, 1, l->id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(acked, 2, (sqlite3_int64)end);
            sqlite3_bind_blob(acked, 3, l->hash[end - 1], GS_HASH_LEN, SQLITE_STATIC);
            step_done(db, acked, "updating nodes");
            turn = (turn + 1) % b->nodes;
        }
        sqlite3_bind_text(meta, 1, "hlc", -1, SQLITE_STATIC);
        sqlite3_bind_int64(meta, 2, (sqlite3_int64)hlc);
        step_done(db, meta, "writing meta");
        sql_must(db, "COMMIT");
        res->groups++;
    }
    res->ms = gst_clock_ms() - t0;
    sched_times s1 = sched_of(getpid(), getpid());
    res->sched = (sched_times){s1.run_s - s0.run_s, s1.wait_s - s0.wait_s};
    getrusage(RUSAGE_SELF, &ru1);
    res->cpu_s = cpu_s(&ru1) - cpu_s(&ru0);

    sqlite3_stmt *q = prep(db, "PRAGMA journal_mode");
    snprintf(res->journal, sizeof res->journal, "?");
    if (sqlite3_step(q) == SQLITE_ROW)
        snprintf(res->journal, sizeof res->journal, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    q = prep(db, "PRAGMA synchronous");
    res->synchronous = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
    sqlite3_finalize(q);
    sqlite3_finalize(ins);
    sqlite3_finalize(acked);
    sqlite3_finalize(meta);
    sqlite3_finalize(head);
    gs_replica_destroy(&rep);
    sqlite3_close(db);
    free(next);
    check_hub(b, hub);
}

/* ---- statistics ------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double *s = malloc((size_t)n * sizeof *s);
    if (!s)
        fatal("out of memory");
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return m;
}

/* ---- the efficiency benchmark -------------------------------------------------------------- */

static int efficiency(long changes, int nodes, int runs, bool keep, const char *raw_sql)
{
    bench b = {0};
    b.raw_sql = raw_sql;
    b.nodes = nodes;
    b.per_node = changes / nodes;
    b.changes = b.per_node * nodes;
    char *dir = gst_tmpdir();
    snprintf(b.dir, sizeof b.dir, "%s", dir);
    snprintf(b.tpl, sizeof b.tpl, "%s/tpl", dir);
    snprintf(b.run, sizeof b.run, "%s/run", dir);
    snprintf(b.raw, sizeof b.raw, "%s/raw", dir);
    snprintf(b.endpoint, sizeof b.endpoint, "ipc://%s/hub.sock", b.run);
    if (mkdir(b.tpl, 0700) || mkdir(b.run, 0700) || mkdir(b.raw, 0700))
        fatal("mkdir under %s: %s", dir, strerror(errno));

    printf("gridsync storage efficiency: end-to-end sync rate / raw SQLite rate\n");
    print_machine(dir);
    printf("  workload    %ld changes (incidents, Chinese text) from %d nodes of %ld each, "
           "%d rounds\n",
           b.changes, nodes, b.per_node, runs);
    printf("  e2e         %d x `gridnode sync` at once -> `gridhub serve` (ipc://, CURVE), pushes "
           "of <= %d changes, window and batch bytes as the hub grants (<= 8 x 512 KiB)\n",
           nodes, PUSH_CHANGES);
    if (raw_sql)
        printf("  WHAT-IF     the raw writer's copy first runs: %s\n"
               "              (so raw is not the hub's schema, and the ratio is not the "
               "efficiency)\n",
               raw_sql);
    fflush(stdout);
    double t0 = gst_clock_ms();
    setup(&b);
    printf("  setup       %.1f s (hub init, refdata, %d nodes, imports)\n",
           (gst_clock_ms() - t0) / 1000, nodes);
    node_log *logs = calloc((size_t)nodes, sizeof *logs);
    if (!logs)
        fatal("out of memory");
    load_logs(&b, logs);

    double *e2e_rate = calloc((size_t)runs, sizeof(double));
    double *raw_rate = calloc((size_t)runs, sizeof(double));
    double *ratio = calloc((size_t)runs, sizeof(double));
    double *group_mean = calloc((size_t)runs, sizeof(double));
    double *hub_util = calloc((size_t)runs, sizeof(double));
    /* where the time went, per round: [0] on a CPU, [1] waiting for one, [2] blocked,
     * [3] CPU per change (us), for the hub's main thread (e2e) and the raw writer */
    double *hub_t[4], *raw_t[4];
    for (int k = 0; k < 4; k++) {
        hub_t[k] = calloc((size_t)runs, sizeof(double));
        raw_t[k] = calloc((size_t)runs, sizeof(double));
        if (!hub_t[k] || !raw_t[k])
            fatal("out of memory");
    }
    raw_result raw = {0};
    printf("\n  round  order    e2e s   e2e ch/s   raw s   raw ch/s  ratio  groups  ch/group  "
           "hub CPU  nodes CPU  raw CPU\n");
    for (int r = 0; r < runs; r++) {
        e2e_result e = {0};
        /* Alternate which goes first. The raw half replays the group sizes
         * of an e2e run: this round's when e2e goes first, else the
         * previous round's (round 1 always starts with e2e). */
        static e2e_result prev = {0};
        bool raw_first = r % 2 == 1;
        if (raw_first) {
            run_raw(&b, logs, &prev, &raw);
            run_e2e(&b, &e);
        } else {
            run_e2e(&b, &e);
            run_raw(&b, logs, &e, &raw);
        }
        free(prev.groups);
        prev = e;
        e2e_rate[r] = (double)b.changes / (e.ms / 1000);
        raw_rate[r] = (double)b.changes / (raw.ms / 1000);
        ratio[r] = e2e_rate[r] / raw_rate[r];
        long sum = 0;
        for (int g = 0; g < e.ngroups; g++)
            sum += e.groups[g].changes;
        group_mean[r] = e.ngroups ? (double)sum / e.ngroups : 0;
        hub_util[r] = e.hub_cpu_s / (e.ms / 1000);
        hub_t[0][r] = e.hub_main.run_s;
        hub_t[1][r] = e.hub_main.wait_s;
        hub_t[2][r] = e.ms / 1000 - e.hub_main.run_s - e.hub_main.wait_s;
        hub_t[3][r] = 1e6 * e.hub_main.run_s / (double)b.changes;
        raw_t[0][r] = raw.sched.run_s;
        raw_t[1][r] = raw.sched.wait_s;
        raw_t[2][r] = raw.ms / 1000 - raw.sched.run_s - raw.sched.wait_s;
        raw_t[3][r] = 1e6 * raw.sched.run_s / (double)b.changes;
        printf("  %5d  %-7s %6.2f %10.0f %7.2f %10.0f  %5.2f  %6d  %8.0f  %5.2f s  %7.2f s  %5.2f s\n",
               r + 1, raw_first ? "raw,e2e" : "e2e,raw", e.ms / 1000, e2e_rate[r], raw.ms / 1000,
               raw_rate[r], ratio[r], e.ngroups, group_mean[r], e.hub_cpu_s, e.nodes_cpu_s,
               raw.cpu_s);
        fflush(stdout);
        if (r == runs - 1)
            free(prev.groups);
    }
    printf("\n  durability  journal_mode=%s, synchronous=%s on both sides (hub/store.c "
           "configure(); read back on the raw connection)\n",
           raw.journal, raw.synchronous == 2 ? "FULL" : raw.synchronous == 3 ? "EXTRA" : "other");
    printf("  batch       one transaction per hub group commit: median %.0f changes per group "
           "(pushes of <= %d changes)\n",
           median(group_mean, runs), PUSH_CHANGES);
    printf("  median      e2e %.0f changes/s, raw %.0f changes/s\n", median(e2e_rate, runs),
           median(raw_rate, runs));
    printf("  efficiency  %.2f (median of the %d side-by-side ratios; goal >= 0.70)\n",
           median(ratio, runs), runs);
    printf("  hub         CPU busy %.0f%% of the e2e wall time (median, all its threads); %d "
           "cores in all\n",
           100 * median(hub_util, runs), (int)sysconf(_SC_NPROCESSORS_ONLN));
    printf("  where the time goes (medians, from /proc/PID/task/TID/schedstat):\n");
    printf("              %-26s %8s %14s %9s %12s\n", "thread", "on CPU", "waiting for CPU",
           "blocked", "CPU/change");
    printf("              %-26s %6.2f s %12.2f s %7.2f s %9.1f us\n", "hub main thread (e2e)",
           median(hub_t[0], runs), median(hub_t[1], runs), median(hub_t[2], runs),
           median(hub_t[3], runs));
    printf("              %-26s %6.2f s %12.2f s %7.2f s %9.1f us\n", "raw writer", median(raw_t[0], runs),
           median(raw_t[1], runs), median(raw_t[2], runs), median(raw_t[3], runs));
    printf("              (blocked: fsync and other I/O, and for the hub also waiting for the "
           "nodes' messages)\n");
    for (int k = 0; k < 4; k++) {
        free(hub_t[k]);
        free(raw_t[k]);
    }
    free_logs(logs, nodes);
    free(logs);
    free(e2e_rate);
    free(raw_rate);
    free(ratio);
    free(group_mean);
    free(hub_util);
    if (keep)
        printf("  kept        %s (tpl/: the template; run/, raw/: the last round)\n", dir);
    else
        gst_rmrf(dir);
    free(dir);
    return 0;
}

/* ---- the protocol round trip ------------------------------------------------------------- */

static void meta_text(sqlite3 *db, const char *key, char *out, size_t cap)
{
    sqlite3_stmt *st;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL))
        return;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

static void send_or_die(void *sock, const gs_msg *m)
{
    gs_buf out = GS_BUF_INIT;
    if (gs_msg_encode(m, &gs_limits_default, &out) ||
        zmq_send(sock, out.data, out.len, 0) < 0)
        fatal("sending %s: %s", gs_msg_name(m->type), zmq_strerror(errno));
    gs_buf_free(&out);
}

/* Receives one message of the type wanted (10 s at most). */
static void recv_or_die(void *sock, gs_msg_type want, gs_msg *m)
{
    zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 10000) <= 0)
        fatal("no %s from the hub within 10 s", gs_msg_name(want));
    zmq_msg_t raw;
    zmq_msg_init(&raw);
    if (zmq_msg_recv(&raw, sock, 0) < 0)
        fatal("receiving: %s", zmq_strerror(errno));
    gs_errbuf eb = {{0}};
    memset(m, 0, sizeof *m);
    if (gs_msg_decode(zmq_msg_data(&raw), zmq_msg_size(&raw), &gs_limits_default, m, &eb))
        fatal("a bad message from the hub: %s", eb.msg);
    zmq_msg_close(&raw);
    if (m->type != want)
        fatal("the hub answered %s (%s) where %s was expected", gs_msg_name(m->type), m->text,
              gs_msg_name(want));
}

/* Measures the no-op sync exchange of a node that is up to date: the first
 * one on a new connection (CURVE handshake and ZAP included), then rounds
 * more on the same connection. Reads the node's identity and keys from its
 * database; writes nothing to it. */
static int rtt(const char *node_db, int rounds)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(node_db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        fatal("%s: %s", node_db, sqlite3_errmsg(db));
    char id[GS_ORIGIN_MAX + 1], ep[256], hubkey[41], pub[41], sec[41], cursor[32];
    meta_text(db, "node_id", id, sizeof id);
    meta_text(db, "hub_endpoint", ep, sizeof ep);
    meta_text(db, "hub_public_key", hubkey, sizeof hubkey);
    meta_text(db, "public_key", pub, sizeof pub);
    meta_text(db, "secret_key", sec, sizeof sec);
    meta_text(db, "hub_seq_cursor", cursor, sizeof cursor);
    uint8_t log_hash[GS_HASH_LEN] = {0}; /* the hub's log hash at the cursor (node/store.c) */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'hub_seq_cursor_hash'", -1,
                           &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == GS_HASH_LEN)
        memcpy(log_hash, sqlite3_column_blob(st, 0), GS_HASH_LEN);
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (!id[0] || strlen(hubkey) != 40 || strlen(pub) != 40 || strlen(sec) != 40)
        fatal("%s: not a node installed from a bundle", node_db);
    if (strncmp(ep, "ipc://", 6) && strncmp(ep, "tcp://127.", 10))
        fatal("%s: the hub endpoint %s is not local; this benchmark talks to loopback only",
              node_db, ep);

    void *ctx = zmq_ctx_new(), *sock = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, hubkey, 40) ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pub, 40) ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sec, 40))
        fatal("CURVE keys: %s", zmq_strerror(errno));
    memset(sec, 0, sizeof sec);

    double *hw = calloc((size_t)rounds + 1, sizeof(double));
    double *pc = calloc((size_t)rounds + 1, sizeof(double));
    double *all = calloc((size_t)rounds + 1, sizeof(double));
    if (!hw || !pc || !all)
        fatal("out of memory");
    uint64_t since = (uint64_t)strtoull(cursor, NULL, 10);
    double first_ms = 0;
    for (int r = 0; r <= rounds; r++) {
        gs_msg hello = {0}, pull = {0}, in = {0};
        hello.type = GS_MSG_HELLO;
        hello.version = GS_PROTO_VERSION;
        snprintf(hello.node_id, sizeof hello.node_id, "%s", id);
        snprintf(hello.software, sizeof hello.software, "bench_efficiency rtt");
        hello.hub_seq_seen = since;
        hello.node_time = gs_wall_ms();
        double t0 = gst_clock_ms();
        if (r == 0 && zmq_connect(sock, ep))
            fatal("connect %s: %s", ep, zmq_strerror(errno));
        send_or_die(sock, &hello);
        recv_or_die(sock, GS_MSG_WELCOME, &in);
        gs_msg_clear(&in);
        double t1 = gst_clock_ms();
        pull.type = GS_MSG_PULL;
        pull.version = GS_PROTO_VERSION;
        pull.since = since;
        memcpy(pull.log_hash, log_hash, GS_HASH_LEN);
        send_or_die(sock, &pull);
        recv_or_die(sock, GS_MSG_CHANGES, &in);
        double t2 = gst_clock_ms();
        if (in.nchanges || in.more || in.rewound)
            fatal("the node is not up to date (%zu changes came back%s): sync it first",
                  in.nchanges, in.rewound ? ", from the start" : "");
        since = in.next;
        memcpy(log_hash, in.log_hash, GS_HASH_LEN);
        gs_msg_clear(&in);
        if (r == 0) {
            first_ms = t2 - t0;
            continue;
        }
        hw[r - 1] = t1 - t0;
        pc[r - 1] = t2 - t1;
        all[r - 1] = t2 - t0;
    }
    zmq_close(sock);
    zmq_ctx_term(ctx);
    qsort(all, (size_t)rounds, sizeof *all, cmp_double);
    printf("rtt_first_ms %.3f\n", first_ms);
    printf("rtt_median_ms %.3f\n", median(all, rounds));
    printf("rtt_p95_ms %.3f\n", all[(int)(0.95 * (rounds - 1))]);
    printf("rtt_min_ms %.3f\n", all[0]);
    printf("hello_welcome_median_ms %.3f\n", median(hw, rounds));
    printf("pull_changes_median_ms %.3f\n", median(pc, rounds));
    free(hw);
    free(pc);
    free(all);
    return 0;
}

/* One node_sync_run on the kept connection, in ms; the stats in st. */
static double watch_round(node_sync *ns, node_sync_stats *st)
{
    gs_errbuf eb = {{0}};
    double t0 = gst_clock_ms();
    if (node_sync_run(ns, st, &eb))
        fatal("sync: %s", eb.msg);
    return gst_clock_ms() - t0;
}

/* The rounds of `gridnode sync --watch` (see the header). */
static int watch(const char *node_db, int rounds, const char *more_csv)
{
    node_store *s = NULL;
    node_sync *ns = NULL;
    gs_errbuf eb = {{0}};
    if (node_store_open(&s, node_db, &eb))
        fatal("%s", eb.msg);
    const char *ep = node_store_identity(s)->hub_endpoint;
    if (strncmp(ep, "ipc://", 6) && strncmp(ep, "tcp://127.", 10))
        fatal("%s: the hub endpoint %s is not local; this benchmark talks to loopback only",
              node_db, ep);
    node_sync_opts o;
    node_sync_opts_default(&o);
    if (node_sync_open(&ns, s, &o, &eb))
        fatal("%s", eb.msg);
    node_sync_stats st;
    double first = watch_round(ns, &st);
    double *noop = calloc((size_t)rounds, sizeof *noop);
    if (!noop)
        fatal("out of memory");
    for (int r = 0; r < rounds; r++) {
        noop[r] = watch_round(ns, &st);
        if (st.sent || st.pulled)
            fatal("a no-op round sent %" PRIu64 " and received %" PRIu64 ": sync the node first",
                  st.sent, st.pulled);
    }
    qsort(noop, (size_t)rounds, sizeof *noop, cmp_double);
    printf("watch_first_ms %.3f\n", first);
    printf("watch_noop_median_ms %.3f\n", median(noop, rounds));
    printf("watch_noop_p95_ms %.3f\n", noop[(int)(0.95 * (rounds - 1))]);
    printf("watch_noop_min_ms %.3f\n", noop[0]);
    if (more_csv) {
        const char *argv[] = {"gridnode", "--db", node_db, "import", "incidents", more_csv, NULL};
        must_run(argv);
        double incr = watch_round(ns, &st);
        printf("watch_incr_ms %.3f\n", incr);
        printf("watch_incr_sent %" PRIu64 "\n", st.sent);
        printf("watch_incr_acked_to %" PRIu64 "\n", st.acked_to);
    }
    free(noop);
    node_sync_close(&ns);
    node_store_close(&s);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_efficiency [--changes N] [--nodes K] [--runs R] [--keep] "
                    "[--raw-sql SQL]\n"
                    "       bench_efficiency rtt NODE_DB [ROUNDS]\n"
                    "       bench_efficiency watch NODE_DB [ROUNDS [MORE_CSV]]\n");
    return 2;
}

int main(int argc, char **argv)
{
    gs_tune_malloc(); /* as gridhub and gridnode: the raw writer runs as the hub would */
    gs_sqlite_tune();
    if (argc >= 3 && !strcmp(argv[1], "rtt")) {
        int rounds = argc > 3 ? atoi(argv[3]) : 200;
        return rounds < 1 ? usage() : rtt(argv[2], rounds);
    }
    if (argc >= 3 && !strcmp(argv[1], "watch")) {
        int rounds = argc > 3 ? atoi(argv[3]) : 200;
        return rounds < 1 ? usage() : watch(argv[2], rounds, argc > 4 ? argv[4] : NULL);
    }
    long changes = 100000;
    int nodes = 10, runs = 5;
    bool keep = false;
    const char *raw_sql = NULL;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--changes"))
            changes = atol(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--nodes"))
            nodes = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--runs"))
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--keep"))
            keep = true;
        else if (i + 1 < argc && !strcmp(argv[i], "--raw-sql"))
            raw_sql = argv[++i];
        else
            return usage();
    }
    if (nodes < 1 || nodes > MAX_NODES || changes < nodes || runs < 1)
        return usage();
    return efficiency(changes, nodes, runs, keep, raw_sql);
}
