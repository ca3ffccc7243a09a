/*
 * bench_city.c: the whole city of Luohe, generated and synced (issue 9).
 *
 * What it does, in order:
 *   1. writes DIR/villages.csv: the city's real village list,
 *      data/luohe_villages.csv (NBS 2022-10-31: 1,334 = 1,259 villagers'
 *      committees + 75 residents' committees under the 58 townships, with
 *      their registered names), or --villages N of them spread evenly in
 *      code order. A red-white council in --councils of them (default the
 *      2020 review's 1,269 of 1,346, scaled: 1,258 of 1,334), a
 *      deterministic subset: unit i of n has one when floor((i+1)k/n) >
 *      floor(ik/n), so the 76 without one are spread evenly over the city
 *      in code order, whatever the seed;
 *   2. sets up the hub with the real binaries: `gridhub init`, `refdata load`
 *      of the real divisions, the categories and villages.csv, and one
 *      `gridhub node add` per village (bundles in DIR, endpoint
 *      ipc://DIR/hub.sock);
 *   3. creates every node database in-process with the node store API
 *      (node_store_create from the bundle, then node_entry_create and
 *      node_entry_update, the same entry rules as the commands): grids, a
 *      Party-organisation election with candidates in every village and
 *      community (turnout mostly 95-99%, some under 95%, one invalid at
 *      exactly half), --committee-elections village/residents committee
 *      elections (差额, men and women, 一肩挑 chairs, now and then no woman
 *      elected, one invalid at exactly half), a red-white council with
 *      standards and members in each village chosen above, with 0-3
 *      affairs (some violations; Hui funerals in 繁城回族镇 exempt), and
 *      incidents across the categories moved along the status workflow;
 *      --changes-per-village N adds incidents and status edits until each
 *      node holds N changes (1,100 ≈ a year of one village ≈ 1.5 M changes
 *      for the city). Generation runs in --parallel worker processes; the
 *      incidents' generator is tests/bench/city_gen.h, shared with
 *      bench_hub_web (which adds new offline changes to kept nodes);
 *   4. starts `gridhub serve`, runs `gridnode sync --quiet --timeout 120` for
 *      every village, --parallel at once, and measures the wall time, the
 *      changes per second, the hub's peak RSS (VmHWM, read before it is
 *      stopped) and the nodes' peak RSS (ru_maxrss of each gridnode);
 *   5. checks that the hub holds every node's changes (per origin: count and
 *      greatest seq equal the node's seq; acked_through too; nothing in
 *      quarantine) and exits 1 if anything is missing.
 *
 * usage: bench_city --dir DIR [--villages 1334] [--councils 1258]
 *          [--committee-elections 69] [--incidents-per-village 3]
 *          [--changes-per-village 0] [--parallel 8] [--seed 20261128] [--keep]
 * DIR must be new or empty; without --keep it is removed at the end.
 * The seed fixes the plan (which villages, figures, names); record ids and
 * times depend on when it runs (the entry rules stamp closed_at with the
 * time of entry, so incidents are dated back from now).
 * Durability is the programs' own: WAL, synchronous=FULL on node and hub.
 * Profiling: BENCH_HUB_WRAPPER / BENCH_NODE_WRAPPER (e.g. "perf record -g -o
 * /tmp/hub.data") are put in front of gridhub serve / each gridnode sync;
 * the RSS figures are then the wrapper's.
 * Build: cmake --build BUILD --target gridhub gridnode bench_city; the binary
 * is BUILD/tests/bench_city and runs the gridhub and gridnode of BUILD.
 * Not a test: ctest never runs it.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "entry.h"
#include "gridsync/bundle.h"
#include "gridsync/csv.h"
#include "gridsync/rules.h"
#include "gsbench.h"
#include "gstest.h"
#include "store.h"

#define PROG "bench_city"
#include "city_gen.h"

#define MAX_TOWNSHIPS  128
#define VILLAGE_LIST   GS_TEST_SRC_DIR "/data/luohe_villages.csv"
#define HUI_TOWNSHIP   "411122101" /* 繁城回族镇 */

/* ---- small helpers ------------------------------------------------------------ */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* The hub and the jobs running, so that a failure or Ctrl-C does not leave
 * them behind (gst_spawn puts each in a process group of its own). */
static pid_t hub_pid;
static pid_t *running;
static size_t nrunning_slots;

static void kill_children(void)
{
    for (size_t i = 0; running && i < nrunning_slots; i++)
        if (running[i] > 0) {
            kill(-running[i], SIGKILL); /* a spawned program's own group */
            kill(running[i], SIGKILL);  /* a generation worker */
        }
    if (hub_pid > 0) {
        kill(hub_pid, SIGKILL);
        waitpid(hub_pid, NULL, 0);
        hub_pid = 0;
    }
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("\n" PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    kill_children();
    exit(1);
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Thousands separators: 1,480,600. */
static const char *num(uint64_t v, char buf[32])
{
    char raw[32];
    snprintf(raw, sizeof raw, "%llu", (unsigned long long)v);
    size_t n = strlen(raw), o = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = '\0';
    return buf;
}

/* ---- the machine ----------------------------------------------------------------- */

/* User + system CPU seconds of a live process, from /proc/PID/stat. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long ut = 0, st = 0;
    /* fields after the command: state(3) ... utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* ---- options ---------------------------------------------------------------------- */

/* The rows of the city's village list. */
static long village_list_size(void)
{
    gs_csv *csv = NULL;
    gs_errbuf eb = {{0}};
    if (gs_csv_open(&csv, VILLAGE_LIST, &eb))
        die("%s", eb.msg);
    long n = (long)gs_csv_nrows(csv);
    gs_csv_destroy(&csv);
    if (n == 0)
        die("%s: no villages", VILLAGE_LIST);
    return n;
}

typedef struct options {
    const char *dir;
    long villages, councils, committee_elections, incidents, changes, parallel;
    uint64_t seed;
    bool keep;
} options;

static const char usage_text[] =
    "usage: bench_city --dir DIR [--villages 1334] [--councils 1258]\n"
    "                  [--committee-elections 69] [--incidents-per-village 3]\n"
    "                  [--changes-per-village 0] [--parallel 8] [--seed 20261128] [--keep]\n"
    "\n"
    "Takes the city's real villages and communities (data/luohe_villages.csv: 1,334, with\n"
    "their names; --villages N of them spread evenly in code order), a hub and one node\n"
    "database per village with realistic elections, councils, affairs and incidents, syncs\n"
    "them all to the hub with the real binaries and reports the wall time, changes/s and\n"
    "peak memory. --councils is how many of them have a red-white council (default the\n"
    "2020 review's 1,269 of 1,346, scaled), spread evenly in code order.\n"
    "--changes-per-village N pads each node with incident edits to N changes (1100 is\n"
    "about a year of one village). DIR must be new or empty; --keep keeps it.\n";

static void parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->villages = 0; /* all of the village list */
    o->councils = -1;
    o->committee_elections = -1;
    o->incidents = 3;
    o->changes = 0;
    o->parallel = 8;
    o->seed = 20261128;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            exit(0);
        }
        if (!strcmp(a, "--keep")) {
            o->keep = true;
            continue;
        }
        static const char *const with_value[] = {"--dir",
                                                 "--villages",
                                                 "--councils",
                                                 "--committee-elections",
                                                 "--incidents-per-village",
                                                 "--changes-per-village",
                                                 "--parallel",
                                                 "--seed",
                                                 NULL};
        bool known = false;
        for (int k = 0; with_value[k]; k++)
            known |= !strcmp(a, with_value[k]);
        if (!known)
            gsb_bad_usage(PROG, "unknown %s %s", strncmp(a, "-", 1) ? "argument" : "option", a);
        if (i + 1 >= argc)
            gsb_bad_usage(PROG, "%s needs a value", a);
        const char *v = argv[++i];
        if (!strcmp(a, "--dir"))
            o->dir = v;
        else if (!strcmp(a, "--villages"))
            o->villages = gsb_parse_long(PROG, a, v, 1, 10000);
        else if (!strcmp(a, "--councils"))
            o->councils = gsb_parse_long(PROG, a, v, 0, 10000);
        else if (!strcmp(a, "--committee-elections"))
            o->committee_elections = gsb_parse_long(PROG, a, v, 0, 10000);
        else if (!strcmp(a, "--incidents-per-village"))
            o->incidents = gsb_parse_long(PROG, a, v, 0, 100000);
        else if (!strcmp(a, "--changes-per-village"))
            o->changes = gsb_parse_long(PROG, a, v, 0, 10000000);
        else if (!strcmp(a, "--parallel"))
            o->parallel = gsb_parse_long(PROG, a, v, 1, 256);
        else if (!strcmp(a, "--seed"))
            o->seed = (uint64_t)gsb_parse_long(PROG, a, v, 0, LONG_MAX);
        else
            gsb_bad_usage(PROG, "unknown option %s", a);
    }
    if (!o->dir)
        gsb_bad_usage(PROG, "--dir DIR is required");
    long listed = village_list_size();
    if (o->villages == 0)
        o->villages = listed;
    if (o->villages > listed)
        gsb_bad_usage(PROG, "--villages %ld: the village list %s has %ld", o->villages,
                      VILLAGE_LIST, listed);
    if (o->councils < 0) /* default: the review's 1,269 of 1,346, scaled */
        o->councils = (o->villages * 1269 + 673) / 1346;
    if (o->committee_elections < 0) /* default: the review's 70 of 1,346, scaled */
        o->committee_elections = (o->villages * 70 + 673) / 1346;
    if (o->councils > o->villages)
        gsb_bad_usage(PROG, "--councils %ld: more than --villages %ld", o->councils,
                      o->villages);
    if (o->committee_elections > o->villages)
        gsb_bad_usage(PROG, "--committee-elections %ld: more than --villages %ld",
                      o->committee_elections, o->villages);
}

