/*
 * test_soak.c: the soak scenario. Village staff keep entering data while the
 * city hub is SIGKILLed and restarted, the nodes' `gridnode sync --watch`
 * processes are SIGKILLed and restarted, and the link is cut (the hub stopped
 * for a while, or its ipc:// socket file renamed away so that no node can
 * connect); and the hub's disk is lost: the hub is stopped and its database
 * replaced by an online backup taken a few seconds before (`sqlite3_backup`
 * while it served), as an operator would restore one. At the end every
 * replica has converged and every change is at the hub exactly once. All
 * with the real gridhub and gridnode processes, CURVE on (every node
 * installed from its `gridhub node add` bundle), over ipc:// in a temporary
 * directory.
 *
 * The fleet: four nodes, two of them (the "twins") of the same village, so
 * that they receive and edit each other's incidents. Each node runs one data
 * entry process after another: `incident add`, `incident update` (of its own
 * incidents, and of its twin's once they have come down), and now and then
 * `import incidents` of a small CSV. Entry is never killed: every command that
 * exits 0 is one change (or one per imported row), and the test counts them.
 *
 * What the end proves, for every node (what a user would check):
 *   - its change log runs 1..n with no gap and n is what the test entered;
 *   - the hub holds exactly those n changes of it: count, distinct seqs,
 *     1..n, nothing in quarantine, its acked_through is n;
 *   - `gridnode verify` exits 0 (the chain heads agree);
 *   - the incidents of its village, every field, the deleted flag and the
 *     per-field clocks, are identical on the node, on its twin and at the
 *     hub, and their number is the number the village's nodes created.
 * The test prints how many hub kills, cuts, restores and sync kills the fleet
 * survived. In a run of 30 s or more, half the hub stops (the first always)
 * are restores when a backup is ready; a new backup is taken 2-6 s after a
 * restore.
 *
 * Duration: GS_SOAK_SECONDS of chaos (default 45, or 45 x GS_TEST_SCALE, at
 * least 8, when GS_TEST_SCALE is set, as under valgrind), then the fleet is
 * healed and synced. The long soak is run by hand, e.g.
 *   GS_SOAK_SECONDS=1800 build/tests/test_soak
 * (docs/benchmarks.md). Randomness: a fixed seed (GS_SOAK_SEED overrides),
 * printed; the moments of the events still depend on the machine's speed,
 * the assertions do not.
 *
 * Cleanup: every process the test starts is in a process group of its own
 * and is SIGKILLed with it in the teardown and at exit; TMPDIR is pointed at
 * one directory of the test's own, removed at the end.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gridsync/buf.h"
#include "gridsync/change.h"
#include "gridsync/replica.h"
#include "gridsync/schema.h"
#include "gstest_cli.h"

#define SEED 20241128u
#define NNODES 4
#define MAX_IDS 100000

/* ---- time and randomness -------------------------------------------------------- */

static uint64_t rng_state;

/* xorshift64*: reproducible from the seed, independent of rand(). */
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ULL) >> 33) % n;
}

/* A random duration in [lo, hi] ms. */
static int64_t between(int lo, int hi)
{
    return lo + (int64_t)rnd((uint32_t)(hi - lo + 1));
}

/* GS_TEST_SCALE in (0, 1], or 0 when unset. */
static double test_scale(void)
{
    const char *s = getenv("GS_TEST_SCALE");
    char *end;
    double v = s && *s ? strtod(s, &end) : 0;
    return s && *s && !*end && v > 0 && v <= 1 ? v : 0;
}

/* Seconds of chaos: GS_SOAK_SECONDS, else 45 (scaled by GS_TEST_SCALE). */
static int soak_seconds(void)
{
    const char *s = getenv("GS_SOAK_SECONDS");
    if (s && *s && atoi(s) > 0)
        return atoi(s);
    double sc = test_scale();
    int v = sc > 0 ? (int)(45 * sc + 0.5) : 45;
    return v < 8 ? 8 : v;
}

