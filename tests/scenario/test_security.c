/*
 * test_security.c: gridsync's keys and authority under attack, end to end
 * (DESIGN.md "Keys and authority" and "The sync protocol"; the operator's
 * side is docs/keys.md).
 *
 * Every test that needs a hub starts a real one (`gridhub serve -v`, CURVE,
 * on an ipc:// socket in the test's own temporary directory) with an honest
 * village node installed from a bundle (both copied from a template made
 * once per TCase with the real commands), and attacks it with a client of its
 * own: a libzmq DEALER speaking the wire protocol through gs_msg_encode (or
 * raw bytes), with no keys, unknown keys, revoked or replaced keys, or a
 * registered node's keys used against the rules. What is checked is what the
 * city would check: the hub's answer (ERROR, REJECTED, or nothing at all),
 * that nothing reaches the hub's `changes` and entity tables that should not,
 * that refused changes sit in `quarantine` with the reason, and that the hub
 * goes on serving: the honest node syncs before, between and after.
 *
 * TCases: keys (plaintext, unknown, revoked and re-keyed keys, self-enrolment,
 * no downgrade to plaintext); authority (another node's id, another village,
 * reference data, records of other villages, the real node's view of a
 * rejection, sessions bound to their connection); hostile (malformed frames,
 * oversized frames, a flood of HELLOs with the hub's memory measured);
 * secrets (file modes, no secret key in any output); insecure (plaintext only
 * when asked, only locally); bundle (`gridnode init` refuses bad bundles and
 * creates nothing).
 *
 * Some tests expose defects that are still open; each such test says
 * "OPEN DEFECT" in its comment and names the code at fault.
 *
 * Under valgrind (scripts/valgrind.sh sets GS_UNDER_VALGRIND), where every
 * program start costs about a second of CPU, what only repeats a path
 * already traced runs once (see under_valgrind()): one template serves all
 * the TCases, not one each, and holds the honest node's first sync, made
 * once, not in every test's fixture; the forbidden changes are judged by
 * one hub in one test, not by a hub each; the truncated bundles go to
 * `gridnode init` once per distinct refusal (every cut is still parsed, in
 * the test process, under memcheck); the HELLO flood is a fifth as wide
 * and as long. Every distinct case still
 * runs, with its assertions, against a traced hub and traced gridnodes.
 * Natively and under the sanitizers (no GS_UNDER_VALGRIND) the test is
 * unchanged.
 *
 * Cleanup: main() points TMPDIR at a directory of its own, removed at the
 * end, and kills any hub that a failed test left running (Check does not run
 * a forked test's teardown after a failure): every hub's pid is listed in a
 * file there.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "gridsync/bundle.h"
#include "gridsync/change.h"
#include "gridsync/hlc.h"
#include "gridsync/mpack.h"
#include "gridsync/msg.h"
#include "gridsync/record.h"
#include "gstest.h"
#include "store.h" /* node/store.h: to play a tampered village PC */

#define VILLAGE_H "411122101201" /* the honest node's village (繁城回族镇) */
#define VILLAGE_B "411122101202" /* another village of the same township */
#define TOWNSHIP  "411122101"    /* 繁城回族镇, reference data */
#define PIDS_ENV  "GST_SECURITY_PIDS"

/* Built with AddressSanitizer (then so are the programs under test). */
#if defined(__SANITIZE_ADDRESS__)
#define BUILT_WITH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BUILT_WITH_ASAN 1
#endif
#endif

/* True under valgrind (scripts/valgrind.sh sets GS_UNDER_VALGRIND): see the banner. */
static bool under_valgrind(void)
{
    const char *v = getenv("GS_UNDER_VALGRIND");
    return v && *v && strcmp(v, "0");
}

/* ---- the test's directory and runs ------------------------------------------------ */

static char *tmp;          /* this test's directory */
static gst_result R;       /* the last run */
static gs_buf *transcript; /* when set, every run's stdout and stderr are appended */

/* tmp/name, in one of a ring of buffers (enough for the arguments of one call). */
static const char *tpath(const char *name)
{
    static char ring[16][PATH_MAX];
    static int next;
    char *p = ring[next++ % 16];
    snprintf(p, PATH_MAX, "%s/%s", tmp, name);
    return p;
}

/* Runs prog [--db db] first ...; the result is in R, and in the transcript
 * when one is kept. Returns the exit status. */
static int vrun(const char *prog, const char *db, const char *first, va_list ap)
{
    gst_cmdv(&R, false, prog, db, first, ap);
    if (transcript) {
        gs_buf_append(transcript, R.out, R.out_len);
        gs_buf_append(transcript, R.err, R.err_len);
    }
    return R.status;
}

static int hub_(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    int rc = vrun("gridhub", tpath("hub.db"), first, ap);
    va_end(ap);
    return rc;
}

static int node_(const char *db, const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    int rc = vrun("gridnode", db, first, ap);
    va_end(ap);
    return rc;
}

/* HUB("node", "list") runs gridhub --db tmp/hub.db node list. */
#define HUB(...) hub_(__VA_ARGS__, (const char *)NULL)
/* NODE(db, "sync") runs gridnode --db db sync. */
#define NODE(db, ...) node_(db, __VA_ARGS__, (const char *)NULL)

#define ASSERT_OK(what)                                                                            \
    ck_assert_msg(R.status == 0, "%s: exit %d; stderr: %s", (what), R.status, R.err)
/* Refused: a non-zero exit that is not a crash. */
#define ASSERT_REFUSED(what)                                                                       \
    ck_assert_msg(R.status == 1 || R.status == 2,                                                  \
                  "%s: exit %d, want 1 or 2; stdout: %s stderr: %s", (what), R.status, R.out,      \
                  R.err)
#define ASSERT_ERR_HAS(s)                                                                          \
    ck_assert_msg(strstr(R.err, (s)) != NULL, "stderr lacks \"%s\":\n%s", (s), R.err)
#define ASSERT_OUT_HAS(s)                                                                          \
    ck_assert_msg(strstr(R.out, (s)) != NULL, "stdout lacks \"%s\":\n%s", (s), R.out)

/* The error is one line "PROG: ..." and nothing else. */
static void assert_one_line_error(const char *prog)
{
    size_t n = strlen(prog);
    ck_assert_msg(R.err_len > 0 && R.err[R.err_len - 1] == '\n' &&
                      memchr(R.err, '\n', R.err_len - 1) == NULL,
                  "want exactly one line on stderr, got:\n%s", R.err);
    ck_assert_msg(strncmp(R.err, prog, n) == 0 && R.err[n] == ':', "stderr: %s", R.err);
}

/* ---- reading databases ------------------------------------------------------------- */

/* Runs sql on the database at path (read-only, beside the running programs)
 * with ?1 and ?2 bound to a1 and a2 when not NULL. Returns the first column of
 * the first row as an integer (-1 when there is no row) and, when text is not
 * NULL, as malloc'd text (NULL when no row or NULL). */
static int64_t db_query(const char *path, const char *sql, const char *a1, const char *a2,
                        char **text)
{
    sqlite3 *db = NULL;
    ck_assert_msg(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "%s: %s",
                  path, sqlite3_errmsg(db));
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt *st;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    if (a1)
        sqlite3_bind_text(st, 1, a1, -1, SQLITE_TRANSIENT);
    if (a2)
        sqlite3_bind_text(st, 2, a2, -1, SQLITE_TRANSIENT);
    int64_t v = -1;
    if (text)
        *text = NULL;
    int step = sqlite3_step(st);
    ck_assert_msg(step == SQLITE_ROW || step == SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
    if (step == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
        if (text && sqlite3_column_text(st, 0))
            *text = strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static int64_t hub_int(const char *sql, const char *a1, const char *a2)
{
    return db_query(tpath("hub.db"), sql, a1, a2, NULL);
}

/* malloc'd; NULL when no row. */
static char *hub_text(const char *sql, const char *a1, const char *a2)
{
    char *t;
    db_query(tpath("hub.db"), sql, a1, a2, &t);
    return t;
}

static int64_t hub_changes(void)
{
    return hub_int("SELECT count(*) FROM changes", NULL, NULL);
}

static int64_t hub_changes_of(const char *origin)
{
    return hub_int("SELECT count(*) FROM changes WHERE origin = ?1", origin, NULL);
}

static int64_t hub_quarantined(void)
{
    return hub_int("SELECT count(*) FROM quarantine", NULL, NULL);
}

/* ---- the hub process -------------------------------------------------------------- */

static pid_t hub_pid = -1;

/* Lists a started hub for main()'s sweep (see the banner). */
static void record_pid(pid_t pid)
{
    const char *list = getenv(PIDS_ENV);
    FILE *f = list ? fopen(list, "a") : NULL;
    if (f) {
        fprintf(f, "%d\n", (int)pid);
        fclose(f);
    }
}

static bool log_has(const char *log, const char *s)
{
    char *text = gst_read_file(log, NULL);
    bool has = text && strstr(text, s);
    free(text);
    return has;
}

/* True once the hub's log holds s, waiting up to ms for it (the hub logs
 * from its own loop, a moment after the client has seen the event). */
static bool hub_logged(const char *s, int ms)
{
    for (int64_t end = gst_now_ms() + ms; !log_has(tpath("hub.log"), s); gst_sleep_ms(50))
        if (gst_now_ms() > end)
            return false;
    return true;
}

/* Waits up to ms for pid to exit; its exit status (128 + signal when killed),
 * or -1 when it is still running. */
static int wait_exit(pid_t pid, int ms)
{
    for (int64_t end = gst_now_ms() + ms;;) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (w < 0 || gst_now_ms() > end)
            return -1;
        gst_sleep_ms(20);
    }
}

/* Starts `gridhub serve --bind bind` (-v, or -vv when verbose > 1; plaintext
 * when insecure) logging to tmp/hub.log, and waits until it listens. */
static void start_hub(const char *bind, int verbose, bool insecure)
{
    const char *argv[12];
    int n = 0;
    argv[n++] = "gridhub";
    argv[n++] = "--db";
    argv[n++] = tpath("hub.db");
    argv[n++] = "serve";
    argv[n++] = "--bind";
    argv[n++] = bind;
    argv[n++] = verbose > 1 ? "-vv" : "-v";
    if (insecure)
        argv[n++] = "--insecure";
    argv[n] = NULL;
    hub_pid = gst_spawn(argv, tpath("hub.log"));
    ck_assert_msg(hub_pid > 0, "cannot start gridhub: %s", strerror(errno));
    record_pid(hub_pid);
    for (int64_t end = gst_now_ms() + 10000; !log_has(tpath("hub.log"), "gridhub: serving ");) {
        int st = wait_exit(hub_pid, 0);
        if (st >= 0) {
            hub_pid = -1;
            char *log = gst_read_file(tpath("hub.log"), NULL);
            ck_abort_msg("gridhub serve exited with %d:\n%s", st, log ? log : "");
        }
        ck_assert_msg(gst_now_ms() < end, "gridhub serve did not start within 10 s");
        gst_sleep_ms(20);
    }
}

/* Stops the hub as an operator would (SIGTERM), killing it if it hangs. */
static void stop_hub(void)
{
    if (hub_pid <= 0)
        return;
    kill(hub_pid, SIGTERM);
    if (wait_exit(hub_pid, 10000) < 0) {
        kill(hub_pid, SIGKILL);
        waitpid(hub_pid, NULL, 0);
    }
    hub_pid = -1;
}

/* The hub's resident memory in KiB (VmRSS). */
static long hub_rss_kib(void)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)hub_pid);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kib = atol(line + 6);
    fclose(f);
    ck_assert_msg(kib > 0, "no VmRSS in %s", path);
    return kib;
}

static bool hub_alive(void)
{
    return hub_pid > 0 && waitpid(hub_pid, NULL, WNOHANG) == 0;
}

/* ---- nodes ------------------------------------------------------------------------ */

/* A registered village node: its id, database, bundle and the keys in it. */
typedef struct node {
    char id[GS_ORIGIN_MAX + 1];
    char village[13];
    char db[PATH_MAX];
    char bundle[PATH_MAX];
    gs_bundle keys;
    int titles; /* incidents entered, for distinct titles */
} node;

static node honest;         /* installed and synced by the fixture */
static char hub_public[41]; /* from `gridhub init` */
static char endpoint[PATH_MAX + 8];

/* Parses a bundle file into b (asserting it parses). */
static void read_bundle(const char *path, gs_bundle *b)
{
    size_t len;
    char *text = gst_read_file(path, &len);
    ck_assert_msg(text != NULL, "%s: %s", path, strerror(errno));
    gs_errbuf eb = {{0}};
    ck_assert_msg(gs_bundle_parse(text, len, b, &eb) == GS_OK, "%s: %s", path, eb.msg);
    free(text);
}

/* Registers node `name` of village with `gridhub node add` (bundle in
 * tmp/name.bundle) and, when install, installs it in tmp/name.db. */
static void enrol(node *n, const char *name, const char *village, bool install)
{
    memset(n, 0, sizeof *n);
    char file[128];
    snprintf(file, sizeof file, "%s.bundle", name);
    snprintf(n->bundle, sizeof n->bundle, "%s", tpath(file));
    snprintf(file, sizeof file, "%s.db", name);
    snprintf(n->db, sizeof n->db, "%s", tpath(file));
    snprintf(n->village, sizeof n->village, "%s", village);
    HUB("node", "add", "--village", village, "--name", name, "--endpoint", endpoint, "--out",
        n->bundle);
    ASSERT_OK("gridhub node add");
    ck_assert_msg(R.out_len > 1 && R.out_len <= sizeof n->id, "node add printed: %s", R.out);
    memcpy(n->id, R.out, R.out_len - 1);
    read_bundle(n->bundle, &n->keys);
    ck_assert_str_eq(n->keys.node_id, n->id);
    if (install) {
        NODE(n->db, "init", "--bundle", n->bundle);
        ASSERT_OK("gridnode init --bundle");
    }
}