/* ---- the city: townships and villages --------------------------------------------- */

typedef struct township {
    char code[10];
    char name[64];
} township;

/* One village-level unit and what the plan decided for it. */
typedef struct village {
    char code[13];
    char name[128];      /* as registered: "滨西社区居民委员会", "营王村村民委员会" */
    char short_name[64]; /* without the committee: "滨西社区", "营王村" */
    int township;
    bool community;                        /* a residents' committee (社区) */
    bool council;                          /* has a red-white council */
    bool committee;                        /* holds a village/residents committee election */
    bool party_invalid, committee_invalid; /* turnout exactly half */
    bool party_low, committee_low;         /* turnout under 95% */
    bool no_woman;                         /* no woman elected to the committee */
} village;

static township towns[MAX_TOWNSHIPS];
static int ntowns;

static void load_townships(void)
{
    gs_csv *csv = NULL;
    gs_errbuf eb = {{0}};
    const char *path = GS_TEST_SRC_DIR "/data/luohe_divisions.csv";
    if (gs_csv_open(&csv, path, &eb))
        die("%s", eb.msg);
    for (size_t r = 0; r < gs_csv_nrows(csv) && ntowns < MAX_TOWNSHIPS; r++) {
        if (strcmp(gs_csv_cell(csv, r, 2), "township"))
            continue;
        township *t = &towns[ntowns++];
        snprintf(t->code, sizeof t->code, "%s", gs_csv_cell(csv, r, 0));
        snprintf(t->name, sizeof t->name, "%s", gs_csv_cell(csv, r, 1));
    }
    gs_csv_destroy(&csv);
    if (ntowns == 0)
        die("%s: no township rows", path);
}

static void load_categories(void)
{
    gs_errbuf eb = {{0}};
    if (!gen_load_categories(&eb))
        die("%s", eb.msg);
}

static void choose(village *v, long n, long k, rng *r, bool (*ok)(const village *),
                   void (*mark)(village *))
{
    long cand = 0;
    for (long i = 0; i < n; i++)
        cand += ok(&v[i]);
    if (k > cand)
        k = cand;
    for (long i = 0; i < n && k > 0; i++) {
        if (!ok(&v[i]))
            continue;
        if (rng_range(r, 0, cand - 1) < k) {
            mark(&v[i]);
            k--;
        }
        cand--;
    }
}

static bool any_village(const village *v)
{
    (void)v;
    return true;
}
static bool has_committee(const village *v)
{
    return v->committee;
}
static bool valid_committee(const village *v)
{
    return v->committee && !v->committee_invalid;
}
static void mark_committee(village *v)
{
    v->committee = true;
}
static void mark_party_invalid(village *v)
{
    v->party_invalid = true;
}
static void mark_committee_invalid(village *v)
{
    v->committee_invalid = true;
}
static void mark_no_woman(village *v)
{
    v->no_woman = true;
}

/* Whether item i of n is among k spread evenly over them (k <= n). */
static bool evenly(long i, long n, long k)
{
    return (i + 1) * k / n > i * k / n;
}

/* The name without its committee, for grid and council names: "营王村村民委员会"
 * -> "营王村", "滨西社区居民委员会" -> "滨西社区", "寨门村委会" -> "寨门村". */
static void short_name_of(const char *name, bool community, char *out, size_t cap)
{
    static const char *const suffixes[] = {"村民委员会", "居民委员会", "村民员委会", "村民委会",
                                           "村委会", NULL};
    size_t len = strlen(name);
    for (int i = 0; suffixes[i]; i++) {
        size_t sl = strlen(suffixes[i]);
        if (len > sl && !strcmp(name + len - sl, suffixes[i])) {
            len -= sl;
            break;
        }
    }
    const char *tail = community ? "社区" : "村";
    size_t tl = strlen(tail);
    bool has_tail = len >= tl && !strncmp(name + len - tl, tail, tl);
    snprintf(out, cap, "%.*s%s", (int)len, name, has_tail ? "" : tail);
}

/* Builds the plan of every village from the city's village list and writes
 * DIR/villages.csv (the chosen rows, for `gridhub refdata load`). */