/* ---- processes ---------------------------------------------------------------------- */

static char *tmp;       /* this test's directory */
static gst_procs procs; /* every background process */

static gst_result R; /* the last run (RUN and RUN_OK of gstest_cli.h) */

/* ---- the hub ---------------------------------------------------------------------- */

static char hub_db[PATH_MAX], hub_log[PATH_MAX], hub_sock[PATH_MAX], hub_cut[PATH_MAX + 8];
static char hub_ep[PATH_MAX + 8];
static pid_t hub_pid;

/* Starts `gridhub serve` and waits until it has bound (its log says so). */
static void hub_start(void)
{
    ck_assert_int_eq(hub_pid, 0);
    int before = gst_count_in_file(hub_log, "gridhub: serving ");
    const char *argv[] = {"gridhub", "--db", hub_db, "serve", "--bind", hub_ep, "-v", NULL};
    hub_pid = gst_procs_spawn(&procs, argv, hub_log);
    int64_t end = gst_now_ms() + 120000; /* slow under valgrind */
    while (gst_count_in_file(hub_log, "gridhub: serving ") == before) {
        int st = gst_procs_reap(&procs, hub_pid, false);
        if (st != -1) {
            hub_pid = 0;
            size_t len = 0;
            char *log = gst_read_file(hub_log, &len);
            ck_abort_msg("gridhub serve exited %d at start; the end of %s:\n%s", st, hub_log,
                         log ? log + (len > 1500 ? len - 1500 : 0) : "");
        }
        ck_assert_msg(gst_now_ms() < end, "gridhub serve did not start within 120 s");
        gst_sleep_ms(10);
    }
}

/* Stops the hub as an operator would; it must exit 0. */
static void hub_stop(void)
{
    kill(hub_pid, SIGTERM);
    int st = gst_procs_wait(&procs, hub_pid, 60000);
    ck_assert_msg(st == 0, "gridhub serve: status %d after SIGTERM (-1: still running)", st);
    hub_pid = 0;
}

/* ---- the fleet ------------------------------------------------------------------------ */

typedef enum { OP_NONE, OP_ADD, OP_UPDATE, OP_UPDATE_TWIN, OP_ACCEPT, OP_IMPORT } op_kind;

typedef struct incident_ref {
    char id[40];
    bool accepted; /* by this node, its creator */
} incident_ref;

typedef struct node {
    char db[PATH_MAX], watch_log[PATH_MAX], op_out[PATH_MAX], csv[PATH_MAX];
    char id[GS_ORIGIN_MAX + 1], village[13];
    int twin;              /* index of the node of the same village, or -1 */
    long entered;          /* changes entered, counted from commands that exited 0 */
    long created;          /* incidents created (adds and imported rows) */
    incident_ref *mine;    /* incidents this node created with `incident add` */
    int nmine;
    long adds, updates, twin_updates, twin_misses, accepts, imports;
    pid_t watch;           /* `gridnode sync --watch`, or 0 */
    int64_t watch_back_at; /* when a killed watch is started again */
    pid_t op;              /* the running entry command, or 0 */
    op_kind op_kind;
    int op_rows, op_ref;
    int64_t op_next_at;
} node;

static node nodes[NNODES];

/* Counts of what the fleet survived. */
static struct {
    int hub_kills, hub_stops, sock_cuts, watch_kills, restores;
} survived;

static const char *const places[] = {"东街", "西街口", "村委会门口", "老槐树下", "二组",
                                     "三组后巷", "小学路口", "卫生室旁", "文化广场", "南坑塘边"};
static const char *const problems[] = {"路灯不亮", "井盖缺失", "垃圾堆放", "邻里纠纷（漏水）",
                                       "宅基地边界争议", "楼道堆放杂物", "独居老人需探访",
                                       "电动车飞线充电", "沟渠堵塞", "占道经营"};
static const char *const cats[] = {"dispute.neighbour", "dispute.land", "safety.fire",
                                   "sanitation", "livelihood.elderly", "rescue"};
