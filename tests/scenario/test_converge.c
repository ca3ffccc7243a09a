/*
 * test_converge.c: downstream sync and convergence (issue 6, "Downstream: the
 * city's reference data and decisions reach the villages, and every replica
 * converges").
 *
 * End to end, with the real gridhub and gridnode binaries on an ipc://
 * endpoint in a temporary directory, CURVE on, two nodes (A, B) of village
 * 411122101201 and one (C) of village 411102001001:
 *
 *   refdata      the city's divisions and categories reach every node, equal
 *                to the hub's row for row (a village's own division row only
 *                that village's nodes); a reloaded, renamed category
 *                reaches them as one change, and so does a reload that
 *                empties a cell; a node sees only its village:
 *                C never receives 411122101201's incidents, nor A and B C's.
 *   offline      a node offline through 10,000 city changes catches up in
 *                pages (the cursor, committed with each page, is seen to stop
 *                between pages, and never runs ahead of the stored changes)
 *                with a peak RSS under 64 MiB.
 *   property     A, B and the city edit the same six incidents concurrently
 *                (note, assignee, severity, description, title, deadline, and
 *                status steps that are legal from the editor's own view) in a
 *                random interleaving from a fixed seed, with syncs in random
 *                order, syncs running in the background while edits go on,
 *                syncs SIGKILLed part way, and the hub SIGKILLed and
 *                restarted during a sync. After final clean syncs the hub, A
 *                and B hold the same row for every incident, field by field,
 *                per-field clocks included; every field holds the value of
 *                the change with the greatest (hlc, origin) in the log;
 *                every edit made is in the hub's log and in both nodes' logs
 *                byte for byte and in `incident show` on all three, losing
 *                values included; each node's log is exactly the hub's log for
 *                its scope; every edit's clock is after every change its
 *                editor had seen of that record. Loop 1 runs the same with B's
 *                clock (its HLC) a day fast.
 *   skew         the HLC at the unit level with explicit wall clocks a day
 *                slow and a day fast, applied in different orders to three
 *                in-memory replicas; and end to end, a node whose clock is a
 *                day fast (its stored HLC set ahead) or a hub a day ahead of a
 *                node: the city's later decisions still win, a node's edit
 *                made after it received the city's still wins, and a node
 *                whose clock is right is not told that it is wrong.
 *
 * Faking a skewed wall clock for a whole process needs faketime or an
 * LD_PRELOAD interposer; instead the end-to-end skew tests move the stored
 * HLC (meta.hlc), which is exactly what a fast clock leaves behind, and the
 * unit test feeds the HLC explicit wall times.
 *
 * Cleanup: main() points TMPDIR at one directory of its own and notes there
 * the pid of every background process; Check runs no teardown after a failed
 * test, so main() ends what is left (only pids that still run our binaries)
 * and removes the directory.
 *
 * GS_CONVERGE_SEED=N replays the property test with another seed;
 * GS_CONVERGE_TRACE=1 prints its steps.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gridsync/change.h"
#include "gridsync/hlc.h"
#include "gridsync/replica.h"
#include "gridsync/rules.h"
#include "gstest.h"

#define VILLAGE  "411122101201" /* a village of 繁城回族镇, 临颍县 */
#define VILLAGE2 "411102001001" /* a community of 老街街道, 源汇区 */
#define GRID     "411122101201001"
#define GRID2    "411102001001001"
#define DAY_MS   86400000ull
#define SEED     20261128u

/* ---- processes ------------------------------------------------------------- */

static char pid_list[PATH_MAX]; /* main's directory/pids: every background process */

/* Starts argv in the background (gst_spawn: own process group, output to
 * log) and notes its pid in pid_list, so that main() can end it if the test
 * dies before its teardown. */
static pid_t start(const char *log, const char *const argv[])
{
    pid_t pid = gst_spawn(argv, log);
    ck_assert_msg(pid > 0, "cannot start %s: %s", argv[0], strerror(errno));
    FILE *f = fopen(pid_list, "a");
    if (f) {
        fprintf(f, "%d\n", (int)pid);
        fclose(f);
    }
    return pid;
}

/* Waits up to ms for pid to end. Returns its wait status (and its resource
 * usage in *ru when not NULL), or -1 when it is still running. */
static int reap(pid_t pid, int ms, struct rusage *ru)
{
    int64_t until = gst_now_ms() + ms;
    for (;;) {
        int st;
        pid_t w = wait4(pid, &st, WNOHANG, ru);
        if (w == pid)
            return st;
        ck_assert_msg(w == 0 || errno == EINTR, "wait4 %d: %s", (int)pid, strerror(errno));
        if (gst_now_ms() >= until)
            return -1;
        gst_sleep_ms(2);
    }
}

/* Ends every noted process that still runs one of this build's binaries
 * (after a failed test; a pid that was reused by anything else is left). */
static void sweep(void)
{
    FILE *f = fopen(pid_list, "r");
    if (!f)
        return;
    char bin[PATH_MAX];
    if (!realpath(GS_TEST_BIN_DIR, bin))
        snprintf(bin, sizeof bin, "%s", GS_TEST_BIN_DIR);
    size_t bl = strlen(bin);
    int pid;
    while (fscanf(f, "%d", &pid) == 1) {
        char link[64], exe[PATH_MAX];
        snprintf(link, sizeof link, "/proc/%d/exe", pid);
        ssize_t n = readlink(link, exe, sizeof exe - 1);
        if (n <= 0)
            continue;
        exe[n] = '\0';
        if (!strncmp(exe, bin, bl) && exe[bl] == '/') {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
        }
    }
    fclose(f);
}

/* ---- the world: a hub and its nodes --------------------------------------- */

typedef struct node {
    const char *name; /* A, B, C */
    const char *village;
    char id[GS_ORIGIN_MAX + 1];
    char db[PATH_MAX];
    pid_t bg;     /* a sync running in the background, or 0 */
    int bg_epoch; /* the hub's life it started in */
    char bg_log[PATH_MAX];
} node;

static struct world {
    char *dir;
    char hub_db[PATH_MAX], hub_log[PATH_MAX], endpoint[PATH_MAX + 8];
    pid_t hub;
    int hub_epoch; /* +1 at every hub kill */
    node nodes[3];
    int nnodes;
} W;

static gst_result R; /* the last command run */

#define A (&W.nodes[0])
#define B (&W.nodes[1])
#define C (&W.nodes[2])

static int run_argv(const char *const argv[])
{
    gst_result_free(&R);
    ck_assert_int_eq(gst_run(&R, NULL, argv), 0);
    return R.status;
}

/* GH("incident", "show", id) runs gridhub --db <hub.db> incident show <id>. */
#define GH(...) gst_cmd(&R, false, "gridhub", W.hub_db, __VA_ARGS__, (const char *)NULL)
/* GN(A, "sync") runs gridnode --db <A.db> sync. */
#define GN(n, ...) gst_cmd(&R, false, "gridnode", (n)->db, __VA_ARGS__, (const char *)NULL)

#define ASSERT_OK(what)                                                                            \
    ck_assert_msg(R.status == 0, "%s: exit %d\nstdout: %s\nstderr: %s", (what), R.status, R.out,   \
                  R.err)

/* Starts `gridhub serve` and waits until it says it is serving. */
static void hub_start(void)
{
    int before = gst_count_in_file(W.hub_log, "gridhub: serving ");
    const char *argv[] = {"gridhub", "--db", W.hub_db, "serve", "--bind", W.endpoint, "-v", NULL};
    W.hub = start(W.hub_log, argv);
    int64_t until = gst_now_ms() + 20000;
    while (gst_count_in_file(W.hub_log, "gridhub: serving ") <= before) {
        int st = reap(W.hub, 0, NULL);
        if (st != -1 || gst_now_ms() > until) {
            char *log = gst_read_file(W.hub_log, NULL);
            ck_abort_msg("the hub did not start (wait status %d); its log:\n%s", st,
                         log ? log : "");
        }
        gst_sleep_ms(5);
    }
}

/* SIGKILLs the hub, as a power cut would. */
static void hub_kill(void)
{
    kill(W.hub, SIGKILL);
    int st = reap(W.hub, 20000, NULL);
    ck_assert_msg(st != -1, "the hub survived SIGKILL");
    W.hub = 0;
    W.hub_epoch++;
}

/* Stops the hub with SIGTERM (SIGKILL when it does not stop within 10 s).
 * Returns its wait status, or -1 when it had to be killed. */
static int hub_stop(void)
{
    if (W.hub <= 0)
        return 0;
    kill(W.hub, SIGTERM);
    int st = reap(W.hub, 10000, NULL);
    if (st == -1) {
        kill(W.hub, SIGKILL);
        reap(W.hub, 10000, NULL);
    }
    W.hub = 0;
    return st;
}

/* Stops the hub and checks that it shut down cleanly and that its log holds
 * no sanitizer report from any of its lives. */
static void hub_stop_clean(void)
{
    int st = hub_stop();
    char *log = gst_read_file(W.hub_log, NULL);
    ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "gridhub serve did not exit 0 on SIGTERM (wait status 0x%x); its log:\n%s", st,
                  log ? log : "");
    ck_assert_msg(log && !strstr(log, "Sanitizer") && !strstr(log, "runtime error"),
                  "the hub's log has a sanitizer report:\n%s", log ? log : "");
    free(log);
}

/* Sets up a hub with the project's divisions and categories, registers
 * nnodes nodes (A and B in VILLAGE, C in VILLAGE2), installs their bundles
 * and starts serving. */
static void world_up(int nnodes)
{
    memset(&W, 0, sizeof W);
    W.dir = gst_tmpdir();
    snprintf(W.hub_db, sizeof W.hub_db, "%s/hub.db", W.dir);
    snprintf(W.hub_log, sizeof W.hub_log, "%s/hub.log", W.dir);
    snprintf(W.endpoint, sizeof W.endpoint, "ipc://%s/hub.sock", W.dir);
    GH("init");
    ASSERT_OK("gridhub init");
    GH("refdata", "load", "divisions", GS_TEST_SRC_DIR "/data/luohe_divisions.csv");
    ASSERT_OK("refdata load divisions");
    GH("refdata", "load", "categories", GS_TEST_SRC_DIR "/data/incident_categories.csv");
    ASSERT_OK("refdata load categories");
    static const char *const names[] = {"A", "B", "C"};
    static const char *const villages[] = {VILLAGE, VILLAGE, VILLAGE2};
    W.nnodes = nnodes;
    for (int i = 0; i < nnodes; i++) {
        node *n = &W.nodes[i];
        n->name = names[i];
        n->village = villages[i];
        snprintf(n->db, sizeof n->db, "%s/%s.db", W.dir, n->name);
        char bundle[PATH_MAX];
        snprintf(bundle, sizeof bundle, "%s/%s.bundle", W.dir, n->name);
        GH("node", "add", "--village", n->village, "--name", n->name, "--endpoint", W.endpoint,
           "--out", bundle);
        ASSERT_OK("node add");
        ck_assert_msg(R.out_len > 1 && R.out_len <= sizeof n->id, "node add printed: %s", R.out);
        snprintf(n->id, sizeof n->id, "%.*s", (int)strcspn(R.out, "\n"), R.out);
        GN(n, "init", "--bundle", bundle);
        ASSERT_OK("gridnode init");
    }
    hub_start();
}

