/*
 * bench_nodes.c: many village nodes syncing at once (issue 9).
 *
 * For each node count in --nodes (default 1, 10, 100 and 1,346, the city),
 * a fresh hub (a copy of one registry made with the real `gridhub init`,
 * `refdata load` and one `gridhub node add` per node) is started with
 * `gridhub serve`, and that many nodes sync to it at the same time. The
 * nodes are simulated by threads of this process that speak the real
 * protocol: a DEALER socket per node with the node's CURVE keys from its
 * bundle, HELLO / WELCOME, PUSH batches built with gs_change_encode and
 * gs_chain_next exactly as a node builds them (incidents created and moved
 * along the status workflow), a window of batches in flight, ACK, and then
 * PULL pages until the hub has nothing more, as `gridnode sync` does.
 * Every node first connects and is welcomed; only when all N are connected
 * at once do they start pushing (so the hub holds N connections together),
 * and they stay connected until the last one is done.
 *
 * For 10 nodes it also runs 10 real `gridnode sync` processes against a
 * fresh hub, over node databases holding the same number of changes made
 * with the node's own entry rules, so the simulator can be compared with
 * the real client in the same run.
 *
 * Figures per case: the aggregate rate (changes acked per second, from the
 * start signal to the last ACK), the slowest node's time to be fully acked
 * (and the median), the time all N took to connect, the hub's RSS with N
 * idle connections and its peak RSS (VmHWM, read before it is stopped; the
 * goal is under 128 MiB with all 1,346 connected), the hub's CPU time, and
 * a check that the hub holds every change (count and max seq per origin).
 *
 * usage: bench_nodes [--nodes 1,10,100,1346] [--changes 1000] [--window 8]
 *          [--batch 512] [--threads 8] [--io-threads 2] [--no-pull]
 *          [--no-real] [--timeout 600] [--dir DIR] [--keep]
 * Build: cmake --build BUILD --target gridhub gridnode bench_nodes; run
 * BUILD/tests/bench_nodes. Loopback only: ipc:// endpoints in the temporary
 * directory (under $TMPDIR), keys generated there. Not a test: ctest never
 * runs it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "entry.h"
#include "gridsync/bundle.h"
#include "gridsync/change.h"
#include "gridsync/csv.h"
#include "gridsync/hlc.h"
#include "gridsync/msg.h"
#include "gsbench.h"
#include "gstest.h"
#include "store.h"

#define PROG        "bench_nodes"
#define MAX_CASES   16
#define MAX_WINDOW  64
#define BATCH_BYTES (512u * 1024u) /* as gridnode: 512 KiB of bodies per PUSH */
#define GOAL_KIB    (128 * 1024)

/* ---- small helpers ------------------------------------------------------------- */

static pid_t hub_pid;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("\n" PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (hub_pid > 0)
        kill(hub_pid, SIGKILL);
    exit(1);
}

/* User + system CPU seconds of a live process. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds (user + system) this process has used. */
static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Copies a file (the template hub database and its key). */
static void copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0)
        die("copying %s to %s: %s", from, to, strerror(errno));
    char buf[1 << 16];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            die("writing %s: %s", to, strerror(errno));
    if (n < 0 || fsync(out))
        die("copying %s: %s", from, strerror(errno));
    close(in);
    close(out);
}

/* dir/name, or death when it does not fit. */
static void join(char *out, size_t cap, const char *dir, const char *name)
{
    if (snprintf(out, cap, "%s/%s", dir, name) >= (int)cap)
        die("path too long: %s/%s", dir, name);
}

/* ---- options --------------------------------------------------------------------- */

typedef struct options {
    long nodes[MAX_CASES];
    int ncases;
    long changes, window, batch, threads, io_threads, timeout;
    const char *inflight_mib; /* gridhub serve --inflight-mib, or NULL for its default */
    bool pull, real, keep;
    const char *dir;
} options;

static const char usage_text[] =
    "usage: bench_nodes [--nodes 1,10,100,1346] [--changes 1000] [--window 8] [--batch 512]\n"
    "                   [--threads 8] [--io-threads 2] [--no-pull] [--no-real]\n"
    "                   [--timeout 600] [--inflight-mib N] [--dir DIR] [--keep]\n"
    "\n"
    "For each node count, starts a fresh gridhub and has that many simulated nodes (threads\n"
    "speaking the real protocol with the real CURVE keys) connect at once and push\n"
    "--changes changes each, --window batches of --batch changes in flight, then pull as\n"
    "gridnode does. For 10 nodes also runs 10 real `gridnode sync` processes. Prints the\n"
    "aggregate rate, the hub's peak RSS and the slowest node's time to be fully acked.\n"
    "A simulated node gives up when the hub is silent for --timeout seconds (gridnode's\n"
    "own default is 30); the longest silence a node saw is reported. --inflight-mib is\n"
    "passed to `gridhub serve` (the budget the hub shares among the nodes as grants).\n"
    "DIR (default: a new directory under $TMPDIR) must be new or empty; --keep keeps it.\n";

static void parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    static const long def[] = {1, 10, 100, 1346};
    memcpy(o->nodes, def, sizeof def);
    o->ncases = 4;
    o->changes = 1000;
    o->window = 8;
    o->batch = 512;
    o->threads = 8;
    o->io_threads = 2;
    o->timeout = 600;
    o->pull = o->real = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            exit(0);
        } else if (!strcmp(a, "--no-pull")) {
            o->pull = false;
        } else if (!strcmp(a, "--no-real")) {
            o->real = false;
        } else if (!strcmp(a, "--keep")) {
            o->keep = true;
        } else if (strcmp(a, "--nodes") && strcmp(a, "--changes") && strcmp(a, "--window") &&
                   strcmp(a, "--batch") && strcmp(a, "--threads") && strcmp(a, "--io-threads") &&
                   strcmp(a, "--dir") && strcmp(a, "--timeout") && strcmp(a, "--inflight-mib")) {
            gsb_bad_usage(PROG, "unknown %s %s", strncmp(a, "-", 1) ? "argument" : "option", a);
        } else if (i + 1 >= argc) {
            gsb_bad_usage(PROG, "%s needs a value", a);
        } else if (!strcmp(a, "--nodes")) {
            const char *v = argv[++i];
            o->ncases = 0;
            char list[256];
            snprintf(list, sizeof list, "%s", v);
            for (char *save = NULL, *t = strtok_r(list, ",", &save); t;
                 t = strtok_r(NULL, ",", &save)) {
                if (o->ncases == MAX_CASES)
                    gsb_bad_usage(PROG, "--nodes: at most %d counts", MAX_CASES);
                o->nodes[o->ncases++] = gsb_parse_long(PROG, "--nodes", t, 1, 9000);
            }
            if (!o->ncases)
                gsb_bad_usage(PROG, "--nodes \"%s\": expected counts such as 1,10,100,1346", v);
        } else if (!strcmp(a, "--changes")) {
            o->changes = gsb_parse_long(PROG, a, argv[++i], 1, 10000000);
        } else if (!strcmp(a, "--window")) {
            o->window = gsb_parse_long(PROG, a, argv[++i], 1, MAX_WINDOW);
        } else if (!strcmp(a, "--batch")) {
            o->batch = gsb_parse_long(PROG, a, argv[++i], 1, (long)gs_limits_default.max_changes);
        } else if (!strcmp(a, "--threads")) {
            o->threads = gsb_parse_long(PROG, a, argv[++i], 1, 256);
        } else if (!strcmp(a, "--io-threads")) {
            o->io_threads = gsb_parse_long(PROG, a, argv[++i], 1, 64);
        } else if (!strcmp(a, "--timeout")) {
            o->timeout = gsb_parse_long(PROG, a, argv[++i], 1, 86400);
        } else if (!strcmp(a, "--dir")) {
            o->dir = argv[++i];
        } else if (!strcmp(a, "--inflight-mib")) {
            gsb_parse_long(PROG, a, argv[i + 1], 1, 4096);
            o->inflight_mib = argv[++i];
        } else {
            gsb_bad_usage(PROG, "unknown option %s", a);
        }
    }
}