static const char *const people[] = {"王桂兰", "李建国", "张秀英", "刘国强", "马德明", "白丽娟"};
#define PICK(a) (a)[rnd(sizeof(a) / sizeof((a)[0]))]

/* Registers node i at the hub for village and installs its bundle. */
static void node_setup(int i, const char *village)
{
    node *n = &nodes[i];
    memset(n, 0, sizeof *n);
    char bundle[PATH_MAX], name[64];
    snprintf(n->db, sizeof n->db, "%s/n%d.db", tmp, i + 1);
    snprintf(bundle, sizeof bundle, "%s/n%d.bundle", tmp, i + 1);
    snprintf(n->watch_log, sizeof n->watch_log, "%s/n%d.watch.log", tmp, i + 1);
    snprintf(n->op_out, sizeof n->op_out, "%s/n%d.op.out", tmp, i + 1);
    snprintf(n->csv, sizeof n->csv, "%s/n%d.csv", tmp, i + 1);
    snprintf(n->village, sizeof n->village, "%s", village);
    snprintf(name, sizeof name, "浸泡测试节点%d", i + 1);
    RUN_OK("gridhub", "--db", hub_db, "node", "add", "--village", village, "--name", name,
           "--endpoint", hub_ep, "--out", bundle);
    snprintf(n->id, sizeof n->id, "%.*s", (int)strcspn(R.out, "\n"), R.out);
    RUN_OK("gridnode", "--db", n->db, "init", "--bundle", bundle);
    unlink(bundle);
    n->mine = calloc(MAX_IDS, sizeof *n->mine);
    ck_assert(n->mine != NULL);
    n->twin = -1;
}

static void watch_start(node *n)
{
    const char *argv[] = {"gridnode", "--db", n->db, "sync", "--watch", "--timeout", "10", NULL};
    n->watch = gst_procs_spawn(&procs, argv, n->watch_log);
}

/* ---- data entry ------------------------------------------------------------------------- */

/* Writes a small incidents CSV (rows rows) for an import. */
static int write_import(node *n)
{
    int rows = 3 + (int)rnd(10);
    gs_buf b = GS_BUF_INIT;
    gs_buf_puts(&b, "title,category,description,reporter,reported_at,severity\n");
    for (int r = 0; r < rows; r++)
        gs_buf_printf(&b, "%s%s（批量导入）,%s,\"%s附近%s，导入第%d行\",%s,2026-%02u-%02u 09:%02u,%u\n",
                      PICK(places), PICK(problems), PICK(cats), PICK(places), PICK(problems), r + 1,
                      PICK(people), 1 + rnd(12), 1 + rnd(28), rnd(60), 1 + rnd(4));
    ck_assert_int_eq(gst_write_file(n->csv, b.data, b.len), 0);
    gs_buf_free(&b);
    return rows;
}

