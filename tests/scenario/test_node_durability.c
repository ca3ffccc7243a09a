/*
 * test_node_durability.c: gridnode never loses a record it said it saved,
 * and never keeps half of an import, whenever the process dies (issue 3).
 *
 * A village PC loses power or a user closes the window in the middle of an
 * import. The test stands in for that with SIGKILL at random moments (fixed
 * seed, random delays through nanosleep) against the real binary:
 *
 *   - a stream of single `incident add` processes, one to four at a time
 *     writing to the same database, one of them killed each round;
 *   - a large import (20,000 incidents) killed part way through.
 *
 * After every kill the database is opened with the SQLite C API, as the next
 * gridnode would, and must hold:
 *   - PRAGMA integrity_check = "ok";
 *   - every incident whose `add` printed its id (so had committed) is there;
 *   - each import file is present wholly (20,000 rows; 4,000 under valgrind)
 *     or not at all;
 *   - the node's own change log (table changes, origin = the node id) has
 *     seqs 1..n without a gap, its hash chain recomputes with gs_chain_next
 *     over the bodies in seq order to the stored hashes, and it holds exactly
 *     one change per stored incident (the log and the tables agree).
 *
 * The delays are scaled to how long an uninterrupted run takes on this
 * machine and build (sanitizers make gridnode several times slower), so the
 * kills land inside the work. At least 20 processes must actually die by
 * SIGKILL. The whole test takes well under two minutes.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gridsync/change.h"
#include "gstest.h"

#define NODE_ID      "411122101201-dur"
#define VILLAGE      "411122101201"
/* Rows per import file: 20,000, or 4,000 when the test process runs under
 * valgrind (scripts/valgrind.sh sets GS_UNDER_VALGRIND), where checking
 * every file's chain with BLAKE2b in this process would take minutes; the
 * kill delays follow from a timed run either way. */
#define IMPORT_ROWS  (getenv("GS_UNDER_VALGRIND") ? 4000 : 20000)
#define IMPORT_KILLS 9 /* processes that must die by SIGKILL: 9 + 12 >= 20 */
#define ADD_KILLS    12
#define MAX_ROUNDS   60
#define MAX_ADDERS   4

static char *tmp;
static char db[PATH_MAX];

/* Ids printed by `incident add` processes: committed, so must stay. */
static char (*saved_ids)[40];
static size_t nsaved, capsaved;