static village *plan_city(const options *o, const char *csv_path)
{
    gs_csv *list = NULL;
    gs_errbuf eb = {{0}};
    if (gs_csv_open(&list, VILLAGE_LIST, &eb))
        die("%s", eb.msg);
    long all = (long)gs_csv_nrows(list);
    village *v = calloc((size_t)o->villages, sizeof *v);
    if (!v)
        die("out of memory");
    long n = 0;
    for (long r = 0; r < all && n < o->villages; r++) {
        if (!evenly(r, all, o->villages))
            continue;
        const char *code = gs_csv_cell(list, (size_t)r, 0), *parent = gs_csv_cell(list, (size_t)r, 3);
        int t = 0;
        while (t < ntowns && strcmp(towns[t].code, parent))
            t++;
        if (t == ntowns || strlen(code) != 12)
            die("%s: line %zu: village %s under %s, not a township of the divisions", VILLAGE_LIST,
                gs_csv_line(list, (size_t)r), code, parent);
        snprintf(v[n].code, sizeof v[n].code, "%s", code);
        snprintf(v[n].name, sizeof v[n].name, "%s", gs_csv_cell(list, (size_t)r, 1));
        v[n].community = !strcmp(gs_csv_cell(list, (size_t)r, 4), "residents");
        short_name_of(v[n].name, v[n].community, v[n].short_name, sizeof v[n].short_name);
        v[n].township = t;
        n++;
    }
    gs_csv_destroy(&list);
    for (long i = 0; i < n; i++)
        v[i].council = evenly(i, n, o->councils);

    rng r = {o->seed};
    choose(v, n, o->committee_elections, &r, any_village, mark_committee);
    choose(v, n, 1, &r, any_village, mark_party_invalid);
    choose(v, n, 1, &r, has_committee, mark_committee_invalid);
    /* now and then no woman is elected: about one committee election in 12 */
    choose(v, n, o->committee_elections ? (o->committee_elections + 11) / 12 : 0, &r,
           valid_committee, mark_no_woman);
    for (long i = 0; i < n; i++) {
        v[i].party_low = !v[i].party_invalid && rng_chance(&r, 0.05);
        v[i].committee_low = v[i].committee && !v[i].committee_invalid && rng_chance(&r, 0.10);
    }

    FILE *f = fopen(csv_path, "w");
    if (!f)
        die("%s: %s", csv_path, strerror(errno));
    fputs("code,name,level,parent_code,committee\n", f);
    for (long i = 0; i < n; i++)
        fprintf(f, "%s,%s,village,%s,%s\n", v[i].code, v[i].name, towns[v[i].township].code,
                v[i].community ? "residents" : "villagers");
    if (fclose(f))
        die("%s: %s", csv_path, strerror(errno));
    return v;
}

/* ---- running the real binaries ----------------------------------------------------- */

#define MAX_ARGS 20

/* One run of gridhub or gridnode. */
typedef struct job {
    char args[MAX_ARGS][160];
    const char *argv[MAX_ARGS + 1];
    char log[PATH_MAX];
    int status;
    double ms;
    double cpu_s; /* user + system */
    long maxrss_kb;
} job;

static void job_set(job *j, const char *log, ...) __attribute__((sentinel));
static void job_set(job *j, const char *log, ...)
{
    va_list ap;
    va_start(ap, log);
    int n = 0;
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < MAX_ARGS) {
        snprintf(j->args[n], sizeof j->args[n], "%s", a);
        j->argv[n] = j->args[n];
        n++;
    }
    va_end(ap);
    j->argv[n] = NULL;
    snprintf(j->log, sizeof j->log, "%s", log);
}

/*
 * Fills j's argv with the words of the environment variable `env` (a
 * profiler such as "perf record -g -o /tmp/x.data" or "valgrind
 * --tool=massif"), when set, then the program (its full path: gst_spawn
 * resolves only a bare "gridhub"/"gridnode") and rest. BENCH_HUB_WRAPPER and
 * BENCH_NODE_WRAPPER are for profiling; RSS figures are then the wrapper's.
 */
static void job_wrapped(job *j, const char *log, const char *env, const char *prog,
                        const char *const rest[])
{
    const char *w = getenv(env);
    int n = 0;
    if (w && *w) {
        char words[1024];
        snprintf(words, sizeof words, "%s", w);
        for (char *save = NULL, *t = strtok_r(words, " ", &save); t && n < MAX_ARGS - 8;
             t = strtok_r(NULL, " ", &save))
            snprintf(j->args[n++], sizeof j->args[0], "%s", t);
        if (snprintf(j->args[n++], sizeof j->args[0], "%s/%s", GS_TEST_BIN_DIR, prog) >=
            (int)sizeof j->args[0])
            die("path too long");
    } else {
        snprintf(j->args[n++], sizeof j->args[0], "%s", prog);
    }
    for (int i = 0; rest[i] && n < MAX_ARGS; i++)
        snprintf(j->args[n++], sizeof j->args[0], "%s", rest[i]);
    for (int i = 0; i < n; i++)
        j->argv[i] = j->args[i];
    j->argv[n] = NULL;
    snprintf(j->log, sizeof j->log, "%s", log);
}

/* The first lines of a log, for a failure message. */
static void show_log(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    for (int i = 0; i < 12 && fgets(line, sizeof line, f); i++)
        fprintf(stderr, "  | %s", line);
    fclose(f);
}

/*
 * Runs the jobs, `parallel` at a time, each with stdout and stderr in its log
 * (removed when it succeeds). Records each job's wall time and peak RSS.
 * Returns the number that failed; the first few failures are shown.
 */
static long run_pool(job *jobs, long n, long parallel, const char *what)
{
    pid_t *slot = calloc((size_t)parallel, sizeof *slot);
    long *slot_job = calloc((size_t)parallel, sizeof *slot_job);
    if (!slot || !slot_job)
        die("out of memory");
    running = slot;
    nrunning_slots = (size_t)parallel;
    long next = 0, done = 0, failed = 0, active = 0;
    double t0 = gst_clock_ms();
    while (done < n) {
        while (active < parallel && next < n) {
            long s = 0;
            while (slot[s])
                s++;
            jobs[next].ms = gst_clock_ms();
            pid_t pid = gst_spawn(jobs[next].argv, jobs[next].log);
            if (pid < 0)
                die("cannot start %s: %s", jobs[next].argv[0], strerror(errno));
            slot[s] = pid;
            slot_job[s] = next++;
            active++;
        }
        int status;
        struct rusage ru;
        pid_t pid = wait4(-1, &status, 0, &ru);
        if (pid < 0) {
            if (errno == EINTR && interrupted)
                die("interrupted");
            if (errno == EINTR)
                continue;
            die("wait: %s", strerror(errno));
        }
        if (pid == hub_pid) {
            hub_pid = 0;
            die("the hub exited during %s (status %d); see its log", what, status);
        }
        long s = 0;
        while (s < parallel && slot[s] != pid)
            s++;
        if (s == parallel)
            continue; /* not one of ours */
        job *j = &jobs[slot_job[s]];
        slot[s] = 0;
        active--;
        done++;
        j->ms = gst_clock_ms() - j->ms;
        j->maxrss_kb = ru.ru_maxrss;
        j->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                   (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
        j->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (j->status) {
            if (failed++ < 5) {
                gsb_progress_end();
                fprintf(stderr, PROG ": %s: `%s %s %s %s` failed (status %d):\n", what, j->argv[0],
                        j->argv[1], j->argv[2], j->argv[3], j->status);
                show_log(j->log);
            }
        } else {
            unlink(j->log);
        }
        gsb_progress("%s: %ld/%ld done, %.1f s", what, done, n, (gst_clock_ms() - t0) / 1e3);
    }
    gsb_progress_end();
    running = NULL;
    nrunning_slots = 0;
    free(slot);
    free(slot_job);
    return failed;
}

/* Runs one program to completion; dies on failure. */
static void run_one(const char *what, const char *log, ...) __attribute__((sentinel));
static void run_one(const char *what, const char *log, ...)
{
    job j;
    memset(&j, 0, sizeof j);
    va_list ap;
    va_start(ap, log);
    int n = 0;
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < MAX_ARGS) {
        snprintf(j.args[n], sizeof j.args[n], "%s", a);
        j.argv[n] = j.args[n];
        n++;
    }
    va_end(ap);
    j.argv[n] = NULL;
    snprintf(j.log, sizeof j.log, "%s", log);
    if (run_pool(&j, 1, 1, what))
        die("%s failed", what);
}

/* ---- generating one village's node ---------------------------------------------- */