/* Starts node n's next data entry command. */
static void op_start(int i)
{
    node *n = &nodes[i];
    node *tw = n->twin >= 0 ? &nodes[n->twin] : NULL;
    unlink(n->op_out);
    char title[256], desc[512], sev[8], note[256];
    snprintf(title, sizeof title, "%s%s", PICK(places), PICK(problems));
    snprintf(desc, sizeof desc, "%s，网格员巡查时发现，已拍照留存", title);
    snprintf(sev, sizeof sev, "%u", 1 + rnd(4));
    snprintf(note, sizeof note, "%s：已电话联系当事人（第%ld次）", PICK(people), n->entered + 1);
    uint32_t dice = rnd(100);
    n->op_kind = OP_ADD;
    if (dice < 8)
        n->op_kind = OP_IMPORT;
    else if (dice < 30 && n->nmine > 0)
        n->op_kind = OP_UPDATE;
    else if (dice < 45 && tw && tw->nmine > 0)
        n->op_kind = OP_UPDATE_TWIN;
    else if (dice < 55 && n->nmine > 0)
        n->op_kind = OP_ACCEPT;
    switch (n->op_kind) {
    case OP_ADD: {
        const char *argv[] = {"gridnode", "--db", n->db, "incident", "add", "--category",
                              PICK(cats), "--title", title, "--description", desc, "--reporter",
                              PICK(people), "--severity", sev, NULL};
        n->op = gst_procs_spawn(&procs, argv, n->op_out);
        break;
    }
    case OP_UPDATE:
    case OP_UPDATE_TWIN: {
        node *owner = n->op_kind == OP_UPDATE ? n : tw;
        n->op_ref = (int)rnd((uint32_t)owner->nmine);
        const char *argv[] = {"gridnode", "--db", n->db, "incident", "update",
                              owner->mine[n->op_ref].id, "--note", note, "--severity", sev,
                              "--assignee", PICK(people), NULL};
        n->op = gst_procs_spawn(&procs, argv, n->op_out);
        break;
    }
    case OP_ACCEPT: {
        /* the first of its own incidents it has not accepted yet */
        n->op_ref = -1;
        for (int k = 0; k < n->nmine && n->op_ref < 0; k++)
            if (!n->mine[k].accepted)
                n->op_ref = k;
        if (n->op_ref < 0) { /* all accepted: add one instead */
            n->op_kind = OP_NONE;
            n->op_next_at = gst_now_ms();
            return;
        }
        const char *argv[] = {"gridnode", "--db", n->db, "incident", "update",
                              n->mine[n->op_ref].id, "--status", "accepted", "--note", note, NULL};
        n->op = gst_procs_spawn(&procs, argv, n->op_out);
        break;
    }
    case OP_IMPORT: {
        n->op_rows = write_import(n);
        const char *argv[] = {"gridnode", "--db", n->db, "import", "incidents", n->csv, NULL};
        n->op = gst_procs_spawn(&procs, argv, n->op_out);
        break;
    }
    default: break;
    }
}

/* Reaps node i's entry command if it has ended and counts what it entered. */
static void op_finish(int i)
{
    node *n = &nodes[i];
    if (!n->op)
        return;
    int st = gst_procs_reap(&procs, n->op, false);
    if (st == -1)
        return;
    n->op = 0;
    char *out = gst_read_file(n->op_out, NULL);
    ck_assert_msg(out != NULL, "cannot read %s", n->op_out);
    if (n->op_kind == OP_UPDATE_TWIN && st != 0) {
        /* the twin's incident has not come down yet: refused, nothing entered */
        ck_assert_msg(strstr(out, "not found") != NULL, "node %d: update of a twin's incident: "
                      "exit %d: %s", i + 1, st, out);
        n->twin_misses++;
    } else {
        ck_assert_msg(st == 0, "node %d: data entry (kind %d) exited %d: %s", i + 1,
                      (int)n->op_kind, st, out);
        switch (n->op_kind) {
        case OP_ADD: {
            char id[40];
            ck_assert_msg(sscanf(out, "%39s", id) == 1 && strlen(id) == 36,
                          "incident add printed no id: %s", out);
            ck_assert_int_lt(n->nmine, MAX_IDS);
            snprintf(n->mine[n->nmine++].id, sizeof n->mine[0].id, "%s", id);
            n->entered++;
            n->created++;
            n->adds++;
            break;
        }
        case OP_UPDATE: n->entered++, n->updates++; break;
        case OP_UPDATE_TWIN: n->entered++, n->twin_updates++; break;
        case OP_ACCEPT:
            n->mine[n->op_ref].accepted = true;
            n->entered++;
            n->accepts++;
            break;
        case OP_IMPORT: {
            char want[64];
            snprintf(want, sizeof want, "imported %d incidents", n->op_rows);
            ck_assert_msg(strstr(out, want) != NULL, "import: %s", out);
            n->entered += n->op_rows;
            n->created += n->op_rows;
            n->imports++;
            break;
        }
        default: break;
        }
    }
    free(out);
    n->op_next_at = gst_now_ms() + between(0, 250);
}

