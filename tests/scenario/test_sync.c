/*
 * test_sync.c: every change reaches the city hub exactly once, whatever
 * fails when (issue 4), proved end to end with the real gridhub and gridnode
 * processes, CURVE on (every node installed from the bundle `gridhub node
 * add` wrote), over ipc:// sockets in a temporary directory (one test also
 * uses a closed loopback TCP port).
 *
 * What "the hub holds exactly the node's changes" means everywhere here
 * (assert_hub_whole): for the node's own log on the node and the hub's copy
 * of it, the same count, seqs 1..n with no gap and no duplicate, each stored
 * hash following from the one before (h(n) = BLAKE2b(h(n-1) || body(n))),
 * the same digest (that chain recomputed over the bodies in seq order), the
 * hub's nodes.acked_through and chain_head equal to the node's count and last
 * hash, nothing of the node in quarantine; and `gridnode verify` exits 0.
 *
 * TCases:
 *   fleet    20 nodes x 2,000 changes synced concurrently; then the same with
 *            the hub SIGKILLed and restarted at random moments (fixed seed)
 *            at least 10 times while data is still flowing, and sync
 *            processes SIGKILLed and started again;
 *   protocol a small protocol client (DEALER, the node's CURVE keys from its
 *            bundle, gs_msg): a replayed PUSH, an overlapping one, one with a
 *            gap, one with a broken chain, one before HELLO, and two
 *            connections of one node pushing the same changes; a RETURN of a
 *            made-up city decision;
 *   restore  the hub's database replaced by an older copy; the nodes make it
 *            whole again (and the village's copies on the nodes stay whole); the
 *            city's decisions made after the copy come back from the villages,
 *            and the restored hub gives none of their numbers again (a new
 *            chain of its own); a number given twice anyway (the chain file
 *            restored too) is told, not silent;
 *   cli      `gridnode sync` against an unreachable hub (exit status and
 *            message); `sync --watch` across hub restarts, between sessions,
 *            while the hub is down and six times in the middle of a session,
 *            then stopped by SIGTERM;
 *   entry    staff entering data (200 `incident add`) while `sync --watch`
 *            runs; a change entered during a sync goes out in it or the next.
 *
 * Sizes: GS_TEST_SCALE (a number in (0, 1], default 1) scales the number of
 * changes (not the number of nodes or of hub kills), e.g. GS_TEST_SCALE=0.25
 * under the sanitizers. Randomness: srand(SEED), printed; the moments of the
 * kills still depend on how fast the machine is, the assertions do not.
 *
 * Cleanup: main() points TMPDIR at one directory of its own; every process a
 * test starts is killed (its whole process group, SIGKILL) in the teardown,
 * at exit of a failed test (atexit), and finally by main() from the list of
 * pids the tests wrote, for a process whose command line still names that
 * directory (a timed-out test gets no teardown).
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "gridsync/bundle.h"
#include "gridsync/change.h"
#include "gridsync/hlc.h"
#include "gridsync/msg.h"
#include "gstest_cli.h"

#define SEED          20240601u
#define FLEET_NODES   20
#define FLEET_CHANGES 2000
#define HUB_KILLS     10
#define MAX_NODES     24

/* ---- sizes ------------------------------------------------------------------ */

/* GS_TEST_SCALE in (0, 1]; 1 when unset or not a number. */
static double scale(void)
{
    const char *s = getenv("GS_TEST_SCALE");
    char *end;
    double v = s && *s ? strtod(s, &end) : 1.0;
    if (!s || !*s || *end || !(v > 0.0) || v > 1.0)
        v = 1.0;
    return v;
}

/* n scaled by GS_TEST_SCALE, at least lo. */
static int scaled(int n, int lo)
{
    int v = (int)((double)n * scale() + 0.5);
    return v < lo ? lo : v;
}

/* ---- processes ------------------------------------------------------------------ */

static char *top;               /* main()'s directory: every test's TMPDIR */
static char *tmp;               /* this test's directory */
static char pid_file[PATH_MAX]; /* top/pids */
static gst_procs procs;         /* every background process, also listed in pid_file */

/* For atexit: a failed assertion exits the forked test without its teardown. */
static void kill_all(void)
{
    gst_procs_kill_all(&procs);
}

static char *log_tail(const char *path);

/* Whether the hub's log holds s, waiting up to 5 s for it (the hub logs
 * from its own loop). */
static bool hub_log_has(const char *s);

/* ---- running commands --------------------------------------------------------------- */

static gst_result R; /* the last run (RUN and RUN_OK of gstest_cli.h) */

/* ---- the hub ------------------------------------------------------------------------ */

static char hub_db[PATH_MAX], hub_log[PATH_MAX], hub_ep[PATH_MAX + 8];
static pid_t hub_pid;

/* How many times the hub log says "serving": one per start that bound. */
static int hub_starts_logged(void)
{
    char *log = gst_read_file(hub_log, NULL);
    int n = 0;
    for (const char *p = log; p && (p = strstr(p, "gridhub: serving ")); p++)
        n++;
    free(log);
    return n;
}

/* Makes the hub database with the city's divisions. */
static void hub_init(void)
{
    RUN_OK("gridhub", "--db", hub_db, "init");
    RUN_OK("gridhub", "--db", hub_db, "refdata", "load", "divisions",
           GS_TEST_SRC_DIR "/data/luohe_divisions.csv");
}

/* Starts `gridhub serve` on hub_ep and waits until it has bound; extra
 * arguments (up to 4) from hub_args. */
static const char *hub_args[5];

static void hub_start(void)
{
    ck_assert_int_eq(hub_pid, 0);
    int before = hub_starts_logged();
    const char *argv[12] = {"gridhub", "--db", hub_db, "serve", "--bind", hub_ep, "-v"};
    for (int i = 0; i < 4 && hub_args[i]; i++)
        argv[7 + i] = hub_args[i];
    hub_pid = gst_procs_spawn(&procs, argv, hub_log);
    int64_t end = gst_now_ms() + 20000;
    while (hub_starts_logged() == before) {
        int st = gst_procs_reap(&procs, hub_pid, false);
        if (st != -1) {
            hub_pid = 0;
            char *log = gst_read_file(hub_log, NULL);
            ck_abort_msg("gridhub serve exited %d at start:\n%s", st, log ? log : "");
        }
        ck_assert_msg(gst_now_ms() < end, "gridhub serve did not start within 20 s");
        gst_sleep_ms(10);
    }
}

static void hub_kill(void)
{
    gst_procs_kill9(&procs, hub_pid);
    hub_pid = 0;
}

/* Stops the hub as an operator would (SIGTERM); it must exit 0 promptly. */
static void hub_stop(void)
{
    kill(hub_pid, SIGTERM);
    int st = gst_procs_wait(&procs, hub_pid, 15000);
    ck_assert_msg(st == 0, "gridhub serve: status %d after SIGTERM (-1: still running)", st);
    hub_pid = 0;
}

/* ---- nodes -------------------------------------------------------------------------- */

typedef struct node {
    char db[PATH_MAX], bundle[PATH_MAX], log[PATH_MAX];
    char id[GS_ORIGIN_MAX + 1];
    char village[13];
    int entered; /* changes entered on it, as the test counts them */
    pid_t sync;  /* a running `gridnode sync`, or 0 */
} node;

static node nodes[MAX_NODES];
static int nnodes;

/* Registers a node for village at the hub (its bundle in tmp) and installs it. */
static node *node_new(const char *village)
{
    ck_assert_int_lt(nnodes, MAX_NODES);
    node *n = &nodes[nnodes];
    memset(n, 0, sizeof *n);
    snprintf(n->db, sizeof n->db, "%s/n%d.db", tmp, nnodes + 1);
    snprintf(n->bundle, sizeof n->bundle, "%s/n%d.bundle", tmp, nnodes + 1);
    snprintf(n->log, sizeof n->log, "%s/n%d.log", tmp, nnodes + 1);
    snprintf(n->village, sizeof n->village, "%s", village);
    char name[32];
    snprintf(name, sizeof name, "node %d", nnodes + 1);
    RUN_OK("gridhub", "--db", hub_db, "node", "add", "--village", village, "--name", name,
           "--endpoint", hub_ep, "--out", n->bundle);
    ck_assert_msg(R.out_len > 1 && R.out_len <= GS_ORIGIN_MAX + 1, "node add printed %s", R.out);
    snprintf(n->id, sizeof n->id, "%.*s", (int)strcspn(R.out, "\n"), R.out);
    RUN_OK("gridnode", "--db", n->db, "init", "--bundle", n->bundle);
    nnodes++;
    return n;
}

/* Enters count incidents on n with one `gridnode import` (count changes). */
static void node_import(node *n, int count)
{
    static const char *const cats[] = {"safety.fire", "dispute.neighbour", "dispute.family",
                                       "dispute.land"};
    gs_buf csv = GS_BUF_INIT;
    gs_buf_puts(&csv, "village_code,grid_code,category,title,reported_at\n");
    for (int k = 0; k < count; k++)
        gs_buf_printf(&csv, "%s,%s%03d,%s,事件 %s 第%d号,2024-03-%02dT08:%02d:00Z\n", n->village,
                      n->village, k % 5 + 1, cats[k % 4], n->id, n->entered + k + 1, k % 28 + 1,
                      k % 60);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/import.csv", tmp);
    ck_assert_int_eq(gst_write_file(path, csv.data, csv.len), 0);
    gs_buf_free(&csv);
    RUN_OK("gridnode", "--db", n->db, "import", "incidents", path);
    n->entered += count;
}

/* One `incident add` on n; returns the exit status (R holds the output). */
static int node_add_incident(node *n, const char *title)
{
    char grid[16];
    snprintf(grid, sizeof grid, "%s001", n->village);
    int st = RUN("gridnode", "--db", n->db, "incident", "add", "--grid", grid, "--category",
                 "safety.fire", "--title", title);
    if (st == 0)
        n->entered++;
    return st;
}

/* Starts `gridnode sync --timeout S --quiet` (plus extra, may be NULL) on n. */
static pid_t sync_spawn(node *n, int timeout_s, const char *extra)
{
    char t[16];
    snprintf(t, sizeof t, "%d", timeout_s);
    const char *argv[] = {"gridnode", "--db",    n->db, "sync", "--timeout",
                          t,          "--quiet", extra, NULL};
    return n->sync = gst_procs_spawn(&procs, argv, n->log);
}

/* A complete `gridnode sync` of n, which must exit 0. */
static void sync_ok(node *n)
{
    RUN_OK("gridnode", "--db", n->db, "sync", "--timeout", "60", "--quiet");
}

/* ---- reading the databases ------------------------------------------------------------ */

static sqlite3 *db_open(const char *path)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", path, db ? sqlite3_errmsg(db) : "no memory");
    sqlite3_busy_timeout(db, 10000);
    return db;
}