/* A date day days after 2026-01-01 (negative: before), "YYYY-MM-DD". */
static void day_text(int day, char out[16])
{
    struct tm tm = {0};
    tm.tm_year = 126;
    tm.tm_mday = 1 + day;
    tm.tm_hour = 12;
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

/* ---- people ---- */

static const char *const surnames[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周",
                                       "吴", "徐", "孙", "朱", "胡", "郭", "何", "高", "林",
                                       "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯",
                                       "邓", "曹", "彭", "曾", "田", "董", "袁", "潘", "蒋"};
static const char *const hui_surnames[] = {"马", "海", "沙", "白", "穆", "丁", "米", "金", "哈"};
static const char *const male_names[] = {"建国", "国强", "伟",   "强",   "磊",   "军",   "勇",
                                         "志刚", "海涛", "明",   "亮",   "建华", "文博", "浩",
                                         "宇",   "俊杰", "德福", "新民", "学军", "红军", "保国",
                                         "振华", "永亮", "卫东", "金山", "长松", "书林", "春生"};
static const char *const female_names[] = {
    "秀英", "桂兰", "丽",   "敏",   "静",   "芳",   "娟", "霞", "玉兰", "丽娟", "秀兰", "海燕",
    "婷",   "雪梅", "春花", "晓燕", "凤英", "淑珍", "慧", "玲", "红梅", "素芬", "艳",   "佳怡"};

static void person(gen *g, bool female, char *out, size_t cap)
{
    const char *sur =
        g->hui && rng_chance(&g->r, 0.6) ? PICK(&g->r, hui_surnames) : PICK(&g->r, surnames);
    snprintf(out, cap, "%s%s", sur, female ? PICK(&g->r, female_names) : PICK(&g->r, male_names));
}

/* ---- grids ---- */

static void gen_grids(gen *g)
{
    int n = (int)(g->v->community ? rng_range(&g->r, 4, 8) : rng_range(&g->r, 3, 6));
    for (int i = 0; i < n; i++) {
        gs_record *rec = new_rec(GS_RT_GRID);
        snprintf(g->grids[i], sizeof g->grids[i], "%s%03d", g->v->code, i + 1);
        bool dedicated = g->v->community && i == n - 1 && rng_chance(&g->r, 0.3);
        person(g, rng_chance(&g->r, 0.55), g->workers[i], sizeof g->workers[i]);
        setf(g, rec, "code", "%s", g->grids[i]);
        if (dedicated)
            setf(g, rec, "name", "%s学校专属网格", g->v->short_name);
        else
            setf(g, rec, "name", "%s第%d网格", g->v->short_name, i + 1);
        setf(g, rec, "kind", dedicated ? "专属网格" : "综合网格");
        int64_t hh = rng_range(&g->r, 150, 500);
        setf(g, rec, "households", "%lld", (long long)hh);
        setf(g, rec, "population", "%lld", (long long)(hh * rng_range(&g->r, 26, 34) / 10));
        setf(g, rec, "worker", "%s", g->workers[i]);
        setf(g, rec, "worker_phone", "139%08lld", (long long)rng_range(&g->r, 0, 99999999));
        gen_create(g, rec, NULL, 0);
        g->res->grids++;
    }
    g->ngrids = n;
}

/* ---- elections ---- */

typedef struct cand {
    char name[32];
    bool female, secretary, wins;
    int post;
    int64_t votes;
} cand;

static bool name_taken(const cand *c, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(c[i].name, name))
            return true;
    return false;
}

/*
 * One election with its candidates. committee is GS_COMMITTEE_*; invalid puts
 * the turnout at exactly half (2*B == R: invalid by law), low under 95%.
 * Every post is contested (candidates = seats + 1, members sometimes + 2).
 * Winners get 55-93% of the valid ballots, the others share what is left
 * within the ballots' limit (a ballot marks at most `seats` names per post).
 */
static void gen_election(gen *g, int committee, bool invalid, bool low, bool no_woman)
{
    rng *r = &g->r;
    bool party = committee == GS_COMMITTEE_PARTY;
    int64_t R = party ? (g->v->community ? rng_range(r, 40, 160) : rng_range(r, 25, 95))
                : committee == GS_COMMITTEE_VILLAGE ? rng_range(r, 800, 3500)
                                                    : rng_range(r, 2000, 8000);
    int64_t B;
    if (invalid) {
        R += R & 1;
        B = R / 2;
    } else if (low) {
        B = R * rng_range(r, 860, 949) / 1000;
        while (B > 0 && B * 100 >= R * 95)
            B--;
    } else {
        B = R * rng_range(r, 951, 995) / 1000;
        while (B * 100 < R * 95)
            B++;
    }
    if (B > R)
        B = R;
    int64_t invalid_ballots = party ? rng_range(r, 0, 1) : B * rng_range(r, 3, 20) / 1000;
    if (invalid_ballots > B)
        invalid_ballots = B;
    int64_t valid = B - invalid_ballots;

    int seats[GS_POST__COUNT];
    seats[GS_POST_CHAIR] = 1;
    if (party) {
        seats[GS_POST_VICE_CHAIR] = R >= 50 ? 1 : 0;
        seats[GS_POST_MEMBER] = seats[GS_POST_VICE_CHAIR] ? 3 : 2;
    } else if (committee == GS_COMMITTEE_VILLAGE) {
        seats[GS_POST_VICE_CHAIR] = (int)rng_range(r, 0, 1);
        seats[GS_POST_MEMBER] = (int)rng_range(r, 2, 4);
    } else {
        seats[GS_POST_VICE_CHAIR] = 1;
        seats[GS_POST_MEMBER] = (int)rng_range(r, 3, 5);
    }

    int day = party ? (int)rng_range(r, 4, 58) : (int)rng_range(r, 59, 119);
    char date[16], published[16];
    day_text(day, date);
    day_text(day - (rng_chance(r, 0.02) ? 15 : (int)rng_range(r, 20, 30)), published);

    gs_record *e = new_rec(GS_RT_ELECTION);
    setf(g, e, "committee", "%s", gs_committee_names[committee]);
    setf(g, e, "election_date", "%s", date);
    setf(g, e, "list_published", "%s", published);
    setf(g, e, "registered", "%lld", (long long)R);
    setf(g, e, "voted", "%lld", (long long)B);
    setf(g, e, "valid", "%lld", (long long)valid);
    setf(g, e, "invalid", "%lld", (long long)invalid_ballots);
    setf(g, e, "seats_chair", "%d", seats[GS_POST_CHAIR]);
    setf(g, e, "seats_vice", "%d", seats[GS_POST_VICE_CHAIR]);
    setf(g, e, "seats_member", "%d", seats[GS_POST_MEMBER]);
    setf(g, e, "note", "%s", "2026年换届选举(合成数据)");
    char eid[65];
    gen_create(g, e, eid, sizeof eid);
    g->res->elections++;

    cand c[32];
    int n = 0;
    bool a_woman_wins = false;
    for (int p = 0; p < GS_POST__COUNT; p++) {
        if (seats[p] == 0)
            continue;
        int ncand = seats[p] + 1 + (p == GS_POST_MEMBER && !party && rng_chance(r, 0.3));
        int64_t budget = (int64_t)seats[p] * valid;
        int first = n;
        for (int k = 0; k < ncand && n < 32; k++, n++) {
            cand *x = &c[n];
            memset(x, 0, sizeof *x);
            x->post = p;
            x->wins = k < seats[p];
            if (party)
                x->female = rng_chance(r, 0.2);
            else if (no_woman)
                x->female = !x->wins && (k == seats[p] || rng_chance(r, 0.5));
            else
                x->female = rng_chance(r, 0.35);
            if (x->wins) {
                x->votes = valid * rng_range(r, 550, 930) / 1000;
                budget -= x->votes;
            }
        }
        /* losers share what the ballots leave, each under half */
        int nlosers = n - first - seats[p];
        for (int k = first; k < n; k++) {
            if (c[k].wins)
                continue;
            int64_t cap = budget / (nlosers > 0 ? nlosers : 1);
            int64_t under_half = valid * 45 / 100;
            if (cap > under_half)
                cap = under_half;
            c[k].votes = cap * rng_range(r, 300, 1000) / 1000;
        }
    }
    if (!party && !no_woman) {
        for (int k = 0; k < n; k++)
            a_woman_wins |= c[k].wins && c[k].female;
        if (!a_woman_wins) /* the law wants women members: usually one is elected */
            for (int k = n - 1; k >= 0; k--)
                if (c[k].wins && c[k].post != GS_POST_CHAIR) {
                    c[k].female = true;
                    break;
                }
    }
    if (!party) {
        /* 一肩挑: mostly the Party secretary is elected chair */
        bool yjt = rng_chance(r, 0.75), lost = !yjt && rng_chance(r, 0.3);
        for (int k = 0; k < n; k++)
            if (c[k].post == GS_POST_CHAIR && ((yjt && c[k].wins) || (lost && !c[k].wins))) {
                c[k].secretary = true;
                break;
            }
    }
    for (int k = 0; k < n; k++) {
        do
            person(g, c[k].female, c[k].name, sizeof c[k].name);
        while (name_taken(c, k, c[k].name));
        gs_record *rec = new_rec(GS_RT_CANDIDATE);
        setf(g, rec, "election_id", "%s", eid);
        setf(g, rec, "name", "%s", c[k].name);
        setf(g, rec, "gender", c[k].female ? "女" : "男");
        setf(g, rec, "post", "%s", gs_post_names[c[k].post]);
        setf(g, rec, "votes", "%lld", (long long)c[k].votes);
        setf(g, rec, "party_secretary", c[k].secretary ? "是" : "否");
        gen_create(g, rec, NULL, 0);
        g->res->candidates++;
        if (c[k].secretary && c[k].wins && !invalid)
            g->res->yijiantiao++;
    }
}