/* Keeps every node's data entry going (or, when !more, only finishes). */
static void entry_tick(bool more)
{
    for (int i = 0; i < NNODES; i++) {
        op_finish(i);
        if (more && !nodes[i].op && gst_now_ms() >= nodes[i].op_next_at)
            op_start(i);
    }
}

/* ---- chaos ------------------------------------------------------------------------------- */

typedef enum { EV_HUB_KILL, EV_HUB_STOP, EV_SOCK_CUT, EV_WATCH_KILL, EV__COUNT } event;

/* Runs the chaos for secs seconds: one hub event at a time (a kill, a stop
 * or a socket cut, each followed by recovery), sync --watch kills at any
 * time, data entry throughout. */
static void chaos(int secs)
{
    /* A short run (8 s under valgrind) has room for only a few events, one
     * of each kind; restores, slow there, are for the runs of 30 s and more. */
    bool restores = secs >= 30;
    int64_t end = gst_now_ms() + (int64_t)secs * 1000;
    int64_t next_event = gst_now_ms() + between(500, 1500);
    int64_t hub_back_at = 0, sock_back_at = 0;
    char backup[PATH_MAX + 16];
    snprintf(backup, sizeof backup, "%s/hub-backup.db", tmp);
    bool backup_ready = false;
    int64_t backup_at = gst_now_ms() + between(500, 3000);
    event order[EV__COUNT] = {EV_HUB_KILL, EV_HUB_STOP, EV_SOCK_CUT, EV_WATCH_KILL};
    int turn = EV__COUNT;
    /* Every kind of event at least once, however slow the machine (under
     * valgrind a hub stop and start take seconds): past the end, the chaos
     * goes on until each has happened, for two minutes at most. */
    for (;;) {
        bool all = survived.hub_kills > 0 && survived.hub_stops + survived.sock_cuts > 0 &&
                   survived.watch_kills > 0 && (!restores || survived.restores > 0);
        int64_t now = gst_now_ms();
        if (now >= end && (all || now >= end + 120000))
            break;
        entry_tick(true);
        int64_t t = gst_now_ms();
        /* recoveries */
        if (hub_back_at && t >= hub_back_at) {
            hub_start();
            hub_back_at = 0;
        }
        if (sock_back_at && t >= sock_back_at) {
            ck_assert_msg(rename(hub_cut, hub_sock) == 0, "rename back: %s", strerror(errno));
            sock_back_at = 0;
        }
        if (!backup_ready && hub_pid && t >= backup_at) {
            gst_db_backup(hub_db, backup);
            backup_ready = true;
        }
        for (int i = 0; i < NNODES; i++) {
            node *n = &nodes[i];
            if (n->watch) {
                int st = gst_procs_reap(&procs, n->watch, false);
                ck_assert_msg(st == -1, "node %d: sync --watch exited %d on its own; see %s",
                              i + 1, st, n->watch_log);
            } else if (t >= n->watch_back_at) {
                watch_start(n);
            }
        }
        /* the next event: every kind in turn, in a shuffled order each round */
        if (t >= next_event) {
            if (turn == EV__COUNT) {
                for (int k = EV__COUNT - 1; k > 0; k--) {
                    int j = (int)rnd((uint32_t)k + 1);
                    event e = order[k];
                    order[k] = order[j];
                    order[j] = e;
                }
                turn = 0;
            }
            event ev = order[turn++];
            bool hub_busy = hub_back_at || sock_back_at;
            if (ev == EV_WATCH_KILL) {
                node *n = &nodes[rnd(NNODES)];
                if (n->watch) {
                    gst_procs_kill9(&procs, n->watch);
                    n->watch = 0;
                    n->watch_back_at = t + between(0, 2000);
                    survived.watch_kills++;
                }
            } else if (hub_busy) {
                turn--; /* one hub event at a time: try again later */
            } else if (ev == EV_HUB_KILL) {
                gst_procs_kill9(&procs, hub_pid);
                hub_pid = 0;
                hub_back_at = t + between(0, 1500);
                survived.hub_kills++;
            } else if (ev == EV_HUB_STOP) {
                hub_stop();
                if (restores && backup_ready && (survived.restores == 0 || rnd(2))) {
                    /* the disk died: what the backup had comes back */
                    gst_db_restore(backup, hub_db);
                    backup_ready = false;
                    backup_at = gst_now_ms() + between(2000, 6000);
                    survived.restores++;
                }
                hub_back_at = gst_now_ms() + between(1000, 5000);
                survived.hub_stops++;
            } else {
                ck_assert_msg(rename(hub_sock, hub_cut) == 0, "rename: %s", strerror(errno));
                sock_back_at = t + between(1000, 4000);
                survived.sock_cuts++;
            }
            next_event = gst_now_ms() + between(300, 2500);
        }
        gst_sleep_ms(20);
    }
    /* heal: the hub up, its socket back */
    if (sock_back_at)
        ck_assert_int_eq(rename(hub_cut, hub_sock), 0);
    if (!hub_pid)
        hub_start();
}

