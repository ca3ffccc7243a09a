/*
 * bench_sync.c: how a sync behaves at size (issue 4), two figures:
 *
 *   1. a village node that was offline for a long time: N (default
 *      1,000,000) pending changes, one `gridnode sync`: wall time, changes
 *      per second, and the peak RSS of gridnode and of gridhub. DESIGN.md
 *      promises bounded memory: gridnode must stay under 64 MiB (the
 *      benchmark says whether it did and exits 1 when not);
 *   2. the end-to-end sync rate of a fleet: NODES (default 20) nodes with
 *      K (default 2,000) changes each syncing at once, each node in a
 *      village of its own (upstream only) and two nodes per village (each
 *      also receives its neighbour's changes).
 *
 * The node database of (1) is built with the node's own code (node/store.h,
 * node/entry.h: node_store_begin, node_entry_create, node_store_commit, one
 * transaction per 100,000 incidents), the same path `gridnode import` takes,
 * without a CSV file of a million rows. Everything else runs the real
 * binaries of this build (CURVE on, ipc:// in a temporary directory under
 * $TMPDIR that is removed). Peak RSS is the kernel's (wait4's ru_maxrss,
 * VmHWM) for each process; the hub is started for each figure and stopped
 * with SIGTERM after it. The machine (CPUs, model) is printed with the
 * figures, and a Markdown section for docs/benchmarks.md at the end.
 *
 * usage: bench_sync [N [NODES [K]]]
 * Build: cmake --build BUILD --target gridnode gridhub bench; run
 * BUILD/tests/bench_sync. Not a test: ctest never runs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "entry.h"
#include "gridsync/record.h"
#include "gridsync/schema.h"
#include "gsbench.h"
#include "gstest.h"
#include "store.h"

extern char **environ;

#define CHUNK     100000
#define RSS_LIMIT (64.0 * 1024 * 1024)
#define MAX_NODES 64

static char *dir; /* the temporary directory */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_sync: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (dir)
        gst_rmrf(dir);
    exit(2);
}

/* Runs argv to completion and requires exit 0; returns its stdout (malloc'd). */
static char *run_ok(const char *const argv[])
{
    gst_result r;
    if (gst_run(&r, NULL, argv) != 0 || r.status != 0)
        die("%s %s: status %d\n%s%s", argv[0], argv[1] ? argv[1] : "", r.status, r.out, r.err);
    char *out = r.out;
    free(r.err);
    return out;
}

/* ---- processes with their peak RSS ---------------------------------------------------------- */

typedef struct proc {
    pid_t pid;
    const char *name;     /* "gridhub" or "gridnode" (a string literal) */
    double started, wall; /* s */
    long maxrss_kb;       /* wait4's ru_maxrss */
    int status;
} proc;