/* ---- councils and affairs ---- */

static void gen_council(gen *g)
{
    rng *r = &g->r;
    static const int64_t costs[] = {300, 320, 380, 400, 480};
    g->max_tables = rng_range(r, 2, 4) * 5;
    g->max_cost = costs[rng_range(r, 0, 4)];
    g->max_gift = rng_chance(r, 0.5) ? 100 : 200;
    g->max_cars = rng_range(r, 3, 5) * 2;
    g->max_days = rng_range(r, 1, 3) + (rng_chance(r, 0.2) ? 2 : 0);
    g->max_bride = rng_chance(r, 0.6) ? 30000 : 50000;
    char est[16], term_end[16];
    int est_day = (int)rng_range(r, -2900, -1900);
    day_text(est_day, est);
    day_text(est_day + 3 * 365, term_end);
    gs_record *c = new_rec(GS_RT_COUNCIL);
    setf(g, c, "name", "%s红白理事会", g->v->short_name);
    setf(g, c, "established_on", "%s", est);
    setf(g, c, "charter_version", "%s", rng_chance(r, 0.5) ? "2019年修订" : "2021年修订");
    setf(g, c, "max_tables", "%lld", (long long)g->max_tables);
    setf(g, c, "max_cost_per_table", "%lld", (long long)g->max_cost);
    setf(g, c, "max_gift", "%lld", (long long)g->max_gift);
    setf(g, c, "max_cars", "%lld", (long long)g->max_cars);
    setf(g, c, "max_funeral_days", "%lld", (long long)g->max_days);
    setf(g, c, "max_bride_price", "%lld", (long long)g->max_bride);
    setf(g, c, "cremation_required", "是");
    gen_create(g, c, g->council_id, sizeof g->council_id);
    g->res->councils++;

    int members = 1 + (int)rng_range(r, 1, 2) + (int)rng_range(r, 2, 3);
    for (int i = 0; i < members; i++) {
        const char *role = i == 0 ? "会长" : i <= 1 + (members > 4) ? "副会长" : "理事";
        bool female = i > 0 && rng_chance(r, 0.3);
        char name[32];
        person(g, female, name, sizeof name);
        if (i == 0)
            snprintf(g->president, sizeof g->president, "%s", name);
        gs_record *m = new_rec(GS_RT_MEMBER);
        setf(g, m, "council_id", "%s", g->council_id);
        setf(g, m, "name", "%s", name);
        setf(g, m, "gender", female ? "女" : "男");
        setf(g, m, "role", "%s", role);
        setf(g, m, "party_member", i == 0 || rng_chance(r, 0.5) ? "是" : "否");
        setf(g, m, "term_start", "%s", est);
        setf(g, m, "term_end", "%s", term_end);
        gen_create(g, m, NULL, 0);
        g->res->members++;
    }
}

/* Over a limit by 20-80%. */
static int64_t over(rng *r, int64_t limit)
{
    return limit + 1 + limit * rng_range(r, 20, 80) / 100;
}

static void gen_affair(gen *g)
{
    rng *r = &g->r;
    int kind = rng_chance(r, 0.45)   ? GS_AFFAIR_WEDDING
               : rng_chance(r, 0.73) ? GS_AFFAIR_FUNERAL
                                     : GS_AFFAIR_OTHER;
    bool violate = rng_chance(r, 0.15);
    int which = (int)rng_range(r, 0, 2); /* which standard a violation breaks */
    int64_t tables = rng_range(r, g->max_tables / 2, g->max_tables);
    int64_t cost = g->max_cost - rng_range(r, 0, g->max_cost / 3);
    int64_t gift = rng_chance(r, 0.5) ? g->max_gift : g->max_gift / 2;
    if (violate && which == 0)
        tables = over(r, g->max_tables);
    if (violate && which == 1)
        cost = over(r, g->max_cost);
    int day = (int)rng_range(r, 0, 325);
    char date[16], declared[16];
    day_text(day, date);
    day_text(day - (int)rng_range(r, 3, 20), declared);
    char host[32];
    person(g, rng_chance(r, 0.2), host, sizeof host);

    gs_record *a = new_rec(GS_RT_AFFAIR);
    setf(g, a, "kind", "%s", gs_affair_kind_names[kind]);
    setf(g, a, "host", "%s", host);
    setf(g, a, "declared_on", "%s", declared);
    setf(g, a, "event_date", "%s", date);
    setf(g, a, "tables", "%lld", (long long)tables);
    setf(g, a, "cost_per_table", "%lld", (long long)cost);
    setf(g, a, "gift", "%lld", (long long)gift);
    setf(g, a, "guests", "%lld", (long long)(tables * 10 - rng_range(r, 0, 9)));
    setf(g, a, "supervisor", "%s", g->president);
    setf(g, a, "host_is_cadre", rng_chance(r, 0.1) ? "是" : "否");
    if (kind == GS_AFFAIR_WEDDING) {
        int64_t cars = rng_range(r, 2, g->max_cars),
                bride = g->max_bride / 10 * rng_range(r, 3, 10);
        if (violate && which == 2) {
            if (rng_chance(r, 0.5))
                cars = over(r, g->max_cars);
            else
                bride = over(r, g->max_bride);
        }
        setf(g, a, "cars", "%lld", (long long)cars);
        setf(g, a, "bride_price", "%lld", (long long)bride);
        setf(g, a, "days", "1");
    } else if (kind == GS_AFFAIR_FUNERAL) {
        int64_t days = rng_range(r, 1, g->max_days);
        bool hui = g->hui && rng_chance(r, 0.7);
        const char *crem = hui ? "豁免" : "是";
        if (violate && which == 2) {
            if (!hui && rng_chance(r, 0.5))
                crem = "否";
            else
                days = over(r, g->max_days);
        }
        setf(g, a, "days", "%lld", (long long)days);
        setf(g, a, "cremation", "%s", crem);
        if (hui) {
            setf(g, a, "exemption", "%s", "回族丧葬习俗(殡葬管理条例第六条)");
            g->res->exempt++;
        }
    } else {
        setf(g, a, "days", "1");
    }
    setf(g, a, "savings", "%lld",
         violate ? 0LL : (long long)((g->max_tables - tables + 2) * cost + rng_range(r, 0, 5000)));
    /* the entry rules decide what counts as a violation */
    if (node_entry_create(g->s, a, NULL, &g->eb))
        gen_fail(g, "affair");
    const char *found = gs_record_str(a, GS_AFFAIR_VIOLATIONS);
    g->res->violations += found && *found;
    gs_record_destroy(&a);
    gen_tick(g, 1);
    g->res->affairs++;
}