/* ---- checks -------------------------------------------------------------------------------- */

static sqlite3 *open_ro(const char *path)
{
    sqlite3 *db = NULL;
    ck_assert_msg(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "%s: %s",
                  path, sqlite3_errmsg(db));
    sqlite3_busy_timeout(db, 30000);
    return db;
}

/* One row of int64 answers for sql with one text parameter. */
static void query_ints(sqlite3 *db, const char *sql, const char *arg, int64_t *out, int n)
{
    sqlite3_stmt *st;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    for (int i = 0; i < n; i++)
        out[i] = sqlite3_column_int64(st, i);
    sqlite3_finalize(st);
}

/* Every incident of village in db, every field, the deleted flag and the
 * field clocks, one line each in id order: what "the same incidents" means. */
static char *dump_incidents(const char *path, const char *village, long *rows)
{
    const gs_rectype *rt = gs_rectype_get(GS_RT_INCIDENT);
    gs_buf sql = GS_BUF_INIT, out = GS_BUF_INIT;
    gs_buf_puts(&sql, "SELECT ");
    gs_replica_columns(rt, &sql);
    gs_buf_printf(&sql, ", _deleted, hex(_clock) FROM %s WHERE village_code = ?1 ORDER BY id",
                  rt->plural);
    sqlite3 *db = open_ro(path);
    sqlite3_stmt *st;
    ck_assert_msg(sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) == SQLITE_OK, "%s: %s",
                  path, sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, village, -1, SQLITE_STATIC);
    *rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c <= rt->nfields + 1; c++) {
            const unsigned char *v = sqlite3_column_text(st, c);
            gs_buf_printf(&out, "%s%s", c ? "|" : "", v ? (const char *)v : "<null>");
        }
        gs_buf_puts(&out, "\n");
        (*rows)++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    gs_buf_free(&sql);
    gs_buf_append(&out, "", 0);
    char *text = gs_buf_steal(&out);
    ck_assert(text != NULL);
    return text;
}

/* Syncs node i until a sync exits 0 (a few tries: the hub was just healed). */
static void sync_ok(int i)
{
    for (int attempt = 1;; attempt++) {
        int st = RUN("gridnode", "--db", nodes[i].db, "sync", "--quiet", "--timeout", "60");
        if (st == 0)
            return;
        ck_assert_msg(attempt < 5, "node %d: gridnode sync exit %d: %s%s", i + 1, st, R.out,
                      R.err);
        gst_sleep_ms(1000);
    }
}