/* Ends everything world_up started and removes its directory. */
static void world_down(void)
{
    for (int i = 0; i < W.nnodes; i++)
        if (W.nodes[i].bg > 0) {
            kill(W.nodes[i].bg, SIGKILL);
            reap(W.nodes[i].bg, 10000, NULL);
            W.nodes[i].bg = 0;
        }
    hub_stop();
    gst_rmrf(W.dir);
    free(W.dir);
    W.dir = NULL;
    gst_result_free(&R);
}

static void setup(void)
{
    memset(&W, 0, sizeof W);
}

static void teardown(void)
{
    if (W.dir)
        world_down();
}

/* ---- reading the databases ------------------------------------------------- */

/* Opens a replica's database for reading alongside the running programs. */
static sqlite3 *db_open(const char *path)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_busy_timeout(db, 30000);
    return db;
}

/* Prepares sql on db and binds the NULL-terminated text arguments to ?1, ?2... */
static sqlite3_stmt *prep_v(sqlite3 *db, const char *sql, va_list ap)
{
    sqlite3_stmt *st = NULL;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    int i = 1;
    for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *))
        sqlite3_bind_text(st, i++, a, -1, SQLITE_TRANSIENT);
    return st;
}

/* The first column of the first row as an integer; def when no row or NULL. */
static int64_t q_int_(const char *path, int64_t def, const char *sql, ...)
{
    sqlite3 *db = db_open(path);
    va_list ap;
    va_start(ap, sql);
    sqlite3_stmt *st = prep_v(db, sql, ap);
    va_end(ap);
    int64_t v = def;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* The first column of the first row as malloc'd text; NULL when no row or NULL. */
static char *q_text_(const char *path, const char *sql, ...)
{
    sqlite3 *db = db_open(path);
    va_list ap;
    va_start(ap, sql);
    sqlite3_stmt *st = prep_v(db, sql, ap);
    va_end(ap);
    char *v = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Every row, columns joined by '|' (NULL as \N), rows ended by '\n'; malloc'd. */
static char *q_dump_(const char *path, const char *sql, ...)
{
    sqlite3 *db = db_open(path);
    va_list ap;
    va_start(ap, sql);
    sqlite3_stmt *st = prep_v(db, sql, ap);
    va_end(ap);
    gs_buf b = GS_BUF_INIT;
    gs_buf_puts(&b, "");
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const unsigned char *t = sqlite3_column_text(st, i);
            gs_buf_printf(&b, "%s%s", i ? "|" : "", t ? (const char *)t : "\\N");
        }
        gs_buf_putc(&b, '\n');
    }
    ck_assert_msg(step == SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    ck_assert(!b.err);
    return gs_buf_steal(&b);
}

#define QI(path, def, ...) q_int_(path, def, __VA_ARGS__, (const char *)NULL)
#define QT(path, ...)      q_text_(path, __VA_ARGS__, (const char *)NULL)
#define QD(path, ...)      q_dump_(path, __VA_ARGS__, (const char *)NULL)

/* Runs one SQL statement that writes (used only to set a clock ahead). */
static void q_exec(const char *path, const char *sql)
{
    sqlite3 *db = db_open(path);
    char *msg = NULL;
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql,
                  msg ? msg : "");
    sqlite3_close(db);
}

/* The first line where a and b differ, with its number, for messages. */
static char *first_diff(const char *a, const char *b)
{
    int line = 1;
    const char *la = a, *lb = b;
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b + 1;
        }
        a++;
        b++;
    }
    char *out = NULL;
    if (asprintf(&out, "line %d:\n  %.*s\n  %.*s", line, (int)strcspn(la, "\n"), la,
                 (int)strcspn(lb, "\n"), lb) < 0)
        out = NULL;
    return out;
}

#define ASSERT_SAME_TEXT(a, b, what)                                                               \
    do {                                                                                           \
        if (strcmp((a), (b))) {                                                                    \
            char *d_ = first_diff((a), (b));                                                       \
            ck_abort_msg("%s differ at %s", (what), d_ ? d_ : "?");                                \
        }                                                                                          \
    } while (0)

/* The integer after "key": in flat JSON output; fails the test when absent. */
static int64_t json_int(const char *json, const char *key)
{
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    ck_assert_msg(p != NULL, "no \"%s\" in %s", key, json);
    return strtoll(p + strlen(pat), NULL, 10);
}

/* The string value of "key" in flat JSON (no escapes expected); malloc'd or NULL. */
static char *json_str(const char *json, const char *key)
{
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(json, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    return strndup(p, strcspn(p, "\""));
}

/* ---- syncing ------------------------------------------------------------------- */

/* The number of changes a finished `gridnode sync` says it received. */
static long long received(void)
{
    const char *p = strstr(R.out, "rejected, ");
    long long n = -1;
    ck_assert_msg(p && sscanf(p, "rejected, %lld received", &n) == 1, "sync printed: %s", R.out);
    return n;
}

/* Waits for n's background sync. It must have succeeded, unless the hub was
 * killed while it ran: then exit 1 (a clear error) is fine too. */
static void bg_finish(node *n)
{
    if (n->bg <= 0)
        return;
    int st = reap(n->bg, 60000, NULL);
    ck_assert_msg(st != -1, "%s: a background sync still runs after 60 s", n->name);
    n->bg = 0;
    bool hub_died = n->bg_epoch != W.hub_epoch;
    char *log = gst_read_file(n->bg_log, NULL);
    const char *out = log ? log : "";
    /* a failure must be the one clear line, not a crash or a sanitizer's report */
    bool clear_error = WIFEXITED(st) && WEXITSTATUS(st) == 1 && strstr(out, "gridnode: sync: ") &&
                       !strstr(out, "Sanitizer") && !strstr(out, "runtime error");
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) && !(hub_died && clear_error))
        ck_abort_msg("%s: background sync ended with wait status 0x%x%s; its output:\n%s", n->name,
                     st, hub_died ? " (the hub was killed meanwhile)" : "", out);
    free(log);
}

static void bg_start(node *n, int timeout_s)
{
    bg_finish(n);
    snprintf(n->bg_log, sizeof n->bg_log, "%s/%s-sync.log", W.dir, n->name);
    unlink(n->bg_log);
    char t[16];
    snprintf(t, sizeof t, "%d", timeout_s);
    const char *argv[] = {"gridnode", "--db", n->db, "sync", "--timeout", t, NULL};
    n->bg = start(n->bg_log, argv);
    n->bg_epoch = W.hub_epoch;
}

/* A sync of n to completion; it must succeed. Returns what it received. */
static long long sync_ok(node *n)
{
    bg_finish(n);
    GN(n, "sync", "--timeout", "30");
    char what[64];
    snprintf(what, sizeof what, "%s: gridnode sync", n->name);
    ASSERT_OK(what);
    return received();
}

/* Starts a sync of n and SIGKILLs it after delay_ms. True if it died by the
 * signal; a sync that finished first must have succeeded. */
static bool sync_killed(node *n, int delay_ms)
{
    bg_start(n, 5);
    gst_sleep_ms(delay_ms);
    kill(n->bg, SIGKILL);
    int st = reap(n->bg, 20000, NULL);
    ck_assert_msg(st != -1, "%s: sync survived SIGKILL", n->name);
    n->bg = 0;
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
        return true;
    char *log = gst_read_file(n->bg_log, NULL);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "%s: sync ended with wait status 0x%x before the kill; its output:\n%s", n->name,
                  st, log ? log : "");
    free(log);
    return false;
}

/* Starts a sync of n, SIGKILLs the hub after delay_ms, restarts it and waits
 * for the sync (which may fail with a clear error, or succeed). */
static void hub_killed_during_sync(node *n, int delay_ms)
{
    bg_start(n, 1); /* it may wait for an answer that died with the hub */
    gst_sleep_ms(delay_ms);
    hub_kill();
    hub_start();
    bg_finish(n);
}

/* Sets the stored HLC of a database (meta "hlc") to wall + ahead_ms: what a
 * clock running that far ahead leaves behind. */
static void clock_ahead(const char *db, uint64_t ahead_ms)
{
    char sql[160];
    snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta(key, value) VALUES ('hlc', %lld)",
             (long long)GS_HLC_MAKE(gs_wall_ms() + ahead_ms, 0));
    q_exec(db, sql);
}

/* ---- reference data and scope --------------------------------------------- */

static int64_t csv_rows(const char *path)
{
    char *text = gst_read_file(path, NULL);
    ck_assert_msg(text != NULL, "%s: %s", path, strerror(errno));
    int64_t n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    free(text);
    return n - 1; /* the header */
}

/* A node's divisions: the city's, counties' and townships' rows, which go to
 * every node, and the row of its own village, which goes to that village only
 * (the hub scopes a 12-digit division row to its village). */
static const char *const division_sql =
    "SELECT code, name, level, parent_code, synthetic FROM divisions WHERE _deleted = 0 AND "
    "(length(code) < 12 OR code = ?1) ORDER BY code";
static const char *const category_sql =
    "SELECT code, name_zh, name_en, parent_code FROM categories WHERE _deleted = 0 ORDER BY code";

/* Checks that node n holds exactly the hub's reference data for its scope,
 * as `status` counts it and row for row. */
static void assert_same_refdata(node *n)
{
    int64_t hub_div = QI(W.hub_db, -1,
                         "SELECT count(*) FROM divisions WHERE _deleted = 0 AND (length(code) < 12 "
                         "OR code = ?1)",
                         n->village);
    int64_t hub_cat = QI(W.hub_db, -1, "SELECT count(*) FROM categories WHERE _deleted = 0");
    GN(n, "status", "--json");
    ASSERT_OK("gridnode status --json");
    ck_assert_msg(json_int(R.out, "division") == hub_div, "%s has %lld divisions, the hub %lld",
                  n->name, (long long)json_int(R.out, "division"), (long long)hub_div);
    ck_assert_msg(json_int(R.out, "category") == hub_cat, "%s has %lld categories, the hub %lld",
                  n->name, (long long)json_int(R.out, "category"), (long long)hub_cat);
    /* the node's side unfiltered: a row of another village must not be there */
    char *h = QD(W.hub_db, division_sql, n->village),
         *m = QD(n->db, "SELECT code, name, level, parent_code, synthetic FROM divisions WHERE "
                        "_deleted = 0 ORDER BY code");
    ASSERT_SAME_TEXT(h, m, "the hub's and the node's divisions");
    free(h);
    free(m);
    h = QD(W.hub_db, category_sql);
    m = QD(n->db, category_sql);
    ASSERT_SAME_TEXT(h, m, "the hub's and the node's categories");
    free(h);
    free(m);
}