/* Starts argv (argv[0] "gridnode" or "gridhub": this build's) with output to log. */
static void proc_start(proc *p, const char *const argv[], const char *log)
{
    char *path = gst_bin(argv[0]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    memset(p, 0, sizeof *p);
    p->name = argv[0];
    p->started = now_s();
    int rc = posix_spawn(&p->pid, path, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(path);
    if (rc)
        die("cannot start %s: %s", argv[0], strerror(rc));
}

/* Waits for p; fills wall, status and maxrss_kb. */
static void proc_wait(proc *p)
{
    int ws;
    struct rusage ru;
    while (wait4(p->pid, &ws, 0, &ru) < 0)
        if (errno != EINTR)
            die("wait4: %s", strerror(errno));
    p->wall = now_s() - p->started;
    p->maxrss_kb = ru.ru_maxrss;
    if (getenv("BENCH_CPU")) /* each process's CPU time, for A/B comparisons of builds */
        fprintf(stderr, "bench_sync: %s (pid %d): %.2f s of CPU\n", p->name, (int)p->pid,
                (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
    p->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* VmHWM of a running process in kB (0 when it cannot be read). */
static long vm_hwm_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* ---- the hub ----------------------------------------------------------------------------- */

typedef struct hub {
    char db[4096], log[4096], ep[4200];
    proc p;
} hub;

static void hub_init(hub *h, const char *name)
{
    snprintf(h->db, sizeof h->db, "%s/%s.db", dir, name);
    snprintf(h->log, sizeof h->log, "%s/%s.log", dir, name);
    snprintf(h->ep, sizeof h->ep, "ipc://%s/%s.sock", dir, name);
    free(run_ok((const char *[]){"gridhub", "--db", h->db, "init", NULL}));
    free(run_ok((const char *[]){"gridhub", "--db", h->db, "refdata", "load", "divisions",
                                 GS_TEST_SRC_DIR "/data/luohe_divisions.csv", NULL}));
}

/* Starts serving and waits until the log says it is bound. */
static void hub_start(hub *h)
{
    proc_start(&h->p, (const char *[]){"gridhub", "--db", h->db, "serve", "--bind", h->ep, NULL},
               h->log);
    for (int i = 0; i < 2000; i++) {
        char *log = gst_read_file(h->log, NULL);
        int up = log && strstr(log, "gridhub: serving ");
        free(log);
        if (up)
            return;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    die("gridhub serve did not start; see %s", h->log);
}

/* Stops the hub (SIGTERM) and collects its peak RSS. */
static void hub_stop(hub *h)
{
    kill(h->p.pid, SIGTERM);
    proc_wait(&h->p);
    if (h->p.status != 0)
        die("gridhub serve exited %d", h->p.status);
}

/* Registers a node for village and installs it at db; its id in id. */
static void node_make(hub *h, const char *village, const char *db, char id[65])
{
    char bundle[4200];
    snprintf(bundle, sizeof bundle, "%s.bundle", db);
    char *out =
        run_ok((const char *[]){"gridhub", "--db", h->db, "node", "add", "--village", village,
                                "--name", "bench", "--endpoint", h->ep, "--out", bundle, NULL});
    snprintf(id, 65, "%.*s", (int)strcspn(out, "\n"), out);
    free(out);
    free(run_ok((const char *[]){"gridnode", "--db", db, "init", "--bundle", bundle, NULL}));
}

/* Enters n incidents into the node database at path through the node's
 * entry code, CHUNK to a transaction. */
static void node_fill(const char *path, const char *village, long n)
{
    static const char *const cats[] = {"safety.fire", "dispute.neighbour", "dispute.family",
                                       "dispute.land"};
    node_store *s = NULL;
    gs_errbuf eb = {{0}};
    if (node_store_open(&s, path, &eb))
        die("%s", eb.msg);
    const gs_rectype *rt = gs_rectype_get(GS_RT_INCIDENT);
    int f_grid = GS_INCIDENT_GRID_CODE, f_cat = GS_INCIDENT_CATEGORY, f_title = GS_INCIDENT_TITLE,
        f_at = GS_INCIDENT_REPORTED_AT;
    for (long done = 0; done < n;) {
        if (node_store_begin(s, &eb))
            die("%s", eb.msg);
        for (long k = 0; k < CHUNK && done < n; k++, done++) {
            gs_record *r = gs_record_new(rt);
            char grid[16], title[96], at[32];
            snprintf(grid, sizeof grid, "%s%03ld", village, done % 8 + 1);
            snprintf(title, sizeof title, "离线一年的第%ld条事件 村民反映情况", done + 1);
            snprintf(at, sizeof at, "2024-%02ld-%02ldT%02ld:%02ld:00Z", done % 12 + 1,
                     done % 28 + 1, done % 24, done % 60);
            if (gs_record_parse(r, f_grid, grid, &eb) ||
                gs_record_parse(r, f_cat, cats[done % 4], &eb) ||
                gs_record_parse(r, f_title, title, &eb) || gs_record_parse(r, f_at, at, &eb) ||
                node_entry_create(s, r, NULL, &eb))
                die("incident %ld: %s", done + 1, eb.msg);
            gs_record_destroy(&r);
        }
        if (node_store_commit(s, &eb))
            die("%s", eb.msg);
        fprintf(stderr, "\rbench_sync: %ld/%ld changes entered", done, n);
    }
    fputc('\n', stderr);
    node_store_close(&s);
}

/* ---- the machine ------------------------------------------------------------------------------
 */

static double mib(long kb)
{
    return (double)kb / 1024.0;
}

/* ---- the figures
 * ---------------------------------------------------------------------------------- */

typedef struct backlog_result {
    long n;
    double fill_s, wall_s;
    long node_kb, node_hwm_kb, hub_kb;
    long hub_changes;
} backlog_result;

/* Figure 1: one node, n pending changes, one sync. */
static void bench_backlog(long n, backlog_result *res)
{
    hub h;
    hub_init(&h, "hub1");
    char db[4200], id[65], log[4200];
    snprintf(db, sizeof db, "%s/village.db", dir);
    snprintf(log, sizeof log, "%s/village.log", dir);
    node_make(&h, "411122101201", db, id);
    double t0 = now_s();
    node_fill(db, "411122101201", n);
    res->n = n;
    res->fill_s = now_s() - t0;
    fprintf(stderr, "bench_sync: %ld changes entered in %.1f s; syncing\n", n, res->fill_s);
    hub_start(&h);
    proc p;
    proc_start(
        &p, (const char *[]){"gridnode", "--db", db, "sync", "--timeout", "600", "--quiet", NULL},
        log);
    /* VmHWM sampled while it runs, as a cross-check of ru_maxrss */
    long hwm = 0;
    for (;;) {
        long v = vm_hwm_kb(p.pid);
        hwm = v > hwm ? v : hwm;
        int ws;
        struct rusage ru;
        pid_t r = wait4(p.pid, &ws, WNOHANG, &ru);
        if (r == p.pid) {
            p.wall = now_s() - p.started;
            p.maxrss_kb = ru.ru_maxrss;
            p.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
            break;
        }
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    if (p.status != 0) {
        char *text = gst_read_file(log, NULL);
        die("gridnode sync exited %d:\n%s", p.status, text ? text : "");
    }
    hub_stop(&h);
    res->wall_s = p.wall;
    res->node_kb = p.maxrss_kb;
    res->node_hwm_kb = hwm;
    res->hub_kb = h.p.maxrss_kb;
    char *out = run_ok((const char *[]){"gridhub", "--db", h.db, "node", "list", "--json", NULL});
    const char *a = strstr(out, "\"acked_seq\":");
    res->hub_changes = a ? atol(a + 12) : -1;
    free(out);
    if (res->hub_changes != n)
        die("the hub acknowledged %ld of %ld changes", res->hub_changes, n);
}

typedef struct fleet_result {
    int nodes, per_village;
    long k;
    double wall_s;
    long hub_kb, node_kb_max;
} fleet_result;

/* Figure 2: nodes x k changes, per_village nodes sharing each village. */
static void bench_fleet(int nodes, long k, int per_village, fleet_result *res)
{
    char name[32];
    snprintf(name, sizeof name, "fleet%d", per_village);
    hub h;
    hub_init(&h, name);
    /* village codes: one under each township of the city */
    char(*villages)[13] = calloc((size_t)nodes, sizeof *villages);
    char *csv = gst_read_file(GS_TEST_SRC_DIR "/data/luohe_divisions.csv", NULL);
    int nv = 0, want = (nodes + per_village - 1) / per_village;
    for (char *line = csv ? strtok(csv, "\n") : NULL; line && nv < want; line = strtok(NULL, "\n"))
        if (strstr(line, ",township,") && strcspn(line, ",") == 9)
            snprintf(villages[nv++], 13, "%.9s201", line);
    free(csv);
    if (nv < want)
        die("only %d townships for %d villages", nv, want);
    char dbs[MAX_NODES][4200], logs[MAX_NODES][4200], id[65];
    for (int i = 0; i < nodes; i++) {
        const char *v = villages[i / per_village];
        snprintf(dbs[i], sizeof dbs[i], "%s/%s-n%d.db", dir, name, i + 1);
        snprintf(logs[i], sizeof logs[i], "%s/%s-n%d.log", dir, name, i + 1);
        node_make(&h, v, dbs[i], id);
        node_fill(dbs[i], v, k);
    }
    free(villages);
    hub_start(&h);
    proc p[MAX_NODES];
    double t0 = now_s();
    for (int i = 0; i < nodes; i++)
        proc_start(&p[i],
                   (const char *[]){"gridnode", "--db", dbs[i], "sync", "--timeout", "120",
                                    "--quiet", NULL},
                   logs[i]);
    res->node_kb_max = 0;
    for (int i = 0; i < nodes; i++) {
        proc_wait(&p[i]);
        if (p[i].status)
            die("%s: gridnode sync exited %d", dbs[i], p[i].status);
        res->node_kb_max = p[i].maxrss_kb > res->node_kb_max ? p[i].maxrss_kb : res->node_kb_max;
    }
    res->wall_s = now_s() - t0;
    hub_stop(&h);
    res->hub_kb = h.p.maxrss_kb;
    res->nodes = nodes;
    res->k = k;
    res->per_village = per_village;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int nodes = argc > 2 ? atoi(argv[2]) : 20;
    long k = argc > 3 ? atol(argv[3]) : 2000;
    if (n < 1 || nodes < 2 || nodes > MAX_NODES || k < 1)
        die("usage: bench_sync [N [NODES [K]]]  (NODES from 2 to %d)", MAX_NODES);
    dir = gst_tmpdir();
    char cpu[256];
    gsb_cpu_model(cpu, sizeof cpu);
    struct utsname u;
    uname(&u);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    double load0 = gsb_loadavg();
    backlog_result b;
    bench_backlog(n, &b);
    double load1 = gsb_loadavg();
    fleet_result f1, f2;
    bench_fleet(nodes, k, 1, &f1);
    bench_fleet(nodes, k, 2, &f2);
    double load2 = gsb_loadavg();
    gst_rmrf(dir);
    free(dir);

    bool ok = (double)b.node_kb * 1024.0 < RSS_LIMIT;
    printf("## Sync: 1,000,000 pending changes\n\n");
    printf("Machine: %ld CPUs (nproc), %s, Linux %s; node and hub on one machine over ipc://, "
           "CURVE on, SQLite WAL with synchronous=FULL on both sides.\n\n",
           ncpu, cpu, u.release);
    printf("Load average (1 min) at the start, after the first figure and at the end: %.1f, "
           "%.1f, %.1f (on %ld CPUs; above %ld, other work shared the machine).\n\n",
           load0, load1, load2, ncpu, ncpu);
    printf(
        "Command: `cmake --build BUILD --target gridnode gridhub bench && BUILD/tests/bench_sync "
        "%ld %d %ld`\n\n",
        n, nodes, k);
    printf("| figure | wall time | changes/s | peak RSS gridnode | peak RSS gridhub |\n");
    printf("| --- | ---: | ---: | ---: | ---: |\n");
    printf("| one node, %ld pending changes, one `gridnode sync` | %.1f s | %.0f | %.1f MiB | "
           "%.1f MiB |\n",
           n, b.wall_s, (double)n / b.wall_s, mib(b.node_kb), mib(b.hub_kb));
    printf("| %d nodes x %ld changes at once, one village each (upstream only) | %.2f s | %.0f "
           "| %.1f MiB (largest) | %.1f MiB |\n",
           f1.nodes, f1.k, f1.wall_s, (double)(f1.nodes * f1.k) / f1.wall_s, mib(f1.node_kb_max),
           mib(f1.hub_kb));
    printf("| %d nodes x %ld changes at once, two per village (each also receives its "
           "neighbour's %ld) | %.2f s | %.0f | %.1f MiB (largest) | %.1f MiB |\n",
           f2.nodes, f2.k, f2.k, f2.wall_s, (double)(f2.nodes * f2.k) / f2.wall_s,
           mib(f2.node_kb_max), mib(f2.hub_kb));
    printf("\nPeak RSS is the kernel's high-water mark of each process (wait4 ru_maxrss; VmHWM "
           "sampled during the 1,000,000 sync: %.1f MiB). Building the node's backlog through "
           "the node's entry code (one transaction per %d incidents) took %.1f s (%.0f "
           "changes/s); the hub acknowledged all %ld. gridnode %s the 64 MiB bound.\n",
           mib(b.node_hwm_kb), CHUNK, b.fill_s, (double)n / b.fill_s, b.hub_changes,
           ok ? "stays under" : "EXCEEDS");
    return ok ? 0 : 1;
}