/* ---- the registry: villages, hub, bundles ------------------------------------------- */

/* One node as registered: its village, id and keys. */
typedef struct reg_node {
    char village[13];
    char name[96];
    char id[65];
    char pub[41], sec[41], hub_pub[41];
} reg_node;

/* Writes villages.csv with n synthetic villages (VVV 201...) spread over the
 * real towns and townships (TTT 100-399) and fills the registry's names. */
static void write_villages(const char *path, reg_node *r, long n)
{
    gs_csv *csv = NULL;
    gs_errbuf eb = {{0}};
    if (gs_csv_open(&csv, GS_TEST_SRC_DIR "/data/luohe_divisions.csv", &eb))
        die("%s", eb.msg);
    char codes[128][10], names[128][64];
    int nt = 0;
    for (size_t i = 0; i < gs_csv_nrows(csv) && nt < 128; i++) {
        const char *code = gs_csv_cell(csv, i, 0);
        if (strcmp(gs_csv_cell(csv, i, 2), "township") || atoi(code + 6) < 100)
            continue;
        snprintf(codes[nt], sizeof codes[nt], "%.9s", code);
        snprintf(names[nt], sizeof names[nt], "%s", gs_csv_cell(csv, i, 1));
        nt++;
    }
    gs_csv_destroy(&csv);
    if (!nt || n > (long)nt * 199)
        die("cannot place %ld villages under %d towns", n, nt);
    FILE *f = fopen(path, "w");
    if (!f)
        die("%s: %s", path, strerror(errno));
    fputs("code,name,level,parent_code,synthetic\n", f);
    for (long i = 0; i < n; i++) {
        int t = (int)(i % nt), k = (int)(i / nt);
        memcpy(r[i].village, codes[t], 9);
        snprintf(r[i].village + 9, 4, "%03d", (201 + k) % 1000);
        snprintf(r[i].name, sizeof r[i].name, "%s 第%d村(合成)", names[t], k + 1);
        snprintf(r[i].id, sizeof r[i].id, "%s-1", r[i].village);
        fprintf(f, "%s,%s,village,%s,是\n", r[i].village, r[i].name, codes[t]);
    }
    if (fclose(f))
        die("%s: %s", path, strerror(errno));
}

/* Runs argv to completion with its output in log; dies on failure. */
static void run_tool(const char *const argv[], const char *log)
{
    pid_t pid = gst_spawn(argv, log);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
        FILE *f = fopen(log, "r");
        char line[512];
        while (f && fgets(line, sizeof line, f))
            fprintf(stderr, "  | %s", line);
        if (f)
            fclose(f);
        die("%s %s %s failed", argv[0], argv[3], argv[4] ? argv[4] : "");
    }
    unlink(log);
}

/*
 * Makes the template hub in tdir: init, the real divisions and categories,
 * villages.csv, and `gridhub node add` for n nodes (8 at a time), then reads
 * the bundles back for the keys.
 */
static void make_registry(const char *tdir, reg_node *r, long n)
{
    char hubdb[PATH_MAX], csv[PATH_MAX], log[PATH_MAX];
    join(hubdb, sizeof hubdb, tdir, "hub.db");
    join(csv, sizeof csv, tdir, "villages.csv");
    join(log, sizeof log, tdir, "setup.log");
    write_villages(csv, r, n);
    const char *init[] = {"gridhub", "--db", hubdb, "init", NULL};
    run_tool(init, log);
    const char *div[] = {"gridhub",
                         "--db",
                         hubdb,
                         "refdata",
                         "load",
                         "divisions",
                         GS_TEST_SRC_DIR "/data/luohe_divisions.csv",
                         NULL};
    run_tool(div, log);
    const char *cat[] = {"gridhub",
                         "--db",
                         hubdb,
                         "refdata",
                         "load",
                         "categories",
                         GS_TEST_SRC_DIR "/data/incident_categories.csv",
                         NULL};
    run_tool(cat, log);
    const char *vil[] = {"gridhub", "--db", hubdb, "refdata", "load", "divisions", csv, NULL};
    run_tool(vil, log);

    double t0 = gst_clock_ms();
    enum { PAR = 8 };
    pid_t slot[PAR] = {0};
    long next = 0, done = 0;
    char bundle[PAR][PATH_MAX], alog[PAR][PATH_MAX];
    while (done < n) {
        for (int s = 0; s < PAR && next < n; s++) {
            if (slot[s])
                continue;
            char bname[64], lname[64];
            snprintf(bname, sizeof bname, "%s.bundle", r[next].village);
            snprintf(lname, sizeof lname, "add-%s.log", r[next].village);
            join(bundle[s], sizeof bundle[s], tdir, bname);
            join(alog[s], sizeof alog[s], tdir, lname);
            const char *argv[] = {"gridhub",
                                  "--db",
                                  hubdb,
                                  "node",
                                  "add",
                                  "--village",
                                  r[next].village,
                                  "--name",
                                  r[next].name,
                                  "--endpoint",
                                  "ipc:///nonexistent/registry.sock",
                                  "--out",
                                  bundle[s],
                                  "--id",
                                  r[next].id,
                                  NULL};
            if ((slot[s] = gst_spawn(argv, alog[s])) < 0)
                die("cannot start gridhub: %s", strerror(errno));
            next++;
        }
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0)
            die("wait: %s", strerror(errno));
        for (int s = 0; s < PAR; s++)
            if (slot[s] == pid) {
                slot[s] = 0;
                done++;
                if (!WIFEXITED(status) || WEXITSTATUS(status))
                    die("gridhub node add failed; see %s", alog[s]);
                unlink(alog[s]);
            }
        gsb_progress("registry: %ld/%ld x gridhub node add, %.1f s", done, n,
                     (gst_clock_ms() - t0) / 1e3);
    }
    gsb_progress_end();
    for (long i = 0; i < n; i++) {
        char path[PATH_MAX], bname[64];
        snprintf(bname, sizeof bname, "%s.bundle", r[i].village);
        join(path, sizeof path, tdir, bname);
        size_t len = 0;
        char *text = gst_read_file(path, &len);
        gs_bundle b;
        gs_errbuf eb = {{0}};
        if (!text || gs_bundle_parse(text, len, &b, &eb))
            die("%s: %s", path, text ? eb.msg : strerror(errno));
        free(text);
        snprintf(r[i].pub, sizeof r[i].pub, "%s", b.node_public_key);
        snprintf(r[i].sec, sizeof r[i].sec, "%s", b.node_secret_key);
        snprintf(r[i].hub_pub, sizeof r[i].hub_pub, "%s", b.hub_public_key);
    }
    printf("registry: %ld nodes registered with `gridhub node add` in %.1f s\n", n,
           (gst_clock_ms() - t0) / 1e3);
}

/* ---- the hub -------------------------------------------------------------------------- */

/*
 * Starts `gridhub serve` in cdir. BENCH_HUB_WRAPPER (e.g. "valgrind
 * --tool=massif --massif-out-file=/tmp/hub.massif") is put in front of it to
 * profile the hub; the hub's RSS figures are then the wrapper's and not valid.
 */