START_TEST(reference_data_reaches_every_node)
{
    world_up(3);
    int64_t ndiv = csv_rows(GS_TEST_SRC_DIR "/data/luohe_divisions.csv");
    int64_t ncat = csv_rows(GS_TEST_SRC_DIR "/data/incident_categories.csv");
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(sync_ok(&W.nodes[i]), ndiv + ncat);
        assert_same_refdata(&W.nodes[i]);
    }
    ck_assert_int_eq(QI(A->db, -1, "SELECT count(*) FROM divisions"), ndiv);

    /* The city adds the rows of the two villages: each reaches its own
     * village's nodes only. */
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/villages.csv", W.dir);
    const char *villages = "code,name,level,parent_code,synthetic\n" VILLAGE
                           ",繁城回族镇试点村,village,411122101,是\n" VILLAGE2
                           ",老街街道试点社区,village,411102001,是\n";
    ck_assert_int_eq(gst_write_file(path, villages, strlen(villages)), 0);
    GH("refdata", "load", "divisions", path);
    ASSERT_OK("refdata load village divisions");
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(sync_ok(&W.nodes[i]), 1);
        assert_same_refdata(&W.nodes[i]);
        ck_assert_int_eq(QI(W.nodes[i].db, -1,
                            "SELECT count(*) FROM divisions WHERE length(code) = 12 AND code = ?1",
                            W.nodes[i].village),
                         1);
        ck_assert_int_eq(QI(W.nodes[i].db, -1,
                            "SELECT count(*) FROM divisions WHERE length(code) = 12 AND code <> ?1",
                            W.nodes[i].village),
                         0);
    }

    /* The city renames one category: one change, and it reaches everyone. */
    char *csv = gst_read_file(GS_TEST_SRC_DIR "/data/incident_categories.csv", NULL);
    ck_assert_ptr_nonnull(csv);
    char *at = strstr(csv, "\nsafety.fire,消防隐患,");
    ck_assert_ptr_nonnull(at);
    gs_buf b = GS_BUF_INIT;
    gs_buf_printf(&b, "%.*s\nsafety.fire,消防安全隐患（市局更名）,%s", (int)(at - csv), csv,
                  at + strlen("\nsafety.fire,消防隐患,"));
    snprintf(path, sizeof path, "%s/categories-renamed.csv", W.dir);
    ck_assert_int_eq(gst_write_file(path, b.data, b.len), 0);
    gs_buf_free(&b);
    free(csv);
    GH("refdata", "load", "categories", path);
    ASSERT_OK("refdata reload");
    ck_assert_msg(strstr(R.out, "1 new or changed") != NULL, "reload said: %s", R.out);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(sync_ok(&W.nodes[i]), 1);
        char *name = QT(W.nodes[i].db, "SELECT name_zh FROM categories WHERE code = 'safety.fire'");
        ck_assert_str_eq(name ? name : "(none)", "消防安全隐患（市局更名）");
        free(name);
        assert_same_refdata(&W.nodes[i]);
    }
    hub_stop_clean();
}
END_TEST

/* The city reloads its categories with a cell emptied (safety.fire loses its
 * English name and its parent): the hub and every node must then hold no
 * English name and no parent, as the file says. */
START_TEST(reload_clearing_a_field_reaches_every_node)
{
    world_up(2);
    for (int i = 0; i < 2; i++)
        sync_ok(&W.nodes[i]);
    char *csv = gst_read_file(GS_TEST_SRC_DIR "/data/incident_categories.csv", NULL);
    ck_assert_ptr_nonnull(csv);
    const char *row = "\nsafety.fire,消防隐患,Fire hazard,safety\n";
    char *at = strstr(csv, row);
    ck_assert_ptr_nonnull(at);
    gs_buf b = GS_BUF_INIT;
    gs_buf_printf(&b, "%.*s\nsafety.fire,消防隐患,,\n%s", (int)(at - csv), csv, at + strlen(row));
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/categories-cleared.csv", W.dir);
    ck_assert_int_eq(gst_write_file(path, b.data, b.len), 0);
    gs_buf_free(&b);
    free(csv);
    GH("refdata", "load", "categories", path);
    ASSERT_OK("refdata reload");
    ck_assert_msg(strstr(R.out, "1 new or changed") != NULL,
                  "a reload that empties two cells of one row said: %s", R.out);
    const char *sql =
        "SELECT coalesce(name_en, '(none)') || '/' || coalesce(parent_code, '(none)') "
        "FROM categories WHERE code = 'safety.fire'";
    char *v = QT(W.hub_db, sql);
    ck_assert_str_eq(v ? v : "", "(none)/(none)");
    free(v);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(sync_ok(&W.nodes[i]), 1);
        v = QT(W.nodes[i].db, sql);
        ck_assert_str_eq(v ? v : "", "(none)/(none)");
        free(v);
        assert_same_refdata(&W.nodes[i]);
    }
    hub_stop_clean();
}
END_TEST

START_TEST(node_sees_only_its_village)
{
    world_up(3);
    for (int i = 0; i < 3; i++)
        sync_ok(&W.nodes[i]);
    GN(A, "incident", "add", "--grid", GRID, "--category", "safety.fire", "--title",
       "村东头柴草堆");
    ASSERT_OK("A incident add");
    char *xa = strndup(R.out, strcspn(R.out, "\n"));
    GN(C, "incident", "add", "--grid", GRID2, "--category", "dispute.neighbour", "--title",
       "社区楼道纠纷");
    ASSERT_OK("C incident add");
    char *xc = strndup(R.out, strcspn(R.out, "\n"));
    sync_ok(A);
    sync_ok(C);
    ck_assert_int_eq(sync_ok(B), 1); /* A's incident, nothing of C's */
    ck_assert_int_eq(sync_ok(C), 0);
    ck_assert_int_eq(sync_ok(A), 0);

    /* A city decision on A's incident goes to A and B only. */
    GH("incident", "update", xa, "--status", "accepted", "--note", "城市意见：已受理");
    ASSERT_OK("gridhub incident update");
    ck_assert_int_eq(sync_ok(A), 1);
    ck_assert_int_eq(sync_ok(B), 1);
    ck_assert_int_eq(sync_ok(C), 0);
    node *mine[] = {A, B};
    for (int i = 0; i < 2; i++) {
        GN(mine[i], "incident", "show", xa, "--json");
        ASSERT_OK("incident show");
        char *status = json_str(R.out, "status"), *note = json_str(R.out, "note");
        ck_assert_str_eq(status ? status : "", "accepted");
        ck_assert_str_eq(note ? note : "", "城市意见：已受理");
        free(status);
        free(note);
        GN(mine[i], "incident", "show", xc);
        ck_assert_msg(R.status == 1 && strstr(R.err, xc), "%s shows C's incident: exit %d %s",
                      mine[i]->name, R.status, R.err);
        ck_assert_int_eq(QI(mine[i]->db, -1, "SELECT count(*) FROM changes WHERE rid = ?1", xc), 0);
        ck_assert_int_eq(
            QI(mine[i]->db, -1, "SELECT count(*) FROM incidents WHERE village_code <> ?1", VILLAGE),
            0);
    }
    GN(C, "incident", "show", xa);
    ck_assert_msg(R.status == 1 && strstr(R.err, xa), "C shows A's incident: exit %d %s", R.status,
                  R.err);
    ck_assert_int_eq(QI(C->db, -1, "SELECT count(*) FROM changes WHERE rid = ?1", xa), 0);
    ck_assert_int_eq(QI(C->db, -1,
                        "SELECT count(*) FROM changes WHERE rtype = 'incident' AND "
                        "origin <> ?1",
                        C->id),
                     0);
    ck_assert_int_eq(
        QI(C->db, -1, "SELECT count(*) FROM incidents WHERE village_code <> ?1", VILLAGE2), 0);
    /* and the hub has both */
    ck_assert_int_eq(
        QI(W.hub_db, -1, "SELECT count(*) FROM incidents WHERE id IN (?1, ?2)", xa, xc), 2);
    free(xa);
    free(xc);
    hub_stop_clean();
}
END_TEST

/* ---- a node offline through 10,000 city changes --------------------------- */

#define OFFLINE_CHANGES 10000
#define RSS_LIMIT_KIB   (64 * 1024)

START_TEST(offline_node_catches_up_in_pages)
{
    world_up(1);
    sync_ok(A);
    /* 10,000 city changes while A is away: new categories, reference data
     * that goes to every node. */
    gs_buf b = GS_BUF_INIT;
    gs_buf_puts(&b, "code,name_zh,name_en,parent_code\n");
    for (int i = 0; i < OFFLINE_CHANGES; i++)
        gs_buf_printf(&b, "bulk.c%05d,批量类别%05d,Bulk category %d,\n", i, i, i);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/bulk.csv", W.dir);
    ck_assert_int_eq(gst_write_file(path, b.data, b.len), 0);
    gs_buf_free(&b);
    GH("refdata", "load", "categories", path);
    ASSERT_OK("refdata load 10,000 categories");
    int64_t head = QI(W.hub_db, -1, "SELECT max(hub_seq) FROM changes");
    int64_t base = QI(A->db, -1, "SELECT value FROM meta WHERE key = 'hub_seq_cursor'");
    ck_assert_int_eq(head - base, OFFLINE_CHANGES);

    /* Sync, and watch the node's database while it does: the cursor moves a
     * page at a time, in the same transaction as the page's changes. */
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/catch-up.log", W.dir);
    const char *argv[] = {"gridnode", "--db", A->db, "sync", "--timeout", "60", NULL};
    pid_t pid = start(log, argv);
    sqlite3 *db = db_open(A->db);
    sqlite3_stmt *cur, *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT value FROM meta WHERE key = 'hub_seq_cursor'",
                                        -1, &cur, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT count(*) FROM changes WHERE hub_seq > ?1),"
                                        " (SELECT max(hub_seq) FROM changes)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, base);
    int64_t last = base, min_step = INT64_MAX;
    int nseen = 0, nchecked = 0, polls = 0, status = 0;
    struct rusage ru;
    int64_t until = gst_now_ms() + 120000;
    for (;;) {
        pid_t w = wait4(pid, &status, WNOHANG, &ru);
        if (w == pid)
            break;
        ck_assert_msg(w == 0, "wait4: %s", strerror(errno));
        ck_assert_msg(gst_now_ms() < until, "the catch-up sync runs for over 2 minutes");
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        int64_t cursor = sqlite3_step(cur) == SQLITE_ROW ? sqlite3_column_int64(cur, 0) : last;
        sqlite3_reset(cur);
        if (cursor > last && cursor < head) { /* stopped between two pages */
            nseen++;
            if (cursor - last < min_step)
                min_step = cursor - last;
            last = cursor;
            /* What is stored and the cursor always go together. The check
             * scans the node's log, slow under valgrind, so it is made at
             * every other stop: the quick polls around the others still see
             * the cursor move by a single page. */
            if (nseen % 2 == 1 && sqlite3_step(st) == SQLITE_ROW) {
                int64_t got = sqlite3_column_int64(st, 0), top = sqlite3_column_int64(st, 1);
                ck_assert_msg(top <= cursor,
                              "the node stored change %lld but its cursor is only %lld",
                              (long long)top, (long long)cursor);
                ck_assert_msg(got == cursor - base,
                              "cursor %lld covers %lld changes but %lld are stored",
                              (long long)cursor, (long long)(cursor - base), (long long)got);
                nchecked++;
            }
            sqlite3_reset(st);
        }
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        polls++;
        gst_sleep_ms(1);
    }
    sqlite3_finalize(cur);
    sqlite3_finalize(st);
    ck_assert_int_ge(nchecked, 1);
    sqlite3_close(db);
    char *out = gst_read_file(log, NULL);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "catch-up sync: wait status 0x%x; output:\n%s", status, out ? out : "");
    char want[64];
    snprintf(want, sizeof want, "0 rejected, %d received", OFFLINE_CHANGES);
    ck_assert_msg(out && strstr(out, want), "catch-up sync printed:\n%s", out ? out : "");
    free(out);

    ck_assert_int_eq(QI(A->db, -1, "SELECT value FROM meta WHERE key = 'hub_seq_cursor'"), head);
    ck_assert_int_eq(QI(A->db, -1, "SELECT count(*) FROM changes WHERE origin = 'hub'"),
                     QI(W.hub_db, -1, "SELECT count(*) FROM changes WHERE origin = 'hub'"));
    assert_same_refdata(A);
    ck_assert_int_eq(QI(A->db, -1, "SELECT count(*) FROM categories WHERE code LIKE 'bulk.%'"),
                     OFFLINE_CHANGES);
    /* More than one page: the cursor was seen to stop between pages. */
    ck_assert_msg(nseen >= 2,
                  "saw the cursor stop between pages %d times in %d looks (want >= 2): the "
                  "10,000 changes did not come in pages",
                  nseen, polls);
    ck_assert_msg(min_step <= 512, "no page of at most 512 changes was seen (smallest step %lld)",
                  (long long)min_step);
    long rss_kib = ru.ru_maxrss;
    fprintf(stderr,
            "converge: 10,000 changes caught up, cursor seen at %d page ends, peak RSS %ld KiB\n",
            nseen, rss_kib);