/* Enters an incident on the node, titled "NODE_ID N" for its N-th. */
static void add_incident(node *n)
{
    char grid[16], title[96];
    snprintf(grid, sizeof grid, "%s001", n->village);
    snprintf(title, sizeof title, "%s %d", n->id, ++n->titles);
    NODE(n->db, "incident", "add", "--grid", grid, "--category", "safety.fire", "--title", title);
    ASSERT_OK("gridnode incident add");
}

static int sync_node(const node *n, const char *timeout)
{
    return NODE(n->db, "sync", "--timeout", timeout);
}

/* The honest node enters an incident and syncs it: the hub is serving and
 * accepting honest data (it holds every change the node made, one more
 * than before). */
static void honest_sync(const char *when)
{
    int64_t before = hub_changes_of(honest.id);
    add_incident(&honest);
    sync_node(&honest, "10");
    ck_assert_msg(R.status == 0, "honest sync %s the attack: exit %d: %s", when, R.status, R.err);
    int64_t made = db_query(honest.db, "SELECT count(*) FROM changes WHERE origin = ?1", honest.id,
                            NULL, NULL);
    int64_t held = hub_changes_of(honest.id);
    ck_assert_msg(held == made && held > before,
                  "honest sync %s the attack: the hub holds %" PRId64 " of the node's %" PRId64
                  " changes (%" PRId64 " before)",
                  when, held, made, before);
}

/* ---- fixtures ----------------------------------------------------------------------- */

/* What every test starts from, made once per TCase (an unchecked fixture,
 * in Check's parent process) because starting programs is what costs, a
 * third of a second each under the sanitizers: a hub database with its key
 * pair and reference data, and the honest node registered and installed.
 * Each test copies it and points the node at the test's own socket. */
static char *template_dir;
static bool template_synced; /* under valgrind: see make_synced_template */

static void make_template(void)
{
    if (template_dir) /* under valgrind, kept from an earlier TCase (drop_template) */
        return;
    tmp = template_dir = gst_tmpdir();
    snprintf(endpoint, sizeof endpoint, "ipc://%s", tpath("hub.sock"));
    HUB("init");
    ASSERT_OK("gridhub init");
    const char *pk = strstr(R.out, "public key ");
    ck_assert_msg(pk != NULL, "gridhub init printed no public key: %s", R.out);
    snprintf(hub_public, sizeof hub_public, "%.40s", pk + strlen("public key "));
    ck_assert_msg(gs_z85_key_valid(hub_public), "public key \"%s\"", hub_public);
    HUB("refdata", "load", "divisions", GS_TEST_SRC_DIR "/data/luohe_divisions.csv");
    ASSERT_OK("refdata load divisions");
    HUB("refdata", "load", "categories", GS_TEST_SRC_DIR "/data/incident_categories.csv");
    ASSERT_OK("refdata load categories");
    enrol(&honest, "honest", VILLAGE_H, true);
    gst_result_free(&R);
    tmp = NULL;
}

/* The template of the TCases whose tests start from setup(): under valgrind
 * it also holds the honest node's first sync (a hub started on it, the
 * sync, the hub stopped), which setup() then leaves out. That sync is the
 * same path in every test (a fresh hub, the node's first incident); made
 * here it is traced once instead of once per test. Natively, make_template. */
static void make_synced_template(void)
{
    make_template();
    if (!under_valgrind() || template_synced)
        return;
    tmp = template_dir;
    snprintf(endpoint, sizeof endpoint, "ipc://%s", tpath("hub.sock")); /* honest.db's */
    start_hub(endpoint, 1, false);
    honest_sync("before (in the template)");
    stop_hub();
    gst_result_free(&R);
    tmp = NULL;
    template_synced = true;
}

/* Natively each TCase makes its template and drops it. Under valgrind the
 * first one made is kept for all (the same five commands each time; the
 * insecure and bundle TCases, which copy only its hub database, then find
 * the honest node's first incident in it) and main() removes it. */
static void drop_template(void)
{
    if (under_valgrind())
        return;
    gst_rmrf(template_dir);
    free(template_dir);
    template_dir = NULL;
}

/* Copies the template's file name (and its SQLite write-ahead log, if one
 * was left) into the test's directory, mode 0600. */
static void copy_from_template(const char *name)
{
    for (int wal = 0; wal < 2; wal++) {
        char src[PATH_MAX], file[128];
        snprintf(file, sizeof file, "%s%s", name, wal ? "-wal" : "");
        snprintf(src, sizeof src, "%s/%s", template_dir, file);
        size_t len;
        char *data = gst_read_file(src, &len);
        if (!data && wal && errno == ENOENT)
            return;
        ck_assert_msg(data != NULL, "%s: %s", src, strerror(errno));
        int fd = open(tpath(file), O_WRONLY | O_CREAT | O_EXCL, 0600);
        ck_assert_msg(fd >= 0, "%s: %s", tpath(file), strerror(errno));
        ck_assert_msg(write(fd, data, len) == (ssize_t)len, "%s: %s", tpath(file), strerror(errno));
        close(fd);
        free(data);
    }
}

/* A hub database with its key pair and reference data, not serving. */
static void setup_hub_db(void)
{
    tmp = gst_tmpdir();
    snprintf(endpoint, sizeof endpoint, "ipc://%s", tpath("hub.sock"));
    copy_from_template("hub.db");
    copy_from_template("hub.db.key");
}

/* The full fixture: a CURVE hub serving, the honest node installed (its
 * database moved to this test and pointed at this test's socket) and synced. */
static void setup(void)
{
    setup_hub_db();
    copy_from_template("honest.db");
    snprintf(honest.db, sizeof honest.db, "%s", tpath("honest.db"));
    honest.bundle[0] = '\0'; /* stays in the template */
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(honest.db, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "UPDATE meta SET value = ?1 WHERE key = 'hub_endpoint'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, endpoint, -1, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    ck_assert_int_eq(sqlite3_changes(db), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    start_hub(endpoint, 1, false);
    if (!under_valgrind()) /* else made in the template (make_synced_template) */
        honest_sync("before");
}

static void teardown(void)
{
    stop_hub();
    gst_result_free(&R);
    gst_rmrf(tmp);
    free(tmp);
    tmp = NULL;
}

/* ---- a hostile client ---------------------------------------------------------------- */

/* A DEALER of the test's own, with a monitor to see its handshakes. A
 * client that expects to be refused may find nobody to send to: once the hub
 * has refused the handshake libzmq drops the connection and a send would
 * block, so its sends give up quietly; any other client's must go out. */
typedef struct client {
    void *ctx, *sock, *mon;
    bool refusal_expected;
} client;

/* Connects to the hub: with CURVE when pub and sec are given (the server key
 * is the hub's real public key), plaintext when they are NULL; with the
 * routing id rid when not NULL (as any peer may choose its own). */
static void client_open(client *c, const char *pub, const char *sec, const char *rid,
                        bool refusal_expected)
{
    memset(c, 0, sizeof *c);
    c->refusal_expected = refusal_expected;
    c->ctx = zmq_ctx_new();
    ck_assert_ptr_nonnull(c->ctx);
    c->sock = zmq_socket(c->ctx, ZMQ_DEALER);
    ck_assert_ptr_nonnull(c->sock);
    int zero = 0, sndtimeo = refusal_expected ? 500 : 10000;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(c->sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
    if (pub) {
        ck_assert_int_eq(zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, hub_public, 40), 0);
        ck_assert_int_eq(zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, pub, 40), 0);
        ck_assert_int_eq(zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, sec, 40), 0);
    }
    if (rid)
        ck_assert_int_eq(zmq_setsockopt(c->sock, ZMQ_ROUTING_ID, rid, strlen(rid)), 0);
    ck_assert_int_eq(
        zmq_socket_monitor(c->sock, "inproc://monitor",
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_DISCONNECTED),
        0);
    c->mon = zmq_socket(c->ctx, ZMQ_PAIR);
    ck_assert_int_eq(zmq_connect(c->mon, "inproc://monitor"), 0);
    ck_assert_int_eq(zmq_connect(c->sock, endpoint), 0);
}

/* A client with the keys of a bundle, which the hub should admit. */
static void client_as(client *c, const gs_bundle *b)
{
    client_open(c, b->node_public_key, b->node_secret_key, NULL, false);
}

/* A client with the keys of a bundle that the hub should refuse. */
static void client_refused_as(client *c, const gs_bundle *b)
{
    client_open(c, b->node_public_key, b->node_secret_key, NULL, true);
}

static void client_close(client *c)
{
    /* Monitoring stops before the monitor socket closes, as gridnode does:
     * an event libzmq's I/O thread sends to a closed monitor leaks (seen
     * under LeakSanitizer after the HELLO flood) or blocks it. */
    if (c->sock && c->mon)
        zmq_socket_monitor(c->sock, NULL, 0);
    if (c->mon)
        zmq_close(c->mon);
    if (c->sock)
        zmq_close(c->sock);
    if (c->ctx)
        zmq_ctx_term(c->ctx);
    memset(c, 0, sizeof *c);
}

/* Waits up to ms for one of the events in mask; returns it (0 on timeout)
 * and its value (for a failed handshake: errno, protocol error or ZAP status). */
static int client_event(client *c, int mask, int ms, uint32_t *value)
{
    for (int64_t end = gst_now_ms() + ms, left; (left = end - gst_now_ms()) > 0;) {
        zmq_pollitem_t it = {c->mon, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, (long)left) <= 0)
            continue;
        zmq_msg_t ev, addr;
        zmq_msg_init(&ev);
        zmq_msg_init(&addr);
        ck_assert_int_ge(zmq_msg_recv(&ev, c->mon, 0), 6);
        zmq_msg_recv(&addr, c->mon, 0);
        uint16_t event;
        uint32_t v;
        memcpy(&event, zmq_msg_data(&ev), 2);
        memcpy(&v, (char *)zmq_msg_data(&ev) + 2, 4);
        zmq_msg_close(&ev);
        zmq_msg_close(&addr);
        if (event & mask) {
            if (value)
                *value = v;
            return event;
        }
    }
    return 0;
}

static void client_send_raw(client *c, const void *data, size_t len)
{
    int n = zmq_send(c->sock, data, len, 0);
    ck_assert_msg(n == (int)len || (c->refusal_expected && zmq_errno() == EAGAIN), "zmq_send: %s",
                  zmq_strerror(zmq_errno()));
}

static void client_send(client *c, const gs_msg *m)
{
    gs_buf b = GS_BUF_INIT;
    ck_assert_int_eq(gs_msg_encode(m, NULL, &b), GS_OK);
    client_send_raw(c, b.data, b.len);
    gs_buf_free(&b);
}

/* Receives one message within ms into m (decoded); false on silence. */
static bool client_recv(client *c, gs_msg *m, int ms)
{
    zmq_pollitem_t it = {c->sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, ms) <= 0)
        return false;
    zmq_msg_t raw;
    zmq_msg_init(&raw);
    ck_assert_int_ge(zmq_msg_recv(&raw, c->sock, 0), 0);
    gs_errbuf eb = {{0}};
    int rc = gs_msg_decode(zmq_msg_data(&raw), zmq_msg_size(&raw), NULL, m, &eb);
    zmq_msg_close(&raw);
    ck_assert_msg(rc == GS_OK, "the hub sent an undecodable message: %s", eb.msg);
    return true;
}

/* The next message must be of type t (within 10 s). */
static void expect(client *c, gs_msg_type t, gs_msg *m)
{
    memset(m, 0, sizeof *m);
    ck_assert_msg(client_recv(c, m, 10000), "no %s from the hub within 10 s", gs_msg_name(t));
    ck_assert_msg(m->type == t, "want %s, the hub sent %s %s %s", gs_msg_name(t),
                  gs_msg_name(m->type), m->code, m->text);
}

/* The next message must be ERROR with code. */
static void expect_error(client *c, const char *code)
{
    gs_msg m;
    expect(c, GS_MSG_ERROR, &m);
    ck_assert_msg(!strcmp(m.code, code), "ERROR %s (%s), want %s", m.code, m.text, code);
    gs_msg_clear(&m);
}

/* Nothing at all may arrive for ms. */
static void expect_silence(client *c, int ms, const char *why)
{
    gs_msg m = {0};
    if (client_recv(c, &m, ms))
        ck_abort_msg("%s: the hub sent %s %s %s (acked %" PRIu64 ")", why, gs_msg_name(m.type),
                     m.code, m.text, m.acked_through);
}

static gs_msg hello_msg(const char *node_id)
{
    gs_msg m = {0};
    m.type = GS_MSG_HELLO;
    m.version = GS_PROTO_VERSION;
    snprintf(m.node_id, sizeof m.node_id, "%s", node_id);
    snprintf(m.software, sizeof m.software, "hostile-test 1");
    m.node_time = gs_wall_ms();
    return m;
}

/* HELLO as node_id; WELCOME expected, returned in w. */
static void hello(client *c, const char *node_id, gs_msg *w)
{
    gs_msg h = hello_msg(node_id);
    client_send(c, &h);
    expect(c, GS_MSG_WELCOME, w);
}

static void ping(client *c)
{
    gs_msg p = {0}, m;
    p.type = GS_MSG_PING;
    client_send(c, &p);
    expect(c, GS_MSG_PONG, &m);
}

/* ---- crafting changes -------------------------------------------------------------- */

/* The canonical body of a change by origin with seq, of record type `type`, setting the
 * fields given as name, value pairs (NULL-terminated), as a node would. */