static void start_hub(const char *cdir, const char *endpoint, const char *inflight_mib)
{
    char hubdb[PATH_MAX], log[PATH_MAX], sock[PATH_MAX], bin[PATH_MAX];
    join(hubdb, sizeof hubdb, cdir, "hub.db");
    join(log, sizeof log, cdir, "hub.log");
    join(sock, sizeof sock, cdir, "hub.sock");
    join(bin, sizeof bin, GS_TEST_BIN_DIR, "gridhub");
    const char *argv[32];
    int n = 0;
    static char wrap[1024];
    const char *w = getenv("BENCH_HUB_WRAPPER");
    if (w && *w) {
        snprintf(wrap, sizeof wrap, "%s", w);
        for (char *save = NULL, *t = strtok_r(wrap, " ", &save); t && n < 24;
             t = strtok_r(NULL, " ", &save))
            argv[n++] = t;
        argv[n++] = bin; /* a wrapper needs the path; gst_spawn resolves only "gridhub" */
    } else {
        argv[n++] = "gridhub";
    }
    const char *rest[] = {"--db", hubdb, "serve", "--bind", endpoint, NULL};
    for (int i = 0; rest[i]; i++)
        argv[n++] = rest[i];
    if (inflight_mib) {
        argv[n++] = "--inflight-mib";
        argv[n++] = inflight_mib;
    }
    argv[n] = NULL;
    hub_pid = gst_spawn(argv, log);
    if (hub_pid < 0)
        die("cannot start gridhub serve: %s", strerror(errno));
    for (int i = 0; i < 1200; i++) {
        struct stat st;
        if (stat(sock, &st) == 0)
            return;
        if (waitpid(hub_pid, NULL, WNOHANG) == hub_pid) {
            hub_pid = 0;
            die("gridhub serve exited at start; see %s", log);
        }
        usleep(50000);
    }
    die("gridhub serve did not open %s within 60 s", sock);
}

static void stop_hub(void)
{
    if (hub_pid <= 0)
        return;
    kill(hub_pid, SIGTERM);
    for (int i = 0; i < 1200; i++) {
        if (waitpid(hub_pid, NULL, WNOHANG) == hub_pid) {
            hub_pid = 0;
            return;
        }
        usleep(100000);
    }
    kill(hub_pid, SIGKILL);
    waitpid(hub_pid, NULL, 0);
    hub_pid = 0;
}

/* Counts the nodes whose changes the hub does not hold exactly (count and max
 * seq per origin equal `changes`, acked_through too). */