/* Heals the fleet, brings every replica up to date and checks it all. */
static void converge_and_check(void)
{
    /* staff stop; the watchers stop as on a PC shutdown */
    while (nodes[0].op || nodes[1].op || nodes[2].op || nodes[3].op) {
        entry_tick(false);
        gst_sleep_ms(10);
    }
    for (int i = 0; i < NNODES; i++)
        if (nodes[i].watch) {
            kill(nodes[i].watch, SIGTERM);
            int st = gst_procs_wait(&procs, nodes[i].watch, 60000);
            ck_assert_msg(st == 0, "node %d: sync --watch: status %d after SIGTERM", i + 1, st);
            nodes[i].watch = 0;
        }
    /* three rounds: push everything; pull the twins'; a last one changes nothing */
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < NNODES; i++)
            sync_ok(i);

    long total = 0;
    for (int i = 0; i < NNODES; i++) {
        node *n = &nodes[i];
        int64_t own[3], hub[5], q[1], acked[1];
        sqlite3 *db = open_ro(n->db);
        query_ints(db, "SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0) FROM "
                       "changes WHERE origin = ?1",
                   n->id, own, 3);
        sqlite3_close(db);
        ck_assert_msg(own[0] == n->entered && own[2] == n->entered && (own[0] == 0 || own[1] == 1),
                      "node %d: its log holds %lld changes (seq %lld..%lld); %ld were entered",
                      i + 1, (long long)own[0], (long long)own[1], (long long)own[2], n->entered);
        db = open_ro(hub_db);
        query_ints(db, "SELECT count(*), count(DISTINCT seq), coalesce(min(seq), 0), "
                       "coalesce(max(seq), 0), count(DISTINCT hub_seq) FROM changes "
                       "WHERE origin = ?1",
                   n->id, hub, 5);
        query_ints(db, "SELECT count(*) FROM quarantine WHERE origin = ?1", n->id, q, 1);
        query_ints(db, "SELECT acked_through FROM nodes WHERE id = ?1", n->id, acked, 1);
        sqlite3_close(db);
        ck_assert_msg(hub[0] == n->entered && hub[1] == n->entered && hub[4] == n->entered &&
                          hub[3] == n->entered && (n->entered == 0 || hub[2] == 1),
                      "node %d: the hub holds %lld changes of it (%lld distinct seqs, %lld..%lld); "
                      "the node entered %ld",
                      i + 1, (long long)hub[0], (long long)hub[1], (long long)hub[2],
                      (long long)hub[3], n->entered);
        ck_assert_msg(q[0] == 0, "node %d: %lld changes in quarantine", i + 1, (long long)q[0]);
        ck_assert_msg(acked[0] == n->entered, "node %d: acked_through %lld, entered %ld", i + 1,
                      (long long)acked[0], n->entered);
        RUN_OK("gridnode", "--db", n->db, "verify", "--timeout", "60");
        ck_assert_msg(strstr(R.out, "verified") != NULL, "verify: %s", R.out);
        total += n->entered;
    }

    /* convergence, field by field: node == twin == hub, for each village */
    for (int i = 0; i < NNODES; i++) {
        node *n = &nodes[i];
        long created = n->created + (n->twin >= 0 ? nodes[n->twin].created : 0);
        long rows_node = 0, rows_hub = 0;
        char *mine = dump_incidents(n->db, n->village, &rows_node);
        char *hubs = dump_incidents(hub_db, n->village, &rows_hub);
        ck_assert_msg(rows_hub == created, "village %s: the hub holds %ld incidents, its nodes "
                      "created %ld", n->village, rows_hub, created);
        ck_assert_msg(rows_node == rows_hub && !strcmp(mine, hubs),
                      "node %d (village %s) differs from the hub: %ld incidents vs %ld", i + 1,
                      n->village, rows_node, rows_hub);
        free(mine);
        free(hubs);
    }
    printf("test_soak: survived %d hub SIGKILLs, %d cuts (%d hub stops, %d ipc socket renames), "
           "%d restores from a backup, %d sync --watch SIGKILLs; %ld changes entered on %d "
           "nodes, all at the hub exactly once, all replicas converged; %d messages refused by "
           "a restarted hub as sent before HELLO (the node said HELLO again); %d pulls from the "
           "start after a restore\n",
           survived.hub_kills, survived.hub_stops + survived.sock_cuts, survived.hub_stops,
           survived.sock_cuts, survived.restores, survived.watch_kills, total, NNODES,
           gst_count_in_file(hub_log, "before HELLO"),
           gst_count_in_file(hub_log, "is not in this log"));
    for (int i = 0; i < NNODES; i++)
        printf("  node %d %s (village %s%s): %ld changes: %ld adds, %ld imports, %ld updates, "
               "%ld accepts, %ld updates of the twin's incidents (%ld not yet there)\n",
               i + 1, nodes[i].id, nodes[i].village, nodes[i].twin >= 0 ? ", twin" : "",
               nodes[i].entered, nodes[i].adds, nodes[i].imports, nodes[i].updates,
               nodes[i].accepts, nodes[i].twin_updates, nodes[i].twin_misses);
    fflush(stdout);
}