static void make_change(gs_buf *body, const char *origin, uint64_t seq, gs_rtype type, gs_op op,
                        const char *const *fields)
{
    gs_change c = {0};
    snprintf(c.origin, sizeof c.origin, "%s", origin);
    c.seq = seq;
    c.hlc = GS_HLC_MAKE(gs_wall_ms(), 0);
    c.op = op;
    c.rec = gs_record_new(gs_rectype_get(type));
    ck_assert_ptr_nonnull(c.rec);
    for (int i = 0; fields[i]; i += 2) {
        gs_errbuf eb = {{0}};
        int f = gs_field_find(c.rec->rt, fields[i]);
        ck_assert_msg(f >= 0, "no field %s", fields[i]);
        ck_assert_msg(gs_record_parse(c.rec, f, fields[i + 1], &eb) == GS_OK, "%s: %s", fields[i],
                      eb.msg);
    }
    gs_buf_reset(body);
    gs_change_encode(&c, body);
    ck_assert_int_eq(body->err, GS_OK);
    gs_change_clear(&c);
}

/* A node's chain as the hub knows it: the last acked seq and its hash. */
typedef struct chain {
    uint64_t seq;
    uint8_t head[GS_HASH_LEN];
} chain;

static chain chain_of_welcome(const gs_msg *w)
{
    chain ch;
    ch.seq = w->acked_through;
    memcpy(ch.head, w->chain_head, GS_HASH_LEN);
    return ch;
}

/* The chain the hub stores for a node (what a perfect forger would know). */
static chain chain_in_hub(const char *node_id)
{
    chain ch = {0};
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open_v2(tpath("hub.db"), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT acked_through, chain_head FROM nodes WHERE id = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, node_id, -1, SQLITE_TRANSIENT);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ch.seq = (uint64_t)sqlite3_column_int64(st, 0);
    if (sqlite3_column_bytes(st, 1) == GS_HASH_LEN)
        memcpy(ch.head, sqlite3_column_blob(st, 1), GS_HASH_LEN);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ch;
}

/* Appends a body to a PUSH, chained correctly after ch (which advances). */
static void push_add(gs_msg *push, chain *ch, const gs_buf *body)
{
    uint8_t h[GS_HASH_LEN];
    gs_chain_next(ch->head, body->data, body->len, h);
    ck_assert_int_eq(gs_msg_add_change(push, body->data, body->len, h, 0), GS_OK);
    memcpy(ch->head, h, GS_HASH_LEN);
    ch->seq++;
}

static gs_msg push_msg(uint64_t first_seq)
{
    gs_msg m = {0};
    m.type = GS_MSG_PUSH;
    m.version = GS_PROTO_VERSION;
    m.first_seq = first_seq;
    return m;
}

/* Fields of a complete incident of village with id. */
#define INCIDENT(id, village)                                                                      \
    (const char *const[])                                                                          \
    {                                                                                              \
        "id", (id), "village_code", (village), "category", "safety.fire", "title", "伪造 forged",  \
            "reported_at", "2026-11-28T10:00:00+08:00", "status", "reported", NULL                 \
    }

/* A PUSH that would be accepted from n if the hub took it: one incident of
 * n's village, continuing n's chain exactly as the hub stores it. */
static void send_forged_push(client *c, const node *n, const char *incident_id)
{
    chain ch = chain_in_hub(n->id);
    gs_msg p = push_msg(ch.seq + 1);
    gs_buf body = GS_BUF_INIT;
    make_change(&body, n->id, ch.seq + 1, GS_RT_INCIDENT, GS_OP_UPSERT,
                INCIDENT(incident_id, n->village));
    push_add(&p, &ch, &body);
    client_send(c, &p);
    gs_msg_clear(&p);
    gs_buf_free(&body);
}

/* ==== keys ============================================================================ */

/* A client without CURVE against the CURVE hub: the handshake fails (the
 * mechanisms differ), nothing it sends is read, nothing is answered, and
 * the hub logs the failed handshake. */
START_TEST(plaintext_client_refused)
{
    int64_t changes = hub_changes();
    client c;
    client_open(&c, NULL, NULL, NULL, true);
    gs_msg h = hello_msg(honest.id);
    client_send(&c, &h);
    send_forged_push(&c, &honest, "forged-plaintext-1");
    uint32_t v = 0;
    int ev = client_event(&c, ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
                          5000, &v);
    ck_assert_msg(ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
                  "plaintext handshake: event 0x%x (value %u), want a protocol failure", ev, v);
    ck_assert_uint_eq(v, ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH);
    expect_silence(&c, 1000, "a plaintext client");
    client_close(&c);
    ck_assert_int_eq(hub_changes(), changes);
    /* which side notices first decides between "protocol error" and "Broken pipe" */
    ck_assert_msg(hub_logged("gridhub: handshake failed (", 5000),
                  "the hub did not log the plaintext handshake");
    ck_assert_int_eq(
        hub_int("SELECT count(*) FROM incidents WHERE id = 'forged-plaintext-1'", NULL, NULL), 0);
    honest_sync("after");
}
END_TEST

/* A key the hub never issued: ZAP answers 400, the hub logs the refusal
 * (with only the start of the public key), nothing is read. */
START_TEST(unknown_key_refused)
{
    int64_t changes = hub_changes();
    char pub[41], sec[41];
    ck_assert_int_eq(zmq_curve_keypair(pub, sec), 0);
    client c;
    client_open(&c, pub, sec, NULL, true);
    gs_msg h = hello_msg(honest.id);
    client_send(&c, &h);
    send_forged_push(&c, &honest, "forged-unknown-1");
    uint32_t v = 0;
    int ev =
        client_event(&c, ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 5000, &v);
    ck_assert_msg(ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && v == 400,
                  "unknown key: event 0x%x status %u, want an auth failure with 400", ev, v);
    expect_silence(&c, 1000, "an unknown key");
    client_close(&c);
    ck_assert_int_eq(hub_changes(), changes);
    char line[128];
    snprintf(line, sizeof line, "unknown key (key %.8s...)", pub);
    ck_assert_msg(hub_logged(line, 5000), "the hub log lacks \"%s\"", line);
    ck_assert(hub_logged("refused CURVE client from", 0));
    ck_assert(hub_logged("handshake refused (authentication, status 400)", 5000));
    honest_sync("after");
}
END_TEST

/* `gridhub node revoke`: the node's key is refused from its next connection
 * (the real gridnode and a client of ours alike), the node's new entries do
 * not reach the hub, other nodes are served throughout, and `node enable`
 * lets it back in with nothing lost. */
START_TEST(revoked_key_refused)
{
    node v;
    enrol(&v, "victim", VILLAGE_H, true);
    add_incident(&v);
    sync_node(&v, "10");
    ASSERT_OK("the victim's first sync");
    ck_assert_int_eq(hub_changes_of(v.id), 1);

    HUB("node", "revoke", v.id);
    ASSERT_OK("gridhub node revoke");
    ASSERT_OUT_HAS("revoked");
    ck_assert_int_eq(hub_int("SELECT enabled FROM nodes WHERE id = ?1", v.id, NULL), 0);
    HUB("node", "list", "--json");
    ASSERT_OK("node list --json");
    ASSERT_OUT_HAS("\"enabled\":false");
    honest_sync("between revoking and the attempts");

    int64_t changes = hub_changes();
    add_incident(&v);
    sync_node(&v, "2");
    ck_assert_msg(R.status != 0, "a revoked node synced: %s", R.out);
    client c;
    client_refused_as(&c, &v.keys);
    gs_msg h = hello_msg(v.id);
    client_send(&c, &h);
    send_forged_push(&c, &v, "forged-revoked-1");
    uint32_t st = 0;
    int ev = client_event(&c, ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 5000,
                          &st);
    ck_assert_msg(ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && st == 400,
                  "revoked key: event 0x%x status %u, want an auth failure with 400", ev, st);
    expect_silence(&c, 500, "a revoked key");
    client_close(&c);
    ck_assert_int_eq(hub_changes(), changes);
    ck_assert_msg(hub_logged("node revoked", 5000), "the hub did not log the revoked key");
    honest_sync("between the attempts and enabling");

    HUB("node", "enable", v.id);
    ASSERT_OK("gridhub node enable");
    sync_node(&v, "10");
    ASSERT_OK("the victim's sync after enable");
    ck_assert_int_eq(hub_changes_of(v.id), 2);
    honest_sync("after");
}
END_TEST

/* A revoked node is told that its key was refused, at once; it is not left
 * to wait for --timeout and report a silent hub (DESIGN.md: authentication
 * failures are reported, not retried). OPEN DEFECT: node/sync.c does not
 * watch the handshake, so gridnode says "no answer from the hub ... within
 * N s", and `sync --watch` retries forever. */
START_TEST(revoked_node_told_why)
{
    HUB("node", "revoke", honest.id);
    ASSERT_OK("gridhub node revoke");
    add_incident(&honest);
    int64_t t0 = gst_now_ms();
    sync_node(&honest, "4");
    int64_t took = gst_now_ms() - t0;
    ck_assert_msg(R.status != 0, "a revoked node synced: %s", R.out);
    ck_assert_msg(strstr(R.err, "no answer") == NULL &&
                      (strstr(R.err, "refused") || strstr(R.err, "revoked") ||
                       strstr(R.err, "not authorized")),
                  "a revoked node should be told its key was refused, it said (after %" PRId64
                  " ms): %s",
                  took, R.err);
}
END_TEST

/* `gridhub node rekey`: the old key stops working at once (the real node and
 * our client are refused), the new bundle's key is admitted as the same node
 * with its sync state, and other nodes are served throughout. */
START_TEST(rekeyed_old_key_refused)
{
    node v;
    enrol(&v, "victim", VILLAGE_H, true);
    add_incident(&v);
    sync_node(&v, "10");
    ASSERT_OK("the victim's first sync");

    HUB("node", "rekey", v.id, "--out", tpath("victim-new.bundle"), "--endpoint", endpoint);
    ASSERT_OK("gridhub node rekey");
    gs_bundle nb;
    read_bundle(tpath("victim-new.bundle"), &nb);
    ck_assert_str_eq(nb.node_id, v.id);
    ck_assert_str_eq(nb.hub_public_key, hub_public);
    ck_assert_str_ne(nb.node_public_key, v.keys.node_public_key);
    ck_assert_msg(nb.node_secret_key[0] && strcmp(nb.node_secret_key, v.keys.node_secret_key),
                  "the new bundle has no new secret key");
    char *key = hub_text("SELECT public_key FROM nodes WHERE id = ?1", v.id, NULL);
    ck_assert_str_eq(key, nb.node_public_key);
    free(key);
    honest_sync("between rekey and the old key's attempts");

    int64_t changes = hub_changes();
    add_incident(&v);
    sync_node(&v, "2");
    ck_assert_msg(R.status != 0, "the old key synced after rekey: %s", R.out);
    client c;
    client_refused_as(&c, &v.keys);
    gs_msg h = hello_msg(v.id);
    client_send(&c, &h);
    send_forged_push(&c, &v, "forged-oldkey-1");
    uint32_t st = 0;
    int ev = client_event(&c, ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 5000,
                          &st);
    ck_assert_msg(ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && st == 400,
                  "old key after rekey: event 0x%x status %u, want an auth failure with 400", ev,
                  st);
    expect_silence(&c, 500, "the old key");
    client_close(&c);
    ck_assert_int_eq(hub_changes(), changes);
    honest_sync("between the old key and the new");

    /* The new key is the node: it gets the node's acked state and may push. */
    client_as(&c, &nb);
    gs_msg w, ack;
    hello(&c, v.id, &w);
    ck_assert_uint_eq(w.acked_through, 1);
    chain ch = chain_of_welcome(&w);
    gs_msg p = push_msg(ch.seq + 1);
    gs_buf body = GS_BUF_INIT;
    make_change(&body, v.id, ch.seq + 1, GS_RT_INCIDENT, GS_OP_UPSERT,
                INCIDENT("newkey-incident-1", VILLAGE_H));
    push_add(&p, &ch, &body);
    client_send(&c, &p);
    expect(&c, GS_MSG_ACK, &ack);
    ck_assert_uint_eq(ack.acked_through, 2);
    client_close(&c);
    gs_msg_clear(&p);
    gs_buf_free(&body);
    ck_assert_int_eq(hub_changes_of(v.id), 2);
    ck_assert_int_eq(
        hub_int("SELECT count(*) FROM incidents WHERE id = 'newkey-incident-1'", NULL, NULL), 1);
    honest_sync("after");
}
END_TEST

/* The new bundle of a re-keyed node that has not synced yet installs and
 * syncs with the real gridnode; the old installation cannot. */
START_TEST(rekeyed_bundle_installs)
{
    node w;
    enrol(&w, "fresh", VILLAGE_H, true);
    HUB("node", "rekey", w.id, "--out", tpath("fresh-new.bundle"), "--endpoint", endpoint);
    ASSERT_OK("gridhub node rekey");
    add_incident(&w);
    sync_node(&w, "2");
    ck_assert_msg(R.status != 0, "the old key synced after rekey: %s", R.out);
    NODE(tpath("fresh-new.db"), "init", "--bundle", tpath("fresh-new.bundle"));
    ASSERT_OK("gridnode init --bundle (new keys)");
    snprintf(w.db, sizeof w.db, "%s", tpath("fresh-new.db"));
    add_incident(&w);
    sync_node(&w, "10");
    ASSERT_OK("sync with the new keys");
    ck_assert_int_eq(hub_changes_of(w.id), 1);
}
END_TEST

/* A rekey that cannot write its bundle must not change the key: otherwise
 * the node's old key is refused and the new secret is lost with the bundle,
 * and the village is locked out. OPEN DEFECT: hub/main.c cmd_node_rekey
 * stores the new key before write_bundle, which refuses an existing --out
 * (and its message suggests a --force that rekey does not take). */
START_TEST(rekey_failure_keeps_key)
{
    node v;
    enrol(&v, "victim", VILLAGE_H, true);
    ck_assert_int_eq(gst_write_file(tpath("taken.bundle"), "x\n", 2), 0);
    HUB("node", "rekey", v.id, "--out", tpath("taken.bundle"), "--endpoint", endpoint);
    ASSERT_REFUSED("rekey onto an existing file");
    char *key = hub_text("SELECT public_key FROM nodes WHERE id = ?1", v.id, NULL);
    ck_assert_msg(
        !strcmp(key, v.keys.node_public_key),
        "the failed rekey replaced the node's key (%s, was %s); no bundle holds its secret", key,
        v.keys.node_public_key);
    free(key);
    add_incident(&v);
    sync_node(&v, "5");
    ASSERT_OK("sync after a failed rekey");
}
END_TEST