/* One integer from sql with an optional text parameter ?1 (NULL: none). */
static int64_t q_int(sqlite3 *db, const char *sql, const char *arg)
{
    sqlite3_stmt *st;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    if (arg)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    ck_assert_msg(step == SQLITE_ROW, "%s: %s", sql, sqlite3_errmsg(db));
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* q_int on the database at path. */
static int64_t q_path(const char *path, const char *sql, const char *arg)
{
    sqlite3 *db = db_open(path);
    int64_t v = q_int(db, sql, arg);
    sqlite3_close(db);
    return v;
}

/* How many changes of origin the hub holds. */
static int64_t hub_count(const char *origin)
{
    return q_path(hub_db, "SELECT count(*) FROM changes WHERE origin = ?1", origin);
}

/* How many changes from nodes (every origin but the city's own) the hub holds. */
static int64_t hub_node_changes(void)
{
    return q_path(hub_db, "SELECT count(*) FROM changes WHERE origin <> 'hub'", NULL);
}

/* One log (origin's changes in db) read in seq order: how many, whether the
 * seqs run 1..n and each stored hash follows from the one before, the chain
 * recomputed over the bodies (the digest) and the last stored hash. */
typedef struct chain {
    int64_t count;
    bool seqs_ok, hashes_ok;
    uint8_t digest[GS_HASH_LEN], last[GS_HASH_LEN];
} chain;

static chain read_chain(const char *path, const char *origin)
{
    chain c = {0, true, true, {0}, {0}};
    sqlite3 *db = db_open(path);
    sqlite3_stmt *st;
    ck_assert(sqlite3_prepare_v2(db,
                                 "SELECT seq, body, hash FROM changes WHERE origin = ?1 "
                                 "ORDER BY seq",
                                 -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        c.count++;
        if (sqlite3_column_int64(st, 0) != c.count)
            c.seqs_ok = false;
        gs_chain_next(c.digest, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
                      c.digest);
        if (sqlite3_column_bytes(st, 2) != GS_HASH_LEN)
            c.hashes_ok = false;
        else {
            memcpy(c.last, sqlite3_column_blob(st, 2), GS_HASH_LEN);
            if (memcmp(c.last, c.digest, GS_HASH_LEN))
                c.hashes_ok = false;
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return c;
}

static void hex(const uint8_t *h, char out[2 * GS_HASH_LEN + 1])
{
    for (int i = 0; i < GS_HASH_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* The hub's sync state of a node: acked_through and chain head. */
static void hub_node_state(const char *id, int64_t *acked, uint8_t head[GS_HASH_LEN])
{
    sqlite3 *db = db_open(hub_db);
    sqlite3_stmt *st;
    ck_assert(sqlite3_prepare_v2(db, "SELECT acked_through, chain_head FROM nodes WHERE id = ?1",
                                 -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "node %s is not in the hub's registry", id);
    *acked = sqlite3_column_int64(st, 0);
    memset(head, 0, GS_HASH_LEN);
    if (sqlite3_column_bytes(st, 1) == GS_HASH_LEN)
        memcpy(head, sqlite3_column_blob(st, 1), GS_HASH_LEN);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* The hub holds exactly n's changes (see the banner); the hub must be up
 * for `gridnode verify`. */
static void assert_hub_whole(node *n)
{
    chain mine = read_chain(n->db, n->id), hubs = read_chain(hub_db, n->id);
    char a[2 * GS_HASH_LEN + 1], b[2 * GS_HASH_LEN + 1];
    ck_assert_msg(mine.count == n->entered,
                  "%s: the node holds %" PRId64 " own changes, %d entered", n->id, mine.count,
                  n->entered);
    ck_assert_msg(mine.seqs_ok && mine.hashes_ok, "%s: the node's own chain is broken", n->id);
    ck_assert_msg(hubs.count == mine.count,
                  "%s: the hub holds %" PRId64 " changes, the node %" PRId64, n->id, hubs.count,
                  mine.count);
    ck_assert_msg(hubs.seqs_ok, "%s: the hub's seqs of the node are not 1..%" PRId64, n->id,
                  hubs.count);
    ck_assert_msg(hubs.hashes_ok, "%s: the hub's stored hashes do not chain", n->id);
    hex(mine.digest, a);
    hex(hubs.digest, b);
    ck_assert_msg(!memcmp(mine.digest, hubs.digest, GS_HASH_LEN), "%s: digest node %s, hub %s",
                  n->id, a, b);
    int64_t acked;
    uint8_t head[GS_HASH_LEN];
    hub_node_state(n->id, &acked, head);
    hex(mine.last, a);
    hex(head, b);
    ck_assert_msg(acked == mine.count, "%s: hub acked_through %" PRId64 ", node has %" PRId64,
                  n->id, acked, mine.count);
    ck_assert_msg(!memcmp(head, mine.last, GS_HASH_LEN), "%s: chain head node %s, hub %s", n->id, a,
                  b);
    ck_assert_int_eq(q_path(hub_db, "SELECT count(*) FROM quarantine WHERE origin = ?1", n->id), 0);
    int st = RUN("gridnode", "--db", n->db, "verify", "--timeout", "30");
    ck_assert_msg(st == 0 && strstr(R.out, "verified"), "%s: verify exit %d\n%s%s", n->id, st,
                  R.out, R.err);
}

/* No (origin, seq) is stored twice at the hub, and it holds nothing from an
 * origin that is not one of the nodes (or the city): no more, no fewer. */
static void assert_no_duplicates(void)
{
    ck_assert_int_eq(q_path(hub_db,
                            "SELECT count(*) FROM (SELECT origin, seq, count(*) FROM changes "
                            "GROUP BY origin, seq HAVING count(*) > 1)",
                            NULL),
                     0);
    int64_t total = 0;
    for (int i = 0; i < nnodes; i++)
        total += nodes[i].entered;
    ck_assert_int_eq(hub_node_changes(), total);
    /* in effect: one incident per change entered, none twice */
    ck_assert_int_eq(q_path(hub_db, "SELECT count(*) FROM incidents", NULL), total);
}

/* Every node holds exactly what the hub holds of its village from other
 * nodes, origin by origin (the downstream half of a sync). */
static void assert_village_copies(void)
{
    for (int i = 0; i < nnodes; i++)
        for (int j = 0; j < nnodes; j++) {
            if (i == j || strcmp(nodes[i].village, nodes[j].village))
                continue;
            int64_t at_hub = hub_count(nodes[j].id);
            int64_t at_node =
                q_path(nodes[i].db, "SELECT count(*) FROM changes WHERE origin = ?1", nodes[j].id);
            ck_assert_msg(at_node == at_hub,
                          "%s holds %" PRId64 " changes of %s (same village), the hub %" PRId64,
                          nodes[i].id, at_node, nodes[j].id, at_hub);
        }
}

/* ---- fixture --------------------------------------------------------------------------- */

static void setup(void)
{
    static bool registered;
    if (!registered) {
        atexit(kill_all); /* a failed assertion exits the forked test */
        registered = true;
    }
    tmp = gst_tmpdir();
    snprintf(hub_db, sizeof hub_db, "%s/hub.db", tmp);
    snprintf(hub_log, sizeof hub_log, "%s/hub.log", tmp);
    snprintf(hub_ep, sizeof hub_ep, "ipc://%s/hub.sock", tmp);
    hub_pid = 0;
    nnodes = 0;
    srand(SEED);
    hub_init();
}

static void teardown(void)
{
    memset(hub_args, 0, sizeof hub_args);
    kill_all();
    hub_pid = 0;
    gst_result_free(&R);
    gst_rmrf(tmp);
    free(tmp);
    tmp = NULL;
}

/* ---- fleet ------------------------------------------------------------------------------ */

/* FLEET_NODES nodes, two in each village, each with its changes entered. */
static void make_fleet(int changes)
{
    char v[FLEET_NODES / 2][13];
    ck_assert_int_eq(gst_villages(v, FLEET_NODES / 2), FLEET_NODES / 2);
    for (int i = 0; i < FLEET_NODES; i++)
        node_import(node_new(v[i / 2]), changes);
}

START_TEST(fleet_concurrent)
{
    int changes = scaled(FLEET_CHANGES, 50);
    make_fleet(changes);
    hub_start();
    int64_t t0 = gst_now_ms();
    for (int i = 0; i < nnodes; i++)
        sync_spawn(&nodes[i], 60, NULL);
    for (int i = 0; i < nnodes; i++) {
        int st = gst_procs_wait(&procs, nodes[i].sync, 240000);
        char *log = gst_read_file(nodes[i].log, NULL);
        ck_assert_msg(st == 0, "%s: gridnode sync status %d:\n%s", nodes[i].id, st, log);
        free(log);
    }
    double secs = (double)(gst_now_ms() - t0) / 1000.0;
    printf("fleet: %d nodes x %d changes synced concurrently in %.2f s (%.0f changes/s, with the "
           "downstream)\n",
           nnodes, changes, secs, (double)(nnodes * changes) / secs);
    for (int i = 0; i < nnodes; i++)
        assert_hub_whole(&nodes[i]);
    assert_no_duplicates();
    /* a second round brings each node what its neighbour sent after its pull */
    for (int i = 0; i < nnodes; i++)
        sync_ok(&nodes[i]);
    assert_village_copies();
    hub_stop();
}
END_TEST

/* Chaos bookkeeping: sync processes that ended are started again unless
 * they succeeded (a sync that exits 0 has sent everything it had). */
typedef struct chaos {
    int respawns, node_kills, hub_kills, mid_kills, ok_exits, topups;
    int64_t total;
    gs_buf at; /* what the hub held at each kill */
} chaos;

static void chaos_tick(chaos *c)
{
    for (int i = 0; i < nnodes; i++) {
        if (!nodes[i].sync)
            continue;
        int st = gst_procs_reap(&procs, nodes[i].sync, false);
        if (st == -1)
            continue;
        nodes[i].sync = 0;
        if (st == 0)
            c->ok_exits++;
        else {
            sync_spawn(&nodes[i], 1, NULL);
            c->respawns++;
        }
    }
}

/* Waits ms, restarting ended syncs meanwhile. */
static void chaos_wait(chaos *c, int ms)
{
    int64_t end = gst_now_ms() + ms;
    do {
        chaos_tick(c);
        gst_sleep_ms(ms < 10 ? ms : 10);
    } while (gst_now_ms() < end);
}

/* The greatest hub_seq: grows with every commit. */
static int64_t hub_head(void)
{
    return q_path(hub_db, "SELECT coalesce(max(hub_seq), 0) FROM changes", NULL);
}

START_TEST(fleet_chaos)
{
    int changes = scaled(FLEET_CHANGES, 50);
    make_fleet(changes);
    chaos c = {0};
    c.total = (int64_t)nnodes * changes;
    hub_start();
    for (int i = 0; i < nnodes; i++)
        sync_spawn(&nodes[i], 1, NULL);
    /* Each round: wait until this hub has committed something, let it run a
     * random while (sometimes killing a few syncs), SIGKILL it, leave it down
     * a random while, start it again. */
    for (int round = 0; round < 80 && c.mid_kills < HUB_KILLS; round++) {
        int64_t base = hub_head(), end = gst_now_ms() + 5000;
        while (hub_head() == base && gst_now_ms() < end)
            chaos_wait(&c, 10);
        /* a random while, cut short once a share of the total came in, so
         * that the kills spread over the whole sync on a fast machine too */
        int64_t run = rand() % 200, budget = c.total / (2 * HUB_KILLS), t0 = gst_now_ms();
        bool node_kill = rand() % 2;
        int64_t from = hub_node_changes();
        while (gst_now_ms() - t0 < run && hub_node_changes() - from < budget) {
            chaos_wait(&c, 10);
            if (node_kill && gst_now_ms() - t0 >= run / 2) {
                node_kill = false;
                for (int k = 1 + rand() % 3; k > 0; k--) {
                    node *n = &nodes[rand() % nnodes];
                    if (n->sync) {
                        gst_procs_kill9(&procs, n->sync);
                        c.node_kills++;
                        sync_spawn(n, 1, NULL);
                    }
                }
            }
        }
        hub_kill();
        c.hub_kills++;
        int64_t have = hub_node_changes();
        gs_buf_printf(&c.at, " %" PRId64, have);
        if (have < c.total) {
            c.mid_kills++;
        } else {
            /* everything is in before enough kills (a fast machine): enter
             * more, as staff would, and go on */
            for (int i = 0; i < nnodes; i++)
                node_import(&nodes[i], scaled(200, 10));
            c.total += (int64_t)nnodes * scaled(200, 10);
            c.topups++;
            for (int i = 0; i < nnodes; i++)
                if (!nodes[i].sync)
                    sync_spawn(&nodes[i], 1, NULL);
        }
        chaos_wait(&c, rand() % 300);
        hub_start();
    }
    printf("chaos: hub killed %d times (%d with changes still to come), %d syncs killed, %d "
           "restarted after failing, %d ended well, %d top-ups\n",
           c.hub_kills, c.mid_kills, c.node_kills, c.respawns, c.ok_exits, c.topups);
    printf("chaos: changes at the hub at each kill (of %" PRId64 "):%s\n", c.total, c.at.data);
    gs_buf_free(&c.at);
    ck_assert_msg(c.mid_kills >= HUB_KILLS,
                  "only %d hub kills came while changes were still flowing (want %d)", c.mid_kills,
                  HUB_KILLS);
    /* the end: every straggler killed, one clean sync of every node */
    for (int i = 0; i < nnodes; i++)
        if (nodes[i].sync) {
            gst_procs_kill9(&procs, nodes[i].sync);
            nodes[i].sync = 0;
        }
    if (!hub_pid)
        hub_start();
    for (int i = 0; i < nnodes; i++)
        sync_spawn(&nodes[i], 60, NULL);
    for (int i = 0; i < nnodes; i++) {
        int st = gst_procs_wait(&procs, nodes[i].sync, 240000);
        char *log = gst_read_file(nodes[i].log, NULL);
        size_t len = log ? strlen(log) : 0;
        ck_assert_msg(st == 0, "%s: final gridnode sync status %d; end of its log:\n%s",
                      nodes[i].id, st, log ? log + (len > 3000 ? len - 3000 : 0) : "");
        free(log);
        nodes[i].sync = 0;
    }
    for (int i = 0; i < nnodes; i++)
        assert_hub_whole(&nodes[i]);
    assert_no_duplicates();
    hub_stop();
}
END_TEST

/* ---- protocol --------------------------------------------------------------------------- */

/* A DEALER speaking the sync protocol as the node of a bundle. */
typedef struct peer {
    void *ctx, *sock;
    gs_bundle b;
    gs_buf last; /* the encoding of the last message sent */
} peer;

static void peer_open(peer *p, const char *bundle)
{
    memset(p, 0, sizeof *p);
    size_t len;
    char *text = gst_read_file(bundle, &len);
    ck_assert_msg(text != NULL, "%s: %s", bundle, strerror(errno));
    gs_errbuf eb = {{0}};
    ck_assert_msg(gs_bundle_parse(text, len, &p->b, &eb) == GS_OK, "%s: %s", bundle, eb.msg);
    free(text);
    ck_assert_msg(p->b.node_secret_key[0], "the bundle holds no secret key");
    p->ctx = zmq_ctx_new();
    p->sock = zmq_socket(p->ctx, ZMQ_DEALER);
    ck_assert(p->sock != NULL);
    int zero = 0, tmo = 15000;
    zmq_setsockopt(p->sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(p->sock, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    zmq_setsockopt(p->sock, ZMQ_SNDTIMEO, &tmo, sizeof tmo);
    ck_assert(zmq_setsockopt(p->sock, ZMQ_CURVE_SERVERKEY, p->b.hub_public_key, 40) == 0);
    ck_assert(zmq_setsockopt(p->sock, ZMQ_CURVE_PUBLICKEY, p->b.node_public_key, 40) == 0);
    ck_assert(zmq_setsockopt(p->sock, ZMQ_CURVE_SECRETKEY, p->b.node_secret_key, 40) == 0);
    ck_assert_msg(zmq_connect(p->sock, p->b.hub_endpoint) == 0, "connect %s: %s", p->b.hub_endpoint,
                  zmq_strerror(errno));
}

static void peer_close(peer *p)
{
    zmq_close(p->sock);
    zmq_ctx_term(p->ctx);
    gs_buf_free(&p->last);
}

static void peer_send_raw(peer *p, const void *data, size_t len)
{
    ck_assert_msg(zmq_send(p->sock, data, len, 0) == (int)len, "send: %s", zmq_strerror(errno));
}

/* Encodes and sends m; the bytes stay in p->last for a verbatim replay. */
static void peer_send(peer *p, const gs_msg *m)
{
    gs_buf_reset(&p->last);
    ck_assert_int_eq(gs_msg_encode(m, &gs_limits_default, &p->last), GS_OK);
    peer_send_raw(p, p->last.data, p->last.len);
}

/* Receives and decodes the hub's next message (15 s at most). */
static void peer_recv(peer *p, gs_msg *m)
{
    zmq_msg_t raw;
    zmq_msg_init(&raw);
    int n = zmq_msg_recv(&raw, p->sock, 0);
    ck_assert_msg(n >= 0, "no answer from the hub: %s", zmq_strerror(errno));
    gs_errbuf eb = {{0}};
    memset(m, 0, sizeof *m);
    int rc = gs_msg_decode(zmq_msg_data(&raw), zmq_msg_size(&raw), &gs_limits_default, m, &eb);
    zmq_msg_close(&raw);
    ck_assert_msg(rc == GS_OK, "the hub's answer does not decode: %s", eb.msg);
}

/* Receives the next message, which must be of type t. */
static void peer_expect(peer *p, gs_msg_type t, gs_msg *m)
{
    peer_recv(p, m);
    ck_assert_msg(m->type == t, "the hub answered %s (%s %s), want %s; hub log:\n%s",
                  gs_msg_name(m->type), m->code, m->text, gs_msg_name(t), log_tail(hub_log));
}

/* HELLO with pending changes to send; the WELCOME in w. */
static void peer_say_hello(peer *p, uint64_t pending, gs_msg *w)
{
    gs_msg m = {0};
    m.type = GS_MSG_HELLO;
    m.version = GS_PROTO_VERSION;
    snprintf(m.node_id, sizeof m.node_id, "%s", p->b.node_id);
    snprintf(m.software, sizeof m.software, "test_sync");
    m.pending = pending;
    m.node_time = gs_wall_ms();
    peer_send(p, &m);
    peer_expect(p, GS_MSG_WELCOME, w);
}

static void peer_hello(peer *p, uint64_t want_acked)
{
    gs_msg w;
    peer_say_hello(p, 0, &w);
    ck_assert_int_eq(w.acked_through, want_acked);
    gs_msg_clear(&w);
}

/* A PUSH of the node's own changes first..last, read from its database. */
static void make_push(const node *n, uint64_t first, uint64_t last, gs_msg *m)
{
    memset(m, 0, sizeof *m);
    m->type = GS_MSG_PUSH;
    m->version = GS_PROTO_VERSION;
    m->first_seq = first;
    sqlite3 *db = db_open(n->db);
    sqlite3_stmt *st;
    ck_assert(sqlite3_prepare_v2(db,
                                 "SELECT seq, body, hash FROM changes WHERE origin = ?1 AND "
                                 "seq BETWEEN ?2 AND ?3 ORDER BY seq",
                                 -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_text(st, 1, n->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)first);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)last);
    while (sqlite3_step(st) == SQLITE_ROW)
        ck_assert_int_eq(gs_msg_add_change(m, sqlite3_column_blob(st, 1),
                                           (size_t)sqlite3_column_bytes(st, 1),
                                           sqlite3_column_blob(st, 2), 0),
                         GS_OK);
    sqlite3_finalize(st);
    sqlite3_close(db);
    ck_assert_int_eq(m->nchanges, last - first + 1);
}

/* Sends a PUSH of first..last and expects ACK acked_through = want. */
static void push_expect_ack(peer *p, const node *n, uint64_t first, uint64_t last, uint64_t want)
{
    gs_msg m, a;
    make_push(n, first, last, &m);
    peer_send(p, &m);
    gs_msg_clear(&m);
    peer_expect(p, GS_MSG_ACK, &a);
    ck_assert_msg(a.acked_through == want,
                  "PUSH %" PRIu64 "..%" PRIu64 ": ACK %" PRIu64 ", want %" PRIu64, first, last,
                  a.acked_through, want);
    gs_msg_clear(&a);
}

START_TEST(push_replay_gap_and_chain)
{
    node *n = node_new("411122101201");
    node_import(n, 300);
    hub_start();
    peer p;
    peer_open(&p, n->bundle);
    peer_hello(&p, 0);

    /* 1..100 acknowledged, stored once */
    push_expect_ack(&p, n, 1, 100, 100);
    ck_assert_int_eq(hub_count(n->id), 100);

    /* the same PUSH again, byte for byte: same ACK, nothing added */
    peer_send_raw(&p, p.last.data, p.last.len);
    gs_msg a;
    peer_expect(&p, GS_MSG_ACK, &a);
    ck_assert_int_eq(a.acked_through, 100);
    gs_msg_clear(&a);
    ck_assert_int_eq(hub_count(n->id), 100);

    /* a gap (151.. when 101 is next): WELCOME with acked_through, the rewind */
    gs_msg m;
    make_push(n, 151, 200, &m);
    peer_send(&p, &m);
    gs_msg_clear(&m);
    gs_msg w;
    peer_expect(&p, GS_MSG_WELCOME, &w);
    ck_assert_int_eq(w.acked_through, 100);
    gs_msg_clear(&w);
    ck_assert_int_eq(hub_count(n->id), 100);

    /* an overlap (51..150): the known prefix skipped, the rest applied */
    push_expect_ack(&p, n, 51, 150, 150);
    ck_assert_int_eq(hub_count(n->id), 150);

    peer_close(&p);

    /* a new connection: PUSH before HELLO is refused; after HELLO the hub
     * remembers 150, and an old PUSH replayed changes nothing */
    peer q;
    peer_open(&q, n->bundle);
    make_push(n, 151, 160, &m);
    peer_send(&q, &m);
    gs_msg_clear(&m);
    gs_msg e;
    peer_expect(&q, GS_MSG_ERROR, &e);
    gs_msg_clear(&e);
    ck_assert_int_eq(hub_count(n->id), 150);
    peer_hello(&q, 150);
    push_expect_ack(&q, n, 1, 100, 150);
    ck_assert_int_eq(hub_count(n->id), 150);

    /* change 154 altered in flight breaks the chain: ERROR naming it; the
     * intact 151..153 before it are kept, nothing from 154 on */
    make_push(n, 151, 160, &m);
    m.changes[3].body[m.changes[3].len - 1] ^= 1;
    peer_send(&q, &m);
    gs_msg_clear(&m);
    peer_expect(&q, GS_MSG_ERROR, &e);
    ck_assert_str_eq(e.code, "GS_ECHAIN");
    ck_assert_msg(strstr(e.text, "154") != NULL, "ERROR does not name change 154: %s", e.text);
    gs_msg_clear(&e);
    ck_assert_int_eq(hub_count(n->id), 153);
    ck_assert_int_eq(q_path(hub_db, "SELECT max(seq) FROM changes WHERE origin = ?1", n->id), 153);
    peer_close(&q);

    /* the real client, whose log is intact, finishes the job */
    int st = RUN("gridnode", "--db", n->db, "sync", "--timeout", "30", "--quiet");
    ck_assert_msg(st == 0, "gridnode sync after a broken PUSH: exit %d: %s; hub log:\n%s", st,
                  R.err, log_tail(hub_log));
    assert_hub_whole(n);
    assert_no_duplicates();

    /* what the hub says it holds is what it holds */
    peer r;
    peer_open(&r, n->bundle);
    peer_hello(&r, 300);
    peer_close(&r);
}
END_TEST

/* RETURN {origin, changes}: the hub takes back only the city's own changes,
 * proved by their keyed chain hash. A village knows the hub's head (in every
 * WELCOME) and could compute an unkeyed hash that follows from it: a made-up
 * "city decision" is refused, logged, and closes nothing; the city's own
 * change, given back again, is known and changes nothing; a RETURN of
 * anything but a city chain is an ERROR. */
START_TEST(return_takes_only_the_citys_changes)
{
    node *n = node_new("411122101201");
    hub_start();
    int64_t before = q_path(hub_db, "SELECT count(*) FROM changes", NULL);
    peer p;
    peer_open(&p, n->bundle);
    gs_msg w;
    peer_say_hello(&p, 0, &w);
    ck_assert_int_eq(w.nheads, 1); /* the reference data, on "hub" */
    ck_assert_str_eq(w.heads[0].origin, "hub");
    uint64_t head = w.heads[0].seq;
    ck_assert_int_eq((int64_t)head, before);
    uint8_t head_hash[GS_HASH_LEN];
    memcpy(head_hash, w.heads[0].hash, GS_HASH_LEN);
    gs_msg_clear(&w);

    /* the hub's own last change, read from its log */
    sqlite3 *db = db_open(hub_db);
    sqlite3_stmt *st;
    ck_assert(sqlite3_prepare_v2(db, "SELECT body FROM changes WHERE origin = 'hub' AND seq = ?1",
                                 -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)head);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    gs_buf body = GS_BUF_INIT;
    gs_buf_append(&body, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);

    gs_msg r = {0}, a;
    r.type = GS_MSG_RETURN;
    r.version = GS_PROTO_VERSION;
    strcpy(r.origin, "hub");
    r.first_seq = head;
    ck_assert_int_eq(gs_msg_add_change(&r, body.data, body.len, head_hash, 0), GS_OK);
    peer_send(&p, &r);
    gs_msg_clear(&r);
    peer_expect(&p, GS_MSG_RETURNED, &a);
    ck_assert_msg(a.seq == head && !a.code[0], "RETURNED %" PRIu64 " %s %s", a.seq, a.code,
                  a.text);
    gs_msg_clear(&a);

    /* a made-up decision numbered head + 1, hashed as a village could */
    gs_change c = {0};
    gs_errbuf eb = {{0}};
    ck_assert_int_eq(gs_change_decode(body.data, body.len, &c, &eb), GS_OK);
    c.seq = head + 1;
    gs_buf forged = GS_BUF_INIT;
    gs_change_encode(&c, &forged);
    gs_change_clear(&c);
    uint8_t h[GS_HASH_LEN];
    gs_chain_next(head_hash, forged.data, forged.len, h);
    r.type = GS_MSG_RETURN;
    r.version = GS_PROTO_VERSION;
    strcpy(r.origin, "hub");
    r.first_seq = head + 1;
    ck_assert_int_eq(gs_msg_add_change(&r, forged.data, forged.len, h, 0), GS_OK);
    peer_send(&p, &r);
    gs_msg_clear(&r);
    peer_expect(&p, GS_MSG_RETURNED, &a);
    ck_assert_msg(a.seq == head && !strcmp(a.code, "GS_EAUTH") && strstr(a.text, "not the city's"),
                  "RETURNED %" PRIu64 " %s %s", a.seq, a.code, a.text);
    gs_msg_clear(&a);
    ck_assert_int_eq(q_path(hub_db, "SELECT count(*) FROM changes", NULL), before);
    ck_assert_int_eq(q_path(hub_db, "SELECT count(*) FROM meta WHERE key = 'own_closed'", NULL),
                     0);

    /* a RETURN of the node's own chain, or of no chain at all: refused */
    r.type = GS_MSG_RETURN;
    r.version = GS_PROTO_VERSION;
    snprintf(r.origin, sizeof r.origin, "%s", n->id);
    r.first_seq = 1;
    peer_send(&p, &r);
    gs_msg_clear(&r);
    peer_expect(&p, GS_MSG_ERROR, &a);
    ck_assert_str_eq(a.code, "GS_EINVAL");
    gs_msg_clear(&a);
    peer_close(&p);
    gs_buf_free(&body);
    gs_buf_free(&forged);
    ck_assert_msg(hub_log_has("RETURN refused"), "the hub did not log the made-up decision");
}
END_TEST

/* A node registered under a name of the city's chains ("hub.7"; gridhub
 * node add refuses only "hub" itself) would pass its changes for the city's:
 * the hub refuses its HELLO, saying why, and stores nothing of it. */
START_TEST(node_named_like_a_city_chain_refused)
{
    char bundle[PATH_MAX], db[PATH_MAX];
    snprintf(bundle, sizeof bundle, "%s/hub7.bundle", tmp);
    snprintf(db, sizeof db, "%s/hub7.db", tmp);
    /* registration refuses the city's names */
    int st = RUN("gridhub", "--db", hub_db, "node", "add", "--village", "411122101201", "--name",
                 "impostor", "--id", "hub.7", "--endpoint", hub_ep, "--out", bundle);
    ck_assert_msg(st != 0 && strstr(R.err, "hub.7") && strstr(R.err, "city"), "exit %d: %s", st,
                  R.err);
    ck_assert_int_eq(access(bundle, F_OK), -1);
    /* a registry and a PC altered behind the programs' backs: the hub still
     * refuses the HELLO */
    RUN_OK("gridhub", "--db", hub_db, "node", "add", "--village", "411122101201", "--name",
           "impostor", "--id", "impostor-7", "--endpoint", hub_ep, "--out", bundle);
    RUN_OK("gridnode", "--db", db, "init", "--bundle", bundle);
    RUN_OK("gridnode", "--db", db, "incident", "add", "--grid", "411122101201001", "--category",
           "dispute", "--title", "冒名");
    RUN_OK("sqlite3", hub_db, "UPDATE nodes SET id = 'hub.7' WHERE id = 'impostor-7'");
    RUN_OK("sqlite3", db, "UPDATE meta SET value = 'hub.7' WHERE key = 'node_id'");
    hub_start();
    st = RUN("gridnode", "--db", db, "sync", "--timeout", "10", "--quiet");
    ck_assert_msg(st != 0 && strstr(R.err, "city's own chains"), "exit %d: %s", st, R.err);
    ck_assert_int_eq(hub_count("hub.7"), 0);
    hub_stop();
}
END_TEST

/* Two connections of one node (`sync --watch` and a `sync` typed by hand):
 * what one pushed, the other pushes again. DESIGN.md: "one that overlaps is
 * applied idempotently (the known prefix is skipped)". */
START_TEST(push_same_changes_from_two_connections)
{
    node *n = node_new("411122101201");
    node_import(n, 200);
    hub_start();
    peer a, b;
    peer_open(&a, n->bundle);
    peer_open(&b, n->bundle);
    peer_hello(&a, 0);
    peer_hello(&b, 0);
    push_expect_ack(&b, n, 1, 100, 100);
    push_expect_ack(&a, n, 1, 100, 100); /* hub's session of a still thinks 0 */
    ck_assert_int_eq(hub_count(n->id), 100);
    push_expect_ack(&a, n, 101, 150, 150);
    ck_assert_int_eq(hub_count(n->id), 150);
    peer_close(&a);
    peer_close(&b);
    sync_ok(n);
    assert_hub_whole(n);
}
END_TEST

/* Flow control: the hub shares its in-flight budget (--inflight-mib) among
 * the sessions that are active, as the window and batch size it grants in
 * WELCOME and ACK; the grants never add up to more than the budget (but for
 * one small batch each); a node with nothing left to send holds none of it;
 * and gridnode keeps to its grant. */
static uint64_t peer_hello_grant(peer *p, uint64_t pending)
{
    gs_msg w;
    peer_say_hello(p, pending, &w);
    ck_assert_msg(w.window >= 1 && w.window <= 8 && w.batch_bytes >= 8192 &&
                      w.batch_bytes <= 512 * 1024,
                  "WELCOME grants %" PRIu64 " x %" PRIu64 " bytes", w.window, w.batch_bytes);
    uint64_t g = w.window * w.batch_bytes;
    gs_msg_clear(&w);
    return g;
}

START_TEST(grants_share_the_inflight_budget)
{
    const uint64_t budget = 1u << 20, least = 8192;
    hub_args[0] = "--inflight-mib";
    hub_args[1] = "1";
    hub_args[2] = "-vv";
    char v[6][13];
    ck_assert_int_eq(gst_villages(v, 6), 6);
    node *n[6];
    for (int i = 0; i < 6; i++)
        n[i] = node_new(v[i]);
    hub_start();
    /* five sessions with 1,000 changes each to send: the first may have the
     * whole budget, the others what is left of it, or the smallest grant */
    peer p[5];
    uint64_t sum = 0;
    for (int i = 0; i < 5; i++) {
        peer_open(&p[i], n[i + 1]->bundle);
        uint64_t g = peer_hello_grant(&p[i], 1000);
        sum += g;
        printf("grants: session %d of %d (1,000 changes to send): %" PRIu64 " bytes\n", i + 1,
               i + 1, g);
        ck_assert_msg(sum <= budget + (uint64_t)(i + 1) * least,
                      "%d sessions were granted %" PRIu64 " bytes in all: over the budget of "
                      "%" PRIu64,
                      i + 1, sum, budget);
        gst_sleep_ms(150); /* the hub counts its sessions at most every 100 ms */
    }
    ck_assert_msg(sum > budget / 2, "five sessions got only %" PRIu64 " bytes of %" PRIu64, sum,
                  budget);
    /* they say HELLO again with nothing to send: their grants are free */
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(peer_hello_grant(&p[i], 0), least);
    gst_sleep_ms(150);
    /* the sixth node syncs while the five are connected: its share is at
     * most 1/6 of the budget and a batch at most half a share, so it takes
     * at least its bytes / (budget / 12) pushes, and the budget is its to
     * use, so not many more */
    node_import(n[0], scaled(3000, 1000));
    sync_ok(n[0]);
    assert_hub_whole(n[0]);
    int64_t bytes =
        q_path(n[0]->db, "SELECT sum(length(body)) FROM changes WHERE origin = ?1", n[0]->id);
    char *log = gst_read_file(hub_log, NULL);
    ck_assert(log != NULL);
    long pushes = 0;
    for (const char *l = strstr(log, "group of "); l; l = strstr(l + 1, "group of "))
        pushes += strtol(l + 9, NULL, 10);
    free(log);
    long fewest = (long)(bytes / (int64_t)(budget / 12));
    printf("grants: %d changes, %" PRId64 " bytes went in %ld pushes (at least %ld by the "
           "grant; 2 at gridnode's own 512 KiB)\n",
           n[0]->entered, bytes, pushes, fewest);
    ck_assert_msg(pushes >= fewest,
                  "%" PRId64 " bytes in %ld pushes: the node did not keep to its grant", bytes,
                  pushes);
    ck_assert_msg(pushes <= 4 * fewest + 4,
                  "%" PRId64 " bytes took %ld pushes: the idle sessions kept the budget", bytes,
                  pushes);
    for (int i = 0; i < 5; i++)
        peer_close(&p[i]);
}
END_TEST

/* A HELLO's visit (last seen, software, pending) is written with the next
 * push's commit, or on its own once the hub is idle: a sync with nothing to
 * push is still seen by the city within a few seconds. */
START_TEST(visit_recorded_without_a_push)
{
    node *n = node_new("411122101201");
    hub_start();
    int64_t before = (int64_t)gs_wall_ms();
    sync_ok(n); /* nothing to push: HELLO, WELCOME, PULL, CHANGES */
    int64_t seen = 0, end = gst_now_ms() + 5000;
    while ((seen = q_path(hub_db, "SELECT last_seen_ms FROM nodes WHERE id = ?1", n->id)) <
               before &&
           gst_now_ms() < end)
        gst_sleep_ms(50);
    ck_assert_msg(seen >= before,
                  "5 s after a sync with nothing to push the hub has not recorded the visit "
                  "(last_seen_ms %" PRId64 ", sync started at %" PRId64 ")",
                  seen, before);
    ck_assert_int_eq(q_path(hub_db, "SELECT pending FROM nodes WHERE id = ?1", n->id), 0);
    ck_assert_int_eq(q_path(hub_db, "SELECT software LIKE 'gridnode %' FROM nodes WHERE id = ?1",
                            n->id),
                     1);
    /* and a node list read at that moment shows it */
    RUN_OK("gridhub", "--db", hub_db, "node", "list");
    ck_assert_msg(strstr(R.out, n->id) != NULL, "node list does not show %s:\n%s", n->id, R.out);
}
END_TEST

/* `gridhub node list` shows what a node still has to send: the pending count
 * its HELLO announced, less what the hub has acknowledged since, written with
 * the commit that acknowledges it; not the count it started with (a node
 * whose `status` says 0 was shown with its whole backlog). */
START_TEST(pending_is_what_remains)
{
    node *n = node_new("411122101201");
    node_import(n, 300);
    hub_start();
    peer p;
    peer_open(&p, n->bundle);
    gs_msg w;
    peer_say_hello(&p, 300, &w);
    gs_msg_clear(&w);
    push_expect_ack(&p, n, 1, 100, 100);
    ck_assert_int_eq(q_path(hub_db, "SELECT pending FROM nodes WHERE id = ?1", n->id), 200);
    push_expect_ack(&p, n, 101, 300, 300);
    ck_assert_int_eq(q_path(hub_db, "SELECT pending FROM nodes WHERE id = ?1", n->id), 0);
    peer_close(&p);

    /* the real client, with a backlog of its own */
    node_import(n, 600);
    sync_ok(n);
    RUN_OK("gridnode", "--db", n->db, "status", "--json");
    ck_assert_msg(strstr(R.out, "\"pending\":0"), "gridnode status: %s", R.out);
    /* its PULL says it has pushed all it had (this node's HELLO counted from
     * a stale acked_through: the pushes above were not its own): written with
     * the next commit, or within seconds when the hub is idle, as a visit is */
    for (int64_t end = gst_now_ms() + 5000;; gst_sleep_ms(100)) {
        RUN_OK("gridhub", "--db", hub_db, "node", "list", "--json");
        if (strstr(R.out, "\"pending\":0") || gst_now_ms() > end)
            break;
    }
    ck_assert_msg(strstr(R.out, "\"pending\":0"),
                  "gridhub node list, 5 s after a sync that sent all it had: %s", R.out);
    RUN_OK("gridhub", "--db", hub_db, "node", "list");
    ck_assert_msg(strstr(R.out, n->id), "%s", R.out);
    hub_stop();
}
END_TEST

/* How many lines of the hub's log hold s, and the sum of the N of the lines
 * "(N more dropped like the last not logged)" that follow one of them
 * (before the next line of s). */
static void count_drops(const char *s, long *lines, long *suppressed)
{
    char *log = gst_read_file(hub_log, NULL);
    *lines = *suppressed = 0;
    bool after = false;
    for (char *l = log; l && *l;) {
        char *end = strchr(l, '\n');
        if (end)
            *end = '\0';
        const char *more = strstr(l, "gridhub: (");
        if (strstr(l, s)) {
            (*lines)++;
            after = true;
        } else if (after && more && strstr(l, "more dropped like the last")) {
            *suppressed += strtol(more + 10, NULL, 10);
            after = false;
        }
        l = end ? end + 1 : l + strlen(l);
    }
    free(log);
}

/* Every frame the hub drops is logged, rate-limited: at most one line a
 * second per reason, naming the node and why, and how many more were not
 * logged; a frame over ZMQ_MAXMSGSIZE, which ZeroMQ drops with its
 * connection, after HELLO (named by node) and before any message. */
START_TEST(dropped_frames_are_logged)
{
    node *n = node_new("411122101201");
    hub_start();
    peer p;
    peer_open(&p, n->bundle);
    peer_hello(&p, 0);
    /* 40 frames that are not messages, as fast as the hub answers them */
    for (int i = 0; i < 40; i++) {
        peer_send_raw(&p, "\xc1garbage", 8);
        gs_msg e;
        peer_expect(&p, GS_MSG_ERROR, &e);
        gs_msg_clear(&e);
    }
    char want[160];
    snprintf(want, sizeof want, "dropped a frame from node %s", n->id);
    long lines = 0, more = 0;
    for (int64_t end = gst_now_ms() + 5000; gst_now_ms() < end; gst_sleep_ms(100)) {
        count_drops(want, &lines, &more);
        if (lines + more >= 40)
            break;
    }
    ck_assert_msg(lines + more == 40, "%ld lines and %ld not logged for 40 frames:\n%s", lines,
                  more, log_tail(hub_log));
    ck_assert_msg(lines >= 1 && lines <= 5, "%ld lines for 40 frames in a moment", lines);
    ck_assert(hub_log_has("message: truncated or malformed"));
    /* a message of two frames: another reason, its own line */
    ck_assert_int_eq(zmq_send(p.sock, "a", 1, ZMQ_SNDMORE), 1);
    peer_send_raw(&p, "b", 1);
    gs_msg e;
    peer_expect(&p, GS_MSG_ERROR, &e);
    gs_msg_clear(&e);
    ck_assert(hub_log_has("a message of more than one frame"));
    /* the sync ends (its last CHANGES): closing now is no drop */
    gs_msg pull = {0}, ch;
    pull.type = GS_MSG_PULL;
    pull.version = GS_PROTO_VERSION;
    peer_send(&p, &pull);
    do {
        peer_expect(&p, GS_MSG_CHANGES, &ch);
        pull.since = ch.next;
        memcpy(pull.log_hash, ch.log_hash, GS_HASH_LEN);
        bool last = !ch.more;
        gs_msg_clear(&ch);
        if (last)
            break;
        peer_send(&p, &pull);
    } while (true);
    peer_close(&p);
    gst_sleep_ms(500);
    char *log = gst_read_file(hub_log, NULL);
    ck_assert_msg(log && !strstr(log, "dropped a connection"), "a finished sync logged as "
                                                               "dropped:\n%s", log);
    free(log);

    /* over the frame limit after HELLO: ZeroMQ drops it with the connection */
    size_t big_len = gs_limits_default.max_msg_bytes + 1;
    char *big = calloc(1, big_len);
    ck_assert_ptr_nonnull(big);
    peer q;
    peer_open(&q, n->bundle);
    peer_hello(&q, 0);
    peer_send_raw(&q, big, big_len);
    snprintf(want, sizeof want, "dropped a connection from node %s", n->id);
    ck_assert_msg(hub_log_has(want) && hub_log_has("ZMQ_MAXMSGSIZE"), "%s", log_tail(hub_log));
    peer_close(&q);
    /* and as the first frame of a connection */
    peer r;
    peer_open(&r, n->bundle);
    peer_send_raw(&r, big, big_len);
    ck_assert_msg(hub_log_has("closed before any message of it got through"), "%s",
                  log_tail(hub_log));
    peer_close(&r);
    free(big);
    /* the hub goes on */
    sync_ok(n);
    hub_stop();
}
END_TEST

/* ---- restore ------------------------------------------------------------------------------ */

START_TEST(hub_restored_from_backup)
{
    int k = scaled(1000, 40);
    node *n1 = node_new("411122101201"), *n2 = node_new("411102001001"),
         *n3 = node_new("411171102201");
    node_import(n1, k);
    node_import(n2, k);
    node_import(n3, k);
    hub_start();
    sync_ok(n1);
    sync_ok(n2);
    sync_ok(n3);
    hub_stop();
    char backup[PATH_MAX];
    snprintf(backup, sizeof backup, "%s/hub-backup.db", tmp);
    gst_db_backup(hub_db, backup);

    /* life goes on after the backup: more data, synced */
    node_import(n1, k);
    node_import(n2, k / 2);
    hub_start();
    sync_ok(n1);
    sync_ok(n2);
    sync_ok(n3);
    assert_hub_whole(n1);
    assert_hub_whole(n2);
    hub_stop();

    /* the disk dies; the backup comes back */
    gst_db_restore(backup, hub_db);
    ck_assert_int_eq(hub_count(n1->id), k);
    ck_assert_int_eq(hub_count(n2->id), k);
    hub_start();
    sync_ok(n2);
    sync_ok(n1);
    sync_ok(n3);
    assert_hub_whole(n1);
    assert_hub_whole(n2);
    assert_hub_whole(n3);
    assert_no_duplicates();
    hub_stop();
}
END_TEST

/* After a restore the hub numbers the re-sent changes anew (hub_seq), so a
 * node's downstream cursor may point into changes it never had. Three nodes
 * of one village: b's cursor ends between b's own and c's changes; after the
 * restore c re-sends first, its changes take the hub_seqs below b's cursor. */
/* Syncs a, b and c rounds times, stops the hub and copies its database to
 * backup (PATH_MAX), as the city's operator would back it up. */
static void synced_backup(node *a, node *b, node *c, int rounds, char *backup)
{
    hub_start();
    for (int round = 0; round < rounds; round++) {
        sync_ok(a);
        sync_ok(b);
        sync_ok(c);
    }
    hub_stop();
    snprintf(backup, PATH_MAX, "%s/hub-backup.db", tmp);
    gst_db_backup(hub_db, backup);
}

START_TEST(restore_keeps_village_copies_whole)
{
    int k = scaled(200, 20);
    const char *v = "411122101201";
    node *a = node_new(v), *b = node_new(v), *c = node_new(v);
    node_import(a, k);
    node_import(b, k);
    node_import(c, k);
    char backup[PATH_MAX];
    synced_backup(a, b, c, 2, backup);

    hub_start();
    node_import(b, k);
    sync_ok(b); /* b's cursor: the head, its own new changes */
    sync_ok(a); /* a has b's new changes */
    node_import(c, k);
    sync_ok(c); /* c's new changes, after b's; b has not seen them */
    hub_stop();

    gst_db_restore(backup, hub_db);
    hub_start();
    /* A downstream cursor is a hub_seq, and a restored hub numbers again from
     * its backup's head; the log hash a node keeps with its cursor no longer
     * matches the hub's there, so the hub sends the village's changes from
     * the start once, and the node says so. Plain syncs, nothing by hand. */
    for (int round = 0; round < 2; round++) {
        node *order[] = {c, b, a}; /* c re-sends first: its changes take the lost hub_seqs */
        for (int w = 0; w < 3; w++) {
            sync_ok(order[w]);
            bool said = strstr(R.err, "重新接收") != NULL;
            ck_assert_msg(said == (round == 0), "round %d, node %d: %s", round, w, R.err);
        }
    }
    assert_hub_whole(a);
    assert_hub_whole(b);
    assert_hub_whole(c);
    assert_no_duplicates();
    assert_village_copies();
    hub_stop();
}
END_TEST

/* After a restore a node can receive another node's later edit of a record
 * before the record's creation, which its owner re-sends only at its own next
 * sync. Staff editing it there are told why it cannot be saved yet, nothing
 * is stored, and the edit goes through once the creation has arrived. */
START_TEST(restore_edit_before_creation_explained)
{
    const char *v = "411122101201";
    node *a = node_new(v), *b = node_new(v), *c = node_new(v);
    char backup[PATH_MAX];
    synced_backup(a, b, c, 1, backup);

    hub_start();
    ck_assert_int_eq(node_add_incident(a, "井盖缺失，路口东侧"), 0);
    char *id = strndup(R.out, strcspn(R.out, "\n"));
    sync_ok(a);
    sync_ok(b);
    RUN_OK("gridnode", "--db", b->db, "incident", "update", id, "--status", "受理");
    b->entered++;
    sync_ok(b);
    hub_stop();

    gst_db_restore(backup, hub_db);
    hub_start();
    sync_ok(b); /* b's edit goes back to the hub; a's creation is lost there */
    sync_ok(c); /* c's cursor is the backup's head: it receives b's edit alone */
    int64_t c_log = q_path(c->db, "SELECT count(*) FROM changes", NULL);
    int st = RUN("gridnode", "--db", c->db, "incident", "update", id, "--status", "立案");
    ck_assert_msg(st != 0, "an update of a record c holds only in part succeeded: %s", R.out);
    ck_assert_msg(strstr(R.err, "还没收到它的登记") && strstr(R.err, "gridnode sync") &&
                      strstr(R.err, "事件类别"),
                  "the message does not say why: %s", R.err);
    ck_assert_int_eq(q_path(c->db, "SELECT count(*) FROM changes", NULL), c_log);

    sync_ok(a); /* a pulls from the start and re-sends its creation */
    sync_ok(c);
    RUN_OK("gridnode", "--db", c->db, "incident", "update", id, "--status", "立案");
    c->entered++;
    RUN_OK("gridnode", "--db", c->db, "incident", "show", id);
    ck_assert_msg(strstr(R.out, "井盖缺失") && strstr(R.out, "状态        立案"), "%s", R.out);
    for (int round = 0; round < 2; round++) {
        sync_ok(c);
        sync_ok(a);
        sync_ok(b);
    }
    /* three changes (a's creation, b's and c's edits), each once, one whole incident */
    ck_assert_int_eq(hub_node_changes(), a->entered + b->entered + c->entered);
    ck_assert_int_eq(hub_node_changes(), 3);
    ck_assert_int_eq(q_path(hub_db,
                            "SELECT count(*) FROM (SELECT origin, seq FROM changes "
                            "GROUP BY origin, seq HAVING count(*) > 1)",
                            NULL),
                     0);
    ck_assert_int_eq(q_path(hub_db,
                            "SELECT count(*) FROM incidents WHERE id = ?1 AND status = "
                            "'registered' AND category = 'safety.fire' AND title LIKE '井盖缺失%'",
                            id),
                     1);
    assert_village_copies();
    hub_stop();
    free(id);
}
END_TEST

/* ---- the city's own chain across a restore ---------------------------------------------- */

/* The city's changes are numbered on a chain of their own. A hub restored
 * from a backup has lost the decisions it numbered after the copy, which the
 * villages hold; it must give them no number twice and take them back. */

#define CITY_ORIGIN_SQL "(origin = 'hub' OR origin LIKE 'hub.%')"

/* One city decision on incident id, which must succeed (R: its output). */
static void city_decides(const char *id, const char *status, const char *note)
{
    RUN_OK("gridhub", "--db", hub_db, "incident", "update", id, "--status", status, "--note",
           note);
}

/* One text from sql with the parameter ?1 on the database at path, as a
 * string the caller frees ("" when there is no row or it is NULL). */
static char *q_text(const char *path, const char *sql, const char *arg)
{
    sqlite3 *db = db_open(path);
    sqlite3_stmt *st;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    const char *t = sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    char *out = strdup(t ? t : "");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

/* The city's changes of record id in db, in the order the replica rules
 * order them (hlc, origin), as "origin#seq:hash" lines. */
static char *city_history(const char *path, const char *id)
{
    return q_text(path,
                  "SELECT group_concat(l, char(10)) FROM (SELECT origin || '#' || seq || ':' || "
                  "hex(hash) AS l FROM changes WHERE rid = ?1 AND " CITY_ORIGIN_SQL
                  " ORDER BY hlc, origin)",
                  id);
}

/* The incident's status and note in db, "status/note" ("" if it has none). */
static char *incident_status(const char *path, const char *id)
{
    return q_text(path, "SELECT status || '/' || coalesce(note, '') FROM incidents WHERE id = ?1",
                  id);
}

/* The incident's "status/note" in the database at path is want. */
static void assert_status(const char *path, const char *id, const char *want)
{
    char *got = incident_status(path, id);
    ck_assert_msg(!strcmp(got, want), "%s: incident %s is %s, want %s", path, id, got, want);
    free(got);
}

/* Every node holds the hub's city decisions on id, each once, in the same
 * order, and the incident has the same status everywhere: want. */
static void assert_city_converged(const char *id, int decisions, const char *want)
{
    char *hub = city_history(hub_db, id), *st = incident_status(hub_db, id);
    int lines = hub[0] ? 1 : 0;
    for (const char *p = hub; (p = strchr(p, '\n')); p++)
        lines++;
    ck_assert_msg(lines == decisions, "the hub holds %d city decisions on %s, want %d:\n%s", lines,
                  id, decisions, hub);
    ck_assert_str_eq(st, want);
    for (int i = 0; i < nnodes; i++) {
        char *mine = city_history(nodes[i].db, id), *ms = incident_status(nodes[i].db, id);
        ck_assert_msg(!strcmp(mine, hub), "%s holds the city's decisions\n%s\nthe hub\n%s",
                      nodes[i].id, mine, hub);
        ck_assert_msg(!strcmp(ms, want), "%s: status %s, want %s", nodes[i].id, ms, want);
        free(mine);
        free(ms);
    }
    ck_assert_int_eq(q_path(hub_db,
                            "SELECT count(*) FROM (SELECT origin, seq FROM changes "
                            "GROUP BY origin, seq HAVING count(*) > 1)",
                            NULL),
                     0);
    free(hub);
    free(st);
}

/* The broken state of issue 14: the city decides (受理) after the backup, a
 * and b receive it, the hub is restored, and the city decides again before
 * anyone syncs. The new decision goes on a new chain of the city's, so it
 * cannot take the lost one's number; c (which never had the lost one) syncs
 * first, then a gives the lost decision back; every PC and the hub end with
 * both decisions, once each, in the same order, and the same status. */
START_TEST(city_decisions_survive_restore)
{
    const char *v = "411122101201";
    node *a = node_new(v), *b = node_new(v), *c = node_new(v);
    ck_assert_int_eq(node_add_incident(a, "水渠堵塞，三组"), 0);
    char *id = strndup(R.out, strcspn(R.out, "\n"));
    char backup[PATH_MAX];
    synced_backup(a, b, c, 1, backup);
    int64_t city_before = q_path(hub_db, "SELECT count(*) FROM changes WHERE " CITY_ORIGIN_SQL,
                                 NULL);

    hub_start();
    city_decides(id, "accepted", "受理"); /* numbered after the backup */
    sync_ok(a);
    sync_ok(b);
    assert_status(a->db, id, "accepted/受理");
    hub_stop();

    gst_db_restore(backup, hub_db);
    /* right after the restore, before any village has synced */
    city_decides(id, "accepted", "受理，转司法所");
    ck_assert_msg(strstr(R.err, "新的城市链") && strstr(R.err, "hub."), "%s", R.err);
    ck_assert_int_eq(q_path(hub_db, "SELECT count(*) FROM changes WHERE origin LIKE 'hub.%'",
                            NULL),
                     1);
    ck_assert_int_eq(q_path(hub_db, "SELECT count(*) FROM changes WHERE " CITY_ORIGIN_SQL, NULL),
                     city_before + 1);
    hub_start();

    /* a holds a decision the hub lost: verify says so, in both languages */
    int st = RUN("gridnode", "--db", a->db, "verify", "--timeout", "30");
    ck_assert_msg(st != 0 && strstr(R.err, "不一致") && strstr(R.err, "differ") &&
                      strstr(R.out, "DIFFERENT"),
                  "verify before the give-back: exit %d\n%s%s", st, R.out, R.err);

    sync_ok(c); /* the new decision only */
    assert_status(c->db, id, "accepted/受理，转司法所");
    sync_ok(a); /* gives the lost decision back, receives the new one */
    ck_assert_msg(strstr(R.err, "交回"), "a did not say it gave a decision back: %s", R.err);
    ck_assert_msg(hub_log_has("gave back 1 of the city's changes on hub"),
                  "the hub did not log the give-back");
    sync_ok(b);
    for (int round = 0; round < 2; round++) {
        sync_ok(c);
        sync_ok(b);
        sync_ok(a);
    }
    assert_city_converged(id, 2, "accepted/受理，转司法所");
    assert_hub_whole(a);
    assert_hub_whole(b);
    assert_hub_whole(c);
    assert_village_copies();

    /* and the city goes on deciding, on its new chain, seen everywhere */
    city_decides(id, "registered", "立案");
    ck_assert_msg(!strstr(R.err, "新的城市链"), "a second new chain: %s", R.err);
    sync_ok(b);
    sync_ok(a);
    sync_ok(c);
    assert_city_converged(id, 3, "registered/立案");
    ck_assert_int_eq(q_path(hub_db, "SELECT count(*) FROM changes WHERE origin LIKE 'hub.%'",
                            NULL),
                     2);
    hub_stop();
    free(id);
}
END_TEST

/* A city write on a database with no chain file beside it (the disk died
 * and only the backup came back, with its old head) starts a new chain too;
 * one beside an intact database goes on with the same chain. Short-lived
 * gridhub commands only, no serve, no village. */
START_TEST(city_chain_file_lost_starts_new_chain)
{
    char csv[PATH_MAX + 16], mark[PATH_MAX + 8];
    snprintf(csv, sizeof csv, "%s/more-categories.csv", tmp);
    snprintf(mark, sizeof mark, "%s.chain", hub_db);
    const char *one = "code,name_zh,name_en,parent_code\nextra.one,新增类别一,Extra one,\n";
    const char *two = "code,name_zh,name_en,parent_code\nextra.two,新增类别二,Extra two,\n";
    ck_assert_int_eq(gst_write_file(csv, one, strlen(one)), 0);
    RUN_OK("gridhub", "--db", hub_db, "refdata", "load", "categories", csv);
    ck_assert_msg(!strstr(R.err, "新的城市链"), "%s", R.err);
    ck_assert_int_eq(q_path(hub_db, "SELECT count(*) FROM changes WHERE origin LIKE 'hub.%'",
                            NULL),
                     0);
    ck_assert_int_eq(unlink(mark), 0);
    ck_assert_int_eq(gst_write_file(csv, two, strlen(two)), 0);
    RUN_OK("gridhub", "--db", hub_db, "refdata", "load", "categories", csv);
    ck_assert_msg(strstr(R.err, "新的城市链"), "%s", R.err);
    ck_assert_int_eq(q_path(hub_db, "SELECT count(*) FROM changes WHERE origin LIKE 'hub.2-%' "
                                    "AND seq = 1",
                            NULL),
                     1);
    /* the file is back, naming the new chain: the next write goes on with it */
    char *text = gst_read_file(mark, NULL);
    ck_assert_msg(text && !strncmp(text, "hub.2-", 6), "%s", text ? text : "(none)");
    free(text);
    const char *renamed = "code,name_zh,name_en,parent_code\nextra.one,新增类别（改）,Extra one,\n";
    ck_assert_int_eq(gst_write_file(csv, renamed, strlen(renamed)), 0);
    RUN_OK("gridhub", "--db", hub_db, "refdata", "load", "categories", csv);
    ck_assert_msg(!strstr(R.err, "新的城市链"), "%s", R.err);
    ck_assert_int_eq(q_path(hub_db, "SELECT max(seq) FROM changes WHERE origin LIKE 'hub.2-%'",
                            NULL),
                     2);
}
END_TEST

/* The one case the chain file cannot catch: it was restored together with
 * the database, from the same moment, and the city decides before a village
 * holding the lost decision syncs, so a number is given twice. That is not
 * silent: the village tells the hub, which closes the chain (the next
 * decision starts a new one), both say 城市链 differs, and verify says 不一致. */
START_TEST(city_number_given_twice_is_told)
{
    const char *v = "411122101201";
    node *a = node_new(v), *b = node_new(v), *c = node_new(v);
    ck_assert_int_eq(node_add_incident(a, "路灯不亮"), 0);
    char *id = strndup(R.out, strcspn(R.out, "\n"));
    char backup[PATH_MAX], mark[PATH_MAX + 8], mark_copy[PATH_MAX + 16];
    synced_backup(a, b, c, 1, backup);
    snprintf(mark, sizeof mark, "%s.chain", hub_db);
    snprintf(mark_copy, sizeof mark_copy, "%s.chain", backup);
    size_t len;
    char *text = gst_read_file(mark, &len);
    ck_assert_msg(text != NULL, "the hub keeps no %s", mark);
    ck_assert_int_eq(gst_write_file(mark_copy, text, len), 0);

    hub_start();
    city_decides(id, "accepted", "受理");
    sync_ok(a);
    hub_stop();

    gst_db_restore(backup, hub_db);
    ck_assert_int_eq(gst_write_file(mark, text, len), 0); /* the chain file from the backup too */
    free(text);
    city_decides(id, "accepted", "受理，转司法所");
    ck_assert_msg(!strstr(R.err, "新的城市链"), "%s", R.err);
    hub_start();
    sync_ok(a);
    ck_assert_msg(strstr(R.err, "城市链不一致") && strstr(R.err, "two different") &&
                      strstr(R.err, "holds another change under that number"),
                  "%s", R.err);
    ck_assert_msg(hub_log_has("城市链分叉"), "the hub did not log the number given twice");
    int st = RUN("gridnode", "--db", a->db, "verify", "--timeout", "30");
    ck_assert_msg(st != 0 && strstr(R.err, "不一致"), "verify: exit %d\n%s%s", st, R.out, R.err);
    /* the chain is closed: the next decision is on a new one, and reaches a */
    city_decides(id, "registered", "立案");
    ck_assert_msg(strstr(R.err, "新的城市链"), "%s", R.err);
    sync_ok(a);
    assert_status(a->db, id, "registered/立案");
    hub_stop();
    free(id);
}
END_TEST

/* The log hashes of the hub's change log, in hub_seq order, as hex. */
static char *hub_log_hashes(void)
{
    sqlite3 *db = db_open(hub_db);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT group_concat(h, ',') FROM (SELECT hex(log_hash) "
                                        "AS h FROM changes ORDER BY hub_seq)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    const char *t = (const char *)sqlite3_column_text(st, 0);
    char *out = strdup(t ? t : "");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

/* A hub database of schema 1 (no log hashes) is upgraded when gridhub opens
 * it: the hashes it computes are the ones the hub would have written, so
 * the nodes' cursors still match and nobody receives anything again. */
START_TEST(hub_upgraded_from_schema_1)
{
    int k = scaled(300, 30);
    node *a = node_new("411122101201"), *b = node_new("411122101201");
    node_import(a, k);
    node_import(b, k);
    hub_start();
    sync_ok(a);
    sync_ok(b);
    sync_ok(a);
    hub_stop();
    char *want = hub_log_hashes();
    int64_t rows = q_path(hub_db, "SELECT count(*) FROM changes", NULL);
    ck_assert_int_ge(rows, 2 * k); /* and the city's reference data */
    ck_assert_uint_eq(strlen(want), (size_t)(rows * 65 - 1));
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(hub_db, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "ALTER TABLE changes DROP COLUMN log_hash; UPDATE meta SET "
                                  "value = '1' WHERE key = 'schema_version'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    RUN_OK("gridhub", "--db", hub_db, "node", "list");
    ck_assert_msg(strstr(R.err, "schema 1 upgraded to 2"), "%s", R.err);
    char *got = hub_log_hashes();
    ck_assert_str_eq(got, want);
    RUN_OK("gridhub", "--db", hub_db, "node", "list");
    ck_assert_msg(!strstr(R.err, "upgraded"), "upgraded twice: %s", R.err);

    hub_start();
    node_import(b, 1);
    sync_ok(b);
    sync_ok(a);
    ck_assert_msg(!strstr(R.err, "重新接收"), "%s", R.err);
    assert_hub_whole(a);
    assert_hub_whole(b);
    assert_village_copies();
    hub_stop();

    /* a log whose last row lost its hash (altered by hand): refused, nothing written */
    int64_t before = q_path(hub_db, "SELECT count(*) FROM changes", NULL);
    ck_assert_int_eq(sqlite3_open(hub_db, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "UPDATE changes SET log_hash = x'' WHERE hub_seq = "
                                  "(SELECT max(hub_seq) FROM changes)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    char csv[PATH_MAX + 16];
    snprintf(csv, sizeof csv, "%s/more-categories.csv", tmp);
    const char *text = "code,name_zh,name_en,parent_code\nextra.one,新增类别,Extra,\n";
    ck_assert_int_eq(gst_write_file(csv, text, strlen(text)), 0);
    int st = RUN("gridhub", "--db", hub_db, "refdata", "load", "categories", csv);
    ck_assert_msg(st == 1 && strstr(R.err, "has no log hash") &&
                      strstr(R.err, "nothing was loaded"),
                  "exit %d: %s", st, R.err);
    ck_assert_int_eq(q_path(hub_db, "SELECT count(*) FROM changes", NULL), before);
    free(want);
    free(got);
}
END_TEST

/* ---- cli ---------------------------------------------------------------------------------- */

/* `gridnode sync --timeout 2` of a node whose hub is at endpoint, where
 * nobody answers: a non-zero exit after about 2 s, one line naming the
 * endpoint and the timeout. */
static void assert_unreachable(const char *endpoint)
{
    char bundle[PATH_MAX], db[PATH_MAX];
    static int k;
    k++;
    snprintf(bundle, sizeof bundle, "%s/lost%d.bundle", tmp, k);
    snprintf(db, sizeof db, "%s/lost%d.db", tmp, k);
    RUN_OK("gridhub", "--db", hub_db, "node", "add", "--village", "411122101201", "--name", "lost",
           "--endpoint", endpoint, "--out", bundle);
    RUN_OK("gridnode", "--db", db, "init", "--bundle", bundle);
    RUN_OK("gridnode", "--db", db, "incident", "add", "--grid", "411122101201001", "--category",
           "dispute", "--title", "无人应答");
    int64_t t0 = gst_now_ms();
    int st = RUN("gridnode", "--db", db, "sync", "--timeout", "2");
    int64_t took = gst_now_ms() - t0;
    ck_assert_msg(st == 1, "exit %d, want 1; stderr: %s", st, R.err);
    ck_assert_msg(took >= 1900 && took < 15000, "gave up after %" PRId64 " ms with --timeout 2",
                  took);
    ck_assert_msg(strstr(R.err, endpoint), "stderr does not name %s: %s", endpoint, R.err);
    ck_assert_msg(strstr(R.err, "2 s") || strstr(R.err, "2s") || strstr(R.err, "2 seconds"),
                  "stderr does not give the timeout: %s", R.err);
    ck_assert_msg(R.err_len > 0 && memchr(R.err, '\n', R.err_len - 1) == NULL,
                  "want one line on stderr: %s", R.err);
    ck_assert_msg(!strncmp(R.err, "gridnode: ", 10), "stderr: %s", R.err);
}

START_TEST(sync_unreachable_hub)
{
    char ep[64], ipc[PATH_MAX + 16];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", gst_free_port());
    assert_unreachable(ep);
    snprintf(ipc, sizeof ipc, "ipc://%s/nobody.sock", tmp);
    assert_unreachable(ipc);
}
END_TEST

/* Waits up to ms for the hub to hold want changes of n; the time it took, or -1. */
static int64_t wait_hub_count(node *n, int64_t want, int ms)
{
    int64_t t0 = gst_now_ms(), end = t0 + ms;
    do {
        if (hub_count(n->id) >= want)
            return gst_now_ms() - t0;
        gst_sleep_ms(20);
    } while (gst_now_ms() < end);
    return -1;
}

/* The last lines (at most 3000 bytes) of a log, malloc'd. */
static bool hub_log_has(const char *s)
{
    for (int64_t end = gst_now_ms() + 5000;; gst_sleep_ms(50)) {
        char *log = gst_read_file(hub_log, NULL);
        bool has = log && strstr(log, s);
        free(log);
        if (has || gst_now_ms() > end)
            return has;
    }
}

static char *log_tail(const char *path)
{
    size_t len = 0;
    char *text = gst_read_file(path, &len);
    if (!text)
        return strdup("(no log)");
    if (len > 3000)
        memmove(text, text + len - 3000, 3001);
    return text;
}

/* The watch process must still be running; its log otherwise. */
static void assert_running(pid_t pid, const char *log)
{
    int st = gst_procs_reap(&procs, pid, false);
    if (st != -1) {
        char *text = gst_read_file(log, NULL);
        ck_abort_msg("gridnode sync --watch ended (status %d):\n%s", st, text ? text : "");
    }
}

START_TEST(watch_survives_hub_restarts)
{
    /* a 1 MiB in-flight budget: at most 2 batches (1,024 changes) go into
     * one group commit, so a long session (10,000 changes or more) is
     * committed in ten steps or more and a kill can land between them, even
     * when this process runs under valgrind and its children do not */
    hub_args[0] = "--inflight-mib";
    hub_args[1] = "1";
    node *n = node_new("411122101201");
    node_import(n, scaled(200, 20));
    hub_start();
    pid_t w = sync_spawn(n, 2, "--watch");
    ck_assert_msg(wait_hub_count(n, n->entered, 30000) >= 0, "the first sync did not arrive");

    /* the hub restarts as soon as the first sync's changes are in (that
     * session may still be pulling); a new entry still arrives */
    hub_kill();
    hub_start();
    ck_assert_int_eq(node_add_incident(n, "重启之后"), 0);
    int64_t t1 = wait_hub_count(n, n->entered, 15000);
    ck_assert_msg(t1 >= 0,
                  "an entry made after a hub restart did not arrive in 15 s; watch "
                  "log:\n%s",
                  log_tail(n->log));
    assert_running(w, n->log);

    /* an entry made while the hub is down arrives once it is back */
    hub_kill();
    ck_assert_int_eq(node_add_incident(n, "中心停机时录入"), 0);
    gst_sleep_ms(1500);
    hub_start();
    int64_t t2 = wait_hub_count(n, n->entered, 20000);
    ck_assert_msg(t2 >= 0,
                  "an entry made while the hub was down did not arrive in 20 s; watch "
                  "log:\n%s",
                  log_tail(n->log));
    assert_running(w, n->log);

    /* the hub dies in the middle of a session, six times: in a long one
     * (changes flowing) and in a short one (killed as its last batch is
     * committed, when the node goes on to PULL). The session is lost; the
     * watch goes on, and an entry made afterwards arrives. */
    int64_t t3 = 0;
    int missed = 0;
    for (int k = 0; k < 6; k++) {
        bool long_session = k % 2 == 0;
        int64_t before = n->entered;
        node_import(n, long_session ? scaled(20000, 10000) : 300);
        int64_t end = gst_now_ms() + 30000;
        while (hub_count(n->id) <= before && gst_now_ms() < end)
            gst_sleep_ms(2);
        int64_t at_kill = hub_count(n->id);
        hub_kill();
        ck_assert_msg(at_kill > before, "the session did not start in 30 s (%" PRId64
                      " of %d at the hub)", at_kill, n->entered);
        /* a long session the kill did not catch in the middle (the machine
         * paused this process) is done again, up to three times */
        if (long_session && at_kill == n->entered) {
            ck_assert_msg(++missed <= 3,
                          "the kill missed a long session %d times (%" PRId64 " of %d at the "
                          "hub)", missed, at_kill, n->entered);
            k--;
        }
        gst_sleep_ms(200);
        hub_start();
        gst_sleep_ms(500);
        ck_assert_int_eq(node_add_incident(n, "中心重启后录入"), 0);
        int64_t t = wait_hub_count(n, n->entered, 30000);
        assert_running(w, n->log);
        ck_assert_msg(t >= 0,
                      "after a hub restart mid-session, %" PRId64 " of %d arrived in 30 s; watch "
                      "log:\n%s",
                      hub_count(n->id), n->entered, log_tail(n->log));
        t3 = t > t3 ? t : t3;
    }
    printf("watch: arrived %" PRId64 " ms after the entry (hub restarted), %" PRId64
           " ms after the hub came back, at most %" PRId64 " ms after a mid-session restart"
           " (%d long sessions done again: the kill came after them)\n",
           t1, t2, t3, missed);
    assert_hub_whole(n);

    /* SIGTERM: a clean stop */
    kill(w, SIGTERM);
    int st = gst_procs_wait(&procs, w, 10000);
    ck_assert_msg(st == 0, "sync --watch: status %d after SIGTERM (-1: still running)", st);
    n->sync = 0;
    hub_stop();
}
END_TEST

/* ---- entry -------------------------------------------------------------------------------- */

START_TEST(entry_while_watch_syncs)
{
    node *n = node_new("411122101201");
    node_import(n, scaled(500, 20));
    hub_start();
    pid_t w = sync_spawn(n, 10, "--watch");
    int adds = 200, locked = 0;
    int64_t t0 = gst_now_ms();
    for (int i = 0; i < adds; i++) {
        char title[64];
        snprintf(title, sizeof title, "同步期间录入 %d", i + 1);
        int st = node_add_incident(n, title);
        locked += strstr(R.err, "locked") != NULL || strstr(R.out, "locked") != NULL;
        ck_assert_msg(st == 0 && !locked, "incident add #%d: exit %d\n%s", i + 1, st, R.err);
    }
    int64_t took = gst_now_ms() - t0;
    ck_assert_msg(wait_hub_count(n, n->entered, 30000) >= 0,
                  "30 s after the last entry the hub has %" PRId64 " of %d", hub_count(n->id),
                  n->entered);
    printf("entry: %d incident add while sync --watch ran: %" PRId64 " ms (%.1f ms each), none "
           "failed\n",
           adds, took, (double)took / adds);
    assert_running(w, n->log);
    kill(w, SIGTERM);
    ck_assert_int_eq(gst_procs_wait(&procs, w, 10000), 0);
    n->sync = 0;
    assert_hub_whole(n);
}
END_TEST

/* A change entered while a sync is pushing goes out in that sync; entered
 * at any other moment of it, in that sync or the next. */
START_TEST(entry_during_sync_goes_out)
{
    node *n = node_new("411122101201");
    int backlog = scaled(20000, 2000);
    node_import(n, backlog);
    hub_start();
    pid_t s = sync_spawn(n, 60, NULL);
    int64_t end = gst_now_ms() + 60000;
    while (hub_count(n->id) == 0 && gst_now_ms() < end)
        gst_sleep_ms(5);
    ck_assert_int_eq(node_add_incident(n, "同步途中录入"), 0);
    /* still pushing the backlog after the entry was saved: it must go in this sync */
    bool pushing = hub_count(n->id) < backlog;
    int st = gst_procs_wait(&procs, s, 120000);
    char *log = gst_read_file(n->log, NULL);
    ck_assert_msg(st == 0, "sync: status %d\n%s", st, log);
    free(log);
    int64_t after = hub_count(n->id);
    printf("entry: made while the sync was %s; the hub had %" PRId64 " of %d after it\n",
           pushing ? "pushing" : "past its push", after, n->entered);
    if (pushing)
        ck_assert_msg(after == n->entered,
                      "an entry saved while the sync pushed did not go out in it (%" PRId64
                      " of %d)",
                      after, n->entered);
    else
        sync_ok(n);
    assert_hub_whole(n);
}
END_TEST

/* ---- suite ----------------------------------------------------------------------------------- */

static Suite *sync_suite(void)
{
    Suite *s = suite_create("sync");
    TCase *tc = gst_tcase(s, "fleet", setup, teardown, 400);
    tcase_add_test(tc, fleet_concurrent);
    tcase_add_test(tc, fleet_chaos);

    tc = gst_tcase(s, "protocol", setup, teardown, 120);
    tcase_add_test(tc, push_replay_gap_and_chain);
    tcase_add_test(tc, push_same_changes_from_two_connections);
    tcase_add_test(tc, return_takes_only_the_citys_changes);
    tcase_add_test(tc, node_named_like_a_city_chain_refused);
    tcase_add_test(tc, grants_share_the_inflight_budget);
    tcase_add_test(tc, visit_recorded_without_a_push);
    tcase_add_test(tc, pending_is_what_remains);
    tcase_add_test(tc, dropped_frames_are_logged);

    tc = gst_tcase(s, "restore", setup, teardown, 180);
    tcase_add_test(tc, hub_restored_from_backup);
    tcase_add_test(tc, restore_keeps_village_copies_whole);
    tcase_add_test(tc, restore_edit_before_creation_explained);
    tcase_add_test(tc, hub_upgraded_from_schema_1);
    tcase_add_test(tc, city_decisions_survive_restore);
    tcase_add_test(tc, city_number_given_twice_is_told);
    tcase_add_test(tc, city_chain_file_lost_starts_new_chain);

    tc = gst_tcase(s, "cli", setup, teardown, 240);
    tcase_add_test(tc, sync_unreachable_hub);
    tcase_add_test(tc, watch_survives_hub_restarts);

    tc = gst_tcase(s, "entry", setup, teardown, 240);
    tcase_add_test(tc, entry_while_watch_syncs);
    tcase_add_test(tc, entry_during_sync_goes_out);
    return s;
}

/* Kills what a test left running (a timed-out test gets no teardown): the
 * pids the tests wrote to top/pids, if their command line still names top. */
static void sweep(void)
{
    char *pids = gst_read_file(pid_file, NULL);
    for (char *p = pids; p && *p;) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        p = end + strspn(end, "\n");
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/%ld/cmdline", pid);
        size_t len;
        char *cmd = gst_read_file(proc, &len);
        for (size_t i = 0; cmd && i < len; i++)
            if (!cmd[i])
                cmd[i] = ' ';
        if (cmd && strstr(cmd, top))
            kill((pid_t)pid, SIGKILL);
        free(cmd);
    }
    free(pids);
}

int main(void)
{
    top = gst_tmp_top();
    snprintf(pid_file, sizeof pid_file, "%s/pids", top);
    procs.pid_file = pid_file;
    printf("test_sync: seed %u, GS_TEST_SCALE %g\n", SEED, scale());
    fflush(stdout);
    int rc = gst_run_suite(sync_suite());
    sweep();
    gst_rmrf(top);
    free(top);
    return rc;
}