/* Import batches tried so far and whether each must be there in full. */
static int nbatches;
static int batch_must_exist[MAX_ROUNDS + 1];

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void sleep_ms(double ms)
{
    long long ns = (long long)(ms * 1e6);
    struct timespec t = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

/* A random delay in [0, max_ms), from the seeded rand(). */
static double random_ms(double max_ms)
{
    return max_ms * ((double)rand() / ((double)RAND_MAX + 1.0));
}

/* ---- the checks after a kill ----------------------------------------------- */

static int64_t query_int(sqlite3 *d, const char *sql, const char *arg)
{
    sqlite3_stmt *st;
    ck_assert_msg(sqlite3_prepare_v2(d, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(d));
    if (arg)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "%s: %s", sql, sqlite3_errmsg(d));
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The title prefix of import batch k. */
static void batch_prefix(int k, char *out, size_t cap)
{
    snprintf(out, cap, "导入批次%02d-", k);
}

/* Everything the header comment promises; what names the kill in messages. */
static void verify(const char *what)
{
    sqlite3 *d = NULL;
    ck_assert_msg(sqlite3_open_v2(db, &d, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK,
                  "%s: open: %s", what, sqlite3_errmsg(d));
    sqlite3_busy_timeout(d, 30000);

    /* integrity: exactly one row, "ok" */
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(d, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    const char *ok = (const char *)sqlite3_column_text(st, 0);
    ck_assert_msg(ok && !strcmp(ok, "ok"), "%s: integrity_check: %s", what, ok ? ok : "(null)");
    ck_assert_msg(sqlite3_step(st) == SQLITE_DONE, "%s: integrity_check: more than ok", what);
    sqlite3_finalize(st);

    /* every committed add is there */
    for (size_t i = 0; i < nsaved; i++)
        ck_assert_msg(query_int(d, "SELECT count(*) FROM incidents WHERE id = ?1 AND _deleted = 0",
                                saved_ids[i]) == 1,
                      "%s: incident %s, whose add exited 0, is missing", what, saved_ids[i]);

    /* every import batch wholly or not at all */
    for (int k = 0; k < nbatches; k++) {
        char like[64];
        batch_prefix(k, like, sizeof like);
        strcat(like, "%");
        int64_t n = query_int(d, "SELECT count(*) FROM incidents WHERE title LIKE ?1", like);
        ck_assert_msg(n == 0 || n == IMPORT_ROWS, "%s: import batch %d is partial: %lld of %d rows",
                      what, k, (long long)n, IMPORT_ROWS);
        if (batch_must_exist[k])
            ck_assert_msg(n == IMPORT_ROWS, "%s: import batch %d exited 0 but has %lld rows", what,
                          k, (long long)n);
    }

    /* the change log: seqs 1..n, the hash chain, one change per incident */
    ck_assert_int_eq(sqlite3_prepare_v2(d,
                                        "SELECT seq, body, hash FROM changes WHERE origin = ?1 "
                                        "ORDER BY seq",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, NODE_ID, -1, SQLITE_STATIC);
    uint8_t prev[GS_HASH_LEN] = {0}, next[GS_HASH_LEN];
    int64_t want = 1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        ck_assert_msg(seq == want, "%s: change log seq %lld where %lld was due (a gap)", what,
                      (long long)seq, (long long)want);
        const void *body = sqlite3_column_blob(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        ck_assert_msg(len > 0, "%s: change %lld has an empty body", what, (long long)seq);
        gs_chain_next(prev, body, len, next);
        ck_assert_msg(sqlite3_column_bytes(st, 2) == GS_HASH_LEN &&
                          !memcmp(sqlite3_column_blob(st, 2), next, GS_HASH_LEN),
                      "%s: change %lld: stored hash does not match the chain", what,
                      (long long)seq);
        memcpy(prev, next, GS_HASH_LEN);
        want++;
    }
    ck_assert_msg(rc == SQLITE_DONE, "%s: reading changes: %s", what, sqlite3_errmsg(d));
    sqlite3_finalize(st);
    int64_t changes = want - 1;
    int64_t incidents = query_int(d, "SELECT count(*) FROM incidents", NULL);
    ck_assert_msg(changes == incidents,
                  "%s: %lld own changes but %lld incidents: the log and the table disagree", what,
                  (long long)changes, (long long)incidents);
    ck_assert_int_eq(sqlite3_close(d), SQLITE_OK);
}

/* ---- the processes -------------------------------------------------------------- */

/* Waits for pid; returns 1 if SIGKILL ended it, 0 if it exited 0; fails the
 * test on any other end (the log says why). */
static int reap(pid_t pid, const char *log)
{
    int status;
    pid_t w;
    while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    ck_assert_int_eq(w, pid);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        return 1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    char *text = gst_read_file(log, NULL);
    ck_abort_msg("gridnode ended with status 0x%x; its output:\n%s", status,
                 text ? text : "(none)");
    return -1; /* not reached */
}

static void remember_id(const char *id)
{
    if (nsaved == capsaved) {
        capsaved = capsaved ? 2 * capsaved : 64;
        saved_ids = realloc(saved_ids, capsaved * sizeof *saved_ids);
        ck_assert_ptr_nonnull(saved_ids);
    }
    snprintf(saved_ids[nsaved++], sizeof saved_ids[0], "%s", id);
}

/* If the log of an `incident add` holds a whole id line, the add committed:
 * remember the id. Returns 1 if it did. */
static int collect_id(const char *log)
{
    size_t len = 0;
    char *text = gst_read_file(log, &len);
    ck_assert_ptr_nonnull(text);
    int got = 0;
    if (len >= 37 && text[36] == '\n') {
        text[36] = '\0';
        remember_id(text);
        got = 1;
    }
    free(text);
    return got;
}

static pid_t spawn_add(int round, int p, const char *log)
{
    char title[96];
    snprintf(title, sizeof title, "单条录入 第%02d轮-%d 路灯不亮，请修理", round, p);
    const char *argv[] = {"gridnode", "--db", db, "incident", "add", "--category", "safety",
                          "--title", title, "--description", "夜间巡查发现；已拍照", "--reporter",
                          "张桂兰", NULL};
    unlink(log);
    pid_t pid = gst_spawn(argv, log);
    ck_assert_msg(pid > 0, "spawn: %s", strerror(errno));
    return pid;
}

/* Writes import batch k: IMPORT_ROWS incidents with titles of its own. */
static void write_batch(int k, const char *path)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    static const char *const cats[] = {"dispute.neighbour", "safety.fire", "sanitation",
                                       "livelihood.elderly", "urban"};
    char prefix[64];
    batch_prefix(k, prefix, sizeof prefix);
    fputs("标题,事件类别,描述,上报人,紧急程度\r\n", f);
    for (int i = 0; i < IMPORT_ROWS; i++)
        fprintf(f, "%s%05d 邻里反映问题,%s,\"第%d条, 村民反映\",网格员%d,%d\r\n", prefix, i,
                cats[i % 5], i, i % 7, 1 + i % 4);
    ck_assert_int_eq(fclose(f), 0);
}

/* ---- the test ------------------------------------------------------------------------ */

static void setup(void)
{
    tmp = gst_tmpdir();
    snprintf(db, sizeof db, "%s/node.db", tmp);
    gst_result r;
    ck_assert_int_eq(gst_runv(&r, NULL, "gridnode", "--db", db, "init", "--node-id", NODE_ID,
                              "--village", VILLAGE, "--hub", "tcp://127.0.0.1:7700", (char *)NULL),
                     0);
    ck_assert_msg(r.status == 0, "init: %s", r.err);
    gst_result_free(&r);
    srand(42);
}

static void teardown(void)
{
    gst_rmrf(tmp);
    free(tmp);
    tmp = NULL;
    free(saved_ids);
    saved_ids = NULL;
    nsaved = capsaved = 0;
    nbatches = 0;
}

/* Single adds, one to four at a time, one of them killed each round. */
START_TEST(kill_during_adds)
{
    /* the time of one add: the fastest of three, so that a machine busy
     * with other work during one of them does not stretch every delay
     * below past the end of the adds it is meant to interrupt */
    double one_add = 0;
    for (int i = 0; i < 3; i++) {
        char log[PATH_MAX];
        snprintf(log, sizeof log, "%s/add-calibrate-%d.log", tmp, i);
        double t0 = now_ms();
        pid_t pid = spawn_add(0, i, log);
        ck_assert_int_eq(reap(pid, log), 0);
        double t = now_ms() - t0;
        if (i == 0 || t < one_add)
            one_add = t;
        ck_assert_int_eq(collect_id(log), 1);
    }
    verify("after three adds");

    int kills = 0, committed = 3, rounds = 0;
    while (kills < ADD_KILLS && rounds < MAX_ROUNDS) {
        rounds++;
        int n = 1 + rand() % MAX_ADDERS, victim = rand() % n;
        double delay = random_ms(one_add * n);
        pid_t pids[MAX_ADDERS] = {0};
        char logs[MAX_ADDERS][PATH_MAX];
        double victim_t0 = 0;
        for (int p = 0; p < n; p++) {
            snprintf(logs[p], sizeof logs[p], "%s/add-%d.log", tmp, p);
            if (p == victim)
                victim_t0 = now_ms();
            pids[p] = spawn_add(rounds, p, logs[p]);
        }
        /* the delay counts from the victim's start, as one_add does: the
         * starts of the adds after it (each returns once its program runs,
         * slow in a test process under valgrind) do not eat into it */
        double left = victim_t0 + delay - now_ms();
        if (left > 0)
            sleep_ms(left);
        kill(pids[victim], SIGKILL);
        for (int p = 0; p < n; p++) {
            int killed = reap(pids[p], logs[p]);
            kills += killed;
            /* one that printed its id committed, killed or not */
            int got = collect_id(logs[p]);
            committed += got;
            ck_assert_msg(killed || got, "an add exited 0 without printing an id");
        }
        char what[64];
        snprintf(what, sizeof what, "add round %d (%d writers, kill after %.1f ms)", rounds, n,
                 delay);
        verify(what);
    }
    ck_assert_msg(kills >= ADD_KILLS, "only %d adds died by SIGKILL in %d rounds", kills, rounds);
    fprintf(stderr, "durability: %d rounds of adds, %d killed, %d committed (one add %.1f ms)\n",
            rounds, kills, committed, one_add);
}
END_TEST

/* A 20,000-row import killed part way through, again and again. */
START_TEST(kill_during_import)
{
    char csv[PATH_MAX], log[PATH_MAX];
    snprintf(csv, sizeof csv, "%s/batch.csv", tmp);
    snprintf(log, sizeof log, "%s/import.log", tmp);

    /* an add before, which every check must still find */
    pid_t pid = spawn_add(0, 0, log);
    ck_assert_int_eq(reap(pid, log), 0);
    ck_assert_int_eq(collect_id(log), 1);

    /* batch 0 runs to the end: how long an import takes here */
    write_batch(0, csv);
    nbatches = 1;
    const char *argv[] = {"gridnode", "--db", db, "import", "incidents", csv, NULL};
    unlink(log);
    double t0 = now_ms();
    pid = gst_spawn(argv, log);
    ck_assert_int_gt(pid, 0);
    ck_assert_int_eq(reap(pid, log), 0);
    double full = now_ms() - t0;
    batch_must_exist[0] = 1;
    verify("after a whole import");

    int kills = 0, completed = 0, rounds = 0;
    while (kills < IMPORT_KILLS && nbatches < MAX_ROUNDS) {
        rounds++;
        int k = nbatches++;
        write_batch(k, csv);
        unlink(log);
        /* mostly inside the import, sometimes just after it */
        double delay = random_ms(full * 1.1);
        pid = gst_spawn(argv, log);
        ck_assert_int_gt(pid, 0);
        sleep_ms(delay);
        kill(pid, SIGKILL);
        int killed = reap(pid, log);
        kills += killed;
        if (!killed) {
            batch_must_exist[k] = 1;
            completed++;
        }
        char what[96];
        snprintf(what, sizeof what, "import batch %d (kill after %.0f of %.0f ms)", k, delay,
                 full);
        verify(what);
    }
    unlink(csv);
    ck_assert_msg(kills >= IMPORT_KILLS, "only %d imports died by SIGKILL", kills);
    fprintf(stderr,
            "durability: %d import rounds, %d killed, %d completed (a whole import %.0f ms)\n",
            rounds, kills, completed, full);

    /* after all that, the node still works: an add and a status */
    pid = spawn_add(99, 0, log);
    ck_assert_int_eq(reap(pid, log), 0);
    ck_assert_int_eq(collect_id(log), 1);
    verify("the add after the import kills");
}
END_TEST

static Suite *durability_suite(void)
{
    Suite *s = suite_create("node_durability");
    TCase *tc = gst_tcase(s, "sigkill", setup, teardown, 600);
    tcase_add_test(tc, kill_during_adds);
    tcase_add_test(tc, kill_during_import);
    return s;
}

int main(void)
{
    char *top = gst_tmp_top();
    int rc = gst_run_suite(durability_suite());
    gst_rmrf(top);
    free(top);
    return rc;
}