static long verify_hub(const char *hubdb, const reg_node *r, long n, uint64_t changes)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open_v2(hubdb, &db, SQLITE_OPEN_READONLY, NULL) ||
        sqlite3_prepare_v2(db,
                           "SELECT (SELECT count(*) FROM changes WHERE origin = ?1), (SELECT "
                           "coalesce(max(seq), 0) FROM changes WHERE origin = ?1), (SELECT "
                           "acked_through FROM nodes WHERE id = ?1)",
                           -1, &st, NULL))
        die("%s: %s", hubdb, sqlite3_errmsg(db));
    long bad = 0;
    for (long i = 0; i < n; i++) {
        sqlite3_bind_text(st, 1, r[i].id, -1, SQLITE_STATIC);
        uint64_t c = 0, mx = 0, ack = 0;
        if (sqlite3_step(st) == SQLITE_ROW) {
            c = (uint64_t)sqlite3_column_int64(st, 0);
            mx = (uint64_t)sqlite3_column_int64(st, 1);
            ack = (uint64_t)sqlite3_column_int64(st, 2);
        }
        sqlite3_reset(st);
        if (c != changes || mx != changes || ack != changes) {
            if (bad++ < 5)
                fprintf(stderr, PROG ": %s: hub holds %llu (max seq %llu, acked %llu) of %llu\n",
                        r[i].id, (unsigned long long)c, (unsigned long long)mx,
                        (unsigned long long)ack, (unsigned long long)changes);
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return bad;
}

/* ---- the simulated nodes ------------------------------------------------------------ */

enum { SIM_HELLO, SIM_READY, SIM_PUSH, SIM_PULL, SIM_DONE, SIM_FAILED };

typedef struct sim_node {
    const reg_node *reg;
    void *sock;
    int phase;
    uint64_t built;            /* last seq built and sent */
    uint64_t acked;            /* as the hub said */
    uint64_t target;           /* the last seq to send */
    uint8_t head[GS_HASH_LEN]; /* chain hash of `built` */
    gs_hlc hlc;
    uint64_t inflight[MAX_WINDOW]; /* last seq of each batch in flight */
    int ninflight;
    int window;         /* --window, or less if the hub grants less */
    size_t batch_bytes; /* 512 KiB, or less if the hub grants less */
    int min_window;     /* the smallest grant seen */
    size_t min_batch_bytes;
    /* the last batch ends sent and their chain hashes, to rewind to the
     * hub's acked_through after a reconnection */
    uint64_t hist_seq[MAX_WINDOW + 4];
    uint8_t hist_hash[MAX_WINDOW + 4][GS_HASH_LEN];
    int hist_pos;
    bool rehello; /* the connection was re-established: HELLO sent again */
    int reconnects;
    double last_msg_ms, max_gap_ms; /* the longest wait for the hub while pushing or pulling */
    uint64_t cursor, pulled;
    uint8_t cursor_hash[GS_HASH_LEN]; /* the hub's log hash at cursor */
    char incident[37];                   /* the incident the node's edits move along */
    double t_welcome, t_acked, t_pulled; /* ms from the start signal (welcome: from connect) */
    char err[256];
} sim_node;

typedef struct sim {
    const options *o;
    const char *endpoint;
    void *ctx;
    sim_node *nodes;
    long n;
    atomic_int ready;      /* threads whose nodes are all welcomed */
    atomic_int go;         /* the start signal */
    atomic_ullong acked;   /* changes acked so far, all nodes */
    atomic_int welcomed;   /* nodes welcomed so far */
    atomic_int reconnects; /* sessions said HELLO again after a silent reconnect */
    atomic_int finished;   /* threads whose nodes are all done or failed */
    double t0, t_connect0;
} sim;

typedef struct sim_thread {
    sim *s;
    long first, count;
    pthread_t th;
    gs_buf body, out;
} sim_thread;

static void sim_fail(sim_node *nd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sim_fail(sim_node *nd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(nd->err, sizeof nd->err, fmt, ap);
    va_end(ap);
    nd->phase = SIM_FAILED;
}

static int sim_send(sim_thread *t, sim_node *nd, const gs_msg *m)
{
    gs_buf_reset(&t->out);
    if (gs_msg_encode(m, &gs_limits_default, &t->out)) {
        sim_fail(nd, "cannot encode %s", gs_msg_name(m->type));
        return -1;
    }
    if (zmq_send(nd->sock, t->out.data, t->out.len, 0) < 0) {
        sim_fail(nd, "send: %s", zmq_strerror(errno));
        return -1;
    }
    return 0;
}

/* A UUIDv7 from the clock's milliseconds, as node_store_new_id makes it. */
static void uuid7(gs_hlc h, char out[37])
{
    uint64_t ms = GS_HLC_MS(h);
    uint8_t b[16];
    randombytes_buf(b, sizeof b);
    for (int i = 0; i < 6; i++)
        b[i] = (uint8_t)(ms >> (40 - 8 * i));
    b[6] = (uint8_t)(0x70 | (b[6] & 0x0f));
    b[8] = (uint8_t)(0x80 | (b[8] & 0x3f));
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    *p = '\0';
}

static void set_text(gs_record *r, const char *field, const char *text)
{
    int f = gs_field_find(r->rt, field);
    gs_errbuf eb = {{0}};
    if (f < 0 || gs_record_parse(r, f, text, &eb))
        die("building a change: %s: %s", field, eb.msg);
}

/*
 * Builds change `seq` of a node into t->body, as a node's store does: every
 * fifth change creates an incident, the four after it move it along the
 * workflow (accepted, registered, dispatched, in_progress) with a note.
 */
static void build_change(sim_thread *t, sim_node *nd, uint64_t seq)
{
    static const char *const steps[] = {"accepted", "registered", "dispatched", "in_progress"};
    static const char *const notes[] = {"已受理", "已立案", "已派遣处置", "处置中"};
    static const char *const cats[] = {"dispute.neighbour",  "safety.fire", "sanitation",
                                       "livelihood.elderly", "urban",       "dispute.land"};
    const gs_rectype *rt = gs_rectype_get(GS_RT_INCIDENT);
    gs_change c;
    memset(&c, 0, sizeof c);
    snprintf(c.origin, sizeof c.origin, "%s", nd->reg->id);
    c.seq = seq;
    nd->hlc = gs_hlc_tick(nd->hlc, gs_wall_ms());
    c.hlc = nd->hlc;
    c.op = GS_OP_UPSERT;
    c.rec = gs_record_new(rt);
    if (!c.rec)
        die("out of memory");
    int k = (int)((seq - 1) % 5);
    if (k == 0) {
        uuid7(c.hlc, nd->incident);
        char grid[16], when[40];
        snprintf(grid, sizeof grid, "%s001", nd->reg->village);
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        set_text(c.rec, "id", nd->incident);
        set_text(c.rec, "village_code", nd->reg->village);
        set_text(c.rec, "grid_code", grid);
        set_text(c.rec, "category", cats[seq / 5 % 6]);
        set_text(c.rec, "title", "网格巡查发现问题(模拟节点)");
        set_text(c.rec, "source", "patrol");
        set_text(c.rec, "reported_at", when);
        set_text(c.rec, "severity", "2");
        set_text(c.rec, "status", "reported");
    } else {
        set_text(c.rec, "id", nd->incident);
        set_text(c.rec, "village_code", nd->reg->village);
        set_text(c.rec, "status", steps[k - 1]);
        set_text(c.rec, "note", notes[k - 1]);
    }
    gs_buf_reset(&t->body);
    gs_change_encode(&c, &t->body);
    gs_change_clear(&c);
    if (t->body.err)
        die("encoding a change: %s", gs_strerror(t->body.err));
}

/* Sends the next PUSH: up to --batch changes, within the granted batch bytes
 * (512 KiB at most, as gridnode), and at least one change. The next change's
 * size is taken to be the last one's (they differ by a few bytes), so that a
 * change is built only when it is sent. */
static void send_batch(sim_thread *t, sim_node *nd)
{
    gs_msg m;
    memset(&m, 0, sizeof m);
    m.type = GS_MSG_PUSH;
    m.version = GS_PROTO_VERSION;
    m.first_seq = nd->built + 1;
    size_t bytes = 0;
    while (nd->built < nd->target && (long)m.nchanges < t->s->o->batch &&
           (!m.nchanges || bytes + t->body.len <= nd->batch_bytes)) {
        uint64_t seq = nd->built + 1;
        build_change(t, nd, seq);
        uint8_t h[GS_HASH_LEN];
        gs_chain_next(nd->head, t->body.data, t->body.len, h);
        if (gs_msg_add_change(&m, t->body.data, t->body.len, h, 0))
            die("out of memory");
        memcpy(nd->head, h, GS_HASH_LEN);
        nd->built = seq;
        bytes += t->body.len;
    }
    if (m.nchanges && sim_send(t, nd, &m) == 0) {
        nd->inflight[nd->ninflight++] = nd->built;
        int h = nd->hist_pos++ % (MAX_WINDOW + 4);
        nd->hist_seq[h] = nd->built;
        memcpy(nd->hist_hash[h], nd->head, GS_HASH_LEN);
    }
    gs_msg_clear(&m);
}

static void fill_window(sim_thread *t, sim_node *nd)
{
    while (nd->phase == SIM_PUSH && nd->ninflight < nd->window && nd->built < nd->target)
        send_batch(t, nd);
}

static void send_pull(sim_thread *t, sim_node *nd)
{
    gs_msg m;
    memset(&m, 0, sizeof m);
    m.type = GS_MSG_PULL;
    m.version = GS_PROTO_VERSION;
    m.since = nd->cursor;
    memcpy(m.log_hash, nd->cursor_hash, GS_HASH_LEN);
    sim_send(t, nd, &m);
}

/* The node is fully acked: pull (as gridnode does) or finish. */
static void acked_all(sim_thread *t, sim_node *nd)
{
    nd->t_acked = gst_clock_ms() - t->s->t0;
    if (t->s->o->pull) {
        nd->phase = SIM_PULL;
        send_pull(t, nd);
    } else {
        nd->phase = SIM_DONE;
    }
}

static void send_hello(sim_thread *t, sim_node *nd)
{
    gs_msg m;
    memset(&m, 0, sizeof m);
    m.type = GS_MSG_HELLO;
    m.version = GS_PROTO_VERSION;
    snprintf(m.node_id, sizeof m.node_id, "%s", nd->reg->id);
    snprintf(m.software, sizeof m.software, "bench_nodes %s", GS_VERSION);
    m.pending = nd->target - nd->acked;
    m.hub_seq_seen = nd->cursor;
    m.node_time = gs_wall_ms();
    sim_send(t, nd, &m);
}

/*
 * After a reconnection (the DEALER re-established its connection by itself,
 * e.g. after a heartbeat timeout on a starved machine), the hub sees a new
 * peer and answers "... before HELLO": say HELLO again, and on the WELCOME
 * rewind to the hub's acked_through, as a robust node must.
 */
static void on_rewelcome(sim_thread *t, sim_node *nd, const gs_msg *m)
{
    nd->rehello = false;
    if (m->acked_through > nd->acked) {
        atomic_fetch_add(&t->s->acked, m->acked_through - nd->acked);
        nd->acked = m->acked_through;
    }
    if (m->acked_through != nd->built) {
        /* newest first: after an earlier rewind the ring may hold an older
         * batch end with the same seq but a different chain */
        bool found = false;
        for (int k = 1; k <= MAX_WINDOW + 4 && k <= nd->hist_pos && !found; k++) {
            int i = (nd->hist_pos - k) % (MAX_WINDOW + 4);
            if (nd->hist_seq[i] == m->acked_through) {
                memcpy(nd->head, nd->hist_hash[i], GS_HASH_LEN);
                found = true;
            }
        }
        if (!found) {
            sim_fail(nd, "cannot rewind to %llu after a reconnection",
                     (unsigned long long)m->acked_through);
            return;
        }
        nd->built = m->acked_through;
    }
    nd->ninflight = 0;
    if (nd->phase == SIM_PULL)
        send_pull(t, nd);
    else if (nd->acked >= nd->target)
        acked_all(t, nd);
    else
        fill_window(t, nd);
}

/* Takes the hub's grant from a WELCOME or ACK, as gridnode does. */
static void take_grant(sim_thread *t, sim_node *nd, const gs_msg *m)
{
    long w = (long)(m->window < (uint64_t)t->s->o->window ? m->window : (uint64_t)t->s->o->window);
    nd->window = w < 1 ? 1 : (int)w;
    nd->batch_bytes = m->batch_bytes < BATCH_BYTES ? (size_t)m->batch_bytes : BATCH_BYTES;
    if (m->acked_through >= nd->target)
        return; /* nothing left to send: the hub grants the least, which says nothing */
    if (!nd->min_window || nd->window < nd->min_window)
        nd->min_window = nd->window;
    if (!nd->min_batch_bytes || nd->batch_bytes < nd->min_batch_bytes)
        nd->min_batch_bytes = nd->batch_bytes;
}

/* Handles one message from the hub. */
static void on_message(sim_thread *t, sim_node *nd, const void *data, size_t len)
{
    gs_msg m;
    memset(&m, 0, sizeof m);
    gs_errbuf eb = {{0}};
    if (gs_msg_decode(data, len, &gs_limits_default, &m, &eb)) {
        sim_fail(nd, "bad message from the hub: %s", eb.msg);
        return;
    }
    double now = gst_clock_ms();
    if ((nd->phase == SIM_PUSH || nd->phase == SIM_PULL) && now - nd->last_msg_ms > nd->max_gap_ms)
        nd->max_gap_ms = now - nd->last_msg_ms;
    nd->last_msg_ms = now;
    if (m.type == GS_MSG_WELCOME || m.type == GS_MSG_ACK)
        take_grant(t, nd, &m);
    switch (m.type) {
    case GS_MSG_WELCOME:
        if (nd->rehello) {
            on_rewelcome(t, nd, &m);
            break;
        }
        if (nd->phase != SIM_HELLO) {
            sim_fail(nd, "WELCOME again (rewind to %llu): not expected on a fresh hub",
                     (unsigned long long)m.acked_through);
            break;
        }
        if (m.acked_through != nd->built) {
            sim_fail(nd, "the hub has %llu of this node's changes; expected a fresh hub",
                     (unsigned long long)m.acked_through);
            break;
        }
        nd->hlc = gs_hlc_recv(nd->hlc, m.hub_time, gs_wall_ms());
        nd->t_welcome = gst_clock_ms() - t->s->t_connect0;
        nd->phase = SIM_READY;
        atomic_fetch_add(&t->s->welcomed, 1);
        break;
    case GS_MSG_ACK: {
        if (nd->rehello)
            break;
        if (m.acked_through > nd->acked) {
            atomic_fetch_add(&t->s->acked, m.acked_through - nd->acked);
            nd->acked = m.acked_through;
        }
        int k = 0;
        for (int i = 0; i < nd->ninflight; i++)
            if (nd->inflight[i] > nd->acked)
                nd->inflight[k++] = nd->inflight[i];
        nd->ninflight = k;
        if (nd->phase == SIM_PUSH && nd->acked >= nd->target)
            acked_all(t, nd);
        else
            fill_window(t, nd);
        break;
    }
    case GS_MSG_REJECTED:
        sim_fail(nd, "change %llu rejected: %s (%s)", (unsigned long long)m.seq, m.text, m.code);
        break;
    case GS_MSG_CHANGES:
        nd->pulled += m.nchanges;
        nd->cursor = m.next;
        memcpy(nd->cursor_hash, m.log_hash, GS_HASH_LEN);
        if (m.more) {
            send_pull(t, nd);
        } else {
            nd->t_pulled = gst_clock_ms() - t->s->t0;
            nd->phase = SIM_DONE;
        }
        break;
    case GS_MSG_ERROR:
        if (strstr(m.text, "before HELLO") && nd->phase >= SIM_PUSH && nd->phase <= SIM_PULL) {
            if (!nd->rehello) { /* once; the other in-flight messages get the same answer */
                nd->rehello = true;
                nd->reconnects++;
                atomic_fetch_add(&t->s->reconnects, 1);
                send_hello(t, nd);
            }
            break;
        }
        sim_fail(nd, "the hub refused: %s (%s)", m.text, m.code);
        break;
    default:
        break;
    }
    gs_msg_clear(&m);
}

/* Receives everything waiting on the thread's sockets; returns how many
 * messages it handled. */
static long poll_nodes(sim_thread *t, zmq_pollitem_t *items, long timeout_ms)
{
    sim_node *nodes = t->s->nodes + t->first;
    int n = zmq_poll(items, (int)t->count, timeout_ms);
    if (n <= 0)
        return 0;
    long handled = 0;
    for (long i = 0; i < t->count; i++) {
        if (!(items[i].revents & ZMQ_POLLIN))
            continue;
        for (;;) {
            zmq_msg_t msg;
            zmq_msg_init(&msg);
            if (zmq_msg_recv(&msg, nodes[i].sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&msg);
                break;
            }
            if (nodes[i].phase != SIM_FAILED)
                on_message(t, &nodes[i], zmq_msg_data(&msg), zmq_msg_size(&msg));
            zmq_msg_close(&msg);
            handled++;
        }
    }
    return handled;
}

static bool all_past(const sim_node *nodes, long n, int phase)
{
    for (long i = 0; i < n; i++)
        if (nodes[i].phase < phase)
            return false;
    return true;
}

/* One simulator thread: connects its nodes, says HELLO, waits for the start
 * signal, then runs their sessions until every one is done or failed. */
static void *sim_thread_main(void *arg)
{
    sim_thread *t = arg;
    sim *s = t->s;
    sim_node *nodes = s->nodes + t->first;
    zmq_pollitem_t *items = calloc((size_t)t->count, sizeof *items);
    if (!items)
        die("out of memory");
    for (long i = 0; i < t->count; i++) {
        sim_node *nd = &nodes[i];
        nd->sock = zmq_socket(s->ctx, ZMQ_DEALER);
        if (!nd->sock)
            die("zmq_socket: %s (too many sockets or files?)", zmq_strerror(errno));
        int zero = 0, hb_ivl = 5000, hb_ttl = 30000, hb_timeout = 15000;
        int64_t maxmsg = (int64_t)gs_limits_default.max_msg_bytes;
        zmq_setsockopt(nd->sock, ZMQ_LINGER, &zero, sizeof zero);
        zmq_setsockopt(nd->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
        zmq_setsockopt(nd->sock, ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof hb_ivl);
        zmq_setsockopt(nd->sock, ZMQ_HEARTBEAT_TTL, &hb_ttl, sizeof hb_ttl);
        zmq_setsockopt(nd->sock, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout, sizeof hb_timeout);
        if (zmq_setsockopt(nd->sock, ZMQ_CURVE_SERVERKEY, nd->reg->hub_pub, 40) ||
            zmq_setsockopt(nd->sock, ZMQ_CURVE_PUBLICKEY, nd->reg->pub, 40) ||
            zmq_setsockopt(nd->sock, ZMQ_CURVE_SECRETKEY, nd->reg->sec, 40))
            die("CURVE keys of %s: %s", nd->reg->id, zmq_strerror(errno));
        if (zmq_connect(nd->sock, s->endpoint))
            die("connect %s: %s", s->endpoint, zmq_strerror(errno));
        items[i] = (zmq_pollitem_t){nd->sock, 0, ZMQ_POLLIN, 0};
        send_hello(t, nd);
    }
    /* until every node of this thread is welcomed (or failed) */
    double last = gst_clock_ms();
    while (!all_past(nodes, t->count, SIM_READY)) {
        if (poll_nodes(t, items, 100))
            last = gst_clock_ms();
        else if (gst_clock_ms() - last > (double)t->s->o->timeout * 1e3)
            for (long i = 0; i < t->count; i++)
                if (nodes[i].phase == SIM_HELLO)
                    sim_fail(&nodes[i], "no WELCOME within %d s", (int)t->s->o->timeout);
    }
    atomic_fetch_add(&s->ready, 1);
    while (!atomic_load(&s->go))
        usleep(1000);
    for (long i = 0; i < t->count; i++)
        if (nodes[i].phase == SIM_READY) {
            nodes[i].phase = SIM_PUSH;
            nodes[i].last_msg_ms = gst_clock_ms();
            fill_window(t, &nodes[i]);
        }
    last = gst_clock_ms();
    while (!all_past(nodes, t->count, SIM_DONE)) {
        if (poll_nodes(t, items, 100))
            last = gst_clock_ms();
        else if (gst_clock_ms() - last > (double)t->s->o->timeout * 1e3)
            for (long i = 0; i < t->count; i++)
                if (nodes[i].phase < SIM_DONE)
                    sim_fail(&nodes[i], "the hub was silent for %d s (acked %llu of %llu)",
                             (int)t->s->o->timeout, (unsigned long long)nodes[i].acked,
                             (unsigned long long)nodes[i].target);
    }
    free(items);
    atomic_fetch_add(&s->finished, 1);
    return NULL;
}

/* What one case measured. */
typedef struct figures {
    long nodes;
    uint64_t changes;
    double connect_s; /* all N connected and welcomed */
    double wall_s;    /* start signal to the last ACK */
    double pull_s;    /* start signal to the last pull page */
    double slowest_s, median_s;
    double rate; /* changes acked per second */
    long idle_kib, hwm_kib, end_kib;
    double hub_cpu_s, sim_cpu_s;    /* CPU of the hub, of the simulator (or the gridnodes) */
    double load;                    /* 1-minute load average at the end */
    double main_run_s, main_wait_s; /* hub main thread: on a CPU, waiting for one */
    long long written;              /* bytes the hub wrote to storage */
    double span_s;                  /* connect to the end of the last session */
    int reconnects;                 /* sessions re-established after a silent reconnect */
    double max_gap_s;               /* the longest silence of the hub a node saw */
    int min_window;                 /* the smallest grant a node saw: window, */
    size_t min_batch_bytes;         /* batch bytes */
    long bad;
} figures;

/* Runs N simulated nodes against the hub at endpoint. */
static void run_sim(const options *o, const reg_node *reg, long n, const char *endpoint,
                    figures *fig)
{
    sim s;
    memset(&s, 0, sizeof s);
    s.o = o;
    s.endpoint = endpoint;
    s.n = n;
    s.nodes = calloc((size_t)n, sizeof *s.nodes);
    if (!s.nodes)
        die("out of memory");
    for (long i = 0; i < n; i++) {
        s.nodes[i].reg = &reg[i];
        s.nodes[i].target = (uint64_t)o->changes;
    }
    s.ctx = zmq_ctx_new();
    zmq_ctx_set(s.ctx, ZMQ_IO_THREADS, (int)o->io_threads);
    zmq_ctx_set(s.ctx, ZMQ_MAX_SOCKETS, (int)n + 64);
    long nthreads = o->threads < n ? o->threads : n;
    sim_thread *th = calloc((size_t)nthreads, sizeof *th);
    if (!th)
        die("out of memory");
    double hub_cpu0 = proc_cpu_s(hub_pid), sim_cpu0 = self_cpu_s();
    double run0 = 0, wait0 = 0;
    long long w0 = gsb_proc_write_bytes(hub_pid);
    gsb_proc_sched(hub_pid, &run0, &wait0);
    s.t_connect0 = gst_clock_ms();
    for (long k = 0, first = 0; k < nthreads; k++) {
        th[k].s = &s;
        th[k].first = first;
        th[k].count = n / nthreads + (k < n % nthreads);
        first += th[k].count;
        if (pthread_create(&th[k].th, NULL, sim_thread_main, &th[k]))
            die("pthread_create: %s", strerror(errno));
    }
    while (atomic_load(&s.ready) < nthreads) {
        gsb_progress("%ld nodes: %d/%ld connected, %.1f s", n, atomic_load(&s.welcomed), n,
                     (gst_clock_ms() - s.t_connect0) / 1e3);
        usleep(100000);
    }
    fig->connect_s = (gst_clock_ms() - s.t_connect0) / 1e3;
    usleep(200000); /* let the hub settle, then its RSS with N idle connections */
    fig->idle_kib = gsb_proc_status_kb(hub_pid, "VmRSS:");
    s.t0 = gst_clock_ms();
    atomic_store(&s.go, 1);
    uint64_t total = (uint64_t)n * (uint64_t)o->changes;
    while (atomic_load(&s.finished) < nthreads) {
        uint64_t acked = atomic_load(&s.acked);
        double sec = (gst_clock_ms() - s.t0) / 1e3;
        gsb_progress("%ld nodes: %llu/%llu acked, %.0f changes/s, hub RSS %.0f MiB, %.1f s", n,
                     (unsigned long long)acked, (unsigned long long)total,
                     sec > 0 ? (double)acked / sec : 0.0,
                     (double)gsb_proc_status_kb(hub_pid, "VmRSS:") / 1024.0, sec);
        usleep(200000);
    }
    for (long k = 0; k < nthreads; k++)
        pthread_join(th[k].th, NULL);
    fig->span_s = (gst_clock_ms() - s.t_connect0) / 1e3;
    fig->reconnects = atomic_load(&s.reconnects);
    gsb_progress_end();
    fig->hwm_kib = gsb_proc_status_kb(hub_pid, "VmHWM:");
    fig->end_kib = gsb_proc_status_kb(hub_pid, "VmRSS:");
    fig->hub_cpu_s = proc_cpu_s(hub_pid) - hub_cpu0;
    fig->sim_cpu_s = self_cpu_s() - sim_cpu0;
    fig->load = gsb_loadavg();
    gsb_proc_sched(hub_pid, &fig->main_run_s, &fig->main_wait_s);
    fig->main_run_s -= run0;
    fig->main_wait_s -= wait0;
    fig->written = gsb_proc_write_bytes(hub_pid) - w0;

    double *times = calloc((size_t)n, sizeof *times);
    double last_ack = 0, last_pull = 0;
    long failed = 0;
    for (long i = 0; i < n; i++) {
        sim_node *nd = &s.nodes[i];
        if (nd->phase == SIM_FAILED) {
            if (failed++ < 5)
                fprintf(stderr, PROG ": node %s: %s\n", nd->reg->id, nd->err);
            continue;
        }
        times[i] = nd->t_acked;
        fig->max_gap_s =
            nd->max_gap_ms / 1e3 > fig->max_gap_s ? nd->max_gap_ms / 1e3 : fig->max_gap_s;
        if (!fig->min_window || nd->min_window < fig->min_window)
            fig->min_window = nd->min_window;
        if (!fig->min_batch_bytes || nd->min_batch_bytes < fig->min_batch_bytes)
            fig->min_batch_bytes = nd->min_batch_bytes;
        last_ack = nd->t_acked > last_ack ? nd->t_acked : last_ack;
        last_pull = nd->t_pulled > last_pull ? nd->t_pulled : last_pull;
    }
    qsort(times, (size_t)n, sizeof *times, cmp_double);
    fig->nodes = n;
    fig->changes = atomic_load(&s.acked);
    fig->wall_s = last_ack / 1e3;
    fig->pull_s = last_pull / 1e3;
    fig->slowest_s = times[n - 1] / 1e3;
    fig->median_s = times[n / 2] / 1e3;
    fig->rate = last_ack > 0 ? (double)fig->changes / (last_ack / 1e3) : 0;
    fig->bad = failed;
    /* every node stayed connected until all were done; now close them */
    for (long i = 0; i < n; i++)
        zmq_close(s.nodes[i].sock);
    zmq_ctx_term(s.ctx);
    for (long k = 0; k < nthreads; k++) {
        gs_buf_free(&th[k].body);
        gs_buf_free(&th[k].out);
    }
    free(th);
    free(times);
    free(s.nodes);
}

/* ---- real gridnode processes ------------------------------------------------------------ */

static void set_field(gs_record *r, const char *field, const char *text)
{
    int f = gs_field_find(r->rt, field);
    gs_errbuf eb = {{0}};
    if (f < 0 || gs_record_parse(r, f, text, &eb))
        die("%s: %s", field, eb.msg);
}

/* A node database for reg with `changes` changes entered through the entry
 * rules (incidents created and moved along, as the simulator sends). */
static void make_node_db(const char *path, const reg_node *reg, const char *endpoint, long changes)
{
    node_identity id;
    memset(&id, 0, sizeof id);
    snprintf(id.node_id, sizeof id.node_id, "%s", reg->id);
    snprintf(id.village, sizeof id.village, "%s", reg->village);
    snprintf(id.name, sizeof id.name, "%s", reg->name);
    if (snprintf(id.hub_endpoint, sizeof id.hub_endpoint, "%s", endpoint) >=
        (int)sizeof id.hub_endpoint)
        die("endpoint too long: %s", endpoint);
    snprintf(id.hub_public_key, sizeof id.hub_public_key, "%s", reg->hub_pub);
    snprintf(id.public_key, sizeof id.public_key, "%s", reg->pub);
    snprintf(id.secret_key, sizeof id.secret_key, "%s", reg->sec);
    gs_errbuf eb = {{0}};
    node_store *s = NULL;
    if (node_store_create(path, &id, &eb) || node_store_open(&s, path, &eb) ||
        node_store_begin(s, &eb))
        die("%s: %s", path, eb.msg);
    static const char *const steps[] = {"accepted", "registered", "dispatched", "in_progress"};
    char incident[65] = "", grid[16];
    snprintf(grid, sizeof grid, "%s001", reg->village);
    for (long k = 0; k < changes; k++) {
        gs_record *r = gs_record_new(gs_rectype_get(GS_RT_INCIDENT));
        int rc;
        if (k % 5 == 0) {
            set_field(r, "grid_code", grid);
            set_field(r, "category", "sanitation");
            set_field(r, "title", "网格巡查发现问题(基准)");
            rc = node_entry_create(s, r, NULL, &eb);
            if (!rc)
                snprintf(incident, sizeof incident, "%s", gs_record_key(r));
        } else {
            set_field(r, "id", incident);
            set_field(r, "status", steps[k % 5 - 1]);
            rc = node_entry_update(s, r, NULL, &eb);
        }
        gs_record_destroy(&r);
        if (rc)
            die("%s: %s", path, eb.msg);
        if (k % 256 == 255 && (node_store_commit(s, &eb) || node_store_begin(s, &eb)))
            die("%s: %s", path, eb.msg);
    }
    if (node_store_commit(s, &eb))
        die("%s: %s", path, eb.msg);
    node_store_close(&s);
}

/* n real `gridnode sync` processes at once against the hub at endpoint. */
static void run_real(const reg_node *reg, long n, const char *cdir, const char *endpoint,
                     long changes, const char *inflight_mib, figures *fig)
{
    char(*db)[PATH_MAX] = calloc((size_t)n, sizeof *db);
    char(*log)[PATH_MAX] = calloc((size_t)n, sizeof *log);
    pid_t *pid = calloc((size_t)n, sizeof *pid);
    double *ms = calloc((size_t)n, sizeof *ms);
    if (!db || !log || !pid || !ms)
        die("out of memory");
    for (long i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.db", reg[i].village);
        join(db[i], sizeof db[i], cdir, name);
        snprintf(name, sizeof name, "sync-%s.log", reg[i].village);
        join(log[i], sizeof log[i], cdir, name);
        make_node_db(db[i], &reg[i], endpoint, changes);
    }
    start_hub(cdir, endpoint, inflight_mib);
    usleep(200000);
    fig->idle_kib = gsb_proc_status_kb(hub_pid, "VmRSS:");
    double cpu0 = proc_cpu_s(hub_pid), t0 = gst_clock_ms();
    for (long i = 0; i < n; i++) {
        const char *argv[] = {"gridnode", "--db",      db[i], "sync",
                              "--quiet",  "--timeout", "120", NULL};
        if ((pid[i] = gst_spawn(argv, log[i])) < 0)
            die("cannot start gridnode: %s", strerror(errno));
    }
    long failed = 0;
    for (long left = n; left > 0;) {
        int status;
        struct rusage ru;
        pid_t p = wait4(-1, &status, 0, &ru);
        if (p > 0)
            fig->sim_cpu_s += (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                              (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
        if (p < 0)
            die("wait: %s", strerror(errno));
        for (long i = 0; i < n; i++)
            if (pid[i] == p) {
                ms[i] = gst_clock_ms() - t0;
                left--;
                if (!WIFEXITED(status) || WEXITSTATUS(status)) {
                    failed++;
                    fprintf(stderr, PROG ": gridnode sync of %s failed; see %s\n", reg[i].id,
                            log[i]);
                }
            }
        if (p == hub_pid)
            die("the hub exited during the sync");
    }
    double wall = gst_clock_ms() - t0;
    fig->hwm_kib = gsb_proc_status_kb(hub_pid, "VmHWM:");
    fig->end_kib = gsb_proc_status_kb(hub_pid, "VmRSS:");
    fig->hub_cpu_s = proc_cpu_s(hub_pid) - cpu0;
    fig->load = gsb_loadavg();
    stop_hub();
    qsort(ms, (size_t)n, sizeof *ms, cmp_double);
    fig->nodes = n;
    fig->changes = (uint64_t)n * (uint64_t)changes;
    fig->wall_s = fig->pull_s = wall / 1e3;
    fig->slowest_s = ms[n - 1] / 1e3;
    fig->median_s = ms[n / 2] / 1e3;
    fig->rate = (double)fig->changes / (wall / 1e3);
    fig->connect_s = 0;
    char hubdb[PATH_MAX];
    join(hubdb, sizeof hubdb, cdir, "hub.db");
    fig->bad = failed + verify_hub(hubdb, reg, n, (uint64_t)changes);
    free(db);
    free(log);
    free(pid);
    free(ms);
}

/* ---- main ------------------------------------------------------------------------------- */

/* A fresh case directory with a copy of the template hub. */
static void new_case(const char *root, const char *tdir, const char *name, char *cdir, size_t cap,
                     char *endpoint, size_t ecap)
{
    join(cdir, cap, root, name);
    if (mkdir(cdir, 0700))
        die("%s: %s", cdir, strerror(errno));
    char from[PATH_MAX], to[PATH_MAX];
    join(from, sizeof from, tdir, "hub.db");
    join(to, sizeof to, cdir, "hub.db");
    copy_file(from, to);
    join(from, sizeof from, tdir, "hub.db.key");
    join(to, sizeof to, cdir, "hub.db.key");
    copy_file(from, to);
    if (snprintf(endpoint, ecap, "ipc://%s/hub.sock", cdir) >= (int)ecap || strlen(endpoint) > 100)
        die("%s: path too long for an ipc socket", cdir);
}

static char *prepare_dir(const options *o)
{
    char *dir;
    if (o->dir) {
        if (mkdir(o->dir, 0700) && errno != EEXIST)
            gsb_bad_usage(PROG, "--dir %s: %s", o->dir, strerror(errno));
        DIR *d = opendir(o->dir);
        if (!d)
            gsb_bad_usage(PROG, "--dir %s: %s", o->dir, strerror(errno));
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                closedir(d);
                gsb_bad_usage(PROG, "--dir %s is not empty; give a new or empty directory", o->dir);
            }
        closedir(d);
        dir = realpath(o->dir, NULL);
    } else {
        const char *t = getenv("TMPDIR");
        char tmpl[PATH_MAX];
        snprintf(tmpl, sizeof tmpl, "%s/bench-nodes-XXXXXX", t && *t ? t : "/tmp");
        dir = mkdtemp(tmpl) ? realpath(tmpl, NULL) : NULL;
    }
    if (!dir)
        gsb_bad_usage(PROG, "cannot make the working directory: %s", strerror(errno));
    if (strlen(dir) > 70)
        gsb_bad_usage(PROG, "%s: path too long for the hub's ipc sockets; use a shorter --dir",
                      dir);
    return dir;
}

static void print_row(const char *label, const figures *f)
{
    printf("| %-17s | %5ld | %9llu | %8.1f | %9.0f | %10.2f | %11.2f | %12.1f | %12.1f | %7.1f "
           "| %7.1f | %4.1f | %-6s |\n",
           label, f->nodes, (unsigned long long)f->changes, f->wall_s, f->rate, f->median_s,
           f->slowest_s, (double)f->idle_kib / 1024.0, (double)f->hwm_kib / 1024.0, f->hub_cpu_s,
           f->sim_cpu_s, f->load, f->bad ? "FAILED" : "ok");
}

int main(int argc, char **argv)
{
    options o;
    parse_options(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    if (sodium_init() < 0)
        die("libsodium failed to start");
    long maxn = 0;
    for (int c = 0; c < o.ncases; c++)
        maxn = o.nodes[c] > maxn ? o.nodes[c] : maxn;
    if (o.real && maxn < 10)
        maxn = 10;

    /* a socket, an eventfd and a connection per node, here and in the hub */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t want = (rlim_t)(3 * maxn + 256);
        if (rl.rlim_cur < want) {
            rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
            if (setrlimit(RLIMIT_NOFILE, &rl))
                fprintf(stderr, PROG ": warning: cannot raise the file limit: %s\n",
                        strerror(errno));
        }
        if (rl.rlim_cur < want)
            fprintf(stderr, PROG ": warning: %llu open files allowed, %llu wanted\n",
                    (unsigned long long)rl.rlim_cur, (unsigned long long)want);
    }

    char *root = prepare_dir(&o);
    char cpu[256];
    gsb_cpu_model(cpu, sizeof cpu);
    printf("bench_nodes: %ld changes per node, batches of %ld changes (or 512 KiB), window %ld, "
           "or less as the hub grants, "
           "%ld simulator threads, %ld ZeroMQ I/O threads, %s\n",
           o.changes, o.batch, o.window, o.threads, o.io_threads,
           o.pull ? "pull after push" : "no pull");
    printf("machine: %ld CPUs (nproc), %s; shared and noisy, figures vary run to run\n",
           sysconf(_SC_NPROCESSORS_ONLN), cpu);
    printf("durability: the hub's own (WAL, synchronous=FULL, group commit); hub and simulator "
           "on the same machine, over ipc://\n");
    printf("directory: %s\n", root);
    fflush(stdout);

    char tdir[PATH_MAX];
    join(tdir, sizeof tdir, root, "template");
    if (mkdir(tdir, 0700))
        die("%s: %s", tdir, strerror(errno));
    reg_node *reg = calloc((size_t)maxn, sizeof *reg);
    if (!reg)
        die("out of memory");
    make_registry(tdir, reg, maxn);

    figures fig[MAX_CASES + 1];
    memset(fig, 0, sizeof fig);
    int nfig = 0;
    figures sim10, real10;
    bool have10 = false, have_real = false;
    long failures = 0;
    for (int c = 0; c < o.ncases; c++) {
        char cdir[PATH_MAX], endpoint[PATH_MAX], name[32], hubdb[PATH_MAX];
        snprintf(name, sizeof name, "sim%ld", o.nodes[c]);
        new_case(root, tdir, name, cdir, sizeof cdir, endpoint, sizeof endpoint);
        start_hub(cdir, endpoint, o.inflight_mib);
        figures *f = &fig[nfig++];
        run_sim(&o, reg, o.nodes[c], endpoint, f);
        stop_hub();
        join(hubdb, sizeof hubdb, cdir, "hub.db");
        f->bad += verify_hub(hubdb, reg, o.nodes[c], (uint64_t)o.changes);
        failures += f->bad;
        printf("%ld simulated nodes: connected in %.1f s; %llu changes acked in %.1f s = %.0f "
               "changes/s; slowest node %.2f s (median %.2f s); pulls done at %.1f s; hub RSS "
               "idle with %ld connected %.1f MiB, peak %.1f MiB; CPU: hub %.1f s, simulator %.1f "
               "s; load average %.1f%s\n",
               f->nodes, f->connect_s, (unsigned long long)f->changes, f->wall_s, f->rate,
               f->slowest_s, f->median_s, f->pull_s, f->nodes, (double)f->idle_kib / 1024.0,
               (double)f->hwm_kib / 1024.0, f->hub_cpu_s, f->sim_cpu_s, f->load,
               f->bad ? "  FAILED" : "");
        printf("  hub main thread over the %.1f s from connect to the end: %.1f s on a "
               "CPU, %.1f s waiting for one, %.1f s blocked or idle; hub wrote %.0f MiB\n",
               f->span_s, f->main_run_s, f->main_wait_s, f->span_s - f->main_run_s - f->main_wait_s,
               (double)f->written / 1048576.0);
        printf("  the longest a node waited for the hub's next answer: %.1f s (gridnode gives up "
               "after --timeout, default 30 s)\n",
               f->max_gap_s);
        printf("  the smallest grant a node had from the hub while it had changes to send: a window "
               "of %d PUSH(es) of %.1f KiB\n",
               f->min_window, (double)f->min_batch_bytes / 1024.0);
        if (f->reconnects)
            printf("  %d sessions found their connection silently re-established (the hub "
                   "answered \"before HELLO\"); they said HELLO again and rewound\n",
                   f->reconnects);
        fflush(stdout);
        if (o.nodes[c] == 10) {
            sim10 = *f;
            have10 = true;
        }
        if (!o.keep)
            gst_rmrf(cdir);
    }
    if (o.real) {
        char cdir[PATH_MAX], endpoint[PATH_MAX];
        new_case(root, tdir, "real10", cdir, sizeof cdir, endpoint, sizeof endpoint);
        run_real(reg, 10, cdir, endpoint, o.changes, o.inflight_mib, &real10);
        have_real = true;
        failures += real10.bad;
        printf("10 real gridnode processes: %llu changes in %.1f s = %.0f changes/s (process "
               "start to exit, pull included); slowest process %.2f s (median %.2f s); hub "
               "peak RSS %.1f MiB; CPU: hub %.1f s, gridnodes %.1f s; load average %.1f%s\n",
               (unsigned long long)real10.changes, real10.wall_s, real10.rate, real10.slowest_s,
               real10.median_s, (double)real10.hwm_kib / 1024.0, real10.hub_cpu_s, real10.sim_cpu_s,
               real10.load, real10.bad ? "  FAILED" : "");
        if (!o.keep)
            gst_rmrf(cdir);
    }

    printf("\n| case              | nodes |   changes | wall (s) | changes/s | median (s) | "
           "slowest (s) | hub idle MiB | hub peak MiB | hub CPU | cli CPU | load | check  |\n");
    printf("|-------------------|------:|----------:|---------:|----------:|-----------:|"
           "------------:|-------------:|-------------:|--------:|--------:|-----:|--------|\n");
    for (int i = 0; i < nfig; i++) {
        char label[32];
        snprintf(label, sizeof label, "simulated");
        print_row(label, &fig[i]);
    }
    if (have_real)
        print_row("real gridnode", &real10);
    printf("(wall: start signal to the last ACK (real: first start to last exit); slowest: a "
           "node's time to be fully acked; hub idle: RSS with every node connected, before "
           "pushing; hub peak: VmHWM; CPU in s; cli: the simulator or the gridnode processes; "
           "load: 1-minute load average at the end)\n");
    for (int i = 0; i < nfig; i++)
        if (fig[i].nodes >= 1000)
            printf("goal: hub peak RSS under 128 MiB with %ld nodes connected: %.1f MiB, %s\n",
                   fig[i].nodes, (double)fig[i].hwm_kib / 1024.0,
                   fig[i].bad                  ? "not judged (the case failed)"
                   : fig[i].hwm_kib < GOAL_KIB ? "met"
                                               : "NOT met");
    if (have10 && have_real && sim10.rate > 0)
        printf("same run, 10 nodes: real gridnode processes reach %.2fx the simulator's "
               "aggregate rate\n",
               real10.rate / sim10.rate);
    if (!o.keep)
        gst_rmrf(root);
    else
        printf("kept: %s\n", root);
    free(root);
    free(reg);
    return failures ? 1 : 0;
}