#if defined(__SANITIZE_ADDRESS__)
    (void)rss_kib; /* ASan's shadow memory and quarantine make RSS meaningless here */
#else
    ck_assert_msg(rss_kib < RSS_LIMIT_KIB, "gridnode sync peaked at %ld KiB (limit %d KiB)",
                  rss_kib, RSS_LIMIT_KIB);
#endif
    hub_stop_clean();
}
END_TEST

/* ---- the HLC under skew, at the unit level --------------------------------- */

static sqlite3 *mem_replica(gs_replica **r)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    ck_assert_int_eq(gs_replica_create_schema(db, NULL), GS_OK);
    ck_assert_int_eq(gs_replica_open(r, db, NULL), GS_OK);
    return db;
}

/* An incident change setting "field=value" pairs (NULL-terminated). */
static gs_change incident_change(const char *origin, uint64_t seq, gs_hlc hlc, ...)
{
    gs_change c = {0};
    snprintf(c.origin, sizeof c.origin, "%s", origin);
    c.seq = seq;
    c.hlc = hlc;
    c.op = GS_OP_UPSERT;
    const gs_rectype *rt = gs_rectype_get(GS_RT_INCIDENT);
    c.rec = gs_record_new(rt);
    ck_assert_int_eq(gs_record_parse(c.rec, GS_INCIDENT_ID, "skew-1", NULL), GS_OK);
    ck_assert_int_eq(gs_record_parse(c.rec, GS_INCIDENT_VILLAGE_CODE, VILLAGE, NULL),
                     GS_OK);
    va_list ap;
    va_start(ap, hlc);
    for (const char *f = va_arg(ap, const char *); f; f = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        ck_assert_int_eq(gs_record_parse(c.rec, gs_field_find(rt, f), v, NULL), GS_OK);
    }
    va_end(ap);
    return c;
}

static char *field_of(gs_replica *r, const char *field)
{
    const gs_rectype *rt = gs_rectype_get(GS_RT_INCIDENT);
    gs_record *rec = NULL;
    ck_assert_int_eq(gs_replica_get(r, rt, "skew-1", &rec, NULL), GS_OK);
    const char *v = gs_record_str(rec, gs_field_find(rt, field));
    char *out = strdup(v ? v : "(unset)");
    gs_record_destroy(&rec);
    return out;
}

static char *row_of(sqlite3 *db)
{
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT title, status, note, assignee, hex(_clock) "
                                        "FROM incidents",
                                        -1, &st, NULL),
                     SQLITE_OK);
    gs_buf b = GS_BUF_INIT;
    while (sqlite3_step(st) == SQLITE_ROW)
        for (int i = 0; i < 5; i++)
            gs_buf_printf(&b, "%s|",
                          sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i)
                                                     : "");
    sqlite3_finalize(st);
    return gs_buf_steal(&b);
}

/* The node's wall clock is a day slow (loop 0) or a day fast (loop 1) against
 * the hub's. What HLC promises: an edit made after its author received
 * another orders after it, whatever the wall clocks say. What it does not
 * promise: that two edits made without seeing each other order by real time;
 * they order by their clocks, the same way on every replica. */
START_TEST(hlc_orders_causally_under_skew)
{
    const char *node_id = "411122101201-1";
    const uint64_t hub_wall = 1800000000000ull; /* 2027-01-15 */
    const bool fast = _i == 1;
    const uint64_t node_wall = fast ? hub_wall + DAY_MS : hub_wall - DAY_MS;

    /* The node reports the incident; the hub has not heard of it yet. */
    gs_hlc node_hlc = gs_hlc_tick(0, node_wall);
    gs_change n1 =
        incident_change(node_id, 1, node_hlc, "title", "村东头柴草堆", "status", "reported", "note",
                        "村里：先写的说明", "assignee", "张三", NULL);
    /* One second later in real time the city writes a note of its own,
     * concurrently: neither has seen the other. */
    gs_hlc hub_hlc = gs_hlc_tick(0, hub_wall + 1000);
    gs_change h1 = incident_change(GS_HUB_ORIGIN, 1, hub_hlc, "note", "市里：并发的说明", NULL);
    /* The hub receives n1, then decides (status and note) two seconds later. */
    hub_hlc = gs_hlc_recv(hub_hlc, n1.hlc, hub_wall + 2000);
    hub_hlc = gs_hlc_tick(hub_hlc, hub_wall + 2000);
    gs_change h2 = incident_change(GS_HUB_ORIGIN, 2, hub_hlc, "status", "accepted", "note",
                                   "市里：看过村里的说明后受理", NULL);
    ck_assert_msg(h2.hlc > n1.hlc, "the city's decision made after receiving the node's edit "
                                   "orders before it");
    /* The node receives h1 and h2 (it learns the hub's clock), and a moment
     * later by its own wall clock - a day off - edits the note again. */
    node_hlc = gs_hlc_recv(node_hlc, h1.hlc, node_wall + 2500);
    node_hlc = gs_hlc_recv(node_hlc, h2.hlc, node_wall + 2500);
    node_hlc = gs_hlc_tick(node_hlc, node_wall + 3000);
    gs_change n2 = incident_change(node_id, 2, node_hlc, "note", "村里：收到受理后补充", NULL);
    ck_assert_msg(n2.hlc > h2.hlc && n2.hlc > h1.hlc,
                  "the node's edit made after receiving the city's orders before it");
    /* the physical part never falls behind the local wall clock */
    ck_assert_uint_ge(GS_HLC_MS(n2.hlc), node_wall + 3000);
    ck_assert_uint_ge(GS_HLC_MS(h2.hlc), hub_wall + 2000);

    /* Apply in three different orders (and twice) on separate replicas. */
    gs_change *orders[3][5] = {
        {&n1, &h1, &h2, &n2, &h1}, {&n2, &h2, &h1, &n1, &n2}, {&h2, &n1, &n2, &h1, &h2}};
    char *rows[3];
    for (int o = 0; o < 3; o++) {
        gs_replica *r;
        sqlite3 *db = mem_replica(&r);
        for (int k = 0; k < 5; k++)
            ck_assert_int_eq(gs_replica_apply(r, orders[o][k], NULL, NULL), GS_OK);
        char *note = field_of(r, "note"), *status = field_of(r, "status"),
             *assignee = field_of(r, "assignee"), *title = field_of(r, "title");
        /* causal: n2 after h2 after n1, on every field each set */
        ck_assert_str_eq(note, "村里：收到受理后补充");
        ck_assert_str_eq(status, "accepted");
        /* fields only n1 set are untouched by the later edits */
        ck_assert_str_eq(assignee, "张三");
        ck_assert_str_eq(title, "村东头柴草堆");
        free(note);
        free(status);
        free(assignee);
        free(title);
        rows[o] = row_of(db);
        gs_replica_destroy(&r);
        sqlite3_close(db);
    }
    ck_assert_str_eq(rows[0], rows[1]);
    ck_assert_str_eq(rows[0], rows[2]);
    for (int o = 0; o < 3; o++)
        free(rows[o]);

    /* The concurrent pair n1/h1 alone: the greater clock wins everywhere, not
     * the later real time. A slow node's earlier edit loses to the city's;
     * a fast node's earlier edit wins over the city's later one (until the
     * city, having seen it, decides again, as h2 did above). */
    gs_change *pair[2][2] = {{&n1, &h1}, {&h1, &n1}};
    for (int o = 0; o < 2; o++) {
        gs_replica *r;
        sqlite3 *db = mem_replica(&r);
        ck_assert_int_eq(gs_replica_apply(r, pair[o][0], NULL, NULL), GS_OK);
        ck_assert_int_eq(gs_replica_apply(r, pair[o][1], NULL, NULL), GS_OK);
        char *note = field_of(r, "note");
        ck_assert_str_eq(note, fast ? "村里：先写的说明" : "市里：并发的说明");
        free(note);
        gs_replica_destroy(&r);
        sqlite3_close(db);
    }
    gs_change *all[] = {&n1, &h1, &h2, &n2};
    for (size_t i = 0; i < 4; i++)
        gs_change_clear(all[i]);
}
END_TEST

/* ---- the HLC under skew, end to end ---------------------------------------- */

/* The note of incident id as `gridhub incident show --json` prints it. */
static char *hub_note(const char *id)
{
    GH("incident", "show", id, "--json");
    ASSERT_OK("gridhub incident show --json");
    return json_str(R.out, "note");
}

/* Checks that each origin's changes in db's log have strictly increasing
 * clocks in seq order: no replica's clock ever stands still or goes back. */
static void assert_clocks_increase(const char *db)
{
    char *rows = QD(db, "SELECT origin, seq, hlc FROM changes ORDER BY origin, seq");
    char prev_origin[GS_ORIGIN_MAX + 1] = "";
    long long prev_seq = 0, seq;
    unsigned long long prev_hlc = 0, hlc;
    char origin[GS_ORIGIN_MAX + 1];
    for (const char *p = rows; *p; p += strcspn(p, "\n") + 1) {
        ck_assert_int_eq(sscanf(p, "%64[^|]|%lld|%llu", origin, &seq, &hlc), 3);
        if (!strcmp(origin, prev_origin))
            ck_assert_msg(hlc > prev_hlc,
                          "%s: the clock of %s #%lld (%llu.%llu) is not after #%lld's (%llu.%llu)",
                          db, origin, seq, hlc >> 16, hlc & 0xffff, prev_seq, prev_hlc >> 16,
                          prev_hlc & 0xffff);
        snprintf(prev_origin, sizeof prev_origin, "%s", origin);
        prev_seq = seq;
        prev_hlc = hlc;
    }
    free(rows);
}