/* ---- the test ----------------------------------------------------------------------------- */

static void setup(void)
{
    tmp = gst_tmpdir();
    memset(&procs, 0, sizeof procs);
    hub_pid = 0;
    memset(&survived, 0, sizeof survived);
    snprintf(hub_db, sizeof hub_db, "%s/hub.db", tmp);
    snprintf(hub_log, sizeof hub_log, "%s/hub.log", tmp);
    snprintf(hub_sock, sizeof hub_sock, "%s/hub.sock", tmp);
    snprintf(hub_cut, sizeof hub_cut, "%s.cut", hub_sock);
    snprintf(hub_ep, sizeof hub_ep, "ipc://%s", hub_sock);
}

static void teardown(void)
{
    gst_procs_kill_all(&procs);
    gst_result_free(&R);
    for (int i = 0; i < NNODES; i++) {
        free(nodes[i].mine);
        nodes[i].mine = NULL;
    }
    if (tmp && !getenv("GS_SOAK_KEEP"))
        gst_rmrf(tmp);
    free(tmp);
    tmp = NULL;
}

START_TEST(soak)
{
    const char *seed = getenv("GS_SOAK_SEED");
    unsigned s = seed && *seed ? (unsigned)strtoul(seed, NULL, 10) : SEED;
    rng_state = 0x9E3779B97F4A7C15ULL ^ s;
    int secs = soak_seconds();
    printf("test_soak: seed %u, %d s of chaos, %d nodes, directory %s\n", s, secs, NNODES, tmp);
    fflush(stdout);

    RUN_OK("gridhub", "--db", hub_db, "init");
    RUN_OK("gridhub", "--db", hub_db, "refdata", "load", "divisions",
           GS_TEST_SRC_DIR "/data/luohe_divisions.csv");
    RUN_OK("gridhub", "--db", hub_db, "refdata", "load", "categories",
           GS_TEST_SRC_DIR "/data/incident_categories.csv");
    char v[3][13];
    ck_assert_int_eq(gst_villages(v, 3), 3);
    /* nodes 1 and 2 are twins (one village); 3 and 4 have villages of their own */
    node_setup(0, v[0]);
    node_setup(1, v[0]);
    node_setup(2, v[1]);
    node_setup(3, v[2]);
    nodes[0].twin = 1;
    nodes[1].twin = 0;

    hub_start();
    for (int i = 0; i < NNODES; i++)
        watch_start(&nodes[i]);
    chaos(secs);
    converge_and_check();
    ck_assert_int_gt(survived.hub_kills, 0);
    ck_assert_int_gt(survived.hub_stops + survived.sock_cuts, 0);
    ck_assert_int_gt(survived.watch_kills, 0);
    if (secs >= 30)
        ck_assert_int_gt(survived.restores, 0);
    hub_stop();
}
END_TEST

static void at_exit(void)
{
    gst_procs_kill_all(&procs);
}

int main(void)
{
    atexit(at_exit);
    /* the chaos itself, then healing and checks: room for slow machines */
    int timeout = soak_seconds() + 600;
    Suite *s = suite_create("soak");
    TCase *tc = gst_tcase(s, "soak", setup, teardown, timeout);
    tcase_add_test(tc, soak);
    return gst_run_suite(s);
}