/* The node's key pair as stored in its database: public and secret (into
 * the caller's 41-byte buffers), asserting the secret's public key is the
 * stored public key: a node whose two halves differ can never connect. */
static void stored_keys_match(const char *db, char pub[41], char sec[41])
{
    char *p = NULL, *q = NULL;
    db_query(db, "SELECT value FROM meta WHERE key = 'public_key'", NULL, NULL, &p);
    db_query(db, "SELECT value FROM meta WHERE key = 'secret_key'", NULL, NULL, &q);
    ck_assert_msg(p && q && strlen(p) == 40 && strlen(q) == 40, "stored keys missing in %s", db);
    char derived[41];
    ck_assert_int_eq(zmq_curve_public(derived, q), 0);
    ck_assert_msg(!strcmp(derived, p), "%s: the stored public key does not belong to the stored "
                                       "secret key", db);
    memcpy(pub, p, 41);
    memcpy(sec, q, 41);
    free(p);
    free(q);
}

/* A node "fresh" installed, then re-keyed at the hub: the new bundle is
 * tmp/fresh-new.bundle, not yet installed. */
static void enrol_and_rekey(node *w)
{
    enrol(w, "fresh", VILLAGE_H, true);
    HUB("node", "rekey", w->id, "--out", tpath("fresh-new.bundle"), "--endpoint", endpoint);
    ASSERT_OK("gridhub node rekey");
}

/* `gridnode rekey` installs the bundle's key pair whole: afterwards the
 * stored public key is the bundle's and belongs to the stored secret. */
START_TEST(node_rekey_keys_match)
{
    node w;
    enrol_and_rekey(&w);
    NODE(w.db, "rekey", "--bundle", tpath("fresh-new.bundle"));
    ASSERT_OK("gridnode rekey");
    gs_bundle nb;
    read_bundle(tpath("fresh-new.bundle"), &nb);
    char pub[41], sec[41];
    stored_keys_match(w.db, pub, sec);
    ck_assert_str_eq(pub, nb.node_public_key);
    ck_assert_str_ne(pub, w.keys.node_public_key);
}
END_TEST

/* A `gridnode rekey` that fails half-way (here the database refuses the
 * last of the four key writes, the secret, through a trigger the test puts
 * on the meta table) leaves the old keys, both halves: the four writes are
 * one transaction. Then, the fault removed, the rekey goes through. */