/* Node A's clock runs a day fast. The city, having received A's report,
 * decides again and again; a push from a node whose clock is right comes in
 * between. Each decision the city makes must win over the one before. */
START_TEST(fast_node_city_decisions_keep_order)
{
    world_up(3);
    clock_ahead(A->db, DAY_MS);
    for (int i = 0; i < 3; i++)
        sync_ok(&W.nodes[i]);
    GN(A, "incident", "add", "--grid", GRID, "--category", "safety.fire", "--title",
       "快钟村的上报");
    ASSERT_OK("A incident add");
    char *id = strndup(R.out, strcspn(R.out, "\n"));
    sync_ok(A);
    sync_ok(B);
    char note[64];
    for (int k = 1; k <= 6; k++) {
        if (k == 5) {
            /* C, whose clock is right, reports something of its own village */
            GN(C, "incident", "add", "--grid", GRID2, "--category", "dispute", "--title", "纠纷");
            ASSERT_OK("C incident add");
            sync_ok(C);
        }
        snprintf(note, sizeof note, "市里第%d次决定", k);
        GH("incident", "update", id, "--note", note);
        ASSERT_OK("gridhub incident update");
        char *now = hub_note(id);
        ck_assert_msg(now && !strcmp(now, note),
                      "after the city's decision \"%s\" the hub shows \"%s\"", note,
                      now ? now : "(none)");
        free(now);
    }
    assert_clocks_increase(W.hub_db);
    sync_ok(A);
    sync_ok(B);
    for (int i = 0; i < 2; i++) {
        GN(&W.nodes[i], "incident", "show", id, "--json");
        ASSERT_OK("incident show --json");
        char *v = json_str(R.out, "note");
        ck_assert_str_eq(v ? v : "(none)", note);
        free(v);
    }
    /* A's own edit after all that still orders after the city's last */
    GN(A, "incident", "update", id, "--note", "快钟村：收到");
    ASSERT_OK("A incident update");
    sync_ok(A);
    char *v = hub_note(id);
    ck_assert_str_eq(v ? v : "(none)", "快钟村：收到");
    free(v);
    free(id);
}
END_TEST

/* The hub's clock has run a day ahead of node A's (as after a fast node
 * synced). A edits after receiving the city's decision: A's edit wins, on the
 * hub and on B. */
START_TEST(slow_node_edit_after_city_wins)
{
    world_up(2);
    hub_stop();
    clock_ahead(W.hub_db, DAY_MS);
    hub_start();
    sync_ok(A);
    GN(A, "incident", "add", "--grid", GRID, "--category", "safety.gas", "--title", "燃气味道");
    ASSERT_OK("A incident add");
    char *id = strndup(R.out, strcspn(R.out, "\n"));
    sync_ok(A);
    GH("incident", "update", id, "--status", "accepted", "--assignee", "市应急局");
    ASSERT_OK("gridhub incident update");
    sync_ok(A);
    /* Only the hub's logical clock was moved, not its wall clock, so the
     * skew warning (which compares wall clocks) must not fire here. */
    ck_assert_msg(strstr(R.err, "clock is off") == NULL,
                  "a node whose wall clock agrees with the hub's was warned; stderr: %s", R.err);
    GN(A, "incident", "update", id, "--assignee", "村网格员李四", "--status", "registered");
    ASSERT_OK("A incident update after the city's decision");
    sync_ok(A);
    sync_ok(B);
    const char *dbs[] = {W.hub_db, A->db, B->db};
    for (int i = 0; i < 3; i++) {
        char *who = QT(dbs[i], "SELECT assignee || '/' || status FROM incidents WHERE id = ?1", id);
        ck_assert_str_eq(who ? who : "(none)", "村网格员李四/registered");
        free(who);
    }
    free(id);
    hub_stop_clean();
}
END_TEST

/* After a node with a fast clock has synced, a node whose clock is right must
 * not be told that its clock is off (what `sync` prints and `status` shows). */
START_TEST(right_clock_not_blamed_for_fast_node)
{
    world_up(3);
    clock_ahead(A->db, DAY_MS);
    GN(A, "incident", "add", "--grid", GRID, "--category", "safety.fire", "--title", "快钟");
    ASSERT_OK("A incident add");
    sync_ok(A);
    sync_ok(C);
    ck_assert_msg(strstr(R.err, "clock is off") == NULL, "C's clock is right, yet sync says: %s",
                  R.err);
    GN(C, "status", "--json");
    ASSERT_OK("status --json");
    int64_t skew = json_int(R.out, "clock_skew_ms");
    ck_assert_msg(skew > -60000 && skew < 60000, "C's status shows a clock skew of %lld ms",
                  (long long)skew);
}
END_TEST

/* ---- the property test ------------------------------------------------------ */

#define NRECS   6 /* incidents edited by everyone */
#define NSTEPS  170
#define MAXEDIT NSTEPS

enum { ED_A, ED_B, ED_HUB, NEDITORS };

static uint64_t rng;

/* splitmix64: the same stream on every platform for a given seed. */
static uint32_t rnd(uint32_t n)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return n ? (uint32_t)(z % n) : 0;
}

typedef struct edit {
    int rec, editor, nf;
    char origin[GS_ORIGIN_MAX + 1];
    long long seq;
    const char *field[2];
    char value[2][160]; /* canonical, as stored */
    char shown[2][160]; /* as `incident show` prints it */
} edit;

static struct prop {
    char ids[NRECS][40];
    edit edits[MAXEDIT];
    int nedits, by[NEDITORS], skipped, refused, kills, hub_kills, bg;
    bool trace;
} P;

static const char *const node_fields[] = {"note",  "assignee", "severity", "description",
                                          "title", "deadline", "status"};
static const char *const hub_fields[] = {"note", "assignee", "deadline", "status"};

static const char *editor_db(int e)
{
    return e == ED_HUB ? W.hub_db : W.nodes[e].db;
}

static const char *editor_origin(int e)
{
    return e == ED_HUB ? GS_HUB_ORIGIN : W.nodes[e].id;
}

static bool any_bg(void)
{
    for (int i = 0; i < W.nnodes; i++)
        if (W.nodes[i].bg > 0)
            return true;
    return false;
}

/* A value for field written by editor in edit k; for status a legal next step
 * from cur (false when there is none). Draws one number either way, so the
 * random stream does not depend on the databases. */
static bool pick_value(int editor, const char *field, const char *cur, int k, char *value,
                       char *shown)
{
    static const char *const tag[] = {"甲", "乙", "市"};
    uint32_t r = rnd(1u << 20);
    const size_t cap = sizeof P.edits[0].value[0];
    if (!strcmp(field, "note"))
        snprintf(value, cap, "%s处置说明 第%d条", tag[editor], k);
    else if (!strcmp(field, "assignee"))
        snprintf(value, cap, "%s处置人%d号", tag[editor], k);
    else if (!strcmp(field, "severity"))
        snprintf(value, cap, "%u", 1 + r % 4);
    else if (!strcmp(field, "description"))
        snprintf(value, cap, "%s描述%d号：群众反映, 情况属实", tag[editor], k);
    else if (!strcmp(field, "title"))
        snprintf(value, cap, "%s标题%d号", tag[editor], k);
    else if (!strcmp(field, "deadline"))
        snprintf(value, cap, "2027-01-%02u", 1 + r % 28);
    else {
        const gs_rectype *rt = gs_rectype_get(GS_RT_INCIDENT);
        int from = cur ? gs_enum_find(&rt->fields[GS_INCIDENT_STATUS], cur) : -1;
        int next[GS_ST__COUNT], n = 0;
        for (int to = 0; from >= 0 && to < GS_ST__COUNT; to++)
            if (gs_rule_transition((gs_status)from, (gs_status)to) == GS_FIND_NONE)
                next[n++] = to;
        if (!n)
            return false;
        int to = next[r % (uint32_t)n];
        snprintf(value, cap, "%s", gs_status_names[to]);
        snprintf(shown, cap, "%s", gs_status_names_zh[to]);
        return true;
    }
    snprintf(shown, cap, "%s", value);
    return true;
}

/* One edit of record rec by editor (A, B or the city) through its command
 * line, of one or two fields. Checks that it appended exactly one change, of
 * that record, whose clock is after every change of the record the editor
 * had seen, and remembers the edit. A status step the editor's own view
 * allowed may be refused only when a background sync changed that view in
 * between. */
static void edit_step(int editor, int rec, int k)
{
    const char *db = editor_db(editor), *origin = editor_origin(editor), *id = P.ids[rec];
    const char *const *fields = editor == ED_HUB ? hub_fields : node_fields;
    uint32_t nfields = editor == ED_HUB ? 4 : 7;
    uint32_t nf = 1 + rnd(2), f1 = rnd(nfields), f2 = (f1 + 1 + rnd(nfields - 1)) % nfields;
    const uint32_t pick[2] = {f1, f2};
    char *cur = QT(db, "SELECT status FROM incidents WHERE id = ?1 AND _deleted = 0", id);
    edit e = {0};
    e.rec = rec;
    e.editor = editor;
    snprintf(e.origin, sizeof e.origin, "%s", origin);
    for (uint32_t i = 0; i < 2; i++) {
        char v[sizeof e.value[0]], s[sizeof e.shown[0]];
        if (pick_value(editor, fields[pick[i]], cur, k, v, s) && i < nf) {
            e.field[e.nf] = fields[pick[i]];
            memcpy(e.value[e.nf], v, sizeof v);
            memcpy(e.shown[e.nf], s, sizeof s);
            e.nf++;
        }
    }
    if (!cur || !e.nf) {
        P.skipped++; /* the editor has not received the record yet, or it is final */
        free(cur);
        return;
    }
    const char *argv[16];
    int n = 0;
    argv[n++] = editor == ED_HUB ? "gridhub" : "gridnode";
    argv[n++] = "--db";
    argv[n++] = db;
    argv[n++] = "incident";
    argv[n++] = "update";
    argv[n++] = id;
    char opts[2][32];
    for (int i = 0; i < e.nf; i++) {
        snprintf(opts[i], sizeof opts[i], "--%s", e.field[i]);
        argv[n++] = opts[i];
        argv[n++] = e.value[i];
    }
    argv[n] = NULL;
    char head[24];
    snprintf(head, sizeof head, "%lld",
             (long long)QI(db, 0, "SELECT max(seq) FROM changes WHERE origin = ?1", origin));
    gs_hlc seen = (gs_hlc)QI(db, 0,
                             "SELECT max(hlc) FROM changes WHERE rtype = 'incident' AND "
                             "rid = ?1",
                             id);
    run_argv(argv);
    if (P.trace)
        fprintf(stderr, "  edit %s by %s: %s=%s%s%s%s -> exit %d (status was %s)\n", id, origin,
                e.field[0], e.value[0], e.nf > 1 ? ", " : "", e.nf > 1 ? e.field[1] : "",
                e.nf > 1 ? e.value[1] : "", R.status, cur);
    if (R.status != 0) {
        bool status_edit =
            !strcmp(e.field[0], "status") || (e.nf > 1 && !strcmp(e.field[1], "status"));
        ck_assert_msg(status_edit && any_bg() && strstr(R.err, "cannot go to"),
                      "%s's edit of incident %s (%s=%s from status %s) failed: exit %d: %s", origin,
                      id, e.field[0], e.value[0], cur, R.status, R.err);
        P.refused++;
        free(cur);
        return;
    }
    free(cur);
    char *rows = QD(db,
                    "SELECT seq, hlc, rid FROM changes WHERE origin = ?1 AND seq > CAST(?2 "
                    "AS INTEGER) ORDER BY seq",
                    origin, head);
    long long seq = 0;
    unsigned long long hlc = 0;
    char rid[64] = "";
    ck_assert_msg(sscanf(rows, "%lld|%llu|%63[^\n]", &seq, &hlc, rid) == 3 &&
                      strchr(rows, '\n') == rows + strlen(rows) - 1,
                  "%s's edit of %s appended, instead of one change:\n%s", origin, id, rows);
    free(rows);
    ck_assert_str_eq(rid, id);
    ck_assert_msg(hlc > seen,
                  "%s's edit #%lld of incident %s has clock %llu.%llu, not after %llu.%llu, a "
                  "change of it %s had already seen",
                  origin, seq, id, hlc >> 16, hlc & 0xffff, (unsigned long long)seen >> 16,
                  (unsigned long long)seen & 0xffff, origin);
    e.seq = seq;
    ck_assert_int_lt(P.nedits, MAXEDIT);
    P.edits[P.nedits++] = e;
    P.by[editor]++;
}