/* Generates one village's node database from its bundle. */
static void gen_village(const options *o, const char *dir, const village *v, result *res,
                        volatile uint64_t *progress_counter)
{
    double t0 = gst_clock_ms();
    gen g;
    memset(&g, 0, sizeof g);
    g.v = v;
    g.code = v->code;
    g.res = res;
    g.progress = progress_counter;
    g.hui = !strncmp(v->code, HUI_TOWNSHIP, 9);
    g.r.s = o->seed ^ (strtoull(v->code, NULL, 10) * 0x9e3779b97f4a7c15ULL);

    char path[PATH_MAX], db[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.bundle", dir, v->code);
    snprintf(db, sizeof db, "%s/%s.db", dir, v->code);
    FILE *f = fopen(path, "rb");
    char text[GS_BUNDLE_MAX_BYTES + 1];
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (!f) {
        snprintf(g.eb.msg, sizeof g.eb.msg, "%.400s: %s", path, strerror(errno));
        gen_fail(&g, "bundle");
    }
    fclose(f);
    gs_bundle b;
    if (gs_bundle_parse(text, n, &b, &g.eb))
        gen_fail(&g, path);
    node_identity id;
    memset(&id, 0, sizeof id);
    snprintf(id.node_id, sizeof id.node_id, "%s", b.node_id);
    snprintf(id.village, sizeof id.village, "%s", b.village);
    snprintf(id.name, sizeof id.name, "%s", b.name);
    snprintf(id.hub_endpoint, sizeof id.hub_endpoint, "%s", b.hub_endpoint);
    snprintf(id.hub_public_key, sizeof id.hub_public_key, "%s", b.hub_public_key);
    snprintf(id.public_key, sizeof id.public_key, "%s", b.node_public_key);
    snprintf(id.secret_key, sizeof id.secret_key, "%s", b.node_secret_key);
    if (node_store_create(db, &id, &g.eb))
        gen_fail(&g, "create");
    if (node_store_open(&g.s, db, &g.eb))
        gen_fail(&g, "open");
    if (node_store_begin(g.s, &g.eb))
        gen_fail(&g, "begin");

    gen_grids(&g);
    gen_election(&g, GS_COMMITTEE_PARTY, v->party_invalid, v->party_low, false);
    if (v->committee)
        gen_election(&g, v->community ? GS_COMMITTEE_RESIDENTS : GS_COMMITTEE_VILLAGE,
                     v->committee_invalid, v->committee_low, v->no_woman);
    if (v->council) {
        gen_council(&g);
        int affairs = (int)rng_range(&g.r, 0, 19);
        affairs = affairs < 3 ? 0 : affairs < 10 ? 1 : affairs < 16 ? 2 : 3;
        for (int i = 0; i < affairs; i++)
            gen_affair(&g);
    }
    for (long i = 0; i < o->incidents; i++)
        gen_incident(&g, 0);
    /* pad to --changes-per-village with a year of incidents and their edits */
    uint64_t target = (uint64_t)o->changes;
    g.seq = gen_head(&g);
    while (target && g.seq < target)
        gen_incident(&g, target);
    gen_commit(&g);
    res->seq = gen_head(&g);
    node_store_close(&g.s);
    res->gen_ms = gst_clock_ms() - t0;
    res->done = 1;
}

/* ---- the phases ---------------------------------------------------------------- */

/* Generates every node database in `parallel` worker processes; the parent
 * shows progress from the shared counters. */
static void generate_nodes(const options *o, const char *dir, const village *v, result *res)
{
    long workers = o->parallel < o->villages ? o->parallel : o->villages;
    volatile uint64_t *counters = mmap(NULL, (size_t)workers * sizeof *counters,
                                       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (counters == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    pid_t *pids = calloc((size_t)workers, sizeof *pids);
    if (!pids)
        die("out of memory");
    fflush(NULL);
    for (long w = 0; w < workers; w++) {
        pid_t pid = fork();
        if (pid < 0)
            die("fork: %s", strerror(errno));
        if (pid == 0) {
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            for (long i = w; i < o->villages; i += workers)
                gen_village(o, dir, &v[i], &res[i], &counters[w]);
            _exit(0);
        }
        pids[w] = pid;
    }
    running = pids;
    nrunning_slots = (size_t)workers;
    double t0 = gst_clock_ms();
    long left = workers;
    bool failed = false;
    while (left > 0) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            for (long w = 0; w < workers; w++)
                if (pids[w] == pid) {
                    pids[w] = 0;
                    left--;
                    failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
                }
            continue;
        }
        if (interrupted)
            die("interrupted");
        uint64_t changes = 0;
        long done = 0;
        for (long w = 0; w < workers; w++)
            changes += counters[w];
        for (long i = 0; i < o->villages; i++)
            done += res[i].done;
        double s = (gst_clock_ms() - t0) / 1e3;
        char c1[32];
        gsb_progress("生成 generate: %ld/%ld villages, %s changes, %.0f changes/s, %.1f s", done,
                     o->villages, num(changes, c1), s > 0 ? (double)changes / s : 0.0, s);
        usleep(200000);
    }
    gsb_progress_end();
    running = NULL;
    nrunning_slots = 0;
    free(pids);
    munmap((void *)counters, (size_t)workers * sizeof *counters);
    if (failed)
        die("generating the node databases failed (see above)");
}

/* Starts `gridhub serve` and waits for its socket. */
static void start_hub(const char *dir, const char *hubdb, const char *endpoint,
                      const char *sock_path)
{
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/hub.log", dir);
    const char *rest[] = {"--db", hubdb, "serve", "--bind", endpoint, NULL};
    static job j;
    job_wrapped(&j, log, "BENCH_HUB_WRAPPER", "gridhub", rest);
    unlink(sock_path);
    hub_pid = gst_spawn(j.argv, log);
    if (hub_pid < 0)
        die("cannot start gridhub serve: %s", strerror(errno));
    for (int i = 0; i < 1200; i++) {
        struct stat st;
        if (stat(sock_path, &st) == 0)
            return;
        int status;
        if (waitpid(hub_pid, &status, WNOHANG) == hub_pid) {
            hub_pid = 0;
            show_log(log);
            die("gridhub serve exited at start");
        }
        usleep(50000);
    }
    die("gridhub serve did not open %s within 60 s", sock_path);
}

/* Stops the hub with SIGTERM (a clean shutdown), SIGKILL after 30 s. */
static void stop_hub(void)
{
    if (hub_pid <= 0)
        return;
    kill(hub_pid, SIGTERM);
    for (int i = 0; i < 300; i++) {
        if (waitpid(hub_pid, NULL, WNOHANG) == hub_pid) {
            hub_pid = 0;
            return;
        }
        usleep(100000);
    }
    fprintf(stderr, PROG ": the hub did not stop within 30 s; killing it\n");
    kill(hub_pid, SIGKILL);
    waitpid(hub_pid, NULL, 0);
    hub_pid = 0;
}

/* Checks that the hub holds every node's changes: per origin the count and
 * the greatest seq equal the node's seq, the registry's acked_through too,
 * and nothing is in quarantine. Returns the number of villages that differ. */
static long verify_hub(const char *hubdb, const village *v, const result *res, long n,
                       uint64_t *hub_total)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(hubdb, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die("%s: %s", hubdb, sqlite3_errmsg(db));
    sqlite3_stmt *cnt, *acked, *quar, *total;
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*), coalesce(max(seq), 0) FROM changes WHERE origin = ?1",
                           -1, &cnt, NULL) ||
        sqlite3_prepare_v2(db, "SELECT acked_through FROM nodes WHERE id = ?1", -1, &acked, NULL) ||
        sqlite3_prepare_v2(db, "SELECT count(*) FROM quarantine WHERE origin = ?1", -1, &quar,
                           NULL) ||
        sqlite3_prepare_v2(db, "SELECT count(*) FROM changes", -1, &total, NULL))
        die("%s: %s", hubdb, sqlite3_errmsg(db));
    long bad = 0;
    for (long i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "%s-1", v[i].code);
        sqlite3_bind_text(cnt, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(acked, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(quar, 1, id, -1, SQLITE_STATIC);
        uint64_t c = 0, mx = 0, ack = 0, q = 0;
        if (sqlite3_step(cnt) == SQLITE_ROW) {
            c = (uint64_t)sqlite3_column_int64(cnt, 0);
            mx = (uint64_t)sqlite3_column_int64(cnt, 1);
        }
        if (sqlite3_step(acked) == SQLITE_ROW)
            ack = (uint64_t)sqlite3_column_int64(acked, 0);
        if (sqlite3_step(quar) == SQLITE_ROW)
            q = (uint64_t)sqlite3_column_int64(quar, 0);
        sqlite3_reset(cnt);
        sqlite3_reset(acked);
        sqlite3_reset(quar);
        if (c != res[i].seq || mx != res[i].seq || ack != res[i].seq || q) {
            if (bad++ < 10)
                fprintf(stderr,
                        PROG ": %s: node has %llu changes; hub holds %llu (max seq %llu), acked "
                             "%llu, quarantined %llu\n",
                        id, (unsigned long long)res[i].seq, (unsigned long long)c,
                        (unsigned long long)mx, (unsigned long long)ack, (unsigned long long)q);
        }
    }
    *hub_total = sqlite3_step(total) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(total, 0) : 0;
    sqlite3_finalize(cnt);
    sqlite3_finalize(acked);
    sqlite3_finalize(quar);
    sqlite3_finalize(total);
    sqlite3_close(db);
    return bad;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Makes dir (new or empty) and returns its absolute path. */
static char *prepare_dir(const char *dir)
{
    if (mkdir(dir, 0700) && errno != EEXIST)
        gsb_bad_usage(PROG, "--dir %s: %s", dir, strerror(errno));
    DIR *d = opendir(dir);
    if (!d)
        gsb_bad_usage(PROG, "--dir %s: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            closedir(d);
            gsb_bad_usage(PROG, "--dir %s is not empty; give a new or empty directory", dir);
        }
    closedir(d);
    char *abs = realpath(dir, NULL);
    if (!abs)
        gsb_bad_usage(PROG, "--dir %s: %s", dir, strerror(errno));
    /* ipc://DIR/hub.sock must fit in a Unix socket address (108 bytes) */
    if (strlen(abs) + sizeof "/hub.sock" > 100)
        gsb_bad_usage(PROG, "--dir %s: path too long for the hub's ipc socket; use a shorter one",
                      abs);
    return abs;
}

int main(int argc, char **argv)
{
    options o;
    parse_options(argc, argv, &o);
    char *dir = prepare_dir(o.dir);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: waits return EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* up to --parallel gridnode syncs and the hub's connections */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    char hubdb[PATH_MAX], endpoint[PATH_MAX], sock[PATH_MAX], csv[PATH_MAX], log[PATH_MAX];
    if (snprintf(hubdb, sizeof hubdb, "%s/hub.db", dir) >= (int)sizeof hubdb ||
        snprintf(sock, sizeof sock, "%s/hub.sock", dir) >= (int)sizeof sock ||
        snprintf(endpoint, sizeof endpoint, "ipc://%s", sock) >= (int)sizeof endpoint ||
        snprintf(csv, sizeof csv, "%s/villages.csv", dir) >= (int)sizeof csv ||
        snprintf(log, sizeof log, "%s/setup.log", dir) >= (int)sizeof log)
        gsb_bad_usage(PROG, "--dir %s: path too long", dir);

    char cpu[256], c1[32], c2[32], c3[32];
    gsb_cpu_model(cpu, sizeof cpu);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("bench_city: %ld villages and communities of the village list (%ld with a council, "
           "%ld without), %ld committee elections, %ld incidents per village%s%s%s, seed %llu\n",
           o.villages, o.councils, o.villages - o.councils, o.committee_elections, o.incidents,
           o.changes ? ", padded to " : "", o.changes ? num((uint64_t)o.changes, c1) : "",
           o.changes ? " changes per village" : "", (unsigned long long)o.seed);
    printf("machine: %ld CPUs (nproc), %s; shared and noisy (load average %.1f now), figures "
           "vary run to run\n",
           ncpu, cpu, gsb_loadavg());
    printf("directory: %s\n", dir);
    fflush(stdout);

    /* 1. the city */
    double t_all = gst_clock_ms(), t = gst_clock_ms();
    load_townships();
    load_categories();
    village *v = plan_city(&o, csv);
    result *res = mmap(NULL, (size_t)o.villages * sizeof *res, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (res == MAP_FAILED)
        die("mmap: %s", strerror(errno));

    /* 2. the hub and its registry */
    run_one("gridhub init", log, "gridhub", "--db", hubdb, "init", NULL);
    run_one("refdata divisions", log, "gridhub", "--db", hubdb, "refdata", "load", "divisions",
            GS_TEST_SRC_DIR "/data/luohe_divisions.csv", NULL);
    run_one("refdata categories", log, "gridhub", "--db", hubdb, "refdata", "load", "categories",
            GS_TEST_SRC_DIR "/data/incident_categories.csv", NULL);
    run_one("refdata villages", log, "gridhub", "--db", hubdb, "refdata", "load", "divisions", csv,
            NULL);
    double setup_ms = gst_clock_ms() - t;
    t = gst_clock_ms();
    job *jobs = calloc((size_t)o.villages, sizeof *jobs);
    if (!jobs)
        die("out of memory");
    for (long i = 0; i < o.villages; i++) {
        char bundle[PATH_MAX], id[32], jlog[PATH_MAX];
        snprintf(bundle, sizeof bundle, "%s/%s.bundle", dir, v[i].code);
        snprintf(id, sizeof id, "%s-1", v[i].code);
        snprintf(jlog, sizeof jlog, "%s/add-%s.log", dir, v[i].code);
        job_set(&jobs[i], jlog, "gridhub", "--db", hubdb, "node", "add", "--village", v[i].code,
                "--name", v[i].name, "--endpoint", endpoint, "--out", bundle, "--id", id, NULL);
    }
    if (run_pool(jobs, o.villages, o.parallel, "节点登记 node add"))
        die("registering the nodes failed");
    double add_ms = gst_clock_ms() - t;

    /* 3. the node databases */
    t = gst_clock_ms();
    generate_nodes(&o, dir, v, res);
    double gen_ms = gst_clock_ms() - t;
    uint64_t total = 0, max_seq = 0, min_seq = UINT64_MAX;
    result sum;
    memset(&sum, 0, sizeof sum);
    for (long i = 0; i < o.villages; i++) {
        total += res[i].seq;
        max_seq = res[i].seq > max_seq ? res[i].seq : max_seq;
        min_seq = res[i].seq < min_seq ? res[i].seq : min_seq;
        sum.grids += res[i].grids;
        sum.elections += res[i].elections;
        sum.candidates += res[i].candidates;
        sum.yijiantiao += res[i].yijiantiao;
        sum.councils += res[i].councils;
        sum.members += res[i].members;
        sum.affairs += res[i].affairs;
        sum.violations += res[i].violations;
        sum.exempt += res[i].exempt;
        sum.incidents += res[i].incidents;
        sum.closed += res[i].closed;
    }
    long long node_bytes = 0;
    for (long i = 0; i < o.villages; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s.db", dir, v[i].code);
        node_bytes += file_size(p);
        snprintf(p, sizeof p, "%s/%s.db-wal", dir, v[i].code);
        node_bytes += file_size(p);
    }
    printf("全市 city: %ld villages and communities (%ld with red-white councils + %ld without) "
           "under %d townships; %u elections (%ld Party + %ld committee) with %u candidates "
           "(%u 一肩挑 chairs); %u councils with %u members and %u affairs (%u breaking a "
           "standard, %u exempt Hui funerals); %u grids; %u incidents (%u closed); %s changes\n",
           o.villages, o.councils, o.villages - o.councils, ntowns, sum.elections, o.villages,
           o.committee_elections, sum.candidates, sum.yijiantiao, sum.councils, sum.members,
           sum.affairs, sum.violations, sum.exempt, sum.grids, sum.incidents, sum.closed,
           num(total, c1));
    printf("generate: hub setup %.1f s, %ld x `gridhub node add` %.1f s, node databases %.1f s "
           "(%.0f changes/s, %ld workers; %s..%s changes per node, %.1f MiB on disk)\n",
           setup_ms / 1e3, o.villages, add_ms / 1e3, gen_ms / 1e3,
           gen_ms > 0 ? (double)total / (gen_ms / 1e3) : 0.0,
           o.parallel < o.villages ? o.parallel : o.villages, num(min_seq, c2), num(max_seq, c3),
           (double)node_bytes / 1048576.0);
    fflush(stdout);

    /* 4. the sync */
    start_hub(dir, hubdb, endpoint, sock);
    for (long i = 0; i < o.villages; i++) {
        char db[PATH_MAX], jlog[PATH_MAX];
        snprintf(db, sizeof db, "%s/%s.db", dir, v[i].code);
        snprintf(jlog, sizeof jlog, "%s/sync-%s.log", dir, v[i].code);
        memset(&jobs[i], 0, sizeof jobs[i]);
        const char *rest[] = {"--db", db, "sync", "--quiet", "--timeout", "120", NULL};
        job_wrapped(&jobs[i], jlog, "BENCH_NODE_WRAPPER", "gridnode", rest);
    }
    double hub_cpu0 = proc_cpu_s(hub_pid), run0 = 0, wait0 = 0, run1 = 0, wait1 = 0;
    long long w0 = gsb_proc_write_bytes(hub_pid);
    gsb_proc_sched(hub_pid, &run0, &wait0);
    t = gst_clock_ms();
    long failed = run_pool(jobs, o.villages, o.parallel, "同步 sync");
    double sync_ms = gst_clock_ms() - t;
    long hwm = gsb_proc_status_kb(hub_pid, "VmHWM:"), rss = gsb_proc_status_kb(hub_pid, "VmRSS:");
    double hub_cpu = proc_cpu_s(hub_pid) - hub_cpu0;
    gsb_proc_sched(hub_pid, &run1, &wait1);
    long long written = gsb_proc_write_bytes(hub_pid) - w0;
    stop_hub();

    double load = gsb_loadavg();
    double *times = calloc((size_t)o.villages, sizeof *times);
    long node_rss = 0;
    double node_cpu = 0;
    for (long i = 0; i < o.villages; i++) {
        times[i] = jobs[i].ms;
        node_cpu += jobs[i].cpu_s;
        node_rss = jobs[i].maxrss_kb > node_rss ? jobs[i].maxrss_kb : node_rss;
    }
    qsort(times, (size_t)o.villages, sizeof *times, cmp_double);

    /* 5. the check */
    uint64_t hub_total = 0;
    long bad = verify_hub(hubdb, v, res, o.villages, &hub_total);
    long long hub_bytes = file_size(hubdb);
    char wal[PATH_MAX];
    if (snprintf(wal, sizeof wal, "%s-wal", hubdb) >= (int)sizeof wal)
        die("path too long");
    hub_bytes += file_size(wal);

    printf("sync: %ld x `gridnode sync --quiet --timeout 120`, %ld at once: %.1f s wall for %s "
           "changes = %.0f changes/s\n",
           o.villages, o.parallel, sync_ms / 1e3, num(total, c1),
           sync_ms > 0 ? (double)total / (sync_ms / 1e3) : 0.0);
    printf("  per node: median %.2f s, p95 %.2f s, slowest %.2f s; node peak RSS (max over "
           "nodes) %.1f MiB; CPU of all gridnode processes %.1f s\n",
           times[o.villages / 2] / 1e3, times[(long)((double)(o.villages - 1) * 0.95)] / 1e3,
           times[o.villages - 1] / 1e3, (double)node_rss / 1024.0, node_cpu);
    printf("  hub: peak RSS (VmHWM) %.1f MiB, RSS at the end %.1f MiB, CPU %.1f s (%.0f%% of "
           "one core), database %.1f MiB, %s changes in its log\n",
           (double)hwm / 1024.0, (double)rss / 1024.0, hub_cpu,
           sync_ms > 0 ? 100.0 * hub_cpu / (sync_ms / 1e3) : 0.0, (double)hub_bytes / 1048576.0,
           num(hub_total, c2));
    printf("  hub main thread: %.1f s on a CPU, %.1f s waiting for one, %.1f s blocked or idle; "
           "hub wrote %.0f MiB to storage\n",
           run1 - run0, wait1 - wait0, sync_ms / 1e3 - (run1 - run0) - (wait1 - wait0),
           (double)written / 1048576.0);
    printf("  load average at the end of the sync: %.1f (on %ld CPUs)\n", load, ncpu);
    printf("durability: WAL, synchronous=FULL on the hub and for entry on the nodes, the nodes' "
           "sync bookkeeping NORMAL (the programs' own settings); gridnode's batches (<= 512 "
           "changes, window and bytes as the hub grants, <= 8 x 512 KiB)\n");
    printf("total: %.1f s\n", (gst_clock_ms() - t_all) / 1e3);
    if (failed || bad) {
        printf("FAILED: %ld syncs failed, %ld villages not fully held by the hub\n", failed, bad);
        fflush(stdout);
    } else {
        printf("ok: the hub holds every change of all %ld nodes (count and max seq per origin = "
               "the node's seq; acked_through too; nothing in quarantine)\n",
               o.villages);
    }
    free(times);
    free(jobs);
    free(v);
    munmap(res, (size_t)o.villages * sizeof *res);
    if (!o.keep)
        gst_rmrf(dir);
    else
        printf("kept: %s (hub.db, <village>.db, bundles, villages.csv, logs)\n", dir);
    free(dir);
    return failed || bad ? 1 : 0;
}