START_TEST(node_rekey_fault_keeps_old_keys)
{
    node w;
    enrol_and_rekey(&w);
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(w.db, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "CREATE TRIGGER fault BEFORE INSERT ON meta "
                                  "WHEN NEW.key = 'secret_key' "
                                  "BEGIN SELECT RAISE(ABORT, 'injected fault'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    NODE(w.db, "rekey", "--bundle", tpath("fresh-new.bundle"));
    ASSERT_REFUSED("gridnode rekey with a fault at the secret key");
    assert_one_line_error("gridnode");
    ASSERT_ERR_HAS("injected fault");
    ASSERT_ERR_HAS("the old keys stay");
    char pub[41], sec[41];
    stored_keys_match(w.db, pub, sec);
    ck_assert_str_eq(pub, w.keys.node_public_key);
    ck_assert_str_eq(sec, w.keys.node_secret_key);
    char *hub_key = NULL;
    db_query(w.db, "SELECT value FROM meta WHERE key = 'hub_public_key'", NULL, NULL, &hub_key);
    ck_assert_str_eq(hub_key, hub_public);
    free(hub_key);
    ck_assert_int_eq(sqlite3_exec(db, "DROP TRIGGER fault", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    NODE(w.db, "rekey", "--bundle", tpath("fresh-new.bundle"));
    ASSERT_OK("gridnode rekey without the fault");
    stored_keys_match(w.db, pub, sec);
    ck_assert_str_ne(pub, w.keys.node_public_key);
}
END_TEST

/* The reference rows a node got from its bundle are overwritten by its first
 * sync: after it, every category and division row carries a clock of the
 * hub's (none the bundle's HLC 1), and the node holds the hub's categories. */
START_TEST(bundle_reference_overwritten_by_sync)
{
    int64_t from_bundle = db_query(honest.db,
                                   "SELECT (SELECT count(*) FROM categories WHERE _hlc <= 1) + "
                                   "(SELECT count(*) FROM divisions WHERE _hlc <= 1)",
                                   NULL, NULL, NULL);
    ck_assert_int_eq(from_bundle, 0);
    int64_t node_cats = db_query(honest.db, "SELECT count(*) FROM categories WHERE _deleted = 0",
                                 NULL, NULL, NULL);
    ck_assert_int_eq(node_cats, hub_int("SELECT count(*) FROM categories WHERE _deleted = 0",
                                        NULL, NULL));
    ck_assert_int_gt(node_cats, 0);
}
END_TEST

/* After a rekey, a connection opened with the old key before it must not
 * start a new session: HELLO checks that the key belongs to the node id.
 * OPEN DEFECT: hub/server.c handle_hello compares HELLO.node_id with the
 * User-Id ZAP gave the connection when it opened, not with the node's
 * current key, so the old key keeps working on any connection it holds. */
START_TEST(rekey_refuses_hello_on_old_connection)
{
    node v;
    enrol(&v, "victim", VILLAGE_H, true);
    client c;
    client_as(&c, &v.keys);
    gs_msg w;
    hello(&c, v.id, &w);
    HUB("node", "rekey", v.id, "--out", tpath("victim-new.bundle"), "--endpoint", endpoint);
    ASSERT_OK("gridhub node rekey");
    gs_msg h = hello_msg(v.id);
    client_send(&c, &h);
    expect_error(&c, "GS_EAUTH");
    client_close(&c);
}
END_TEST

/* Self-enrolment: `gridnode keygen` keeps the secret on the PC (mode 0600),
 * the bundle of `node add --public-key` holds no secret, `gridnode init`
 * joins the two and removes the key file; a PC with another key is refused. */
START_TEST(self_enrolment)
{
    const char *db = tpath("self.db"), *keyfile = tpath("self.db.key");
    NODE(db, "keygen");
    ASSERT_OK("gridnode keygen");
    char pub[41];
    ck_assert_msg(R.out_len == 41 && R.out[40] == '\n', "keygen printed: %s", R.out);
    snprintf(pub, sizeof pub, "%.40s", R.out);
    ck_assert(gs_z85_key_valid(pub));
    char *kf = gst_read_file(keyfile, NULL);
    ck_assert_msg(kf && strstr(kf, pub), "%s does not hold the public key", keyfile);
    free(kf);
    HUB("node", "add", "--village", VILLAGE_H, "--name", "自助 self", "--endpoint", endpoint,
        "--out", tpath("self.bundle"), "--public-key", pub);
    ASSERT_OK("node add --public-key");
    char id[GS_ORIGIN_MAX + 1];
    snprintf(id, sizeof id, "%.*s", (int)R.out_len - 1, R.out);
    char *text = gst_read_file(tpath("self.bundle"), NULL);
    ck_assert_msg(text && !strstr(text, "\nnode_secret_key") && strstr(text, pub),
                  "a self-enrolled bundle must hold the public key and no secret:\n%s", text);
    free(text);

    /* Another PC, with a key of its own, cannot use this bundle. */
    NODE(tpath("other.db"), "keygen");
    ASSERT_OK("keygen on another PC");
    NODE(tpath("other.db"), "init", "--bundle", tpath("self.bundle"));
    ASSERT_REFUSED("init with another PC's key");
    ASSERT_ERR_HAS("does not hold the secret key");
    ck_assert_int_ne(access(tpath("other.db"), F_OK), 0);

    NODE(db, "init", "--bundle", tpath("self.bundle"));
    ASSERT_OK("gridnode init --bundle (self-enrolled)");
    ck_assert_msg(access(keyfile, F_OK) != 0, "%s is left after init", keyfile);
    node n = {0};
    snprintf(n.id, sizeof n.id, "%s", id);
    snprintf(n.db, sizeof n.db, "%s", db);
    snprintf(n.village, sizeof n.village, VILLAGE_H);
    add_incident(&n);
    sync_node(&n, "10");
    ASSERT_OK("a self-enrolled node syncs");
    ck_assert_int_eq(hub_changes_of(id), 1);
}
END_TEST

/* Plaintext is never chosen silently: a node with keys asked for --insecure
 * cannot talk to a CURVE hub, and a node without keys is refused before it
 * connects, with a message that says why. */
START_TEST(no_plaintext_against_curve_hub)
{
    int64_t changes = hub_changes();
    add_incident(&honest);
    NODE(honest.db, "sync", "--insecure", "--timeout", "2");
    ck_assert_msg(R.status != 0, "a plaintext sync reached a CURVE hub: %s", R.out);
    ck_assert_int_eq(hub_changes(), changes);
    NODE(tpath("bare.db"), "init", "--node-id", "bare-1", "--village", VILLAGE_H, "--hub",
         endpoint);
    ASSERT_OK("gridnode init without keys");
    ASSERT_OUT_HAS("no keys");
    NODE(tpath("bare.db"), "sync", "--timeout", "2");
    ASSERT_REFUSED("sync without keys");
    assert_one_line_error("gridnode");
    ASSERT_ERR_HAS("no keys");
    ASSERT_ERR_HAS("--insecure");
    ck_assert_int_eq(hub_changes(), changes);
    honest_sync("after");
}
END_TEST

/* ==== authority ======================================================================== */

/* A valid key that says it is another node: one ERROR, no WELCOME, and the
 * session stays unauthenticated (a PUSH is refused, nothing is stored). */
START_TEST(hello_with_another_nodes_id)
{
    node a;
    enrol(&a, "attacker", VILLAGE_B, false);
    int64_t changes = hub_changes();
    chain before = chain_in_hub(honest.id);
    client c;
    client_as(&c, &a.keys);
    gs_msg h = hello_msg(honest.id);
    client_send(&c, &h);
    gs_msg m;
    expect(&c, GS_MSG_ERROR, &m);
    ck_assert_str_eq(m.code, "GS_EAUTH");
    ck_assert_msg(strstr(m.text, a.id) && strstr(m.text, honest.id), "ERROR text: %s", m.text);
    expect_silence(&c, 1000, "after refusing a HELLO with another node's id");
    send_forged_push(&c, &honest, "forged-impostor-1");
    /* no session: GS_ENOTFOUND tells a real node to say HELLO again */
    expect_error(&c, "GS_ENOTFOUND");
    expect_silence(&c, 500, "after refusing a PUSH before HELLO");
    client_close(&c);
    ck_assert_int_eq(hub_changes(), changes);
    ck_assert_uint_eq(chain_in_hub(honest.id).seq, before.seq);
    ck_assert_int_eq(
        hub_int("SELECT count(*) FROM incidents WHERE id = 'forged-impostor-1'", NULL, NULL), 0);
    honest_sync("after");
}
END_TEST

/* What a node may not write, each sent by an attacker node of VILLAGE_B with
 * its own keys, correctly chained, followed by one change it may write (the
 * control, which must be accepted: the refusal is the hub's judgement, not a
 * malformed push). "{honest}" stands for the id of the honest node's first
 * incident, which the fixture synced, "{honest-node}" for the honest node's
 * id and, in expect, "{honest-title}" for that incident's title. */
typedef struct forbidden {
    const char *name;
    gs_rtype type;
    gs_op op;
    const char *origin; /* NULL: the attacker's own */
    uint64_t seq_skew;  /* added to the seq written in the body */
    const char *fields[24];
    const char *code;        /* of REJECTED and the quarantine row */
    const char *reason;      /* in the reason */
    const char *applied_sql; /* ?1 = {honest}; must give expect */
    const char *expect;
} forbidden;

static const forbidden forbidden_cases[] = {
    {"an incident of another village",
     GS_RT_INCIDENT,
     GS_OP_UPSERT,
     NULL,
     0,
     {"id", "forged-other-village", "village_code", VILLAGE_H, "category", "safety.fire", "title",
      "伪造", "reported_at", "2026-11-28T10:00:00+08:00", "status", "reported", NULL},
     "GS_ESCOPE",
     "belongs to village " VILLAGE_H ", not to this node's " VILLAGE_B,
     "SELECT count(*) FROM incidents WHERE id = 'forged-other-village'",
     "0"},
    {"a division (reference data)",
     GS_RT_DIVISION,
     GS_OP_UPSERT,
     NULL,
     0,
     {"code", TOWNSHIP, "name", "篡改镇", "level", "township", "parent_code", "411122", NULL},
     "GS_EAUTH",
     "reference data; only the city writes it",
     "SELECT name FROM divisions WHERE code = '" TOWNSHIP "'",
     "繁城回族镇"},
    {"a category (reference data)",
     GS_RT_CATEGORY,
     GS_OP_UPSERT,
     NULL,
     0,
     {"code", "safety.fire", "name_zh", "篡改", NULL},
     "GS_EAUTH",
     "reference data; only the city writes it",
     "SELECT name_zh FROM categories WHERE code = 'safety.fire'",
     "消防隐患"},
    {"a change claiming another origin",
     GS_RT_INCIDENT,
     GS_OP_UPSERT,
     "{honest-node}",
     0,
     {"id", "forged-origin", "village_code", VILLAGE_B, "category", "safety.fire", "title", "伪造",
      "reported_at", "2026-11-28T10:00:00+08:00", "status", "reported", NULL},
     "GS_EAUTH",
     "claims origin",
     "SELECT count(*) FROM incidents WHERE id = 'forged-origin'",
     "0"},
    {"a body whose seq is not its place",
     GS_RT_INCIDENT,
     GS_OP_UPSERT,
     NULL,
     5,
     {"id", "forged-seq", "village_code", VILLAGE_B, "category", "safety.fire", "title", "伪造",
      "reported_at", "2026-11-28T10:00:00+08:00", "status", "reported", NULL},
     "GS_EINVAL",
     "says seq",
     "SELECT count(*) FROM incidents WHERE id = 'forged-seq'",
     "0"},
    /* A record stays in the village it was first stored under: a node that
     * knows another village's record id and claims the record as its own
     * village's, to take it over or (below) delete it, is refused
     * (gs_replica_apply_in checks the stored row's village). */
    {"another village's record claimed as one's own",
     GS_RT_INCIDENT,
     GS_OP_UPSERT,
     NULL,
     0,
     {"id", "{honest}", "village_code", VILLAGE_B, "title", "劫持 hijacked", NULL},
     "GS_ESCOPE",
     "belongs to village " VILLAGE_H,
     "SELECT village_code || ' ' || title FROM incidents WHERE id = ?1",
     VILLAGE_H " {honest-title}"},
    {"another village's record deleted as one's own",
     GS_RT_INCIDENT,
     GS_OP_DELETE,
     NULL,
     0,
     {"id", "{honest}", "village_code", VILLAGE_B, NULL},
     "GS_ESCOPE",
     "belongs to village " VILLAGE_H,
     "SELECT _deleted FROM incidents WHERE id = ?1",
     "0"},
    /* The hub judges for itself (issue 14): a client holding a valid key for
     * its own village sends what an unmodified PC would refuse at entry, with
     * no findings; the hub applies the same hard checks and quarantines it. */
    {"an election with 1001 ballots for 1000 voters and no findings",
     GS_RT_ELECTION,
     GS_OP_UPSERT,
     NULL,
     0,
     {"id", "forged-turnout", "village_code", VILLAGE_B, "committee", "村民委员会",
      "election_date", "2026-03-08", "registered", "1000", "voted", "1001", "valid", "1001",
      "invalid", "0", "seats_member", "4", NULL},
     "GS_ERULE",
     "投票人数 --voted 1001 超过 登记选民数 --registered 1000",
     "SELECT count(*) FROM elections WHERE id = 'forged-turnout'",
     "0"},
    {"an incident of an unknown category",
     GS_RT_INCIDENT,
     GS_OP_UPSERT,
     NULL,
     0,
     {"id", "forged-category", "village_code", VILLAGE_B, "category", "dispute.neighbor",
      "title", "错别字", "reported_at", "2026-11-28T10:00:00+08:00", "status", "reported", NULL},
     "GS_ERULE",
     "事件类别 --category dispute.neighbor 不是已知的事件类别",
     "SELECT count(*) FROM incidents WHERE id = 'forged-category'",
     "0"},
    {"a funeral not cremated with an exemption reason",
     GS_RT_AFFAIR,
     GS_OP_UPSERT,
     NULL,
     0,
     {"id", "forged-exemption", "village_code", VILLAGE_B, "kind", "白事", "host", "马家",
      "event_date", "2026-06-03", "cremation", "否", "exemption", "回族", NULL},
     "GS_ERULE",
     "EXEMPTION_CONTRADICTS",
     "SELECT count(*) FROM affairs WHERE id = 'forged-exemption'",
     "0"},
    {"an incident whose grid is another village's",
     GS_RT_INCIDENT,
     GS_OP_UPSERT,
     NULL,
     0,
     {"id", "forged-grid", "village_code", VILLAGE_B, "grid_code", VILLAGE_H "001", "category",
      "safety.fire", "title", "别村网格", "reported_at", "2026-11-28T10:00:00+08:00", "status",
      "reported", NULL},
     "GS_ESCOPE",
     "must start with the village code",
     "SELECT count(*) FROM incidents WHERE id = 'forged-grid'",
     "0"},
};
#define NFORBIDDEN ((int)(sizeof forbidden_cases / sizeof forbidden_cases[0]))

/* The attacker a sends forbidden change f (and the control) on a
 * connection of its own; victim is {honest}. */
static void push_forbidden(const forbidden *f, const node *a, const char *victim)
{
    int64_t changes = hub_changes();

    client c;
    client_as(&c, &a->keys);
    gs_msg w;
    hello(&c, a->id, &w);
    chain ch = chain_of_welcome(&w);
    uint64_t bad_seq = ch.seq + 1;
    const char *fields[24];
    for (int i = 0; i < 24; i++)
        fields[i] = f->fields[i] && !strcmp(f->fields[i], "{honest}") ? victim : f->fields[i];
    const char *origin = !f->origin                            ? a->id
                         : !strcmp(f->origin, "{honest-node}") ? honest.id
                                                               : f->origin;
    gs_msg p = push_msg(bad_seq);
    gs_buf body = GS_BUF_INIT;
    make_change(&body, origin, bad_seq + f->seq_skew, f->type, f->op, fields);
    push_add(&p, &ch, &body);
    make_change(&body, a->id, bad_seq + 1, GS_RT_INCIDENT, GS_OP_UPSERT,
                INCIDENT("attacker-own-incident", VILLAGE_B));
    push_add(&p, &ch, &body);
    client_send(&c, &p);
    gs_msg_clear(&p);
    gs_buf_free(&body);

    gs_msg m;
    expect(&c, GS_MSG_REJECTED, &m);
    ck_assert_uint_eq(m.seq, bad_seq);
    ck_assert_msg(!strcmp(m.code, f->code), "%s: REJECTED %s (%s), want %s", f->name, m.code,
                  m.text, f->code);
    ck_assert_msg(strstr(m.text, f->reason), "%s: reason \"%s\" lacks \"%s\"", f->name, m.text,
                  f->reason);
    expect(&c, GS_MSG_ACK, &m);
    ck_assert_uint_eq(m.acked_through, bad_seq + 1);
    client_close(&c);

    char seq[24];
    snprintf(seq, sizeof seq, "%" PRIu64, bad_seq);
    char *code = hub_text("SELECT code FROM quarantine WHERE origin = ?1 AND seq = ?2", a->id, seq);
    char *reason =
        hub_text("SELECT reason FROM quarantine WHERE origin = ?1 AND seq = ?2", a->id, seq);
    ck_assert_msg(code && !strcmp(code, f->code), "%s: quarantine code %s", f->name, code);
    ck_assert_msg(reason && strstr(reason, f->reason), "%s: quarantine reason %s", f->name, reason);
    ck_assert_int_eq(hub_changes(), changes + 1); /* the control only */
    ck_assert_int_eq(
        hub_int("SELECT count(*) FROM incidents WHERE id = 'attacker-own-incident'", NULL, NULL),
        1);
    char *applied = hub_text(f->applied_sql, victim, NULL);
    char want[128];
    const char *token = strstr(f->expect, "{honest-title}");
    if (token) /* add_incident titled it "ID 1" */
        snprintf(want, sizeof want, "%.*s%s 1", (int)(token - f->expect), f->expect, honest.id);
    else
        snprintf(want, sizeof want, "%s", f->expect);
    ck_assert_msg(applied && !strcmp(applied, want), "%s was applied: %s gives \"%s\", want \"%s\"",
                  f->name, f->applied_sql, applied ? applied : "(no row)", want);
    free(code);
    free(reason);
    free(applied);
}

/* Each forbidden change, sent by a registered attacker of VILLAGE_B, is
 * REJECTED with its code and reason, quarantined, and not applied; the
 * control after it is accepted; the honest node syncs after. Natively each
 * case has a hub of its own (a loop test). Under valgrind one hub judges
 * all of them in turn, one attacker sending them one after the other on
 * connections of their own: each case's refusal is its own path in the
 * hub, traced; the hub starts, the fixture's syncs and the enrolments
 * around them are the same path each time. */
START_TEST(forbidden_change_quarantined)
{
    char *victim = hub_text("SELECT id FROM incidents WHERE village_code = ?1 ORDER BY id LIMIT 1",
                            VILLAGE_H, NULL);
    ck_assert_msg(victim != NULL, "the fixture synced no incident");
    node a;
    enrol(&a, "attacker", VILLAGE_B, false);
    for (int i = _i; i < (under_valgrind() ? NFORBIDDEN : _i + 1); i++)
        push_forbidden(&forbidden_cases[i], &a, victim);
    free(victim);
    honest_sync("after");
}
END_TEST

/* Findings a village PC sent are never taken on trust: an election whose
 * figures are valid but whose turnout fails, pushed with empty findings and a
 * made-up count of elected members, is stored with the findings and counts
 * the hub computes from the row itself. */
/* make_change, computed fields included: gs_change_encode leaves them out,
 * as every gridnode does now; an older or modified PC may still send them. */
static void make_change_with_derived(gs_buf *body, const char *origin, uint64_t seq, gs_rtype type,
                                     const char *const *fields)
{
    gs_record *r = gs_record_new(gs_rectype_get(type));
    for (int i = 0; fields[i]; i += 2)
        ck_assert_int_eq(gs_record_parse(r, gs_field_find(r->rt, fields[i]), fields[i + 1], NULL),
                         GS_OK);
    uint32_t n = 0;
    for (int i = 0; i < r->rt->nfields; i++)
        n += r->v[i].state != GS_V_UNSET;
    gs_buf_reset(body);
    gs_mp_map(body, 6);
    gs_mp_str(body, "origin");
    gs_mp_str(body, origin);
    gs_mp_str(body, "seq");
    gs_mp_uint(body, seq);
    gs_mp_str(body, "hlc");
    gs_mp_uint(body, GS_HLC_MAKE(gs_wall_ms(), 0));
    gs_mp_str(body, "type");
    gs_mp_str(body, r->rt->name);
    gs_mp_str(body, "op");
    gs_mp_str(body, "upsert");
    gs_mp_str(body, "rec");
    gs_mp_map(body, n);
    for (int i = 0; i < r->rt->nfields; i++) {
        const gs_value *v = &r->v[i];
        if (v->state == GS_V_UNSET)
            continue;
        gs_mp_str(body, r->rt->fields[i].name);
        if (v->state == GS_V_NULL)
            gs_mp_nil(body);
        else if (r->rt->fields[i].type == GS_FT_INT || r->rt->fields[i].type == GS_FT_BOOL)
            gs_mp_int(body, v->i);
        else
            gs_mp_str(body, v->s);
    }
    gs_record_destroy(&r);
    ck_assert_int_eq(body->err, GS_OK);
}

START_TEST(pushed_findings_not_trusted)
{
    node a;
    enrol(&a, "claims-no-findings", VILLAGE_B, false);
    client c;
    client_as(&c, &a.keys);
    gs_msg w;
    hello(&c, a.id, &w);
    chain ch = chain_of_welcome(&w);
    gs_msg p = push_msg(ch.seq + 1);
    gs_buf body = GS_BUF_INIT;
    static const char *const e[] = {"id", "claimed-valid", "village_code", VILLAGE_B,
                                    "committee", "村民委员会", "election_date", "2026-03-08",
                                    "registered", "1000", "voted", "400", "valid", "400",
                                    "invalid", "0", "seats_member", "4", "findings", "",
                                    "elected", "5", "unfilled", "0", NULL};
    make_change_with_derived(&body, a.id, ch.seq + 1, GS_RT_ELECTION, e);
    push_add(&p, &ch, &body);
    client_send(&c, &p);
    gs_msg_clear(&p);
    gs_buf_free(&body);
    gs_msg m;
    expect(&c, GS_MSG_ACK, &m);
    client_close(&c);
    /* 2 x 400 is not over 1000: invalid, nobody elected, all 5 seats unfilled */
    char *f = hub_text("SELECT findings || '|' || elected || '|' || unfilled FROM elections "
                       "WHERE id = 'claimed-valid'",
                       NULL, NULL);
    ck_assert_msg(f && strstr(f, "TURNOUT_INVALID") && strstr(f, "|0|5"),
                  "the hub kept what the PC claimed: %s", f ? f : "(no row)");
    free(f);
}
END_TEST

/* A tampered village PC (its database written behind gridnode's back with
 * another village's record): the real gridnode pushes it, the hub quarantines
 * it and sends REJECTED, and the village sees it in `gridnode status` with
 * the reason, while its other changes are accepted and nothing stays pending. */
START_TEST(tampered_node_sees_rejection)
{
    node v;
    enrol(&v, "tampered", VILLAGE_H, true);
    add_incident(&v); /* seq 1 */
    node_store *s = NULL;
    gs_errbuf eb = {{0}};
    ck_assert_msg(node_store_open(&s, v.db, &eb) == GS_OK, "%s", eb.msg);
    gs_record *rec = gs_record_new(gs_rectype_get(GS_RT_INCIDENT));
    const char *const *f = INCIDENT("tampered-incident", VILLAGE_B);
    for (int i = 0; f[i]; i += 2)
        ck_assert_int_eq(gs_record_parse(rec, gs_field_find(rec->rt, f[i]), f[i + 1], &eb), GS_OK);
    ck_assert_msg(node_store_begin(s, &eb) == GS_OK &&
                      node_store_put(s, rec, GS_OP_UPSERT, &eb) == GS_OK &&
                      node_store_commit(s, &eb) == GS_OK,
                  "tampering: %s", eb.msg); /* seq 2 */
    gs_record_destroy(&rec);
    node_store_close(&s);
    add_incident(&v); /* seq 3 */

    sync_node(&v, "10");
    ASSERT_OK("sync with a tampered change");
    ASSERT_OUT_HAS("3 sent, acked through 3, 1 rejected");
    ASSERT_ERR_HAS("the city rejected change 2");
    ck_assert_int_eq(hub_changes_of(v.id), 2);
    char *code = hub_text("SELECT code FROM quarantine WHERE origin = ?1 AND seq = 2", v.id, NULL);
    ck_assert_msg(code && !strcmp(code, "GS_ESCOPE"), "quarantine code %s", code);
    free(code);
    ck_assert_int_eq(
        hub_int("SELECT count(*) FROM incidents WHERE id = 'tampered-incident'", NULL, NULL), 0);

    NODE(v.db, "status");
    ASSERT_OK("gridnode status");
    ASSERT_OUT_HAS("rejected        1");
    ASSERT_OUT_HAS("pending         0");
    ASSERT_OUT_HAS("! rejected #2 incident tampered-incident");
    ASSERT_OUT_HAS("GS_ESCOPE");
    NODE(v.db, "status", "--json");
    ASSERT_OK("gridnode status --json");
    ASSERT_OUT_HAS("\"rejected\":1");
    ASSERT_OUT_HAS("\"rejected_changes\":[{\"seq\":2,\"code\":\"GS_ESCOPE\"");
    HUB("node", "list", "--json");
    ASSERT_OK("node list --json");
    ASSERT_OUT_HAS("\"rejected\":1");
}
END_TEST

/* What a connection proved belongs to that connection: a peer with another
 * key that takes over the routing id of a finished session (any peer may
 * choose its routing id) is not that session's node. OPEN DEFECT: hub/server.c
 * keys sessions by routing id only and keeps them after the peer is gone
 * (find_session), and handle_one never compares the message's User-Id with
 * the session's node, so the newcomer reads and writes as the earlier node. */
START_TEST(session_bound_to_connection)
{
    node a, b;
    enrol(&a, "second-pc", VILLAGE_H, false); /* another PC of the honest village */
    enrol(&b, "attacker", VILLAGE_B, false);
    const char *rid = "gridsync-test-routing-id";
    client c;
    client_open(&c, a.keys.node_public_key, a.keys.node_secret_key, rid, false);
    gs_msg w;
    hello(&c, a.id, &w);
    client_close(&c);
    gst_sleep_ms(300);

    client_open(&c, b.keys.node_public_key, b.keys.node_secret_key, rid, false);
    ping(&c); /* the hub routes to the newcomer under that routing id */
    int64_t changes = hub_changes();
    gs_msg p = push_msg(1);
    chain ch = {0};
    gs_buf body = GS_BUF_INIT;
    make_change(&body, a.id, 1, GS_RT_INCIDENT, GS_OP_UPSERT,
                INCIDENT("hijacked-session", VILLAGE_H));
    push_add(&p, &ch, &body);
    client_send(&c, &p);
    gs_msg_clear(&p);
    gs_buf_free(&body);
    gs_msg m;
    expect(&c, GS_MSG_ERROR, &m);
    ck_assert_int_eq(hub_changes(), changes);
    gs_msg pull = {0};
    pull.type = GS_MSG_PULL;
    client_send(&c, &pull);
    memset(&m, 0, sizeof m);
    ck_assert(client_recv(&c, &m, 10000));
    ck_assert_msg(m.type == GS_MSG_ERROR,
                  "a PULL on another node's session got %s with %zu changes of village " VILLAGE_H,
                  gs_msg_name(m.type), m.nchanges);
    gs_msg_clear(&m);
    client_close(&c);
}
END_TEST

/* ==== hostile input ====================================================================== */

/* A frame the hub must answer with one ERROR (code) and survive. */
typedef struct bad_frame {
    const char *name;
    const char *code;
    void (*build)(gs_buf *b);
    bool two_frames;
} bad_frame;

static void bf_reserved_byte(gs_buf *b)
{
    gs_buf_append(b, "\xc1", 1);
}

static void bf_truncated_map(gs_buf *b)
{
    gs_mp_map(b, 1);
    gs_mp_str(b, "t"); /* and no value */
}

static void bf_empty(gs_buf *b)
{
    (void)b;
}

static void bf_array(gs_buf *b)
{
    gs_mp_array(b, 2);
    gs_mp_uint(b, 1);
    gs_mp_uint(b, 2);
}

static void bf_no_type(gs_buf *b)
{
    gs_mp_map(b, 1);
    gs_mp_str(b, "x");
    gs_mp_uint(b, 1);
}

static void envelope(gs_buf *b, uint32_t pairs, const char *type, uint64_t version)
{
    gs_mp_map(b, pairs);
    gs_mp_str(b, "t");
    gs_mp_str(b, type);
    gs_mp_str(b, "v");
    gs_mp_uint(b, version);
}

static void bf_unknown_type(gs_buf *b)
{
    envelope(b, 2, "STEAL", GS_PROTO_VERSION);
}

static void bf_other_version(gs_buf *b)
{
    envelope(b, 2, "HELLO", GS_PROTO_VERSION + 1);
}

static void bf_hello_int_id(gs_buf *b)
{
    envelope(b, 7, "HELLO", GS_PROTO_VERSION);
    gs_mp_str(b, "node_id");
    gs_mp_uint(b, 5);
    gs_mp_str(b, "software");
    gs_mp_str(b, "x");
    gs_mp_str(b, "pending");
    gs_mp_uint(b, 0);
    gs_mp_str(b, "hub_seq_seen");
    gs_mp_uint(b, 0);
    gs_mp_str(b, "node_time");
    gs_mp_uint(b, 0);
}

static void bf_push_head(gs_buf *b)
{
    envelope(b, 4, "PUSH", GS_PROTO_VERSION);
    gs_mp_str(b, "first_seq");
    gs_mp_uint(b, 1);
    gs_mp_str(b, "changes");
}

static void bf_push_2p32(gs_buf *b)
{
    bf_push_head(b);
    gs_buf_append(b, "\xdd\xff\xff\xff\xff", 5); /* array32 of 2^32 - 1 elements */
    for (int i = 0; i < 64; i++)
        gs_mp_map(b, 0);
}

static void bf_map_2p32(gs_buf *b)
{
    gs_buf_append(b, "\xdf\xff\xff\xff\xff", 5); /* map32 of 2^32 - 1 pairs */
    gs_mp_str(b, "t");
}

static void bf_push_513(gs_buf *b)
{
    bf_push_head(b);
    gs_mp_array(b, 513);
    for (int i = 0; i < 513; i++)
        gs_mp_map(b, 0);
}

static void bf_push_body_str(gs_buf *b)
{
    bf_push_head(b);
    gs_mp_array(b, 1);
    gs_mp_map(b, 2);
    gs_mp_str(b, "body");
    gs_mp_str(b, "not a bin");
    gs_mp_str(b, "hash");
    gs_mp_bin(b, "0123456789abcdef0123456789abcdef", 32);
}

static void bf_push_body_64k(gs_buf *b)
{
    static char big[(64 << 10) + 1];
    bf_push_head(b);
    gs_mp_array(b, 1);
    gs_mp_map(b, 2);
    gs_mp_str(b, "body");
    gs_mp_bin(b, big, sizeof big);
    gs_mp_str(b, "hash");
    gs_mp_bin(b, "0123456789abcdef0123456789abcdef", 32);
}

static void bf_ping(gs_buf *b)
{
    envelope(b, 2, "PING", GS_PROTO_VERSION);
}

static const bad_frame bad_frames[] = {
    {"a reserved msgpack byte", "GS_EMALFORMED", bf_reserved_byte, false},
    {"a truncated map", "GS_EMALFORMED", bf_truncated_map, false},
    {"an empty frame", "GS_EMALFORMED", bf_empty, false},
    {"an array, not a map", "GS_ETYPE", bf_array, false},
    {"a map without a type", "GS_EREQUIRED", bf_no_type, false},
    {"an unknown message type", "GS_EUNKNOWN", bf_unknown_type, false},
    {"another protocol version", "GS_EVERSION", bf_other_version, false},
    {"HELLO with a number for node_id", "GS_ETYPE", bf_hello_int_id, false},
    {"PUSH whose changes claim 2^32 elements", "GS_ETOOBIG", bf_push_2p32, false},
    {"a map claiming 2^32 pairs", "GS_ETOOBIG", bf_map_2p32, false},
    {"PUSH of 513 changes", "GS_ETOOBIG", bf_push_513, false},
    {"PUSH with a string body", "GS_ETYPE", bf_push_body_str, false},
    {"PUSH with a 64 KiB + 1 body", "GS_ETOOBIG", bf_push_body_64k, false},
    {"a message of two frames", "GS_EMALFORMED", bf_ping, true},
};
#define NBADFRAMES ((int)(sizeof bad_frames / sizeof bad_frames[0]))

/* Each bad frame, sent by an authenticated node in the middle of its
 * session (a connection of its own per frame), gets exactly one ERROR that
 * names the problem; the session goes on (PING answered), the hub goes on
 * (honest sync after all of them), nothing stored changes. */
START_TEST(malformed_frames_answered)
{
    node a;
    enrol(&a, "attacker", VILLAGE_B, false);
    int64_t changes = hub_changes(), quarantined = hub_quarantined();
    for (int i = 0; i < NBADFRAMES; i++) {
        const bad_frame *bf = &bad_frames[i];
        client c;
        client_as(&c, &a.keys);
        gs_msg w;
        hello(&c, a.id, &w);
        gs_buf b = GS_BUF_INIT;
        bf->build(&b);
        ck_assert_int_eq(b.err, GS_OK);
        if (bf->two_frames)
            ck_assert_int_ge(zmq_send(c.sock, b.data, b.len, ZMQ_SNDMORE), 0);
        client_send_raw(&c, b.data ? b.data : "", b.len);
        gs_buf_free(&b);
        gs_msg m = {0};
        ck_assert_msg(client_recv(&c, &m, 10000), "%s: no answer", bf->name);
        ck_assert_msg(m.type == GS_MSG_ERROR && !strcmp(m.code, bf->code),
                      "%s: the hub sent %s %s (%s), want ERROR %s", bf->name, gs_msg_name(m.type),
                      m.code, m.text, bf->code);
        expect_silence(&c, 200, bf->name);
        ping(&c);
        client_close(&c);
        ck_assert_msg(hub_alive(), "the hub died of %s", bf->name);
    }
    ck_assert_int_eq(hub_changes(), changes);
    ck_assert_int_eq(hub_quarantined(), quarantined);
    honest_sync("after");
}
END_TEST

/* A frame over the 4 MiB limit is never read: ZMQ_MAXMSGSIZE drops the
 * connection. The hub goes on; nothing changes. */
START_TEST(oversized_frame_drops_connection)
{
    node a;
    enrol(&a, "attacker", VILLAGE_B, false);
    int64_t changes = hub_changes();
    client c;
    client_as(&c, &a.keys);
    gs_msg w;
    hello(&c, a.id, &w);
    size_t len = gs_limits_default.max_msg_bytes + 1;
    char *big = calloc(1, len);
    ck_assert_ptr_nonnull(big);
    client_send_raw(&c, big, len);
    free(big);
    uint32_t v;
    ck_assert_msg(client_event(&c, ZMQ_EVENT_DISCONNECTED, 5000, &v) == ZMQ_EVENT_DISCONNECTED,
                  "the hub did not drop a connection that sent %zu bytes", len);
    expect_silence(&c, 500, "an oversized frame");
    client_close(&c);
    ck_assert(hub_alive());
    ck_assert_int_eq(hub_changes(), changes);
    honest_sync("after");
}
END_TEST

/* Thousands of HELLOs from many connections (valid ones with the
 * attacker's key, impostor ones with another node's id) and handshakes with
 * no key or unknown keys: every HELLO of an admitted connection is answered,
 * the hub's memory grows by less than the bound, nothing committed changes,
 * and the honest node is served after. */
#define FLOOD_CONNS         50
#define FLOOD_HELLOS        40 /* per connection: 2000 in all */
#define FLOOD_REFUSED       40 /* plaintext and unknown-key connections */
#define FLOOD_RSS_BOUND_KIB (64L << 10)
/* Under valgrind a fifth of each (10 connections of 8 HELLOs, 8 refused):
 * the same HELLOs, WELCOMEs, ERRORs and refused handshakes, each path many
 * times still, in bursts the hub answers in one turn and one group commit;
 * a leak per HELLO or per connection is a leak in 80 as in 2000. (The RSS
 * bound holds there too, but says little: memcheck's own memory is in it.) */
#define FLOOD_VG_DIVISOR 5
START_TEST(hello_flood_memory_bounded)
{
    const int div = under_valgrind() ? FLOOD_VG_DIVISOR : 1;
    const int nconns = FLOOD_CONNS / div, nhellos = FLOOD_HELLOS / div,
              nrefused = FLOOD_REFUSED / div;
#ifdef BUILT_WITH_ASAN
    /* AddressSanitizer keeps freed memory in quarantine (256 MiB by default)
     * to catch use after free; capped, the hub's RSS measures what the hub
     * itself keeps. */
    const char *asan = getenv("ASAN_OPTIONS");
    char opts[1024];
    snprintf(opts, sizeof opts, "%s%squarantine_size_mb=4", asan ? asan : "",
             asan && *asan ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    stop_hub();
    start_hub(endpoint, 1, false);
#endif
    node a;
    enrol(&a, "flooder", VILLAGE_B, false);
    int64_t changes = hub_changes(), quarantined = hub_quarantined();
    chain honest_before = chain_in_hub(honest.id);
    long rss_before = hub_rss_kib();

    static client conns[FLOOD_CONNS], refused[FLOOD_REFUSED];
    for (int i = 0; i < nrefused; i++) {
        char pub[41], sec[41];
        zmq_curve_keypair(pub, sec);
        client_open(&refused[i], i % 2 ? pub : NULL, i % 2 ? sec : NULL, NULL, true);
        gs_msg h = hello_msg(honest.id);
        for (int k = 0; k < 10; k++)
            client_send(&refused[i], &h);
    }
    for (int i = 0; i < nconns; i++)
        client_as(&conns[i], &a.keys);
    int welcomes = 0, errors = 0;
    for (int k = 0; k < nhellos; k++)
        for (int i = 0; i < nconns; i++) {
            gs_msg h = hello_msg(k % 2 ? honest.id : a.id);
            client_send(&conns[i], &h);
        }
    int64_t end = gst_now_ms() + 120000;
    while (welcomes + errors < nconns * nhellos && gst_now_ms() < end)
        for (int i = 0; i < nconns; i++) {
            gs_msg m = {0};
            while (client_recv(&conns[i], &m, 0)) {
                welcomes += m.type == GS_MSG_WELCOME;
                errors += m.type == GS_MSG_ERROR;
                gs_msg_clear(&m);
            }
            gst_sleep_ms(1);
        }
    long rss_after = hub_rss_kib();
    for (int i = 0; i < nconns; i++)
        client_close(&conns[i]);
    for (int i = 0; i < nrefused; i++) {
        gs_msg m = {0};
        ck_assert_msg(!client_recv(&refused[i], &m, 0), "a refused connection was answered");
        client_close(&refused[i]);
    }
    ck_assert_msg(welcomes == nconns * nhellos / 2 && errors == welcomes,
                  "%d WELCOME and %d ERROR for %d HELLOs", welcomes, errors, nconns * nhellos);
    ck_assert(hub_alive());
    ck_assert_msg(rss_after - rss_before < FLOOD_RSS_BOUND_KIB,
                  "the hub grew from %ld to %ld KiB during the flood (bound +%ld KiB)", rss_before,
                  rss_after, FLOOD_RSS_BOUND_KIB);
    ck_assert_int_eq(hub_changes(), changes);
    ck_assert_int_eq(hub_quarantined(), quarantined);
    ck_assert_uint_eq(chain_in_hub(honest.id).seq, honest_before.seq);
    honest_sync("after");
}
END_TEST

/* ==== secrets ============================================================================ */

/* Asserts path has exactly mode 0600. */
static void assert_mode_0600(const char *path)
{
    struct stat st;
    ck_assert_msg(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
    ck_assert_msg((st.st_mode & 07777) == 0600, "%s has mode %04o, want 0600", path,
                  (unsigned)(st.st_mode & 07777));
}

/* Every file that holds a secret key is made mode 0600 whatever the umask
 * (here 000): the hub key (also when `init --force` replaces a 0644 one),
 * issued, self-enrolled and re-keyed bundles, the node database and the
 * keygen key file. */
START_TEST(secret_files_mode_0600)
{
    umask(0);
    tmp = gst_tmpdir();
    snprintf(endpoint, sizeof endpoint, "ipc://%s", tpath("hub.sock"));
    HUB("init");
    ASSERT_OK("gridhub init");
    assert_mode_0600(tpath("hub.db.key"));
    HUB("refdata", "load", "divisions", GS_TEST_SRC_DIR "/data/luohe_divisions.csv");
    ASSERT_OK("refdata");
    node n;
    enrol(&n, "issued", VILLAGE_H, true);
    assert_mode_0600(n.bundle);
    assert_mode_0600(n.db);
    const char *side[] = {"issued.db-wal", "issued.db-shm", "issued.db-journal"};
    for (int i = 0; i < 3; i++)
        if (access(tpath(side[i]), F_OK) == 0)
            assert_mode_0600(tpath(side[i]));
    NODE(tpath("self.db"), "keygen");
    ASSERT_OK("gridnode keygen");
    assert_mode_0600(tpath("self.db.key"));
    char pub[41];
    snprintf(pub, sizeof pub, "%.40s", R.out);
    HUB("node", "add", "--village", VILLAGE_H, "--name", "self", "--endpoint", endpoint, "--out",
        tpath("self.bundle"), "--public-key", pub);
    ASSERT_OK("node add --public-key");
    assert_mode_0600(tpath("self.bundle"));
    NODE(tpath("self.db"), "init", "--bundle", tpath("self.bundle"));
    ASSERT_OK("init self-enrolled");
    assert_mode_0600(tpath("self.db"));
    HUB("node", "rekey", n.id, "--out", tpath("rekeyed.bundle"), "--endpoint", endpoint);
    ASSERT_OK("node rekey");
    assert_mode_0600(tpath("rekeyed.bundle"));
    ck_assert_int_eq(chmod(tpath("hub.db.key"), 0644), 0);
    HUB("init", "--force");
    ASSERT_OK("gridhub init --force");
    assert_mode_0600(tpath("hub.db.key"));
}
END_TEST

/* Appends the secret key of a bundle to the list. */
static void add_secret(char secrets[][41], int *n, const char *s)
{
    ck_assert_msg(gs_z85_key_valid(s), "not a key: \"%s\"", s);
    snprintf(secrets[(*n)++], 41, "%s", s);
}

/* No secret key ever appears in what the programs print or log: the hub's
 * -vv log through refusals, rejections and syncs, `node list` (also --json),
 * `gridnode status` (also --json), sync, verify, init, keygen, rekey. The
 * logs are checked to hold what was done, so the search is not vacuous. */
START_TEST(no_secret_in_output)
{
    gs_buf seen = GS_BUF_INIT;
    transcript = &seen;
    stop_hub();
    start_hub(endpoint, 2, false); /* -vv: the most the hub says */
    char secrets[8][41];
    int nsec = 0;
    char *hubkey = gst_read_file(tpath("hub.db.key"), NULL);
    ck_assert_ptr_nonnull(hubkey);
    hubkey[strcspn(hubkey, "\n")] = '\0';
    add_secret(secrets, &nsec, hubkey);
    free(hubkey);
    add_secret(secrets, &nsec, honest.keys.node_secret_key);

    node v;
    enrol(&v, "victim", VILLAGE_H, true);
    add_secret(secrets, &nsec, v.keys.node_secret_key);
    add_incident(&v);
    sync_node(&v, "10");
    ASSERT_OK("sync");
    NODE(v.db, "verify");
    ASSERT_OK("verify");
    HUB("node", "rekey", v.id, "--out", tpath("victim-new.bundle"), "--endpoint", endpoint);
    ASSERT_OK("rekey");
    gs_bundle nb;
    read_bundle(tpath("victim-new.bundle"), &nb);
    add_secret(secrets, &nsec, nb.node_secret_key);
    sync_node(&v, "2"); /* the old key, refused */
    ck_assert_int_ne(R.status, 0);

    NODE(tpath("self.db"), "keygen");
    ASSERT_OK("keygen");
    char *kf = gst_read_file(tpath("self.db.key"), NULL);
    const char *sec = kf ? strstr(kf, "secret = ") : NULL;
    ck_assert_msg(sec != NULL, "keygen key file: %s", kf);
    char keygen_secret[41];
    snprintf(keygen_secret, sizeof keygen_secret, "%.40s", sec + 9);
    add_secret(secrets, &nsec, keygen_secret);
    free(kf);

    /* a rejected change and a malformed message, both logged */
    node a;
    enrol(&a, "attacker", VILLAGE_B, false);
    client c;
    client_as(&c, &a.keys);
    gs_msg w, m;
    hello(&c, a.id, &w);
    chain ch = chain_of_welcome(&w);
    gs_msg p = push_msg(1);
    gs_buf body = GS_BUF_INIT;
    make_change(&body, a.id, 1, GS_RT_INCIDENT, GS_OP_UPSERT, INCIDENT("x-village", VILLAGE_H));
    push_add(&p, &ch, &body);
    client_send(&c, &p);
    expect(&c, GS_MSG_REJECTED, &m);
    expect(&c, GS_MSG_ACK, &m);
    gs_msg_clear(&p);
    gs_buf_free(&body);
    client_send_raw(&c, "\xc1", 1);
    expect_error(&c, "GS_EMALFORMED");
    client_close(&c);

    HUB("node", "list");
    ASSERT_OK("node list");
    HUB("node", "list", "--json");
    ASSERT_OK("node list --json");
    ASSERT_OUT_HAS(honest.keys.node_public_key); /* the public key is listed, */
    NODE(honest.db, "status");
    ASSERT_OK("status");
    NODE(honest.db, "status", "--json");
    ASSERT_OK("status --json");
    honest_sync("during the transcript");
    stop_hub();
    transcript = NULL;

    char *log = gst_read_file(tpath("hub.log"), NULL);
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(strstr(log, "refused CURVE client") && strstr(log, "REJECTED") &&
                      strstr(log, "HELLO") && strstr(log, "group of"),
                  "the -vv log lacks what happened:\n%s", log);
    ck_assert_int_eq(seen.err, GS_OK);
    for (int i = 0; i < nsec; i++) {
        ck_assert_msg(!strstr(log, secrets[i]), "secret key %d is in the hub log", i);
        ck_assert_msg(!seen.data || !memmem(seen.data, seen.len, secrets[i], 40),
                      "secret key %d is in the programs' output:\n%s", i, seen.data);
    }
    free(log);
    gs_buf_free(&seen);
}
END_TEST

/* ==== insecure ============================================================================= */

/* `serve --insecure` on an address other hosts can reach is refused before
 * anything is bound: exit non-zero, one line that says why. */
static const char *const public_binds[] = {"tcp://0.0.0.0:%d", "tcp://*:%d"};

START_TEST(insecure_refused_off_loopback)
{
    char bind[64];
    snprintf(bind, sizeof bind, public_binds[_i], gst_free_port());
    const char *argv[] = {"gridhub", "--db", tpath("hub.db"), "serve", "--insecure", "--bind",
                          bind,      NULL};
    pid_t pid = gst_spawn(argv, tpath("serve.log"));
    ck_assert_int_gt(pid, 0);
    record_pid(pid);
    int st = wait_exit(pid, 5000);
    if (st < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        ck_abort_msg("gridhub serve --insecure --bind %s kept running", bind);
    }
    ck_assert_msg(st == 1 || st == 2, "exit %d", st);
    char *log = gst_read_file(tpath("serve.log"), NULL);
    ck_assert_msg(log && strstr(log, "--insecure is allowed only on tcp://127.x.x.x or ipc://"),
                  "the refusal does not say why: %s", log);
    ck_assert_msg(!strstr(log, "serving"), "it served: %s", log);
    free(log);
}
END_TEST

/* `serve --insecure` on ipc:// or 127.0.0.1 warns on stderr and in its log
 * line; a node without keys is refused without --insecure (with a message
 * that says so) and syncs with it. */
START_TEST(insecure_local_warns)
{
    char bind[PATH_MAX + 8];
    if (_i == 0)
        snprintf(bind, sizeof bind, "ipc://%s", tpath("dev.sock"));
    else
        snprintf(bind, sizeof bind, "tcp://127.0.0.1:%d", gst_free_port());
    snprintf(endpoint, sizeof endpoint, "%s", bind);
    start_hub(bind, 1, true);
    ck_assert(log_has(tpath("hub.log"), "WARNING: --insecure: plaintext, no authentication"));
    ck_assert(log_has(tpath("hub.log"), "WITHOUT ENCRYPTION (--insecure)"));
    HUB("node", "add", "--id", "dev-1", "--village", VILLAGE_H, "--name", "dev", "--endpoint", bind,
        "--out", tpath("dev.bundle"));
    ASSERT_OK("node add --id");
    NODE(tpath("dev.db"), "init", "--node-id", "dev-1", "--village", VILLAGE_H, "--hub", bind);
    ASSERT_OK("init without keys");
    node d = {0};
    snprintf(d.id, sizeof d.id, "dev-1");
    snprintf(d.db, sizeof d.db, "%s", tpath("dev.db"));
    snprintf(d.village, sizeof d.village, VILLAGE_H);
    add_incident(&d);
    sync_node(&d, "3");
    ASSERT_REFUSED("a keyless sync without --insecure");
    ASSERT_ERR_HAS("no keys");
    ck_assert_int_eq(hub_changes_of("dev-1"), 0);
    NODE(d.db, "sync", "--insecure", "--timeout", "10");
    ASSERT_OK("sync --insecure");
    ck_assert_int_eq(hub_changes_of("dev-1"), 1);
}
END_TEST

/* ==== bundles ================================================================================ */

/* True if text holds any 16 consecutive characters of the 40 of secret:
 * an echoed key, even cut or with a character changed, gives itself away. */
static bool leaks(const char *text, const char *secret)
{
    for (int at = 0; at + 16 <= 40; at++) {
        char window[17];
        memcpy(window, secret + at, 16);
        window[16] = '\0';
        if (strstr(text, window))
            return true;
    }
    return false;
}

/* What is wrong with the last run, `gridnode init --bundle FILE` into db,
 * taken as a refusal: NULL when it was refused with one line that does not
 * echo the secret key (when given) and created nothing. The text is static. */
static const char *init_refusal_problem(const char *db, const char *secret)
{
    static char why[PATH_MAX + 64];
    if (R.status != 1 && R.status != 2)
        snprintf(why, sizeof why, "exit %d, want 1 or 2", R.status);
    else if (!(R.err_len > 0 && R.err[R.err_len - 1] == '\n' &&
               memchr(R.err, '\n', R.err_len - 1) == NULL &&
               !strncmp(R.err, "gridnode: init: ", 16)))
        snprintf(why, sizeof why, "want one line \"gridnode: init: ...\" on stderr");
    else if (secret && leaks(R.err, secret))
        snprintf(why, sizeof why, "the message echoes (part of) the node's secret key");
    else {
        const char *suffix[] = {"", "-wal", "-shm", "-journal"};
        for (int i = 0; i < 4; i++) {
            snprintf(why, sizeof why, "%s%s was created", db, suffix[i]);
            if (access(why, F_OK) == 0)
                return why;
        }
        return NULL;
    }
    return why;
}

/* What path a refused bundle took through gs_bundle_parse: its error code
 * and message with the numbers and quoted values taken out (a line number,
 * a count, the value refused), in out. "" when it parsed. */
static void parse_class(const char *text, size_t len, char *out, size_t size)
{
    /* a copy of exactly len bytes, so that memcheck sees a read past them */
    char *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, text, len);
    gs_bundle b;
    gs_errbuf eb = {{0}};
    int rc = gs_bundle_parse(copy, len, &b, &eb);
    free(copy);
    size_t n = 0;
    out[0] = '\0';
    if (rc == GS_OK)
        return;
    n = (size_t)snprintf(out, size, "%d ", rc);
    bool quoted = false;
    for (const char *p = eb.msg; *p && n + 1 < size; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (quoted || (*p >= '0' && *p <= '9'))
            continue;
        out[n++] = *p;
    }
    out[n] = '\0';
}

/* A bundle cut short anywhere before its last value ends is refused, and
 * nothing is created. (Whether a cut secret is echoed is left to the
 * corruption cases.) Under valgrind, where each gridnode run costs a second
 * or more (some 290 cuts: 300 s), `gridnode init` runs for the first cut of
 * each distinct refusal (parse_class) and for every cut that parses; every
 * cut is parsed in the test process, itself under memcheck, and from a
 * buffer of exactly its length: gs_bundle_parse is the only code whose path
 * depends on where the cut is; what gridnode does around it (reading the
 * file, refusing, creating nothing) is the same for all the cuts of one
 * refusal. */
START_TEST(init_refuses_truncated_bundle)
{
    node n;
    enrol(&n, "village", VILLAGE_H, false);
    size_t len;
    char *text = gst_read_file(n.bundle, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert(len > 2 && text[len - 1] == '\n');
    int tried = 0, ran = 0;
    gs_buf classes = GS_BUF_INIT; /* under valgrind: "\nCLASS\nCLASS\n..." */
    gs_buf_puts(&classes, "\n");
    for (size_t cut = 0; cut + 1 < len; cut++) {
        /* every line boundary (either side) and every 11th byte */
        bool edge = text[cut] == '\n' || (cut && text[cut - 1] == '\n');
        if (!edge && cut % 11)
            continue;
        tried++;
        if (under_valgrind()) {
            char cls[GS_ERRBUF_MAX + 32], key[GS_ERRBUF_MAX + 40];
            parse_class(text, cut, cls, sizeof cls);
            if (cls[0]) { /* refused by the parser: gridnode runs for a new refusal only */
                snprintf(key, sizeof key, "\n%s\n", cls);
                if (memmem(classes.data, classes.len, key, strlen(key)))
                    continue;
                gs_buf_puts(&classes, key + 1);
            }
        }
        ran++;
        char what[64];
        snprintf(what, sizeof what, "a bundle cut at byte %zu of %zu", cut, len);
        ck_assert_int_eq(gst_write_file(tpath("cut.bundle"), text, cut), 0);
        NODE(tpath("cut.db"), "init", "--bundle", tpath("cut.bundle"));
        const char *why = init_refusal_problem(tpath("cut.db"), NULL);
        ck_assert_msg(!why, "%s: %s; stdout: %s stderr: %s", what, why, R.out, R.err);
    }
    ck_assert_int_gt(tried, 50);
    if (under_valgrind())
        printf("init_refuses_truncated_bundle: %d cuts of %zu bytes parsed, gridnode init run "
               "for %d (one per distinct refusal)\n",
               tried, len, ran);
    gs_buf_free(&classes);
    NODE(tpath("whole.db"), "init", "--bundle", n.bundle); /* the control */
    ASSERT_OK("the whole bundle");
    free(text);
}
END_TEST

/* One corruption of a real bundle: the line of key `key` gets the value
 * `value` (see corrupt()), or, with key NULL, `value` is appended; the
 * refusal must name `names`. */
typedef struct corruption {
    const char *name;
    const char *key;
    const char *value;
    const char *names;
} corruption;

static const corruption corruptions[] = {
    {"hub key with a character outside Z85", "hub_public_key", "@~", "hub_public_key"},
    {"node public key one character short", "node_public_key", "@short", "node_public_key"},
    {"secret key one character long", "node_secret_key", "@long", "node_secret_key"},
    {"secret key with a character outside Z85", "node_secret_key", "@~", "node_secret_key"},
    {"an unknown key", NULL, "hub_secret_key = 0000000000000000000000000000000000000000\n",
     "unknown key"},
    {"a key given twice", NULL, "village = " VILLAGE_B "\n", "given twice"},
    {"another format", "format", "gridsync-bundle-2", "format"},
    {"a line without =", "village", "@no-equals", "expected key = value"},
    {"node id hub", "node_id", "hub", "node_id"},
    {"a village of 11 digits", "village", "41112210120", "village"},
    {"an endpoint that is not tcp or ipc", "hub_endpoint", "http://hub.example:7700",
     "hub_endpoint"},
    {"a NUL byte", "village", "@nul", "NUL"},
    {"more than GS_BUNDLE_MAX_BYTES", NULL, "@big", "more than a bundle"},
    {"an empty file", NULL, "@empty", "missing"},
    /* OPEN DEFECT: neither gs_bundle_parse nor gridnode init checks that the
     * node's public key belongs to its secret key, so this bundle installs and
     * the node can never connect (the hub refuses the handshake). */
    {"a public key from another pair", "node_public_key", "@other-pair", "node_public_key"},
};
#define NCORRUPTIONS ((int)(sizeof corruptions / sizeof corruptions[0]))

/* Writes into out the bundle text with corruption c applied. Values starting
 * with '@' are computed: "@~" the key's value with its first character made
 * '~', "@short"/"@long" one character less/more, "@other-pair" the public
 * key of a fresh pair, "@no-equals" the line without its '=', "@nul" a NUL
 * byte in the key's line, "@big" comment lines appended until the bundle is
 * over GS_BUNDLE_MAX_BYTES, "@empty"
 * nothing at all. */
static void corrupt(const corruption *c, const char *text, gs_buf *out)
{
    if (!c->key) {
        if (!strcmp(c->value, "@empty"))
            return;
        gs_buf_puts(out, text);
        if (!strcmp(c->value, "@big"))
            while (out->len <= GS_BUNDLE_MAX_BYTES)
                gs_buf_puts(out, "# ..............................................................\n");
        else
            gs_buf_puts(out, c->value);
        return;
    }
    char prefix[64];
    snprintf(prefix, sizeof prefix, "\n%s = ", c->key);
    const char *line = strstr(text, prefix);
    ck_assert_msg(line != NULL, "%s: no line for %s", c->name, c->key);
    const char *value = line + strlen(prefix), *eol = strchr(value, '\n');
    ck_assert_ptr_nonnull(eol);
    size_t vn = (size_t)(eol - value);
    gs_buf_append(out, text, (size_t)(line + 1 - text));
    if (!strcmp(c->value, "@no-equals")) {
        gs_buf_printf(out, "%s %.*s", c->key, (int)vn, value);
    } else if (!strcmp(c->value, "@nul")) {
        gs_buf_printf(out, "%s", c->key);
        gs_buf_append(out, "\0", 1);
        gs_buf_printf(out, "= %.*s", (int)vn, value);
    } else {
        gs_buf_printf(out, "%s = ", c->key);
        char pub[41], sec[41];
        if (!strcmp(c->value, "@~"))
            gs_buf_printf(out, "~%.*s", (int)vn - 1, value + 1);
        else if (!strcmp(c->value, "@short"))
            gs_buf_printf(out, "%.*s", (int)vn - 1, value);
        else if (!strcmp(c->value, "@long"))
            gs_buf_printf(out, "%.*sx", (int)vn, value);
        else if (!strcmp(c->value, "@other-pair") && zmq_curve_keypair(pub, sec) == 0)
            gs_buf_puts(out, pub);
        else
            gs_buf_puts(out, c->value);
    }
    gs_buf_puts(out, eol);
}

/* Every corruption is refused, names what is wrong, echoes no secret and
 * creates nothing. The cases run in one test (each run of gridnode is what
 * costs) and every failing case is listed. */
START_TEST(init_refuses_corrupt_bundle)
{
    node n;
    enrol(&n, "village", VILLAGE_H, false);
    char *text = gst_read_file(n.bundle, NULL);
    ck_assert_ptr_nonnull(text);
    gs_buf failures = GS_BUF_INIT;
    for (int i = 0; i < NCORRUPTIONS; i++) {
        const corruption *c = &corruptions[i];
        gs_buf out = GS_BUF_INIT;
        corrupt(c, text, &out);
        ck_assert_int_eq(out.err, GS_OK);
        ck_assert_msg(out.len != strlen(text) || memcmp(out.data, text, out.len),
                      "%s: the bundle is unchanged", c->name);
        ck_assert_int_eq(gst_write_file(tpath("bad.bundle"), out.data ? out.data : "", out.len), 0);
        gs_buf_free(&out);
        NODE(tpath("bad.db"), "init", "--bundle", tpath("bad.bundle"));
        const char *why = init_refusal_problem(tpath("bad.db"), n.keys.node_secret_key);
        if (!why && !strstr(R.err, c->names))
            why = "the message does not name what is wrong";
        if (why)
            gs_buf_printf(&failures,
                          "\n  %s (should name \"%s\"): %s\n    stdout: %s    stderr: %s", c->name,
                          c->names, why, R.out, R.err);
        /* a wrongly accepted bundle must not spoil the next case */
        const char *suffix[] = {"", "-wal", "-shm", "-journal"};
        for (int k = 0; k < 4; k++) {
            char p[PATH_MAX + 16];
            snprintf(p, sizeof p, "%s%s", tpath("bad.db"), suffix[k]);
            unlink(p);
        }
    }
    ck_assert_msg(!failures.data, "bundles not refused as they should be:%s", failures.data);
    free(text);
}
END_TEST

/* ==== suite ====================================================================================
 */

/* Seconds a test may take (the slowest, the HELLO flood, takes about ten
 * under the sanitizers); ctest's CK_DEFAULT_TIMEOUT does not apply to a
 * TCase with its own. */
#define TEST_TIMEOUT 180

static Suite *security_suite(void)
{
    Suite *s = suite_create("security");
    TCase *tc;

    tc = gst_tcase(s, "keys", setup, teardown, TEST_TIMEOUT);
    tcase_add_unchecked_fixture(tc, make_synced_template, drop_template);
    tcase_add_test(tc, plaintext_client_refused);
    tcase_add_test(tc, unknown_key_refused);
    tcase_add_test(tc, revoked_key_refused);
    tcase_add_test(tc, revoked_node_told_why);
    tcase_add_test(tc, rekeyed_old_key_refused);
    tcase_add_test(tc, rekeyed_bundle_installs);
    tcase_add_test(tc, rekey_failure_keeps_key);
    tcase_add_test(tc, node_rekey_keys_match);
    tcase_add_test(tc, node_rekey_fault_keeps_old_keys);
    tcase_add_test(tc, bundle_reference_overwritten_by_sync);
    tcase_add_test(tc, rekey_refuses_hello_on_old_connection);
    tcase_add_test(tc, self_enrolment);
    tcase_add_test(tc, no_plaintext_against_curve_hub);

    tc = gst_tcase(s, "authority", setup, teardown, TEST_TIMEOUT);
    tcase_add_unchecked_fixture(tc, make_synced_template, drop_template);
    tcase_add_test(tc, hello_with_another_nodes_id);
    /* under valgrind one test judges them all (see the test) */
    tcase_add_loop_test(tc, forbidden_change_quarantined, 0, under_valgrind() ? 1 : NFORBIDDEN);
    tcase_add_test(tc, pushed_findings_not_trusted);
    tcase_add_test(tc, tampered_node_sees_rejection);
    tcase_add_test(tc, session_bound_to_connection);

    tc = gst_tcase(s, "hostile", setup, teardown, TEST_TIMEOUT);
    tcase_add_unchecked_fixture(tc, make_synced_template, drop_template);
    tcase_add_test(tc, malformed_frames_answered);
    tcase_add_test(tc, oversized_frame_drops_connection);
    tcase_add_test(tc, hello_flood_memory_bounded);

    tc = gst_tcase(s, "secrets", setup, teardown, TEST_TIMEOUT);
    tcase_add_unchecked_fixture(tc, make_synced_template, drop_template);
    tcase_add_test(tc, no_secret_in_output);

    /* its own hub, made under umask 000 */
    tc = gst_tcase(s, "secret_files", NULL, teardown, TEST_TIMEOUT);
    tcase_add_test(tc, secret_files_mode_0600);

    tc = gst_tcase(s, "insecure", setup_hub_db, teardown, TEST_TIMEOUT);
    tcase_add_unchecked_fixture(tc, make_template, drop_template);
    tcase_add_loop_test(tc, insecure_refused_off_loopback, 0,
                        (int)(sizeof public_binds / sizeof public_binds[0]));
    tcase_add_loop_test(tc, insecure_local_warns, 0, 2);

    tc = gst_tcase(s, "bundle", setup_hub_db, teardown, TEST_TIMEOUT);
    tcase_add_unchecked_fixture(tc, make_template, drop_template);
    tcase_add_test(tc, init_refuses_truncated_bundle);
    tcase_add_test(tc, init_refuses_corrupt_bundle);
    return s;
}

/* Kills the hubs a failed test left running: those listed in the pid file
 * that still run gridhub. */
static void sweep_hubs(const char *list)
{
    FILE *f = fopen(list, "r");
    if (!f)
        return;
    int pid;
    while (fscanf(f, "%d", &pid) == 1) {
        char path[64], cmd[256] = "";
        snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
        FILE *c = fopen(path, "r");
        if (!c)
            continue;
        size_t n = fread(cmd, 1, sizeof cmd - 1, c);
        fclose(c);
        cmd[n] = '\0';
        if (strstr(cmd, "gridhub"))
            kill(pid, SIGKILL);
    }
    fclose(f);
}

int main(void)
{
    /* Every test directory goes under one of ours, removed at the end. */
    char *top = gst_tmp_top();
    char list[PATH_MAX];
    snprintf(list, sizeof list, "%s/hub.pids", top);
    setenv(PIDS_ENV, list, 1);
    int rc = gst_run_suite(security_suite());
    sweep_hubs(list);
    gst_rmrf(top); /* with the template kept under valgrind (drop_template) */
    free(top);
    free(template_dir);
    return rc;
}