/* The change (origin, seq) of db's log, decoded into *c. */
static void logged_change(const char *path, const char *origin, long long seq, gs_change *c)
{
    sqlite3 *db = db_open(path);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT body FROM changes WHERE origin = ?1 AND seq = ?2",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "%s: the log lacks %s #%lld", path, origin, seq);
    gs_errbuf eb = {{0}};
    ck_assert_msg(gs_change_decode(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                                   c, &eb) == GS_OK,
                  "%s: %s #%lld does not decode: %s", path, origin, seq, eb.msg);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* The winner of one field of one record by the rule, found from the log. */
typedef struct winner {
    bool any;
    gs_hlc hlc;
    char origin[GS_ORIGIN_MAX + 1];
    long long seq;
    char *value; /* canonical text; NULL when the winner cleared the field */
} winner;

static winner wins_of[NRECS][32];

/* Works out, from every change of incident rec in the hub's log, which change
 * each field's value must come from (greatest (hlc, origin)), and checks the
 * hub's row holds exactly those values. */
static void check_lww(int rec)
{
    const gs_rectype *rt = gs_rectype_get(GS_RT_INCIDENT);
    ck_assert_int_le(rt->nfields, 32);
    winner *w = wins_of[rec];
    sqlite3 *db = db_open(W.hub_db);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT body FROM changes WHERE rtype = 'incident' "
                                        "AND rid = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, P.ids[rec], -1, SQLITE_STATIC);
    int nchanges = 0;
    int fstatus = GS_INCIDENT_STATUS, fclosed = GS_INCIDENT_CLOSED_AT;
    gs_hlc closed_hlc = 0; /* the greatest clock of a change that closed it */
    while (sqlite3_step(st) == SQLITE_ROW) {
        gs_change c = {0};
        ck_assert_int_eq(gs_change_decode(sqlite3_column_blob(st, 0),
                                          (size_t)sqlite3_column_bytes(st, 0), &c, NULL),
                         GS_OK);
        nchanges++;
        ck_assert_int_eq(c.op, GS_OP_UPSERT); /* nobody deletes here */
        const char *set = gs_record_str(c.rec, fstatus);
        if (set && !strcmp(set, "closed") && c.hlc > closed_hlc)
            closed_hlc = c.hlc;
        for (int i = 0; i < rt->nfields; i++) {
            /* closed_at is derived, not replicated: worked out below */
            if (i == rt->key || c.rec->v[i].state == GS_V_UNSET || i == fclosed)
                continue;
            if (w[i].any &&
                (c.hlc < w[i].hlc || (c.hlc == w[i].hlc && strcmp(c.origin, w[i].origin) <= 0)))
                continue;
            w[i].any = true;
            w[i].hlc = c.hlc;
            w[i].seq = (long long)c.seq;
            snprintf(w[i].origin, sizeof w[i].origin, "%s", c.origin);
            free(w[i].value);
            w[i].value = NULL;
            if (c.rec->v[i].state == GS_V_SET) {
                gs_buf b = GS_BUF_INIT;
                gs_record_format(c.rec, i, &b);
                w[i].value = strdup(b.data ? b.data : "");
                gs_buf_free(&b);
            }
        }
        gs_change_clear(&c);
    }
    sqlite3_finalize(st);
    ck_assert_int_gt(nchanges, 0);
    /* closed_at: the time of the latest change that closed it, while the
     * status is closed or evaluated (or of the status itself if none did) */
    free(w[fclosed].value);
    w[fclosed].value = NULL;
    snprintf(w[fclosed].origin, sizeof w[fclosed].origin, "(derived)");
    const char *final = w[fstatus].value;
    if (final && (!strcmp(final, "closed") || !strcmp(final, "evaluated"))) {
        gs_buf b = GS_BUF_INIT;
        gs_datetime_from_ms((int64_t)GS_HLC_MS(closed_hlc ? closed_hlc : w[fstatus].hlc), &b);
        w[fclosed].value = strdup(b.data);
        gs_buf_free(&b);
    }

    gs_buf sql = GS_BUF_INIT;
    gs_buf_puts(&sql, "SELECT ");
    gs_replica_columns(rt, &sql);
    gs_buf_puts(&sql, " FROM incidents WHERE id = ?1");
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql.data, -1, &st, NULL), SQLITE_OK);
    gs_buf_free(&sql);
    sqlite3_bind_text(st, 1, P.ids[rec], -1, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    for (int i = 0; i < rt->nfields; i++) {
        if (i == rt->key)
            continue;
        const char *got = (const char *)sqlite3_column_text(st, i);
        const char *want = w[i].value;
        ck_assert_msg((!got && !want) || (got && want && !strcmp(got, want)),
                      "incident %s, %s: the hub holds \"%s\" but the change with the greatest "
                      "(hlc, origin), %s #%lld, set \"%s\"",
                      P.ids[rec], rt->fields[i].name, got ? got : "NULL", w[i].origin, w[i].seq,
                      want ? want : "NULL");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* The history line of edit e in text (`incident show`) must name its origin
 * and seq and show every value it wrote. */
static void check_history(const char *who, const char *text, const edit *e)
{
    const gs_rectype *rt = gs_rectype_get(GS_RT_INCIDENT);
    char mark[96];
    snprintf(mark, sizeof mark, " %s #%lld ", e->origin, e->seq);
    const char *p = strstr(text, mark);
    ck_assert_msg(p != NULL, "%s: the history of %s lacks%s:\n%s", who, P.ids[e->rec], mark, text);
    char *line = strndup(p, strcspn(p, "\n"));
    for (int j = 0; j < e->nf; j++) {
        char want[256];
        snprintf(want, sizeof want, " %s=%s", rt->fields[gs_field_find(rt, e->field[j])].label_zh,
                 e->shown[j]);
        ck_assert_msg(strstr(line, want) != NULL, "%s: history line%s lacks \"%s\": %s", who, mark,
                      want, line);
    }
    free(line);
}

/* Checks that node n's log is exactly the hub's log for n's scope: its own
 * changes, the city's, reference data and the other nodes' of its village,
 * byte for byte, nothing more. */
static void check_log_is_hubs(const node *n)
{
    char *hub = QD(W.hub_db,
                   "SELECT origin, seq, hex(hash), hex(body) FROM changes WHERE scope "
                   "= ?1 OR scope IS NULL ORDER BY origin, seq",
                   n->village);
    char *mine = QD(n->db, "SELECT origin, seq, hex(hash), hex(body) FROM changes ORDER BY "
                           "origin, seq");
    char what[96];
    snprintf(what, sizeof what, "the hub's log for %s and %s's own", n->village, n->name);
    ASSERT_SAME_TEXT(hub, mine, what);
    free(hub);
    free(mine);
}

/* Everything the property promises, after the final syncs. */
static void check_converged(void)
{
    const gs_rectype *rt = gs_rectype_get(GS_RT_INCIDENT);
    node *village[] = {A, B};

    /* 1. The same rows, every column, the replica's own (_clock, _hlc,
     * _origin) included: one line per column, "name=value", so that a
     * difference names its column. */
    gs_buf sql = GS_BUF_INIT;
    gs_buf_puts(&sql, "SELECT ");
    for (int i = 0; i < rt->nfields; i++)
        gs_buf_printf(&sql, "'%s=' || quote(%s) || char(10) || ", rt->fields[i].name,
                      rt->fields[i].name);
    gs_buf_puts(&sql, "'_deleted=' || _deleted || char(10) || '_clock=' || hex(_clock) || "
                      "char(10) || '_hlc=' || _hlc || char(10) || '_origin=' || quote(_origin) "
                      "FROM incidents WHERE id = ?1");
    for (int r = 0; r < NRECS; r++) {
        char *hub = QD(W.hub_db, sql.data, P.ids[r]);
        ck_assert_msg(*hub, "the hub lacks incident %s", P.ids[r]);
        for (int i = 0; i < 2; i++) {
            char *mine = QD(village[i]->db, sql.data, P.ids[r]);
            char what[128];
            snprintf(what, sizeof what, "incident %s on the hub and on %s", P.ids[r],
                     village[i]->name);
            ASSERT_SAME_TEXT(hub, mine, what);
            free(mine);
        }
        free(hub);
    }
    gs_buf_free(&sql);
    char *hub_ids =
        QD(W.hub_db, "SELECT id FROM incidents WHERE village_code = ?1 ORDER BY id", VILLAGE);
    for (int i = 0; i < 2; i++) {
        char *ids = QD(village[i]->db, "SELECT id FROM incidents ORDER BY id");
        ASSERT_SAME_TEXT(hub_ids, ids, "the village's incidents on the hub and on a node");
        free(ids);
    }
    free(hub_ids);

    /* 2. Every field holds the value of the greatest (hlc, origin). */
    for (int r = 0; r < NRECS; r++)
        check_lww(r);

    /* 3. Every node's log is the hub's for its scope; no clock goes back. */
    for (int i = 0; i < 3; i++) {
        check_log_is_hubs(&W.nodes[i]);
        assert_clocks_increase(W.nodes[i].db);
    }
    assert_clocks_increase(W.hub_db);

    /* 4. Every edit, losers too, is in all three logs and all three histories. */
    int losers = 0;
    for (int r = 0; r < NRECS; r++) {
        GH("incident", "show", P.ids[r]);
        ASSERT_OK("gridhub incident show");
        char *hub_text = strdup(R.out);
        GN(A, "incident", "show", P.ids[r]);
        ASSERT_OK("A incident show");
        char *a_text = strdup(R.out);
        GN(B, "incident", "show", P.ids[r]);
        ASSERT_OK("B incident show");
        char *b_text = strdup(R.out);
        for (int k = 0; k < P.nedits; k++) {
            const edit *e = &P.edits[k];
            if (e->rec != r)
                continue;
            gs_change c = {0};
            logged_change(W.hub_db, e->origin, e->seq, &c);
            ck_assert_str_eq(gs_record_key(c.rec), P.ids[r]);
            for (int j = 0; j < e->nf; j++) {
                int f = gs_field_find(rt, e->field[j]);
                gs_buf b = GS_BUF_INIT;
                gs_record_format(c.rec, f, &b);
                ck_assert_msg(b.data && !strcmp(b.data, e->value[j]),
                              "the hub's log has %s #%lld with %s=\"%s\", the edit wrote \"%s\"",
                              e->origin, e->seq, e->field[j], b.data ? b.data : "", e->value[j]);
                gs_buf_free(&b);
                const winner *w = &wins_of[r][f];
                losers += strcmp(w->origin, e->origin) || w->seq != e->seq;
            }
            gs_change_clear(&c);
            check_history("gridhub incident show", hub_text, e);
            check_history("A: gridnode incident show", a_text, e);
            check_history("B: gridnode incident show", b_text, e);
        }
        free(hub_text);
        free(a_text);
        free(b_text);
    }

    /* 5. Nothing left to send, nothing refused by the hub. */
    for (int i = 0; i < 3; i++) {
        GN(&W.nodes[i], "status", "--json");
        ASSERT_OK("status --json");
        ck_assert_msg(json_int(R.out, "pending") == 0 && json_int(R.out, "rejected") == 0, "%s: %s",
                      W.nodes[i].name, R.out);
    }

    /* 6. The run did what it claims: conflicts, kills, restarts. */
    fprintf(stderr,
            "converge: %d edits (A %d, B %d, city %d), %d of their values lost, %d skipped, %d "
            "refused, %d background syncs, %d syncs killed, %d hub kills\n",
            P.nedits, P.by[ED_A], P.by[ED_B], P.by[ED_HUB], losers, P.skipped, P.refused, P.bg,
            P.kills, P.hub_kills);
    ck_assert_msg(P.by[ED_A] >= 10 && P.by[ED_B] >= 10 && P.by[ED_HUB] >= 10,
                  "too few edits: A %d, B %d, city %d", P.by[ED_A], P.by[ED_B], P.by[ED_HUB]);
    ck_assert_msg(losers >= 10, "only %d edited values lost", losers);
    ck_assert_msg(P.kills >= 3, "only %d syncs died by SIGKILL", P.kills);
    ck_assert_msg(P.hub_kills >= 2, "the hub was killed only %d times", P.hub_kills);
    for (int r = 0; r < NRECS; r++)
        for (int i = 0; i < 32; i++) {
            free(wins_of[r][i].value);
            wins_of[r][i].value = NULL;
        }
}

/* A, B and the city edit six shared incidents in a random interleaving with
 * syncs, background syncs, killed syncs and hub crashes; then every replica
 * must agree (see the file's banner). Loop 1: B's clock is a day fast. */
START_TEST(replicas_converge)
{
    const char *env = getenv("GS_CONVERGE_SEED");
    rng = env ? strtoull(env, NULL, 10) : SEED + (unsigned)_i;
    memset(&P, 0, sizeof P);
    memset(wins_of, 0, sizeof wins_of);
    P.trace = getenv("GS_CONVERGE_TRACE") != NULL;
    world_up(3);
    if (_i == 1)
        clock_ahead(B->db, DAY_MS);
    for (int i = 0; i < 3; i++)
        sync_ok(&W.nodes[i]);
    for (int r = 0; r < NRECS; r++) {
        node *n = r % 2 ? B : A;
        char title[64];
        snprintf(title, sizeof title, "%s初始事件%d", n->name, r);
        GN(n, "incident", "add", "--grid", GRID, "--category",
           r % 2 ? "dispute.neighbour" : "safety.fire", "--title", title, "--description",
           "初始描述");
        ASSERT_OK("incident add");
        snprintf(P.ids[r], sizeof P.ids[r], "%.*s", (int)strcspn(R.out, "\n"), R.out);
    }
    GN(C, "incident", "add", "--grid", GRID2, "--category", "sanitation", "--title",
       "社区垃圾清运");
    ASSERT_OK("C incident add");
    sync_ok(A);
    sync_ok(B);
    sync_ok(A);
    sync_ok(C);

    int64_t t0 = gst_now_ms();
    for (int step = 0; step < NSTEPS; step++) {
        uint32_t what = rnd(100), who = rnd(9), delay = rnd(40), editor = rnd(NEDITORS),
                 rec = rnd(NRECS);
        node *n = who < 4 ? A : who < 8 ? B : C;
        if (P.trace)
            fprintf(stderr, "step %d: %u %s\n", step, what, n->name);
        if (what < 50) {
            edit_step((int)editor, (int)rec, step);
        } else if (what < 68) {
            sync_ok(n);
        } else if (what < 80) {
            if (n->bg <= 0) {
                bg_start(n, 3);
                P.bg++;
            }
        } else if (what < 94) {
            P.kills += sync_killed(n, (int)delay);
        } else {
            hub_killed_during_sync(n, (int)delay);
            P.hub_kills++;
        }
    }
    for (int i = 0; i < 3; i++)
        bg_finish(&W.nodes[i]);
    /* Final clean syncs: each node twice, so every node has everything. */
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 3; i++)
            sync_ok(&W.nodes[i]);
    fprintf(stderr, "converge: seed %llu, %d steps in %.1f s\n",
            env ? strtoull(env, NULL, 10) : (unsigned long long)(SEED + (unsigned)_i), NSTEPS,
            (double)(gst_now_ms() - t0) / 1000.0);
    check_converged();
    hub_stop_clean();
}
END_TEST

/* ---- suite ----------------------------------------------------------------- */

/* ==== derived values (issue 14) ================================================= */

/* The derived columns of an election, as one line, at replica path. */
static char *election_derived(const char *path, const char *id)
{
    return QT(path,
              "SELECT coalesce(findings, '-') || '|' || coalesce(elected, '-') || '|' || "
              "coalesce(women_elected, '-') || '|' || coalesce(unfilled, '-') || '|' || "
              "coalesce(yijiantiao, '-') FROM elections WHERE id = ?1",
              id);
}

static char *printed_id(void)
{
    ck_assert_msg(R.out_len > 0, "nothing printed; stderr: %s", R.err);
    return strndup(R.out, strcspn(R.out, "\n"));
}

/* A villagers' committee election of n: 1,130 of 1,200 voted, 3 seats. */
static char *add_village_election(node *n)
{
    GN(n, "election", "add", "--committee", "村民委员会", "--election-date", "2026-03-08",
       "--registered", "1200", "--voted", "1130", "--valid", "1118", "--invalid", "12",
       "--seats-member", "2");
    ASSERT_OK("election add");
    return printed_id();
}

/* The first scenario: PC A raises the registered voters to 3000 (the
 * turnout fails); PC B, not yet synced, adds a candidate, computing from its
 * older row. Every replica ends with the findings computed from the converged
 * row, and the city report counts the election as invalid. */
START_TEST(derived_values_follow_the_converged_row)
{
    world_up(2);
    char *e = add_village_election(A);
    GN(A, "candidate", "add", "--election", e, "--name", "张建国", "--gender", "男", "--post",
       "主任", "--votes", "702");
    ASSERT_OK("candidate add");
    sync_ok(A);
    sync_ok(B);
    GN(A, "election", "update", e, "--registered", "3000");
    ASSERT_OK("A: registered 3000");
    GN(B, "candidate", "add", "--election", e, "--name", "李秀英", "--gender", "女", "--post",
       "委员", "--votes", "650");
    ASSERT_OK("B: candidate add");
    char *b_before = election_derived(B->db, e);
    ck_assert_msg(!strstr(b_before, "TURNOUT_INVALID"), "B had not seen A's edit: %s", b_before);
    sync_ok(A); /* A's edit reaches the hub first */
    sync_ok(B); /* then B's candidate, computed from B's older row */
    sync_ok(A);
    char *hub = election_derived(W.hub_db, e), *a = election_derived(A->db, e),
         *b = election_derived(B->db, e);
    /* 2 x 1130 is not over 3000: invalid, nobody elected, all 3 seats unfilled */
    ck_assert_msg(strstr(hub, "TURNOUT_INVALID") && strstr(hub, "|0|0|3|"), "hub: %s", hub);
    ck_assert_str_eq(a, hub);
    ck_assert_str_eq(b, hub);
    /* the candidates' outcomes agree too */
    char *hc = QD(W.hub_db, "SELECT name, outcome, findings FROM candidates ORDER BY id");
    char *bc = QD(B->db, "SELECT name, outcome, findings FROM candidates ORDER BY id");
    ASSERT_SAME_TEXT(hc, bc, "the candidates at the hub and at B");
    ck_assert_msg(!strstr(hc, "|elected|"), "a candidate elected in an invalid election:\n%s", hc);
    GH("report", "elections", "--format", "json");
    ASSERT_OK("report elections");
    ck_assert_msg(strstr(R.out, "{\"code\": \"TURNOUT_INVALID\", \"text\": \"投票人数未过登记选民半数"
                         "，选举无效\", \"law\": \"村民委员会组织法\", \"version\": \"2018-12-29\", "
                         "\"article\": \"第十五条\", \"elections\": 1}"),
                  "the report misses the invalid election: %s", R.out);
    free(hc);
    free(bc);
    free(hub);
    free(a);
    free(b);
    free(b_before);
    free(e);
}
END_TEST

/* The city's edit of an election is judged and derived like a village's:
 * `gridhub election update --registered 3000` recomputes the findings at the
 * hub, and the village PC, receiving the edit, derives the same. A city edit
 * that breaks the arithmetic is refused with the numbers. A same-status
 * update is accepted by both programs alike (one workflow table). */
START_TEST(city_edits_are_judged_and_derived)
{
    world_up(1);
    char *e = add_village_election(A);
    GN(A, "incident", "add", "--grid", GRID, "--category", "safety.fire", "--title", "通道堵塞");
    ASSERT_OK("incident add");
    char *inc = printed_id();
    sync_ok(A);
    GH("election", "update", e, "--registered", "3000");
    ASSERT_OK("gridhub election update");
    char *hub = election_derived(W.hub_db, e);
    ck_assert_msg(strstr(hub, "TURNOUT_INVALID"), "the hub did not recompute: %s", hub);
    GH("election", "update", e, "--registered", "1000");
    ck_assert_msg(R.status != 0, "the hub stored 1130 ballots for 1000 voters");
    ck_assert_msg(strstr(R.err, "投票人数 --voted 1130") && strstr(R.err, "1000") &&
                      strstr(R.err, "CAST_OVER_REGISTERED"),
                  "message: %s", R.err);
    sync_ok(A);
    char *a = election_derived(A->db, e);
    ck_assert_str_eq(a, hub);

    /* the same status again: a note, accepted on both sides */
    GH("incident", "update", inc, "--status", "reported", "--note", "市里已知悉");
    ASSERT_OK("gridhub: the same status with a note");
    GN(A, "incident", "update", inc, "--status", "上报", "--note", "村里已知悉");
    ASSERT_OK("gridnode: the same status with a note");
    /* and a move the workflow does not allow is refused by both, in the same words */
    GH("incident", "update", inc, "--status", "closed");
    ck_assert_int_ne(R.status, 0);
    char *hub_err = strdup(strstr(R.err, "cannot go to") ? strstr(R.err, "cannot go to") : R.err);
    GN(A, "incident", "update", inc, "--status", "closed");
    ck_assert_int_ne(R.status, 0);
    ck_assert_msg(strstr(R.err, hub_err), "node: %s\nhub: %s", R.err, hub_err);
    free(hub_err);
    free(hub);
    free(a);
    free(e);
    free(inc);
}
END_TEST

/* closed_at is derived from the changes that closed the incident, not from
 * a clock race: a village closes on the spot, the city evaluates, and every
 * replica holds the same closed_at, the time of the village's closing. */
START_TEST(closed_at_is_the_same_everywhere)
{
    world_up(2);
    GN(A, "incident", "add", "--grid", GRID, "--category", "dispute.neighbour", "--title", "争吵");
    ASSERT_OK("incident add");
    char *inc = printed_id();
    GN(A, "incident", "update", inc, "--status", "accepted");
    ASSERT_OK("accepted");
    GN(A, "incident", "update", inc, "--status", "closed", "--note", "当场调解");
    ASSERT_OK("closed on the spot");
    char *closed = QT(A->db, "SELECT closed_at FROM incidents WHERE id = ?1", inc);
    ck_assert_ptr_nonnull(closed);
    sync_ok(A);
    GH("incident", "update", inc, "--status", "evaluated", "--note", "群众满意");
    ASSERT_OK("city evaluates");
    sync_ok(A);
    sync_ok(B);
    const char *paths[] = {W.hub_db, A->db, B->db};
    for (int i = 0; i < 3; i++) {
        char *st = QT(paths[i], "SELECT status || '|' || closed_at FROM incidents WHERE id = ?1",
                      inc);
        char want[96];
        snprintf(want, sizeof want, "evaluated|%s", closed);
        ck_assert_msg(st && !strcmp(st, want), "%s: %s, want %s", paths[i], st ? st : "(none)",
                      want);
        free(st);
    }
    free(closed);
    free(inc);
}
END_TEST

/* The law that applies: a residents' committee of 4 is too small under
 * 城市居民委员会组织法 art. 7 (5-9) and its findings cite that law; a
 * villagers' committee of 4 is within 3-7; a Party committee whose turnout
 * would fail the organic laws gets no organic-law finding. */
START_TEST(each_committee_under_its_law)
{
    world_up(1);
    GN(A, "election", "add", "--committee", "居民委员会", "--election-date", "2026-03-08",
       "--registered", "1000", "--voted", "800", "--valid", "800", "--invalid", "0",
       "--seats-member", "3");
    ASSERT_OK("residents' committee election");
    char *r = printed_id();
    ck_assert_msg(strstr(R.err, "SIZE_SMALL") && strstr(R.err, "城市居民委员会组织法") &&
                      strstr(R.err, "第七条") && !strstr(R.err, "村民委员会组织法"),
                  "the residents' committee is judged by another law: %s", R.err);
    GN(A, "election", "add", "--committee", "村民委员会", "--election-date", "2026-03-08",
       "--registered", "1000", "--voted", "800", "--valid", "800", "--invalid", "0",
       "--seats-member", "3");
    ASSERT_OK("villagers' committee election");
    char *v = printed_id();
    ck_assert_msg(!strstr(R.err, "SIZE_SMALL"), "4 is within 3-7: %s", R.err);
    GN(A, "election", "add", "--committee", "党组织委员会", "--election-date", "2026-03-08",
       "--registered", "100", "--voted", "40", "--valid", "40", "--invalid", "0",
       "--seats-member", "2");
    ASSERT_OK("party committee election");
    char *p = printed_id();
    sync_ok(A);
    char *hr = QT(W.hub_db, "SELECT findings FROM elections WHERE id = ?1", r);
    char *hp = QT(W.hub_db, "SELECT findings FROM elections WHERE id = ?1", p);
    ck_assert_msg(hr && strstr(hr, "SIZE_SMALL"), "hub: %s", hr ? hr : "(none)");
    ck_assert_msg(hp && !strcmp(hp, ""), "party committee findings at the hub: %s",
                  hp ? hp : "(none)");
    GN(A, "election", "show", r);
    ASSERT_OK("election show");
    ck_assert_msg(strstr(R.out, "城市居民委员会组织法(2018-12-29)第七条"), "%s", R.out);
    /* the city's report cites each election's own law, in its rows and in
     * the table of findings */
    GH("report", "elections", "--format", "json");
    ASSERT_OK("report elections");
    ck_assert_msg(strstr(R.out, "{\"code\": \"SIZE_SMALL\", \"text\": \"委员会职数少于法定下限(五人)\", "
                                "\"law\": \"城市居民委员会组织法\", \"version\": \"2018-12-29\", "
                                "\"article\": \"第七条\""),
                  "the report does not cite the residents' law: %s", R.out);
    ck_assert_msg(!strstr(R.out, "\"code\": \"SIZE_SMALL\", \"text\": \"委员会职数少于法定下限\", "
                                 "\"law\": \"村民委员会组织法\""),
                  "a residents' committee judged by the villagers' law: %s", R.out);
    free(hr);
    free(hp);
    free(r);
    free(v);
    free(p);
}
END_TEST

/* An existing node and hub database, written before derived values were
 * computed (schema 1 / 2, with derived values that the last writer left
 * wrong), upgrade in place when opened: every row kept, every derived value
 * computed again from the rows. */
START_TEST(old_databases_upgrade_in_place)
{
    world_up(1);
    char *e = add_village_election(A);
    GN(A, "affair", "add", "--kind", "白事", "--host", "马家", "--event-date", "2026-06-03",
       "--cremation", "豁免", "--exemption", "回族");
    ASSERT_OK("affair add");
    sync_ok(A);
    hub_stop_clean();
    char *want = election_derived(W.hub_db, e);
    int64_t hub_changes = QI(W.hub_db, 0, "SELECT count(*) FROM changes");
    int64_t node_changes = QI(A->db, 0, "SELECT count(*) FROM changes");
    /* what the old rule left: B's stale findings won the last write, and a
     * funeral stored as a cremation violation though exempted */
    static const char *const stale =
        "UPDATE elections SET registered = 3000, findings = 'SEATS_UNFILLED;NOT_CONTESTED', "
        "elected = 3, unfilled = 0;"
        "UPDATE affairs SET cremation = 'no', violations = 'AFFAIR_CREMATION';";
    q_exec(W.hub_db, stale);
    q_exec(W.hub_db, "UPDATE meta SET value = '2' WHERE key = 'schema_version'");
    q_exec(A->db, stale);
    q_exec(A->db, "UPDATE meta SET value = '1' WHERE key = 'schema_version'");
    /* and a field added since: the divisions' committee kind */
    q_exec(W.hub_db, "ALTER TABLE divisions DROP COLUMN committee");
    q_exec(A->db, "ALTER TABLE divisions DROP COLUMN committee");
    hub_start();
    ck_assert_msg(gst_count_in_file(W.hub_log, "schema 2 upgraded to 3") == 1,
                  "the hub did not say it upgraded");
    GN(A, "status");
    ASSERT_OK("gridnode status on an old database");
    ck_assert_msg(strstr(R.err, "schema 1 -> 2"), "the node did not say it upgraded: %s", R.err);
    const char *paths[] = {W.hub_db, A->db};
    for (int i = 0; i < 2; i++) {
        char *got = election_derived(paths[i], e);
        ck_assert_msg(strstr(got, "TURNOUT_INVALID") && strstr(got, "|0|0|3|"),
                      "%s: derived values not recomputed: %s (before the damage: %s)", paths[i],
                      got, want);
        free(got);
        char *v = QT(paths[i], "SELECT violations FROM affairs");
        ck_assert_msg(v && !strcmp(v, ""), "%s: an exempted funeral is a violation: %s", paths[i],
                      v ? v : "(none)");
        free(v);
        char *ver = QT(paths[i], "SELECT value FROM meta WHERE key = 'schema_version'");
        ck_assert_str_eq(ver, i == 0 ? "3" : "2");
        free(ver);
    }
    ck_assert_int_eq(QI(W.hub_db, 0, "SELECT count(*) FROM changes"), hub_changes);
    ck_assert_int_eq(QI(A->db, 0, "SELECT count(*) FROM changes"), node_changes);
    /* the village list (with its committee kinds) loads into the old hub and
     * reaches the old node */
    GH("refdata", "load", "divisions", GS_TEST_SRC_DIR "/data/luohe_villages.csv");
    ASSERT_OK("refdata load villages into an upgraded hub");
    sync_ok(A);
    char *kind = QT(A->db, "SELECT committee FROM divisions WHERE code = ?1", VILLAGE);
    ck_assert_msg(kind && !strcmp(kind, "villagers"), "the node's village row: %s",
                  kind ? kind : "(none)");
    free(kind);
    free(want);
    free(e);
}
END_TEST

static Suite *converge_suite(void)
{
    Suite *s = suite_create("converge");
    TCase *tc = gst_tcase(s, "refdata", setup, teardown, 120);
    tcase_add_test(tc, reference_data_reaches_every_node);
    tcase_add_test(tc, reload_clearing_a_field_reaches_every_node);
    tcase_add_test(tc, node_sees_only_its_village);

    tc = gst_tcase(s, "offline", setup, teardown, 300);
    tcase_add_test(tc, offline_node_catches_up_in_pages);

    tc = gst_tcase(s, "skew", setup, teardown, 120);
    tcase_add_loop_test(tc, hlc_orders_causally_under_skew, 0, 2);
    tcase_add_test(tc, fast_node_city_decisions_keep_order);
    tcase_add_test(tc, slow_node_edit_after_city_wins);
    tcase_add_test(tc, right_clock_not_blamed_for_fast_node);

    tc = gst_tcase(s, "derived", setup, teardown, 180);
    tcase_add_test(tc, derived_values_follow_the_converged_row);
    tcase_add_test(tc, city_edits_are_judged_and_derived);
    tcase_add_test(tc, closed_at_is_the_same_everywhere);
    tcase_add_test(tc, each_committee_under_its_law);
    tcase_add_test(tc, old_databases_upgrade_in_place);

    tc = gst_tcase(s, "property", setup, teardown, 600);
    tcase_add_loop_test(tc, replicas_converge, 0, 2);
    return s;
}

int main(void)
{
    /* Every test directory goes under one of ours, removed at the end, with
     * the list of background processes to end if a test died. */
    char *top = gst_tmp_top();
    snprintf(pid_list, sizeof pid_list, "%s/pids", top);
    int rc = gst_run_suite(converge_suite());
    sweep();
    gst_rmrf(top);
    free(top);
    return rc;
}
